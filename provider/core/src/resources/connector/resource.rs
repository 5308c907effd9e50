//! The connector's part of the shared lifecycle: its Check rules that need
//! the provider, its preflight reads, the grant and cluster access around
//! the role, its state, drift and import.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::plan::{plan_delete, plan_extras, LiveExtras, Written};
use super::{ConnectorArgs, ConnectorState, Rendered, TrustArgs, SPEC};
use crate::cloud::api::LiveRole;
use crate::context::{Cloud, OpError, ProviderState};
use crate::iam::arn::{parse_role_arn, AccountContext};
use crate::iam::{limits, templates};
use crate::model::failure::Failure;
use crate::model::spec::{Key, ResourceSpec};
use crate::plan::Step;
use crate::resources::base_role::{inline_policy_sizes, PodIdentityArgs};
use crate::resources::lifecycle::{Observed, PreviewAssigned, Previous, RoleBacked};
use crate::resources::properties::Unknowns;
use crate::resources::role::{RoleArgs, RoleState};

async fn live_extras(cloud: &Cloud, r: &Rendered) -> Result<LiveExtras, OpError> {
    let grant = match &r.grant {
        Some(g) => cloud.api.get_role_policy(&g.base_role, &g.name).await?,
        None => None,
    };
    let access = match &r.access {
        Some(a) => {
            cloud
                .api
                .get_access_entry(&a.cluster, &a.principal_arn)
                .await?
        }
        None => None,
    };
    Ok(LiveExtras { grant, access })
}

/// Mistakes in `baseRoleArn` that AWS would only report as a principal that
/// never becomes valid (retried for the whole propagation budget), or as a
/// grant written on a same-named role of the wrong account.
async fn check_base_role(args: &ConnectorArgs, cloud: &Cloud) -> Result<(), OpError> {
    let Some(base) = args.trust.base_role_arn.as_deref().and_then(parse_role_arn) else {
        return Ok(());
    };
    let here = &cloud.account;
    if let Some(reason) = args.base_role_elsewhere(here) {
        return Err(OpError::Invalid(reason));
    }
    if base.partition != here.partition || base.account_id != here.account_id {
        return Ok(());
    }
    // A base role created in the same `up` already exists: the connector
    // depends on its ARN. So an absent role here is a typo, not propagation.
    // GetRole alone: reading the base role's policies (every connector's
    // grant) here would make each connector's create read all the others'.
    if !cloud.api.role_exists(&base.name).await? {
        return Err(OpError::Invalid(format!(
            "baseRoleArn names role {:?}, which does not exist in account {}; check the name (for example pass the base role's arn output)",
            base.name, here.account_id
        )));
    }
    Ok(())
}

/// IAM caps a role's inline policies at 10,240 characters in all: about 59
/// per-connector grants on one base role. The grant is booked against what
/// the base role holds and what the other connectors of this run will write,
/// so a preview says so before the 60th fails at deploy with LimitExceeded.
async fn check_grant_room(
    args: &ConnectorArgs,
    provider: &ProviderState,
    cloud: &Cloud,
) -> Result<(), OpError> {
    let here = &cloud.account;
    let Ok(rendered) = args.render(here, &BTreeMap::new(), "") else {
        return Ok(());
    };
    let Some(grant) = rendered.grant else {
        return Ok(());
    };
    let base = args.trust.base_role_arn.as_deref().and_then(parse_role_arn);
    if base.is_none_or(|b| b.account_id != here.account_id || b.partition != here.partition) {
        return Ok(());
    }
    let size = limits::policy_size(&grant.document);
    let read = || inline_policy_sizes(cloud, &grant.base_role);
    let booking = provider
        .book_inline_policy(
            &grant.base_role,
            &grant.name,
            size,
            limits::INLINE_POLICIES_MAX_CHARS,
            read,
        )
        .await?;
    if booking.total <= limits::INLINE_POLICIES_MAX_CHARS {
        return Ok(());
    }
    Err(OpError::Invalid(format!(
        "baseRoleArn: with this connector's grant ({size} characters) the base role {:?} would hold {} inline policies of {} characters in all; IAM's quota is {} per role (it would refuse with LimitExceeded): give the base role a connectorPath and create connectors under it with grantBaseRole: false (no grant per connector), or list this connector in the base role's connectorRoleArns with grantBaseRole: false",
        grant.base_role,
        booking.policies,
        booking.total,
        limits::INLINE_POLICIES_MAX_CHARS
    )))
}

/// The account's quotas, read before anything is written: a role left
/// half-attached by LimitExceeded is worse than a refusal.
async fn check_quotas(
    args: &ConnectorArgs,
    provider: &ProviderState,
    cloud: &Cloud,
) -> Result<(), OpError> {
    if args.managed_policy_arns.as_ref().is_none_or(Vec::is_empty) {
        return Ok(());
    }
    match provider.attached_policy_quota(cloud).await? {
        Some(quota) => match args.too_many_managed_policies(quota) {
            Some(f) => Err(OpError::Invalid(f.reason)),
            None => Ok(()),
        },
        None => Ok(()),
    }
}

pub struct ConnectorRole;

#[async_trait]
impl RoleBacked for ConnectorRole {
    type Args = ConnectorArgs;
    type State = ConnectorState;
    type Desired = Rendered;
    type Extras = LiveExtras;

    fn table(&self) -> &'static ResourceSpec {
        &SPEC
    }

    fn validate(
        &self,
        args: &ConnectorArgs,
        provider: &ProviderState,
        unknown: &Unknowns,
        failures: &mut Vec<Failure>,
        warnings: &mut Vec<String>,
    ) {
        args.validate(failures, warnings);
        if !unknown.contains(TrustArgs::base_role_arn) {
            warnings.extend(args.cloud_only_warning());
        }
        if !unknown.contains(TrustArgs::trusted_account_id)
            && !unknown.contains(TrustArgs::pod_identity_scope)
        {
            warnings.extend(args.broad_trust_warnings());
        }
        let quota = provider
            .cached_attached_policy_quota()
            .unwrap_or(limits::MANAGED_POLICIES_PER_ROLE_MAX);
        failures.extend(args.too_many_managed_policies(quota));
        // Known once the provider has met AWS (every Check after the first
        // deployment step of a run); Create and Update check again.
        if let Some(account) = provider.cached_account() {
            if let Some(reason) = args.base_role_elsewhere(&account) {
                failures.push(Failure::new(TrustArgs::base_role_arn.name(), reason));
            }
        }
    }

    fn render(
        &self,
        args: &ConnectorArgs,
        account: Option<&AccountContext>,
        default_tags: &BTreeMap<String, String>,
        urn: &str,
    ) -> Result<Rendered, String> {
        let account = account.ok_or("the deploying account is not known yet")?;
        args.render(account, default_tags, urn)
    }

    /// A preview reads what it can check when it can reach AWS: a cluster
    /// the connector cannot get an access entry on, or a base role with no
    /// room for its grant, fails there, not halfway through `up`.
    async fn preflight(
        &self,
        args: &ConnectorArgs,
        provider: &ProviderState,
        preview: bool,
    ) -> Result<(), OpError> {
        let sources = args.sources.each();
        if preview {
            let reads = args.grants_base_role() || sources.iter().any(|(_, s)| s.preflight_reads());
            if !reads {
                return Ok(());
            }
            let Ok(cloud) = provider.cloud().await else {
                return Ok(());
            };
            check_grant_room(args, provider, &cloud).await?;
            for (_, s) in &sources {
                s.preflight(&cloud).await?;
            }
            return Ok(());
        }
        let cloud = provider.cloud().await?;
        check_base_role(args, &cloud).await?;
        check_quotas(args, provider, &cloud).await?;
        check_grant_room(args, provider, &cloud).await?;
        for (_, s) in &sources {
            s.preflight(&cloud).await?;
        }
        Ok(())
    }

    async fn live_extras(&self, cloud: &Cloud, desired: &Rendered) -> Result<LiveExtras, OpError> {
        live_extras(cloud, desired).await
    }

    fn plan_extras(
        &self,
        desired: &Rendered,
        extras: &LiveExtras,
        previous: Option<&Previous<'_, ConnectorArgs, ConnectorState>>,
        account: &AccountContext,
    ) -> Vec<Step> {
        let old = previous.and_then(|p| p.args.render(account, &BTreeMap::new(), "").ok());
        plan_extras(desired, extras, old.as_ref(), &account.partition)
    }

    /// A grant found missing or edited on the base role by a refresh is
    /// reported absent, so the next update writes it.
    fn state(
        &self,
        role: RoleState,
        desired: &Rendered,
        seen: &Observed<'_, LiveExtras>,
    ) -> ConnectorState {
        let access_entry_arn = desired.access.as_ref().and_then(|_| {
            seen.applied
                .and_then(|a| a.access_entry_arn.clone())
                .or(seen
                    .extras
                    .access
                    .as_ref()
                    .map(|a| a.access_entry_arn.clone()))
        });
        let grant_written = |g: &super::Grant| match seen.live {
            None => true,
            Some(_) => seen.extras.grant.as_ref().is_some_and(|doc| {
                let partition = parse_role_arn(&desired.arn)
                    .map(|a| a.partition)
                    .unwrap_or_default();
                crate::iam::policy::equivalent(&g.document, doc, &partition)
            }),
        };
        ConnectorState {
            role: RoleState {
                arn: Some(desired.arn.clone()),
                ..role
            },
            access_entry_arn,
            grant_policy_name: desired
                .grant
                .as_ref()
                .filter(|g| grant_written(g))
                .map(|g| g.name.clone()),
        }
    }

    fn preview_assigned(
        &self,
        args: &ConnectorArgs,
        previous: Option<&ConnectorArgs>,
    ) -> PreviewAssigned {
        let cluster = |a: &ConnectorArgs| {
            a.sources
                .each()
                .into_iter()
                .find_map(|(_, s)| s.access_cluster())
        };
        let now = cluster(args);
        if previous.is_some_and(|old| cluster(old) == now) {
            return PreviewAssigned::default();
        }
        let key = vec![ConnectorState::access_entry_arn];
        match now {
            Some(_) => PreviewAssigned {
                anew: key,
                gone: vec![],
            },
            None => PreviewAssigned {
                anew: vec![],
                gone: key,
            },
        }
    }

    /// A grant the inputs ask for that the state does not record.
    fn drift(&self, desired: &Rendered, state: &ConnectorState) -> Vec<Key> {
        (desired.grant.is_some() && state.grant_policy_name.is_none())
            .then_some(ConnectorState::grant_policy_name)
            .into_iter()
            .collect()
    }

    fn imported(&self, live: &LiveRole) -> ConnectorArgs {
        imported_inputs(live)
    }

    fn reconcile(
        &self,
        live: &LiveRole,
        args: &mut ConnectorArgs,
        importing: bool,
        (rendered, extras): (&Rendered, &LiveExtras),
    ) -> Result<(), OpError> {
        if importing {
            // A setup made by hand grants through the base role's own
            // AssumeConnectorRoles policy; importing must not add a second grant.
            if rendered.grant.is_some() && extras.grant.is_none() {
                args.trust.grant_base_role = Some(false);
            }
            return Ok(());
        }
        // Attachments are exclusive: one made by hand shows up as an input
        // change, so the next update detaches it.
        let declared: std::collections::BTreeSet<String> = args
            .managed_policy_arns
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        if declared != live.managed_policies {
            args.managed_policy_arns = (!live.managed_policies.is_empty())
                .then(|| live.managed_policies.iter().cloned().collect());
        }
        Ok(())
    }

    async fn delete_extras(
        &self,
        cloud: &Cloud,
        state: &ConnectorState,
        args: &ConnectorArgs,
    ) -> Result<Vec<Step>, OpError> {
        let written = Written::from_state(state, args);
        let access = match &written.access {
            Some((cluster, principal)) => cloud.api.get_access_entry(cluster, principal).await?,
            None => None,
        };
        Ok(plan_delete(&written, access.is_some()))
    }
}

/// Inputs a user could have written for a live connector role (`pulumi import`):
/// the trust statements become `externalId`/`baseRoleArn`/…, and every inline
/// policy except the self-assume one becomes an entry of `policies`.
pub fn imported_inputs(live: &LiveRole) -> ConnectorArgs {
    let mut args = ConnectorArgs {
        role: RoleArgs::from_live(live),
        ..Default::default()
    };
    let mut pod_identity = false;
    for (sid, stmt) in crate::iam::policy::statements_by_sid(&live.trust) {
        let aws = crate::iam::policy::string_list(stmt.get("Principal").and_then(|p| p.get("AWS")));
        match sid.as_str() {
            templates::SID_POD_IDENTITY => {
                pod_identity = true;
                args.trust.pod_identity_scope = PodIdentityArgs::scoped_by(&stmt);
            }
            templates::SID_FROM_BASE => args.trust.base_role_arn = aws.first().cloned(),
            templates::SID_CROSS_ACCOUNT => {
                args.trust.external_id = stmt
                    .pointer("/Condition/StringEquals/sts:ExternalId")
                    .map(|v| crate::iam::policy::string_list(Some(v)))
                    .and_then(|v| v.into_iter().next());
                if let Some(account) = aws.first().and_then(|a| a.split(':').nth(4)) {
                    if !live.arn.contains(&format!(":{account}:")) {
                        args.trust.trusted_account_id = Some(account.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    if !pod_identity {
        args.trust.pod_identity_trust = Some(false);
    }
    let policies: BTreeMap<String, serde_json::Value> = live
        .inline_policies
        .iter()
        .filter(|(k, _)| k.as_str() != templates::POLICY_SELF_ASSUME)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    args.policies = (!policies.is_empty()).then_some(policies);
    args.managed_policy_arns = (!live.managed_policies.is_empty())
        .then(|| live.managed_policies.iter().cloned().collect());
    args
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ctx, redshift_args};
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn import_recovers_the_inputs() {
        let r = redshift_args()
            .render(&ctx(), &BTreeMap::new(), "u")
            .unwrap();
        let live = LiveRole {
            name: r.role.name.clone(),
            path: "/".into(),
            arn: r.arn.clone(),
            role_id: "AROAX".into(),
            trust: r.role.trust.clone(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            tags: r.role.tags.clone(),
            inline_policies: r.role.inline_policies.clone(),
            managed_policies: BTreeSet::new(),
        };
        let args = imported_inputs(&live);
        assert_eq!(
            args.trust.base_role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/xpander-base-role")
        );
        assert_eq!(args.trust.external_id.as_deref(), Some("org-123"));
        assert_eq!(args.trust.pod_identity_trust, None);
        let p = args.policies.unwrap();
        assert!(p.contains_key("RedshiftDataAPI") && !p.contains_key("SelfAssumeAndTagSession"));
        // Through the boundary the ExternalId is a secret input.
        let inputs = crate::resources::properties::merge_inputs(
            &SPEC,
            &Default::default(),
            &imported_inputs(&live),
        );
        assert!(matches!(
            &inputs["externalId"],
            crate::model::value::PropertyValue::Secret(_)
        ));
    }
}
