//! The lifecycle every role-backed resource shares, written once: decode,
//! render the desired state, check what AWS would only refuse halfway, read
//! the live role and what hangs off it, plan the role's steps plus the
//! resource's own, apply them, and report the state — or a partial state the
//! engine keeps, so the next `up` finishes the job. A resource supplies what
//! differs through `RoleBacked`, in its own types: property maps are decoded
//! and encoded here (through `properties`), never in a resource.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

use super::properties::{
    self, apply_secrets, decode_lenient, diff_inputs, encode, merge_inputs, preview_outputs,
    typed_args, Unknowns,
};
use super::role::{self, RoleArgs, RoleState};
use super::{apply, execute, partial, CheckRequest, Checked, DiffResult, Resource};
use crate::cloud::api::LiveRole;
use crate::context::{Cloud, OpCtx, OpError, ProviderState};
use crate::iam::arn::AccountContext;
use crate::iam::templates;
use crate::model::failure::Failure;
use crate::model::spec::{Declared, Key, ResourceSpec};
use crate::model::value::{PropertyMap, PropertyValue};
use crate::plan::executor::Applied;
use crate::plan::{plan_role, plan_role_delete, RoleSpec, Step};

/// What is known of a role besides its inputs, when its state is made.
pub struct Observed<'a, E> {
    pub account: Option<&'a AccountContext>,
    /// What this operation's steps created, when it ran any.
    pub applied: Option<&'a Applied>,
    pub extras: &'a E,
    /// The live role, when the state is what a refresh or import found.
    pub live: Option<&'a LiveRole>,
}

/// The last deployment, for an update.
pub struct Previous<'a, A, S> {
    pub args: &'a A,
    pub state: &'a S,
}

/// What a preview can say of the outputs AWS assigns to things besides the
/// role: which this change makes anew (unknown until the step runs) and
/// which it removes (absent).
#[derive(Debug, Default, PartialEq)]
pub struct PreviewAssigned {
    pub anew: Vec<Key>,
    pub gone: Vec<Key>,
}

/// What a role-backed resource adds to the shared lifecycle.
#[async_trait]
pub trait RoleBacked: Send + Sync {
    type Args: Declared + DeserializeOwned + Serialize + Default + AsRef<RoleArgs> + Send + Sync;
    /// Its outputs besides the inputs it echoes; `RoleState` is shared.
    type State: Declared + DeserializeOwned + Serialize + Default + AsRef<RoleState> + Send + Sync;
    /// Everything the resource writes, rendered for one account.
    type Desired: AsRef<RoleSpec> + Send + Sync;
    /// What exists besides the role (read before planning).
    type Extras: Default + Send + Sync;

    fn table(&self) -> &'static ResourceSpec;

    /// Check's rules beyond the types. `unknown` names the inputs a preview
    /// does not know yet (their absence proves nothing).
    fn validate(
        &self,
        args: &Self::Args,
        provider: &ProviderState,
        unknown: &Unknowns,
        failures: &mut Vec<Failure>,
        warnings: &mut Vec<String>,
    );

    /// Pure. `account` is absent only in a preview before the provider has
    /// met AWS; a resource that needs it returns an error then.
    fn render(
        &self,
        args: &Self::Args,
        account: Option<&AccountContext>,
        default_tags: &BTreeMap<String, String>,
        urn: &str,
    ) -> Result<Self::Desired, String>;

    /// Mistakes AWS would only report after the role exists, checked before
    /// anything is written; a preview runs the reads it can afford.
    async fn preflight(
        &self,
        _args: &Self::Args,
        _provider: &ProviderState,
        _preview: bool,
    ) -> Result<(), OpError> {
        Ok(())
    }

    async fn live_extras(
        &self,
        cloud: &Cloud,
        desired: &Self::Desired,
    ) -> Result<Self::Extras, OpError>;

    /// Steps after the role's own.
    fn plan_extras(
        &self,
        desired: &Self::Desired,
        extras: &Self::Extras,
        previous: Option<&Previous<'_, Self::Args, Self::State>>,
        account: &AccountContext,
    ) -> Vec<Step>;

    /// The resource's state: the role's part as the lifecycle made it, plus
    /// the resource's own outputs.
    fn state(
        &self,
        role: RoleState,
        desired: &Self::Desired,
        seen: &Observed<'_, Self::Extras>,
    ) -> Self::State;

    fn preview_assigned(
        &self,
        _args: &Self::Args,
        _previous: Option<&Self::Args>,
    ) -> PreviewAssigned {
        PreviewAssigned::default()
    }

    /// Outputs of the recorded state that no longer match what the inputs
    /// render to, besides the trust and the policies (which every role checks).
    fn drift(&self, _desired: &Self::Desired, _state: &Self::State) -> Vec<Key> {
        Vec::new()
    }

    /// Inputs a user could have written for a live role (`pulumi import`).
    fn imported(&self, live: &LiveRole) -> Self::Args;

    /// Inputs brought in line with what a refresh or import finds: the live
    /// role, and what the recorded (or imported) inputs render to and find.
    fn reconcile(
        &self,
        _live: &LiveRole,
        _args: &mut Self::Args,
        _importing: bool,
        _found: (&Self::Desired, &Self::Extras),
    ) -> Result<(), OpError> {
        Ok(())
    }

    /// Steps before the role is emptied and deleted, from the last state
    /// alone (`args` holds what of the recorded inputs still decodes).
    async fn delete_extras(
        &self,
        cloud: &Cloud,
        state: &Self::State,
        args: &Self::Args,
    ) -> Result<Vec<Step>, OpError>;
}

pub fn decode<A: DeserializeOwned>(inputs: &PropertyMap) -> Result<A, OpError> {
    typed_args::<A>(inputs)
        .map(|(a, _)| a)
        .map_err(|f| OpError::Invalid(f.reason))
}

fn default_tags(provider: &ProviderState) -> BTreeMap<String, String> {
    provider.config().default_tags.clone().unwrap_or_default()
}

fn render<R: RoleBacked>(
    r: &R,
    ctx: &OpCtx<'_>,
    args: &R::Args,
    account: &AccountContext,
) -> Result<R::Desired, OpError> {
    r.render(args, Some(account), &default_tags(ctx.provider), ctx.urn)
        .map_err(OpError::Invalid)
}

/// The role's part of the state, from what was written or read.
struct RoleSeen<'a> {
    role_id: Option<String>,
    trust: &'a Json,
    policies: &'a BTreeMap<String, Json>,
    tags: &'a BTreeMap<String, String>,
}

impl RoleSeen<'_> {
    /// As written: the rendered documents and tags.
    fn written(spec: &RoleSpec, role_id: Option<String>) -> RoleSeen<'_> {
        RoleSeen {
            role_id,
            trust: &spec.trust,
            policies: &spec.inline_policies,
            tags: &spec.tags,
        }
    }
}

fn full_state<R: RoleBacked>(
    r: &R,
    desired: &R::Desired,
    role: RoleSeen<'_>,
    seen: &Observed<'_, R::Extras>,
) -> R::State {
    let spec = desired.as_ref();
    let role = RoleState {
        arn: seen.account.map(|a| a.role_arn(&spec.path, &spec.name)),
        role_id: role.role_id,
        account_id: seen.account.map(|a| a.account_id.clone()),
        trust_policy: Some(role.trust.clone()),
        policies: Some(role.policies.clone()),
        tags_all: Some(role.tags.clone()),
    };
    r.state(role, desired, seen)
}

/// Outputs: the inputs echoed as the engine sent them, then the state, with
/// the table's secrets applied.
fn outputs<R: RoleBacked>(r: &R, inputs: &PropertyMap, state: &R::State) -> PropertyMap {
    let mut out = inputs.clone();
    out.extend(encode(state));
    apply_secrets(r.table(), inputs, &mut out);
    out
}

/// The role's id: created now, found live, or (update) recorded before.
fn role_id(
    applied: &Applied,
    live: Option<&LiveRole>,
    recorded: Option<&RoleState>,
) -> Option<String> {
    applied
        .created_role
        .as_ref()
        .map(|c| c.role_id.clone())
        .or(live.map(|l| l.role_id.clone()))
        .or(recorded.and_then(|s| s.role_id.clone()))
}

/// Outputs a preview shows: what rendering can tell over what the last
/// deployment recorded (AWS-assigned values), the rest unknown.
fn preview<R: RoleBacked>(
    r: &R,
    ctx: &OpCtx<'_>,
    args: &R::Args,
    inputs: &PropertyMap,
    account: Option<&AccountContext>,
    previous: Option<(&R::Args, &R::State)>,
) -> PropertyMap {
    let spec = r.table();
    let mut known = previous.map(|(_, s)| encode(s)).unwrap_or_default();
    if let Ok(desired) = r.render(args, account, &default_tags(ctx.provider), ctx.urn) {
        let extras = R::Extras::default();
        let seen = Observed {
            account,
            applied: None,
            extras: &extras,
            live: None,
        };
        let fresh = full_state(
            r,
            &desired,
            RoleSeen::written(desired.as_ref(), None),
            &seen,
        );
        for p in spec.props.iter().filter(|p| !p.input && !p.assigned) {
            known.remove(p.name);
        }
        known.extend(encode(&fresh));
    }
    let assigned = r.preview_assigned(args, previous.map(|(a, _)| a));
    for key in assigned.gone.iter().chain(&assigned.anew) {
        known.remove(key.name());
    }
    let mut shown = preview_outputs(spec, inputs, &known, previous.is_some());
    for key in &assigned.anew {
        shown.insert(key.name().into(), PropertyValue::Unknown);
    }
    shown
}

/// Check: the provider's permissions boundary fills a role's own when it
/// sets none (so a changed boundary is an input change that updates the
/// role), then the shared pipeline with the resource's rules.
pub fn check<R: RoleBacked>(r: &R, req: &CheckRequest<'_>, provider: &ProviderState) -> Checked {
    let boundary = provider.config().permissions_boundary;
    let key = RoleArgs::permissions_boundary.name();
    let mut news = req.news.clone();
    if let (Some(b), None | Some(PropertyValue::Null)) = (&boundary, news.get(key)) {
        news.insert(key.into(), PropertyValue::String(b.clone()));
    }
    let req = CheckRequest {
        news: &news,
        autonaming: req.autonaming.clone(),
        ..*req
    };
    properties::check_role::<R::Args>(r.table(), &req, |args, unknown, failures, warnings| {
        r.validate(args, provider, unknown, failures, warnings);
        let own = args.as_ref().permissions_boundary.as_ref();
        if let (Some(b), Some(own)) = (&boundary, own) {
            if own != b {
                warnings.push(format!("permissionsBoundary {own} differs from the provider's permissionsBoundary {b}: a deployer held to the provider's boundary (deployer-policy --permissions-boundary) cannot write this role"));
            }
        }
    })
}

/// Input changes, plus drift of what the inputs render to: the trust, the
/// policies, the resource's own outputs, and an ownership tag left on an old URN.
pub fn diff<R: RoleBacked>(
    r: &R,
    provider: &ProviderState,
    urn: &str,
    olds: &PropertyMap,
    old_inputs: &PropertyMap,
    news: &PropertyMap,
) -> DiffResult {
    let spec = r.table();
    let mut result = diff_inputs(spec, old_inputs, news);
    let state: R::State = decode_lenient(olds);
    let recorded = state.as_ref();
    let region = provider.region();
    let account = recorded.account(&region);
    let known = !news.values().any(PropertyValue::contains_unknown);
    if let (true, Ok((args, _))) = (known, typed_args::<R::Args>(news)) {
        if let Ok(desired) = r.render(&args, account.as_ref(), &BTreeMap::new(), "") {
            let want = desired.as_ref();
            let partition = account.as_ref().map_or("aws", |a| a.partition.as_str());
            let trust_drift = olds.contains_key(RoleState::trust_policy.name())
                && !recorded
                    .trust_policy
                    .as_ref()
                    .is_some_and(|t| crate::iam::policy::equivalent(t, &want.trust, partition));
            let policies_drift = recorded
                .policies
                .as_ref()
                .is_some_and(|p| documents_differ(p, &want.inline_policies, partition));
            result.drift(RoleState::trust_policy, trust_drift);
            result.drift(RoleState::policies, policies_drift);
            for key in r.drift(&desired, &state) {
                result.drift(key, true);
            }
        }
    }
    result.drift(RoleState::tags_all, recorded.owner_tag_is_stale(urn));
    result.settle_replacement(old_inputs, news);
    result
}

/// Live documents (from the last write or a refresh) against the rendered ones.
fn documents_differ(
    have: &BTreeMap<String, Json>,
    want: &BTreeMap<String, Json>,
    partition: &str,
) -> bool {
    have.len() != want.len()
        || want.iter().any(|(name, doc)| {
            have.get(name)
                .is_none_or(|d| !crate::iam::policy::equivalent(d, doc, partition))
        })
}

pub async fn create<R: RoleBacked>(
    r: &R,
    ctx: &OpCtx<'_>,
    inputs: &PropertyMap,
    is_preview: bool,
) -> Result<(String, PropertyMap), OpError> {
    let args: R::Args = decode(inputs)?;
    if is_preview {
        r.preflight(&args, ctx.provider, true).await?;
        let account = ctx.provider.cached_account();
        let out = preview(r, ctx, &args, inputs, account.as_ref(), None);
        return Ok((String::new(), out));
    }
    let cloud = ctx.provider.cloud().await?;
    let desired = render(r, ctx, &args, &cloud.account)?;
    r.preflight(&args, ctx.provider, false).await?;
    let spec = desired.as_ref();
    let live = cloud.api.get_role(&spec.name).await?;
    role::ensure_owned(live.as_ref(), ctx.urn, r.table().token)?;
    let extras = match &live {
        Some(_) => r.live_extras(&cloud, &desired).await?,
        None => R::Extras::default(),
    };
    let mut steps = plan_role(live.as_ref(), spec, &cloud.account.partition);
    steps.extend(r.plan_extras(&desired, &extras, None, &cloud.account));
    let (applied, failure) = apply(ctx, &cloud, &steps).await;
    let id = role_id(&applied, live.as_ref(), None);
    let seen = Observed {
        account: Some(&cloud.account),
        applied: Some(&applied),
        extras: &extras,
        live: None,
    };
    let state = full_state(r, &desired, RoleSeen::written(spec, id.clone()), &seen);
    let mut out = outputs(r, inputs, &state);
    match failure {
        None => Ok((spec.name.clone(), out)),
        Some(f) if id.is_some() => {
            // A role created with its placeholder trust has not got its real
            // one yet: recorded as unknown, the next update writes it.
            if spec.initial_trust != spec.trust {
                out.insert(RoleState::trust_policy.name().into(), PropertyValue::Null);
            }
            Err(partial(&spec.name, out, &f))
        }
        Some(f) => Err(OpError::Cloud(f.error)),
    }
}

pub async fn update<R: RoleBacked>(
    r: &R,
    ctx: &OpCtx<'_>,
    id: &str,
    olds: &PropertyMap,
    old_inputs: &PropertyMap,
    news: &PropertyMap,
    is_preview: bool,
) -> Result<PropertyMap, OpError> {
    let args: R::Args = decode(news)?;
    let old_args: R::Args = decode(old_inputs).unwrap_or_default();
    let old_state: R::State = decode_lenient(olds);
    if is_preview {
        r.preflight(&args, ctx.provider, true).await?;
        let account = old_state.as_ref().account(&ctx.provider.region());
        let out = preview(
            r,
            ctx,
            &args,
            news,
            account.as_ref(),
            Some((&old_args, &old_state)),
        );
        return Ok(out);
    }
    let cloud = ctx.provider.cloud().await?;
    let desired = render(r, ctx, &args, &cloud.account)?;
    r.preflight(&args, ctx.provider, false).await?;
    let spec = desired.as_ref();
    let live = cloud.api.get_role(id).await?;
    let extras = r.live_extras(&cloud, &desired).await?;
    let previous = Previous {
        args: &old_args,
        state: &old_state,
    };
    let mut steps = plan_role(live.as_ref(), spec, &cloud.account.partition);
    steps.extend(r.plan_extras(&desired, &extras, Some(&previous), &cloud.account));
    let (applied, failure) = apply(ctx, &cloud, &steps).await;
    let seen = Observed {
        account: Some(&cloud.account),
        applied: Some(&applied),
        extras: &extras,
        live: None,
    };
    let role_id = role_id(&applied, live.as_ref(), Some(old_state.as_ref()));
    let state = full_state(r, &desired, RoleSeen::written(spec, role_id), &seen);
    let out = outputs(r, news, &state);
    match failure {
        None => Ok(out),
        Some(f) => Err(partial(id, out, &f)),
    }
}

/// Refresh (old inputs given) and import (none): the state from what is live.
pub async fn read<R: RoleBacked>(
    r: &R,
    ctx: &OpCtx<'_>,
    id: &str,
    old_inputs: Option<&PropertyMap>,
) -> Result<Option<(PropertyMap, PropertyMap)>, OpError> {
    let cloud = ctx.provider.cloud().await?;
    let Some(live) = cloud.api.get_role(id).await? else {
        return Ok(None);
    };
    let recorded = old_inputs.filter(|m| !m.is_empty());
    let mut args: R::Args = match recorded {
        Some(old) => decode(old)?,
        None => r.imported(&live),
    };
    // What hangs off the role is read once, for the inputs as recorded; the
    // reconciled inputs never ask for more of it, only for less.
    let recorded_desired = render(r, ctx, &args, &cloud.account)?;
    let extras = r.live_extras(&cloud, &recorded_desired).await?;
    r.reconcile(
        &live,
        &mut args,
        recorded.is_none(),
        (&recorded_desired, &extras),
    )?;
    let mut inputs = merge_inputs(r.table(), recorded.unwrap_or(&PropertyMap::new()), &args);
    // The boundary caps what the role may do: one removed or replaced out of
    // band shows as an input change on refresh, and the next up puts it back.
    let boundary = RoleArgs::permissions_boundary.name();
    match &live.permissions_boundary {
        Some(b) => inputs.insert(boundary.into(), PropertyValue::String(b.clone())),
        None => inputs.remove(boundary),
    };
    let desired = render(r, ctx, &args, &cloud.account)?;
    // Grants written by connectors live on a base role but belong to them.
    let policies: BTreeMap<String, Json> = live
        .inline_policies
        .iter()
        .filter(|(k, v)| {
            !(desired.as_ref().keeps_connector_grants && templates::is_connector_grant(k, v))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let seen = Observed {
        account: Some(&cloud.account),
        applied: None,
        extras: &extras,
        live: Some(&live),
    };
    let role = RoleSeen {
        role_id: Some(live.role_id.clone()),
        trust: &live.trust,
        policies: &policies,
        tags: &live.tags,
    };
    let state = full_state(r, &desired, role, &seen);
    // Live tags replace the rendered ones: secret tags keep them secret.
    Ok(Some((outputs(r, &inputs, &state), inputs)))
}

pub async fn delete<R: RoleBacked>(
    r: &R,
    ctx: &OpCtx<'_>,
    id: &str,
    olds: &PropertyMap,
) -> Result<(), OpError> {
    let cloud = ctx.provider.cloud().await?;
    let state: R::State = decode_lenient(olds);
    let args: R::Args = decode_lenient(olds);
    let mut steps = r.delete_extras(&cloud, &state, &args).await?;
    let live = cloud.api.get_role(id).await?;
    steps.extend(plan_role_delete(live.as_ref()));
    execute(ctx, &cloud, &steps)
        .await
        .map(|_| ())
        .map_err(|f| OpError::Cloud(f.error))
}

/// Every role-backed resource is a Pulumi resource through this lifecycle.
#[async_trait]
impl<R: RoleBacked> Resource for R {
    fn spec(&self) -> &'static ResourceSpec {
        self.table()
    }

    fn check(&self, req: &CheckRequest<'_>, provider: &ProviderState) -> Checked {
        check(self, req, provider)
    }

    fn diff(
        &self,
        provider: &ProviderState,
        urn: &str,
        olds: &PropertyMap,
        old_inputs: &PropertyMap,
        news: &PropertyMap,
    ) -> DiffResult {
        diff(self, provider, urn, olds, old_inputs, news)
    }

    async fn create(
        &self,
        ctx: &OpCtx<'_>,
        inputs: &PropertyMap,
        preview: bool,
    ) -> Result<(String, PropertyMap), OpError> {
        create(self, ctx, inputs, preview).await
    }

    async fn read(
        &self,
        ctx: &OpCtx<'_>,
        id: &str,
        _olds: Option<&PropertyMap>,
        old_inputs: Option<&PropertyMap>,
    ) -> Result<Option<(PropertyMap, PropertyMap)>, OpError> {
        read(self, ctx, id, old_inputs).await
    }

    async fn update(
        &self,
        ctx: &OpCtx<'_>,
        id: &str,
        olds: &PropertyMap,
        old_inputs: &PropertyMap,
        news: &PropertyMap,
        preview: bool,
    ) -> Result<PropertyMap, OpError> {
        update(self, ctx, id, olds, old_inputs, news, preview).await
    }

    async fn delete(
        &self,
        ctx: &OpCtx<'_>,
        id: &str,
        olds: &PropertyMap,
        _old_inputs: &PropertyMap,
    ) -> Result<(), OpError> {
        delete(self, ctx, id, olds).await
    }
}
