//! The Pulumi operations of a connector: Check, Diff, Create, Read, Update,
//! Delete and import, over the rendering in `mod.rs` and the plans in `plan.rs`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value as Json;

use super::plan::{plan_delete, plan_extras, LiveExtras, Written};
use super::{ConnectorArgs, Rendered, SPEC, TOKEN};
use crate::cloud::api::LiveRole;
use crate::iam::arn::{parse_role_arn, AccountContext};
use crate::iam::{limits, templates};
use crate::plan::plan_role;
use crate::resources::role;
use crate::resources::*;
use crate::rpc::values::{PropertyMap, PropertyValue};

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

async fn live_extras(cloud: &crate::rpc::Cloud, r: &Rendered) -> Result<LiveExtras, OpError> {
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
async fn check_base_role(args: &ConnectorArgs, cloud: &crate::rpc::Cloud) -> Result<(), OpError> {
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
async fn check_cluster(args: &ConnectorArgs, cloud: &crate::rpc::Cloud) -> Result<(), OpError> {
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
    provider: &crate::rpc::ProviderState,
    cloud: &crate::rpc::Cloud,
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

impl ConnectorRole {
    fn args(inputs: &PropertyMap) -> Result<ConnectorArgs, OpError> {
        typed_args::<ConnectorArgs>(inputs)
            .map(|(a, _)| a)
            .map_err(|f| OpError::Invalid(f.reason))
    }

    fn render(
        args: &ConnectorArgs,
        ctx: &OpCtx<'_>,
        account: &AccountContext,
    ) -> Result<Rendered, OpError> {
        let cfg = ctx.provider.config();
        args.render(
            account,
            &cfg.default_tags.clone().unwrap_or_default(),
            ctx.urn,
        )
        .map_err(OpError::Invalid)
    }
}

#[async_trait]
impl Resource for ConnectorRole {
    fn spec(&self) -> &'static ResourceSpec {
        &SPEC
    }

    fn check(&self, req: &CheckRequest<'_>, provider: &crate::rpc::ProviderState) -> Checked {
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
        provider: &crate::rpc::ProviderState,
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

    async fn create(
        &self,
        ctx: &OpCtx<'_>,
        inputs: &PropertyMap,
        preview: bool,
    ) -> Result<(String, PropertyMap), OpError> {
        let args = Self::args(inputs)?;
        if preview {
            let known = match ctx.provider.cached_account() {
                Some(account) => match Self::render(&args, ctx, &account) {
                    Ok(r) => outputs(
                        inputs,
                        &r,
                        None,
                        Some(&account),
                        None,
                        &r.role.trust,
                        &r.role.inline_policies,
                    ),
                    Err(_) => PropertyMap::new(),
                },
                None => PropertyMap::new(),
            };
            // A preview reads the cluster when it can: a cluster the connector
            // cannot get an access entry on fails here, not halfway through `up`.
            if args.sources.eks.is_some() {
                if let Ok(cloud) = ctx.provider.cloud().await {
                    check_cluster(&args, &cloud).await?;
                }
            }
            let mut out = preview_outputs(&SPEC, inputs, &known, false);
            if args.sources.eks.is_some() {
                out.insert("accessEntryArn".into(), PropertyValue::Unknown);
            }
            return Ok((String::new(), out));
        }
        let cloud = ctx.provider.cloud().await?;
        let r = Self::render(&args, ctx, &cloud.account)?;
        check_base_role(&args, &cloud).await?;
        check_quotas(&args, ctx.provider, &cloud).await?;
        check_cluster(&args, &cloud).await?;
        let live = cloud.api.get_role(&r.role.name).await?;
        role::ensure_owned(live.as_ref(), ctx.urn, TOKEN)?;
        let extras = if live.is_some() {
            live_extras(&cloud, &r).await?
        } else {
            LiveExtras::default()
        };
        let mut steps = plan_role(live.as_ref(), &r.role, &cloud.account.partition);
        steps.extend(plan_extras(&r, &extras, None, &cloud.account.partition));
        let (applied, failure) = apply(ctx, &cloud, &steps).await;
        let role_id = applied
            .created_role
            .as_ref()
            .map(|c| c.role_id.clone())
            .or(live.as_ref().map(|l| l.role_id.clone()));
        let entry = applied
            .access_entry_arn
            .clone()
            .or(extras.access.map(|a| a.access_entry_arn));
        let out = outputs(
            inputs,
            &r,
            role_id.as_deref(),
            Some(&cloud.account),
            entry.as_deref(),
            &r.role.trust,
            &r.role.inline_policies,
        );
        match failure {
            None => Ok((r.role.name.clone(), out)),
            Some(f) if role_id.is_some() => {
                let mut out = out;
                out.insert("trustPolicy".into(), PropertyValue::Null);
                Err(partial(&r.role.name, out, &f))
            }
            Some(f) => Err(OpError::Cloud(f.error)),
        }
    }

    async fn read(
        &self,
        ctx: &OpCtx<'_>,
        id: &str,
        _olds: Option<&PropertyMap>,
        old_inputs: Option<&PropertyMap>,
    ) -> Result<Option<(PropertyMap, PropertyMap)>, OpError> {
        let cloud = ctx.provider.cloud().await?;
        let Some(live) = cloud.api.get_role(id).await? else {
            return Ok(None);
        };
        let importing = old_inputs.is_none_or(|m| m.is_empty());
        let mut inputs = match old_inputs.filter(|m| !m.is_empty()) {
            Some(old) => old.clone(),
            None => imported_inputs(&live),
        };
        if !importing {
            // Attachments are exclusive: one made by hand shows up as an input
            // change, so the next update detaches it.
            let declared: std::collections::BTreeSet<String> = Self::args(&inputs)?
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
        }
        let mut args = Self::args(&inputs)?;
        let mut r = Self::render(&args, ctx, &cloud.account)?;
        let mut extras = live_extras(&cloud, &r).await?;
        if importing && r.grant.is_some() && extras.grant.is_none() {
            // A setup made by hand grants through the base role's own
            // AssumeConnectorRoles policy; importing must not add a second grant.
            inputs.insert("grantBaseRole".into(), PropertyValue::Bool(false));
            args = Self::args(&inputs)?;
            r = Self::render(&args, ctx, &cloud.account)?;
            extras = live_extras(&cloud, &r).await?;
        }
        let mut out = outputs(
            &inputs,
            &r,
            Some(&live.role_id),
            Some(&cloud.account),
            extras.access.as_ref().map(|a| a.access_entry_arn.as_str()),
            &live.trust,
            &live.inline_policies,
        );
        let grant_ok = match (&r.grant, &extras.grant) {
            (Some(g), Some(doc)) => {
                crate::iam::policy::equivalent(&g.document, doc, &cloud.account.partition)
            }
            _ => false,
        };
        if !grant_ok {
            out.remove("grantPolicyName");
        }
        out.insert(
            "tagsAll".into(),
            PropertyValue::Object(
                live.tags
                    .iter()
                    .map(|(k, v)| (k.clone(), PropertyValue::String(v.clone())))
                    .collect(),
            ),
        );
        if args.trust.external_id.is_some() {
            apply_secrets(&SPEC, &inputs, &mut out);
        }
        Ok(Some((out, inputs)))
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
        let args = Self::args(news)?;
        let old_args = Self::args(old_inputs).unwrap_or_default();
        let region = ctx.provider.region();
        if preview {
            let account = role::account_from_outputs(olds, &region);
            let mut known = olds.clone();
            if let Some(account) = &account {
                if let Ok(r) = Self::render(&args, ctx, account) {
                    known.extend(outputs(
                        news,
                        &r,
                        None,
                        Some(account),
                        None,
                        &r.role.trust,
                        &r.role.inline_policies,
                    ));
                    if r.grant.is_none() {
                        known.remove("grantPolicyName");
                    }
                }
            }
            let cluster_changes = old_args.sources.eks.as_ref().map(|e| &e.cluster_name)
                != args.sources.eks.as_ref().map(|e| &e.cluster_name);
            if cluster_changes {
                known.remove("accessEntryArn");
            }
            let mut out = preview_outputs(&SPEC, news, &known, true);
            if cluster_changes && args.sources.eks.is_some() {
                out.insert("accessEntryArn".into(), PropertyValue::Unknown);
            }
            return Ok(out);
        }
        let cloud = ctx.provider.cloud().await?;
        let r = Self::render(&args, ctx, &cloud.account)?;
        check_base_role(&args, &cloud).await?;
        check_quotas(&args, ctx.provider, &cloud).await?;
        check_cluster(&args, &cloud).await?;
        let old_r = Self::render(&old_args, ctx, &cloud.account).ok();
        let live = cloud.api.get_role(id).await?;
        let extras = live_extras(&cloud, &r).await?;
        let mut steps = plan_role(live.as_ref(), &r.role, &cloud.account.partition);
        steps.extend(plan_extras(
            &r,
            &extras,
            old_r.as_ref(),
            &cloud.account.partition,
        ));
        let (applied, failure) = apply(ctx, &cloud, &steps).await;
        let role_id = applied
            .created_role
            .as_ref()
            .map(|c| c.role_id.clone())
            .or(live.as_ref().map(|l| l.role_id.clone()))
            .or(role::string_output(olds, "roleId"));
        let entry = if args.sources.eks.is_some() {
            applied
                .access_entry_arn
                .clone()
                .or(extras.access.map(|a| a.access_entry_arn))
        } else {
            None
        };
        let out = outputs(
            news,
            &r,
            role_id.as_deref(),
            Some(&cloud.account),
            entry.as_deref(),
            &r.role.trust,
            &r.role.inline_policies,
        );
        match failure {
            None => Ok(out),
            Some(f) => Err(partial(id, out, &f)),
        }
    }

    async fn delete(
        &self,
        ctx: &OpCtx<'_>,
        id: &str,
        olds: &PropertyMap,
        _old_inputs: &PropertyMap,
    ) -> Result<(), OpError> {
        let cloud = ctx.provider.cloud().await?;
        let written = Written::from_outputs(olds);
        let live = cloud.api.get_role(id).await?;
        let access = match &written.access {
            Some((cluster, principal)) => cloud.api.get_access_entry(cluster, principal).await?,
            None => None,
        };
        let extras = LiveExtras {
            grant: None,
            access,
        };
        let steps = plan_delete(&written, live.as_ref(), &extras);
        execute(ctx, &cloud, &steps)
            .await
            .map(|_| ())
            .map_err(|f| OpError::Cloud(f.error))
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
