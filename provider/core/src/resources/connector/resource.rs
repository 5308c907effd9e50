//! The Pulumi operations of a connector: Check, Diff, Create, Read, Update,
//! Delete and import, over the rendering in `mod.rs` and the plans in `plan.rs`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value as Json;

use super::plan::{plan_delete, plan_extras, LiveExtras, Written};
use super::{ConnectorArgs, Rendered, SPEC};
use crate::cloud::api::LiveRole;
use crate::iam::arn::{parse_role_arn, AccountContext};
use crate::iam::{limits, templates};
use crate::model::value::{PropertyMap, PropertyValue};
use crate::plan::Step;
use crate::resources::lifecycle::{self, Observed, Previous, RoleBacked};
use crate::resources::role;
use crate::resources::*;

fn outputs(
    inputs: &PropertyMap,
    r: &Rendered,
    role_id: Option<&str>,
    account: Option<&AccountContext>,
    access_entry_arn: Option<&str>,
    trust: &Json,
    policies: &BTreeMap<String, Json>,
) -> PropertyMap {
    let mut out = inputs.clone();
    let s = |v: &str| PropertyValue::String(v.to_string());
    out.insert("arn".into(), s(&r.arn));
    if let Some(id) = role_id {
        out.insert("roleId".into(), s(id));
    }
    if let Some(a) = account {
        out.insert("accountId".into(), s(&a.account_id));
    }
    out.insert("trustPolicy".into(), PropertyValue::from_json(trust));
    out.insert("policies".into(), documents_value(policies));
    out.insert(
        "tagsAll".into(),
        PropertyValue::Object(r.role.tags.iter().map(|(k, v)| (k.clone(), s(v))).collect()),
    );
    if let Some(arn) = access_entry_arn {
        out.insert("accessEntryArn".into(), s(arn));
    }
    if let Some(g) = &r.grant {
        out.insert("grantPolicyName".into(), s(&g.name));
    }
    apply_secrets(&SPEC, inputs, &mut out);
    out
}

async fn live_extras(cloud: &crate::context::Cloud, r: &Rendered) -> Result<LiveExtras, OpError> {
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
async fn check_base_role(
    args: &ConnectorArgs,
    cloud: &crate::context::Cloud,
) -> Result<(), OpError> {
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

/// Access entries need a cluster that exists and whose authentication mode
/// admits them: said before anything is written (AWS would refuse only at
/// CreateAccessEntry, after the role exists).
async fn check_cluster(args: &ConnectorArgs, cloud: &crate::context::Cloud) -> Result<(), OpError> {
    let Some(cluster) = args
        .sources
        .eks
        .as_ref()
        .and_then(|e| e.cluster_name.as_deref())
    else {
        return Ok(());
    };
    match cloud.api.describe_cluster(cluster).await? {
        None => Err(OpError::Invalid(format!(
            "eks.clusterName: cluster {cluster:?} does not exist in {}, the provider's region (for a cluster in another region, use a provider with that region)",
            cloud.account.region
        ))),
        Some(c) if c.authentication_mode == "CONFIG_MAP" => Err(OpError::Invalid(format!(
            "eks.clusterName: cluster {cluster:?} uses authenticationMode CONFIG_MAP, which has no access entries; switch it to API_AND_CONFIG_MAP (aws eks update-cluster-config --name {cluster} --access-config authenticationMode=API_AND_CONFIG_MAP)"
        ))),
        Some(_) => Ok(()),
    }
}

/// The account's quotas, read before anything is written: a role left
/// half-attached by LimitExceeded is worse than a refusal.
async fn check_quotas(
    args: &ConnectorArgs,
    provider: &crate::context::ProviderState,
    cloud: &crate::context::Cloud,
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
    type Desired = Rendered;
    type Extras = LiveExtras;

    fn table(&self) -> &'static ResourceSpec {
        &SPEC
    }

    fn check(&self, req: &CheckRequest<'_>, provider: &crate::context::ProviderState) -> Checked {
        let account = provider.cached_account();
        let quota = provider
            .cached_attached_policy_quota()
            .unwrap_or(limits::MANAGED_POLICIES_PER_ROLE_MAX);
        let base_role_unknown = req
            .news
            .get("baseRoleArn")
            .is_some_and(PropertyValue::contains_unknown);
        role::check_role::<ConnectorArgs>(&SPEC, req, |args, failures, warnings| {
            args.validate(failures, warnings);
            if !base_role_unknown {
                warnings.extend(args.cloud_only_warning());
            }
            failures.extend(args.too_many_managed_policies(quota));
            // Known once the provider has met AWS (every Check after the first
            // deployment step of a run); Create and Update check again.
            if let Some(account) = &account {
                if let Some(reason) = args.base_role_elsewhere(account) {
                    failures.push(Failure::new("baseRoleArn", reason));
                }
            }
        })
    }

    fn diff(
        &self,
        provider: &crate::context::ProviderState,
        olds: &PropertyMap,
        old_inputs: &PropertyMap,
        news: &PropertyMap,
    ) -> DiffResult {
        let mut result = diff_inputs(&SPEC, old_inputs, news);
        let known = !news.values().any(PropertyValue::contains_unknown);
        let account = role::account_from_outputs(olds, &provider.region());
        if let (true, Some(account), Ok((args, _))) =
            (known, account, typed_args::<ConnectorArgs>(news))
        {
            if let Ok(r) = args.render(&account, &BTreeMap::new(), "") {
                let trust_drift = olds.get("trustPolicy").is_some_and(|t| {
                    !crate::iam::policy::equivalent(&t.to_json(), &r.role.trust, &account.partition)
                });
                let policies_drift = olds.get("policies").is_some_and(|p| {
                    documents_differ(&p.to_json(), &r.role.inline_policies, &account.partition)
                });
                let grant_missing = r.grant.is_some() && !olds.contains_key("grantPolicyName");
                result.drift("trustPolicy", trust_drift);
                result.drift("policies", policies_drift);
                result.drift("grantPolicyName", grant_missing);
            }
        }
        result.settle_replacement(old_inputs, news);
        result
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

    fn role<'a>(&self, desired: &'a Rendered) -> &'a crate::plan::RoleSpec {
        &desired.role
    }

    async fn preflight(
        &self,
        args: &ConnectorArgs,
        provider: &crate::context::ProviderState,
        cloud: &crate::context::Cloud,
    ) -> Result<(), OpError> {
        check_base_role(args, cloud).await?;
        check_quotas(args, provider, cloud).await?;
        check_cluster(args, cloud).await
    }

    /// A preview reads the cluster when it can: a cluster the connector
    /// cannot get an access entry on fails here, not halfway through `up`.
    async fn preview_checks(
        &self,
        args: &ConnectorArgs,
        provider: &crate::context::ProviderState,
    ) -> Result<(), OpError> {
        if args.sources.eks.is_some() {
            if let Ok(cloud) = provider.cloud().await {
                check_cluster(args, &cloud).await?;
            }
        }
        Ok(())
    }

    async fn live_extras(
        &self,
        cloud: &crate::context::Cloud,
        _args: &ConnectorArgs,
        desired: &Rendered,
    ) -> Result<LiveExtras, OpError> {
        live_extras(cloud, desired).await
    }

    fn plan_extras(
        &self,
        desired: &Rendered,
        extras: &LiveExtras,
        previous: Option<&Previous<'_, ConnectorArgs>>,
        account: &AccountContext,
    ) -> Vec<Step> {
        let old = previous.and_then(|p| p.args.render(account, &BTreeMap::new(), "").ok());
        plan_extras(desired, extras, old.as_ref(), &account.partition)
    }

    fn outputs(
        &self,
        inputs: &PropertyMap,
        desired: &Rendered,
        seen: &Observed<'_, LiveExtras>,
    ) -> PropertyMap {
        let entry = desired.access.as_ref().and_then(|_| {
            seen.applied
                .and_then(|a| a.access_entry_arn.clone())
                .or(seen
                    .extras
                    .access
                    .as_ref()
                    .map(|a| a.access_entry_arn.clone()))
        });
        outputs(
            inputs,
            desired,
            seen.role_id.as_deref(),
            seen.account,
            entry.as_deref(),
            seen.trust,
            seen.policies,
        )
    }

    fn preview_unknowns(
        &self,
        args: &ConnectorArgs,
        previous: Option<&ConnectorArgs>,
        known: &mut PropertyMap,
        out: &mut PropertyMap,
    ) {
        let eks = args.sources.eks.as_ref();
        let cluster_changes = match previous {
            None => true,
            Some(old) => {
                old.sources.eks.as_ref().map(|e| &e.cluster_name) != eks.map(|e| &e.cluster_name)
            }
        };
        if previous.is_some() {
            let granted =
                args.trust.base_role_arn.is_some() && args.trust.grant_base_role.unwrap_or(true);
            if !granted {
                known.remove("grantPolicyName");
            }
        }
        if cluster_changes {
            known.remove("accessEntryArn");
            if eks.is_some() {
                out.insert("accessEntryArn".into(), PropertyValue::Unknown);
            }
        }
    }

    fn imported_inputs(&self, live: &LiveRole) -> PropertyMap {
        imported_inputs(live)
    }

    fn reconcile_inputs(
        &self,
        live: &LiveRole,
        inputs: &mut PropertyMap,
        importing: bool,
        (rendered, extras): (&Rendered, &LiveExtras),
    ) -> Result<(), OpError> {
        if importing {
            // A setup made by hand grants through the base role's own
            // AssumeConnectorRoles policy; importing must not add a second grant.
            if rendered.grant.is_some() && extras.grant.is_none() {
                inputs.insert("grantBaseRole".into(), PropertyValue::Bool(false));
            }
            return Ok(());
        }
        // Attachments are exclusive: one made by hand shows up as an input
        // change, so the next update detaches it.
        let declared: std::collections::BTreeSet<String> =
            lifecycle::decode::<ConnectorArgs>(inputs)?
                .managed_policy_arns
                .unwrap_or_default()
                .into_iter()
                .collect();
        if declared != live.managed_policies {
            let list = live
                .managed_policies
                .iter()
                .map(|a| PropertyValue::String(a.clone()))
                .collect::<Vec<_>>();
            if list.is_empty() {
                inputs.remove("managedPolicyArns");
            } else {
                inputs.insert("managedPolicyArns".into(), PropertyValue::Array(list));
            }
        }
        Ok(())
    }

    /// A grant that is missing or edited on the base role is reported as
    /// absent, so the next update writes it.
    fn read_outputs(
        &self,
        out: &mut PropertyMap,
        _inputs: &PropertyMap,
        _live: &LiveRole,
        desired: &Rendered,
        extras: &LiveExtras,
    ) {
        let partition = parse_role_arn(&desired.arn)
            .map(|a| a.partition)
            .unwrap_or_default();
        let grant_ok = match (&desired.grant, &extras.grant) {
            (Some(g), Some(doc)) => crate::iam::policy::equivalent(&g.document, doc, &partition),
            _ => false,
        };
        if !grant_ok {
            out.remove("grantPolicyName");
        }
    }

    async fn delete_extras(
        &self,
        cloud: &crate::context::Cloud,
        outputs: &PropertyMap,
        _inputs: &PropertyMap,
    ) -> Result<Vec<Step>, OpError> {
        let written = Written::from_outputs(outputs);
        let access = match &written.access {
            Some((cluster, principal)) => cloud.api.get_access_entry(cluster, principal).await?,
            None => None,
        };
        Ok(plan_delete(&written, access.is_some()))
    }
}

/// Live documents (from the last write or a refresh) against the rendered ones.
fn documents_differ(have: &Json, want: &BTreeMap<String, Json>, partition: &str) -> bool {
    let Some(have) = have.as_object() else {
        return true;
    };
    have.len() != want.len()
        || want.iter().any(|(name, doc)| {
            have.get(name)
                .is_none_or(|d| !crate::iam::policy::equivalent(d, doc, partition))
        })
}

/// Inputs a user could have written for a live connector role (`pulumi import`):
/// the trust statements become `externalId`/`baseRoleArn`/…, and every inline
/// policy except the self-assume one becomes an entry of `policies`.
pub fn imported_inputs(live: &LiveRole) -> PropertyMap {
    let mut m = role::imported_role_inputs(live);
    let mut pod_identity = false;
    for (sid, stmt) in crate::iam::policy::statements_by_sid(&live.trust) {
        let aws = crate::iam::policy::string_list(stmt.get("Principal").and_then(|p| p.get("AWS")));
        match sid.as_str() {
            templates::SID_POD_IDENTITY => pod_identity = true,
            templates::SID_FROM_BASE => {
                if let Some(a) = aws.first() {
                    m.insert("baseRoleArn".into(), PropertyValue::String(a.clone()));
                }
            }
            templates::SID_CROSS_ACCOUNT => {
                let ext = stmt
                    .pointer("/Condition/StringEquals/sts:ExternalId")
                    .map(|v| crate::iam::policy::string_list(Some(v)))
                    .and_then(|v| v.into_iter().next());
                if let Some(x) = ext {
                    m.insert(
                        "externalId".into(),
                        PropertyValue::secret(PropertyValue::String(x)),
                    );
                }
                if let Some(account) = aws.first().and_then(|a| a.split(':').nth(4)) {
                    if !live.arn.contains(&format!(":{account}:")) {
                        m.insert(
                            "trustedAccountId".into(),
                            PropertyValue::String(account.to_string()),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    if !pod_identity {
        m.insert("podIdentityTrust".into(), PropertyValue::Bool(false));
    }
    let policies: PropertyMap = live
        .inline_policies
        .iter()
        .filter(|(k, _)| k.as_str() != templates::POLICY_SELF_ASSUME)
        .map(|(k, v)| (k.clone(), PropertyValue::from_json(v)))
        .collect();
    if !policies.is_empty() {
        m.insert("policies".into(), PropertyValue::Object(policies));
    }
    if !live.managed_policies.is_empty() {
        m.insert(
            "managedPolicyArns".into(),
            PropertyValue::Array(
                live.managed_policies
                    .iter()
                    .map(|a| PropertyValue::String(a.clone()))
                    .collect(),
            ),
        );
    }
    m
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
        let inputs = imported_inputs(&live);
        assert_eq!(
            inputs["baseRoleArn"],
            PropertyValue::String("arn:aws:iam::123456789012:role/xpander-base-role".into())
        );
        assert!(matches!(&inputs["externalId"], PropertyValue::Secret(_)));
        assert!(!inputs.contains_key("podIdentityTrust"));
        let PropertyValue::Object(p) = &inputs["policies"] else {
            panic!()
        };
        assert!(p.contains_key("RedshiftDataAPI") && !p.contains_key("SelfAssumeAndTagSession"));
    }
}
