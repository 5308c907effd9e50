//! The lifecycle every role-backed resource shares, written once: decode,
//! render the desired state, check what AWS would only refuse halfway, read
//! the live role and what hangs off it, plan the role's steps plus the
//! resource's own, apply them, and report outputs — or a partial state the
//! engine keeps, so the next `up` finishes the job. A resource supplies what
//! differs through `RoleBacked`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use super::{
    apply, apply_secrets, execute, partial, preview_outputs, role, typed_args, CheckRequest,
    Checked, DiffResult, OpCtx, OpError, Resource,
};
use crate::cloud::api::LiveRole;
use crate::context::{Cloud, ProviderState};
use crate::iam::arn::AccountContext;
use crate::model::spec::ResourceSpec;
use crate::model::value::{PropertyMap, PropertyValue};
use crate::plan::executor::Applied;
use crate::plan::{plan_role, plan_role_delete, RoleSpec, Step};

/// What is known of a role besides its inputs, when outputs are made.
pub struct Observed<'a, E> {
    pub role_id: Option<String>,
    pub account: Option<&'a AccountContext>,
    /// The trust policy and inline policies as written (or as read).
    pub trust: &'a Json,
    pub policies: &'a BTreeMap<String, Json>,
    /// What this operation's steps created, when it ran any.
    pub applied: Option<&'a Applied>,
    pub extras: &'a E,
}

/// The last deployment, for an update.
pub struct Previous<'a, A> {
    pub args: &'a A,
    pub outputs: &'a PropertyMap,
}

/// What a role-backed resource adds to the shared lifecycle.
#[async_trait]
pub trait RoleBacked: Send + Sync {
    type Args: DeserializeOwned + Default + Send + Sync;
    /// Everything the resource writes, rendered for one account.
    type Desired: Send + Sync;
    /// What exists besides the role (read before planning).
    type Extras: Default + Send + Sync;

    fn table(&self) -> &'static ResourceSpec;

    /// Check: the shared pipeline (resources::run_check) with this resource's rules.
    fn check(&self, req: &CheckRequest<'_>, provider: &ProviderState) -> Checked;

    /// Diff: input changes plus drift of what the inputs render to.
    fn diff(
        &self,
        provider: &ProviderState,
        olds: &PropertyMap,
        old_inputs: &PropertyMap,
        news: &PropertyMap,
    ) -> DiffResult;

    /// Pure. `account` is absent only in a preview before the provider has
    /// met AWS; a resource that needs it returns an error then.
    fn render(
        &self,
        args: &Self::Args,
        account: Option<&AccountContext>,
        default_tags: &BTreeMap<String, String>,
        urn: &str,
    ) -> Result<Self::Desired, String>;

    fn role<'a>(&self, desired: &'a Self::Desired) -> &'a RoleSpec;

    /// Mistakes AWS would only report after the role exists.
    async fn preflight(
        &self,
        _args: &Self::Args,
        _provider: &ProviderState,
        _cloud: &Cloud,
    ) -> Result<(), OpError> {
        Ok(())
    }

    /// The same checks a preview can make when it can reach AWS.
    async fn preview_checks(
        &self,
        _args: &Self::Args,
        _provider: &ProviderState,
    ) -> Result<(), OpError> {
        Ok(())
    }

    async fn live_extras(
        &self,
        cloud: &Cloud,
        args: &Self::Args,
        desired: &Self::Desired,
    ) -> Result<Self::Extras, OpError>;

    /// Steps after the role's own.
    fn plan_extras(
        &self,
        desired: &Self::Desired,
        extras: &Self::Extras,
        previous: Option<&Previous<'_, Self::Args>>,
        account: &AccountContext,
    ) -> Vec<Step>;

    fn outputs(
        &self,
        inputs: &PropertyMap,
        desired: &Self::Desired,
        seen: &Observed<'_, Self::Extras>,
    ) -> PropertyMap;

    /// Outputs a preview cannot know (AWS assigns them when a step runs).
    fn preview_unknowns(
        &self,
        _args: &Self::Args,
        _previous: Option<&Self::Args>,
        _known: &mut PropertyMap,
        _out: &mut PropertyMap,
    ) {
    }

    /// Inputs a user could have written for a live role (`pulumi import`).
    fn imported_inputs(&self, live: &LiveRole) -> PropertyMap;

    /// Inputs brought in line with what a refresh or import finds: the live
    /// role, and what the recorded (or imported) inputs render to and find.
    fn reconcile_inputs(
        &self,
        _live: &LiveRole,
        _inputs: &mut PropertyMap,
        _importing: bool,
        _found: (&Self::Desired, &Self::Extras),
    ) -> Result<(), OpError> {
        Ok(())
    }

    /// The live inline policies this resource owns.
    fn owned_policies(&self, live: &LiveRole) -> BTreeMap<String, Json> {
        live.inline_policies.clone()
    }

    /// Last touches on what a refresh reports.
    fn read_outputs(
        &self,
        _out: &mut PropertyMap,
        _inputs: &PropertyMap,
        _live: &LiveRole,
        _desired: &Self::Desired,
        _extras: &Self::Extras,
    ) {
    }

    /// Steps before the role is emptied and deleted, from the last state.
    async fn delete_extras(
        &self,
        cloud: &Cloud,
        outputs: &PropertyMap,
        inputs: &PropertyMap,
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

/// The role's id: created now, found live, or (update) recorded before.
fn role_id(
    applied: &Applied,
    live: Option<&LiveRole>,
    olds: Option<&PropertyMap>,
) -> Option<String> {
    applied
        .created_role
        .as_ref()
        .map(|c| c.role_id.clone())
        .or(live.map(|l| l.role_id.clone()))
        .or(olds.and_then(|o| role::string_output(o, "roleId")))
}

/// Outputs a preview shows: what rendering can tell (`base` holds what the
/// last deployment recorded), the rest unknown.
fn preview<R: RoleBacked>(
    r: &R,
    ctx: &OpCtx<'_>,
    args: &R::Args,
    inputs: &PropertyMap,
    account: Option<&AccountContext>,
    mut known: PropertyMap,
    previous: Option<&R::Args>,
) -> PropertyMap {
    if let Ok(desired) = r.render(args, account, &default_tags(ctx.provider), ctx.urn) {
        let spec = r.role(&desired);
        let extras = R::Extras::default();
        let seen = Observed {
            role_id: None,
            account,
            trust: &spec.trust,
            policies: &spec.inline_policies,
            applied: None,
            extras: &extras,
        };
        known.extend(r.outputs(inputs, &desired, &seen));
    }
    let mut out = PropertyMap::new();
    r.preview_unknowns(args, previous, &mut known, &mut out);
    let mut shown = preview_outputs(r.table(), inputs, &known, previous.is_some());
    shown.extend(out);
    shown
}

pub async fn create<R: RoleBacked>(
    r: &R,
    ctx: &OpCtx<'_>,
    inputs: &PropertyMap,
    is_preview: bool,
) -> Result<(String, PropertyMap), OpError> {
    let args: R::Args = decode(inputs)?;
    if is_preview {
        r.preview_checks(&args, ctx.provider).await?;
        let account = ctx.provider.cached_account();
        let out = preview(
            r,
            ctx,
            &args,
            inputs,
            account.as_ref(),
            PropertyMap::new(),
            None,
        );
        return Ok((String::new(), out));
    }
    let cloud = ctx.provider.cloud().await?;
    let desired = render(r, ctx, &args, &cloud.account)?;
    r.preflight(&args, ctx.provider, &cloud).await?;
    let spec = r.role(&desired);
    let live = cloud.api.get_role(&spec.name).await?;
    role::ensure_owned(live.as_ref(), ctx.urn, r.table().token)?;
    let extras = match &live {
        Some(_) => r.live_extras(&cloud, &args, &desired).await?,
        None => R::Extras::default(),
    };
    let mut steps = plan_role(live.as_ref(), spec, &cloud.account.partition);
    steps.extend(r.plan_extras(&desired, &extras, None, &cloud.account));
    let (applied, failure) = apply(ctx, &cloud, &steps).await;
    let id = role_id(&applied, live.as_ref(), None);
    let seen = Observed {
        role_id: id.clone(),
        account: Some(&cloud.account),
        trust: &spec.trust,
        policies: &spec.inline_policies,
        applied: Some(&applied),
        extras: &extras,
    };
    let mut out = r.outputs(inputs, &desired, &seen);
    match failure {
        None => Ok((spec.name.clone(), out)),
        Some(f) if id.is_some() => {
            // A role created with its placeholder trust has not got its real
            // one yet: recorded as unknown, the next update writes it.
            if spec.initial_trust != spec.trust {
                out.insert("trustPolicy".into(), PropertyValue::Null);
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
    if is_preview {
        let account = role::account_from_outputs(olds, &ctx.provider.region());
        let out = preview(
            r,
            ctx,
            &args,
            news,
            account.as_ref(),
            olds.clone(),
            Some(&old_args),
        );
        return Ok(out);
    }
    let cloud = ctx.provider.cloud().await?;
    let desired = render(r, ctx, &args, &cloud.account)?;
    r.preflight(&args, ctx.provider, &cloud).await?;
    let spec = r.role(&desired);
    let live = cloud.api.get_role(id).await?;
    let extras = r.live_extras(&cloud, &args, &desired).await?;
    let previous = Previous {
        args: &old_args,
        outputs: olds,
    };
    let mut steps = plan_role(live.as_ref(), spec, &cloud.account.partition);
    steps.extend(r.plan_extras(&desired, &extras, Some(&previous), &cloud.account));
    let (applied, failure) = apply(ctx, &cloud, &steps).await;
    let seen = Observed {
        role_id: role_id(&applied, live.as_ref(), Some(olds)),
        account: Some(&cloud.account),
        trust: &spec.trust,
        policies: &spec.inline_policies,
        applied: Some(&applied),
        extras: &extras,
    };
    let out = r.outputs(news, &desired, &seen);
    match failure {
        None => Ok(out),
        Some(f) => Err(partial(id, out, &f)),
    }
}

/// Refresh (old inputs given) and import (none): outputs from what is live.
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
    let mut inputs = match recorded {
        Some(old) => old.clone(),
        None => r.imported_inputs(&live),
    };
    // What hangs off the role is read once, for the inputs as recorded; the
    // reconciled inputs never ask for more of it, only for less.
    let recorded_args: R::Args = decode(&inputs)?;
    let recorded_desired = render(r, ctx, &recorded_args, &cloud.account)?;
    let extras = r
        .live_extras(&cloud, &recorded_args, &recorded_desired)
        .await?;
    r.reconcile_inputs(
        &live,
        &mut inputs,
        recorded.is_none(),
        (&recorded_desired, &extras),
    )?;
    let args: R::Args = decode(&inputs)?;
    let desired = render(r, ctx, &args, &cloud.account)?;
    let policies = r.owned_policies(&live);
    let seen = Observed {
        role_id: Some(live.role_id.clone()),
        account: Some(&cloud.account),
        trust: &live.trust,
        policies: &policies,
        applied: None,
        extras: &extras,
    };
    let mut out = r.outputs(&inputs, &desired, &seen);
    out.insert(
        "tagsAll".into(),
        PropertyValue::Object(
            live.tags
                .iter()
                .map(|(k, v)| (k.clone(), PropertyValue::String(v.clone())))
                .collect(),
        ),
    );
    r.read_outputs(&mut out, &inputs, &live, &desired, &extras);
    // Live tags replace the rendered ones: secret tags keep them secret.
    apply_secrets(r.table(), &inputs, &mut out);
    Ok(Some((out, inputs)))
}

pub async fn delete<R: RoleBacked>(
    r: &R,
    ctx: &OpCtx<'_>,
    id: &str,
    olds: &PropertyMap,
    old_inputs: &PropertyMap,
) -> Result<(), OpError> {
    let cloud = ctx.provider.cloud().await?;
    let mut steps = r.delete_extras(&cloud, olds, old_inputs).await?;
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
        RoleBacked::check(self, req, provider)
    }

    fn diff(
        &self,
        provider: &ProviderState,
        olds: &PropertyMap,
        old_inputs: &PropertyMap,
        news: &PropertyMap,
    ) -> DiffResult {
        RoleBacked::diff(self, provider, olds, old_inputs, news)
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
        old_inputs: &PropertyMap,
    ) -> Result<(), OpError> {
        delete(self, ctx, id, olds, old_inputs).await
    }
}
