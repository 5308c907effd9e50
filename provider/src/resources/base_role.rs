//! `xpander:index:XpanderBaseRole`: the role the xpander pods get through EKS
//! Pod Identity (seed step 1). It trusts only `pods.eks.amazonaws.com` and
//! holds no service permission: only `sts:AssumeRole` + `sts:TagSession` on
//! connector roles, granted by each connector or listed in `connectorRoleArns`.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use std::sync::LazyLock;

use serde_json::Value as Json;

use super::role::{self, RoleArgs};
use super::spec::{declare, Prop, ResourceSpec, Ty};
use super::*;
use crate::cloud::api::{LiveRole, PodIdentityAssociation};
use crate::iam::arn::{parse_role_arn, AccountContext};
use crate::iam::{limits, templates};
use crate::plan::{plan_role, plan_role_delete, RoleSpec, Step};

pub const TOKEN: &str = "xpander:index:XpanderBaseRole";

pub static SPEC: LazyLock<ResourceSpec> = LazyLock::new(|| {
    ResourceSpec::assemble::<BaseRoleArgs>(
        TOKEN,
        "The xpander base role: attached to the xpander pods through EKS Pod Identity, trusted only by `pods.eks.amazonaws.com`, with no service permissions — it can only assume connector roles.",
        OUTPUTS,
    )
});

const OUTPUTS: &[Prop] = &[
    Prop::assigned("arn", Ty::String, "ARN of the role."),
    Prop::assigned("roleId", Ty::String, "Unique id (AROA…) of the role. Pass it to connectors as `baseRoleId` so a replaced base role rewrites their trust."),
    Prop::assigned("accountId", Ty::String, "Account that owns the role."),
    Prop::computed("trustPolicy", Ty::Document, "The trust policy as written.", &[]),
    Prop::computed("policies", Ty::DocumentMap, "Inline policies owned by this resource, by name.", &["connectorRoleArns"]),
    Prop::computed("tagsAll", Ty::StringMap, "All tags on the role, including provider defaults.", &["tags"]),
    Prop::assigned("podIdentityAssociationId", Ty::String, "Id of the Pod Identity association.").optional_output(),
    Prop::assigned("podIdentityAssociationArn", Ty::String, "ARN of the Pod Identity association.").optional_output(),
    Prop::assigned("attachedPolicyArns", Ty::StringList, "Managed policies found attached by a refresh. The base role holds none: anything here is drift, detached by the next update.").optional_output(),
];

declare! {
    pub struct BaseRoleArgs {
        flatten role: RoleArgs,
        "connectorRoleArns" connector_role_arns: Vec<String> => "Extra connector role ARNs listed in the seed's `AssumeConnectorRoles` policy. Connectors declared with `XpanderConnectorRole` grant themselves and need not be listed.",
        "podIdentity" pod_identity: PodIdentityArgs => "EKS Pod Identity association for the xpander service account. Changing cluster, namespace or service account replaces the association, not the role.",
    }
}

declare! {
    pub struct PodIdentityArgs as "PodIdentity", "Where the xpander pods run: the Pod Identity association of the base role." {
        "clusterName" cluster_name: String [required] => "EKS cluster name.",
        "namespace" namespace: String [default = "xpander"] => "Kubernetes namespace of the service account.",
        "serviceAccount" service_account: String [default = "xpander"] => "Kubernetes service account.",
        "disableSessionTags" disable_session_tags: bool => "Stop EKS from adding its six session tags. Connector trust allows `sts:TagSession` either way.",
        "tags" tags: BTreeMap<String, String> => "Tags for the association.",
    }
}

impl PodIdentityArgs {
    pub fn key(&self) -> (String, String, String) {
        (
            self.cluster_name.clone().unwrap_or_default(),
            self.namespace.clone().unwrap_or_else(|| "xpander".into()),
            self.service_account
                .clone()
                .unwrap_or_else(|| "xpander".into()),
        )
    }
}

impl BaseRoleArgs {
    fn validate(&self, failures: &mut Vec<Failure>) {
        self.role.validate(failures);
        for (i, arn) in self.connector_role_arns.iter().flatten().enumerate() {
            if arn.contains('*') {
                failures.push(Failure::new(
                    format!("connectorRoleArns[{i}]"),
                    "wildcards are not allowed: the base role may assume only named connector roles (seed: \"Restrict base role\")",
                ));
            } else if parse_role_arn(arn).is_none() {
                failures.push(Failure::new(
                    format!("connectorRoleArns[{i}]"),
                    format!("{arn:?} is not an IAM role ARN"),
                ));
            }
        }
        if let Some(p) = &self.pod_identity {
            match &p.cluster_name {
                None => failures.push(Failure::new(
                    "podIdentity.clusterName",
                    "podIdentity.clusterName is required",
                )),
                Some(c) => {
                    if let Err(r) = limits::check_cluster_name(c) {
                        failures.push(Failure::new("podIdentity.clusterName", r));
                    }
                }
            }
            let (_, ns, sa) = p.key();
            if let Err(r) = limits::check_namespace(&ns) {
                failures.push(Failure::new("podIdentity.namespace", r));
            }
            if let Err(r) = limits::check_service_account(&sa) {
                failures.push(Failure::new("podIdentity.serviceAccount", r));
            }
            for (k, v) in p.tags.iter().flatten() {
                if let Err(r) = limits::check_tag(k, v) {
                    failures.push(Failure::new("podIdentity.tags", r));
                }
            }
        }
    }

    fn inline_policies(&self) -> BTreeMap<String, Json> {
        let arns = self.connector_role_arns.clone().unwrap_or_default();
        if arns.is_empty() {
            BTreeMap::new()
        } else {
            [(
                templates::POLICY_ASSUME_CONNECTORS.to_string(),
                templates::assume_connector_roles(&arns),
            )]
            .into()
        }
    }

    fn role_spec(&self, default_tags: &BTreeMap<String, String>, urn: &str) -> RoleSpec {
        RoleSpec {
            name: self.role.name(),
            path: self.role.path(),
            description: self.role.description.clone(),
            max_session_duration: self.role.max_session_duration,
            permissions_boundary: self.role.permissions_boundary.clone(),
            tags: self.role.all_tags(default_tags, urn),
            initial_trust: templates::base_trust(),
            trust: templates::base_trust(),
            inline_policies: self.inline_policies(),
            managed_policies: BTreeSet::new(),
            keeps_connector_grants: true,
        }
    }
}

/// What is known of the role beyond its inputs.
#[derive(Default)]
struct Observed<'a> {
    role_arn: Option<&'a str>,
    role_id: Option<&'a str>,
    account: Option<&'a AccountContext>,
    association: Option<&'a PodIdentityAssociation>,
}

/// Outputs from the inputs plus what AWS assigned.
fn outputs(
    inputs: &PropertyMap,
    spec: &RoleSpec,
    seen: Observed<'_>,
    trust: &Json,
    policies: &BTreeMap<String, Json>,
) -> PropertyMap {
    let Observed {
        role_arn,
        role_id,
        account,
        association,
    } = seen;
    let mut out = inputs.clone();
    let mut set = |k: &str, v: Option<PropertyValue>| {
        if let Some(v) = v {
            out.insert(k.to_string(), v);
        }
    };
    set("arn", role_arn.map(|s| PropertyValue::String(s.into())));
    set("roleId", role_id.map(|s| PropertyValue::String(s.into())));
    set(
        "accountId",
        account.map(|a| PropertyValue::String(a.account_id.clone())),
    );
    set("trustPolicy", Some(PropertyValue::from_json(trust)));
    set("policies", Some(documents_value(policies)));
    set(
        "tagsAll",
        Some(PropertyValue::Object(
            spec.tags
                .iter()
                .map(|(k, v)| (k.clone(), PropertyValue::String(v.clone())))
                .collect(),
        )),
    );
    set(
        "podIdentityAssociationId",
        association.map(|a| PropertyValue::String(a.association_id.clone())),
    );
    set(
        "podIdentityAssociationArn",
        association.map(|a| PropertyValue::String(a.association_arn.clone())),
    );
    apply_secrets(&SPEC, inputs, &mut out);
    out
}

/// Pod Identity steps: create the wanted association, re-point a live one,
/// and remove the old one when its cluster/namespace/service account changed.
fn plan_association(
    old: Option<(&PodIdentityArgs, Option<String>)>,
    want: Option<&PodIdentityArgs>,
    live_for_want: Option<&PodIdentityAssociation>,
    role_arn: &str,
) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some(w) = want {
        let (cluster, namespace, service_account) = w.key();
        let disable = w.disable_session_tags.unwrap_or(false);
        match live_for_want {
            Some(live) if live.role_arn == role_arn && live.disable_session_tags == disable => {}
            Some(live) => steps.push(Step::UpdatePodIdentity {
                cluster,
                id: live.association_id.clone(),
                role_arn: role_arn.to_string(),
                disable_session_tags: disable,
            }),
            None => steps.push(Step::CreatePodIdentity {
                cluster,
                namespace,
                service_account,
                role_arn: role_arn.to_string(),
                disable_session_tags: disable,
                tags: w.tags.clone().unwrap_or_default(),
            }),
        }
    }
    if let Some((o, Some(id))) = old {
        if want.map(PodIdentityArgs::key) != Some(o.key()) {
            steps.push(Step::DeletePodIdentity {
                cluster: o.key().0,
                id,
            });
        }
    }
    steps
}

pub struct BaseRole;

impl BaseRole {
    fn args(inputs: &PropertyMap) -> Result<BaseRoleArgs, OpError> {
        typed_args::<BaseRoleArgs>(inputs)
            .map(|(a, _)| a)
            .map_err(|f| OpError::Invalid(f.reason))
    }
}

#[async_trait]
impl Resource for BaseRole {
    fn spec(&self) -> &'static ResourceSpec {
        &SPEC
    }

    fn check(&self, req: &CheckRequest<'_>, _provider: &crate::rpc::ProviderState) -> Checked {
        role::check_role::<BaseRoleArgs>(&SPEC, req, |args, failures, _| args.validate(failures))
    }

    fn diff(
        &self,
        _provider: &crate::rpc::ProviderState,
        olds: &PropertyMap,
        old_inputs: &PropertyMap,
        news: &PropertyMap,
    ) -> DiffResult {
        let mut result = diff_inputs(&SPEC, old_inputs, news);
        if !news.values().any(PropertyValue::contains_unknown) {
            if let Ok((args, _)) = typed_args::<BaseRoleArgs>(news) {
                let trust_drift = olds.get("trustPolicy").is_some_and(|t| {
                    !crate::iam::policy::equivalent(&t.to_json(), &templates::base_trust(), "aws")
                });
                let want = Json::Object(args.inline_policies().into_iter().collect());
                let policies_drift = olds.get("policies").is_some_and(|p| {
                    normalise_documents(&p.to_json()) != normalise_documents(&want)
                });
                let attached_drift = olds
                    .get("attachedPolicyArns")
                    .is_some_and(|a| matches!(a, PropertyValue::Array(items) if !items.is_empty()));
                result.drift("trustPolicy", trust_drift);
                result.drift("policies", policies_drift);
                result.drift("attachedPolicyArns", attached_drift);
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
        let cfg = ctx.provider.config();
        let default_tags = cfg.default_tags.clone().unwrap_or_default();
        let spec = args.role_spec(&default_tags, ctx.urn);
        if preview {
            let known = outputs(
                inputs,
                &spec,
                Observed::default(),
                &spec.trust,
                &spec.inline_policies,
            );
            return Ok((String::new(), preview_outputs(&SPEC, inputs, &known, false)));
        }
        let cloud = ctx.provider.cloud().await?;
        let live = cloud.api.get_role(&spec.name).await?;
        role::ensure_owned(live.as_ref(), ctx.urn, TOKEN)?;
        let role_arn = cloud.account.role_arn(&spec.path, &spec.name);
        let live_assoc = match &args.pod_identity {
            Some(p) if live.is_some() => {
                let (c, n, s) = p.key();
                cloud.api.find_pod_identity(&c, &n, &s).await?
            }
            _ => None,
        };
        let mut steps = plan_role(live.as_ref(), &spec, &cloud.account.partition);
        steps.extend(plan_association(
            None,
            args.pod_identity.as_ref(),
            live_assoc.as_ref(),
            &role_arn,
        ));
        let (applied, failure) = apply(ctx, &cloud, &steps).await;
        let role_id = applied
            .created_role
            .as_ref()
            .map(|r| r.role_id.clone())
            .or(live.as_ref().map(|l| l.role_id.clone()));
        let association = applied.association.clone().or(live_assoc);
        let seen = Observed {
            role_arn: Some(&role_arn),
            role_id: role_id.as_deref(),
            account: Some(&cloud.account),
            association: association.as_ref(),
        };
        let out = outputs(inputs, &spec, seen, &spec.trust, &spec.inline_policies);
        match failure {
            None => Ok((spec.name.clone(), out)),
            Some(f) if role_id.is_some() => Err(partial(&spec.name, out, &f)),
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
        let mut inputs = match old_inputs.filter(|m| !m.is_empty()) {
            Some(old) => old.clone(),
            None => role::imported_role_inputs(&live),
        };
        if let Some(doc) = live
            .inline_policies
            .get(templates::POLICY_ASSUME_CONNECTORS)
        {
            let arns = crate::iam::policy::statements(doc)
                .iter()
                .flat_map(|s| crate::iam::policy::string_list(s.get("Resource")))
                .collect::<Vec<_>>();
            inputs.insert(
                "connectorRoleArns".into(),
                PropertyValue::from_json(&serde_json::json!(arns)),
            );
        } else {
            inputs.remove("connectorRoleArns");
        }
        let args = Self::args(&inputs)?;
        let association = match &args.pod_identity {
            Some(p) => {
                let (c, n, s) = p.key();
                let found = cloud.api.find_pod_identity(&c, &n, &s).await?;
                if found.as_ref().is_none_or(|a| a.role_arn != live.arn) {
                    inputs.remove("podIdentity");
                }
                found.filter(|a| a.role_arn == live.arn)
            }
            None => None,
        };
        let cfg = ctx.provider.config();
        let spec = args.role_spec(&cfg.default_tags.clone().unwrap_or_default(), ctx.urn);
        let own_policies: BTreeMap<String, Json> = live
            .inline_policies
            .iter()
            .filter(|(k, v)| !templates::is_connector_grant(k, v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let seen = Observed {
            role_arn: Some(&live.arn),
            role_id: Some(&live.role_id),
            account: Some(&cloud.account),
            association: association.as_ref(),
        };
        let mut out = outputs(&inputs, &spec, seen, &live.trust, &own_policies);
        if !live.managed_policies.is_empty() {
            out.insert(
                "attachedPolicyArns".into(),
                PropertyValue::Array(
                    live.managed_policies
                        .iter()
                        .map(|a| PropertyValue::String(a.clone()))
                        .collect(),
                ),
            );
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
        let cfg = ctx.provider.config();
        let spec = args.role_spec(&cfg.default_tags.clone().unwrap_or_default(), ctx.urn);
        if preview {
            let mut known = olds.clone();
            known.extend(outputs(
                news,
                &spec,
                Observed::default(),
                &spec.trust,
                &spec.inline_policies,
            ));
            let assoc_changes = old_args.pod_identity.as_ref().map(PodIdentityArgs::key)
                != args.pod_identity.as_ref().map(PodIdentityArgs::key);
            if assoc_changes {
                known.remove("podIdentityAssociationId");
                known.remove("podIdentityAssociationArn");
            }
            let mut out = preview_outputs(&SPEC, news, &known, true);
            if assoc_changes && args.pod_identity.is_some() {
                out.insert("podIdentityAssociationId".into(), PropertyValue::Unknown);
                out.insert("podIdentityAssociationArn".into(), PropertyValue::Unknown);
            }
            return Ok(out);
        }
        let cloud = ctx.provider.cloud().await?;
        let live: Option<LiveRole> = cloud.api.get_role(id).await?;
        let role_arn = cloud.account.role_arn(&spec.path, &spec.name);
        let live_assoc = match &args.pod_identity {
            Some(p) => {
                let (c, n, s) = p.key();
                cloud.api.find_pod_identity(&c, &n, &s).await?
            }
            None => None,
        };
        let old_assoc_id = role::string_output(olds, "podIdentityAssociationId");
        let mut steps = plan_role(live.as_ref(), &spec, &cloud.account.partition);
        steps.extend(plan_association(
            old_args.pod_identity.as_ref().map(|o| (o, old_assoc_id)),
            args.pod_identity.as_ref(),
            live_assoc.as_ref(),
            &role_arn,
        ));
        let (applied, failure) = apply(ctx, &cloud, &steps).await;
        let role_id = applied
            .created_role
            .as_ref()
            .map(|r| r.role_id.clone())
            .or(live.as_ref().map(|l| l.role_id.clone()))
            .or(role::string_output(olds, "roleId"));
        let association = if args.pod_identity.is_some() {
            applied.association.clone().or(live_assoc)
        } else {
            None
        };
        let seen = Observed {
            role_arn: Some(&role_arn),
            role_id: role_id.as_deref(),
            account: Some(&cloud.account),
            association: association.as_ref(),
        };
        let out = outputs(news, &spec, seen, &spec.trust, &spec.inline_policies);
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
        old_inputs: &PropertyMap,
    ) -> Result<(), OpError> {
        let cloud = ctx.provider.cloud().await?;
        let args = Self::args(old_inputs).unwrap_or_default();
        let mut steps = Vec::new();
        if let Some(p) = &args.pod_identity {
            let (c, n, s) = p.key();
            let found = cloud.api.find_pod_identity(&c, &n, &s).await?;
            let ours = role::string_output(olds, "arn");
            if let Some(a) = found.filter(|a| Some(&a.role_arn) == ours.as_ref()) {
                steps.push(Step::DeletePodIdentity {
                    cluster: c,
                    id: a.association_id,
                });
            }
        }
        let live = cloud.api.get_role(id).await?;
        steps.extend(plan_role_delete(live.as_ref()));
        execute(ctx, &cloud, &steps)
            .await
            .map(|_| ())
            .map_err(|f| OpError::Cloud(f.error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(cluster: &str) -> PodIdentityArgs {
        PodIdentityArgs {
            cluster_name: Some(cluster.into()),
            ..Default::default()
        }
    }

    #[test]
    fn association_moves_cluster_by_create_then_delete() {
        let steps = plan_association(
            Some((&pod("old"), Some("a-1".into()))),
            Some(&pod("new")),
            None,
            "arn:role",
        );
        assert!(
            matches!(&steps[0], Step::CreatePodIdentity { cluster, namespace, service_account, .. }
            if cluster == "new" && namespace == "xpander" && service_account == "xpander")
        );
        assert_eq!(
            steps[1],
            Step::DeletePodIdentity {
                cluster: "old".into(),
                id: "a-1".into()
            }
        );
    }

    #[test]
    fn association_pointing_elsewhere_is_repointed() {
        let live = PodIdentityAssociation {
            cluster_name: "c".into(),
            namespace: "xpander".into(),
            service_account: "xpander".into(),
            role_arn: "arn:other".into(),
            association_id: "a-9".into(),
            association_arn: "arn:assoc".into(),
            disable_session_tags: false,
        };
        let steps = plan_association(None, Some(&pod("c")), Some(&live), "arn:role");
        assert!(
            matches!(&steps[0], Step::UpdatePodIdentity { id, role_arn, .. } if id == "a-9" && role_arn == "arn:role")
        );
    }

    #[test]
    fn check_names_bad_properties() {
        let mut news = PropertyMap::new();
        news.insert("roleName".into(), PropertyValue::String("bad name".into()));
        news.insert(
            "connectorRoleArns".into(),
            PropertyValue::Array(vec![PropertyValue::String("*".into())]),
        );
        let mut pod = PropertyMap::new();
        pod.insert("clusterName".into(), PropertyValue::String("c".into()));
        pod.insert("namespace".into(), PropertyValue::String("Bad_NS".into()));
        news.insert("podIdentity".into(), PropertyValue::Object(pod));
        news.insert("bogus".into(), PropertyValue::Bool(true));
        let checked = run_check::<BaseRoleArgs>(&SPEC, &news, |a, f, _| a.validate(f));
        let props: Vec<&str> = checked
            .failures
            .iter()
            .map(|f| f.property.as_str())
            .collect();
        for want in [
            "roleName",
            "connectorRoleArns[0]",
            "podIdentity.namespace",
            "bogus",
        ] {
            assert!(props.contains(&want), "{want} missing from {props:?}");
        }
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let mut news = PropertyMap::new();
        news.insert(
            "connectorRoleArns".into(),
            PropertyValue::Array(vec![PropertyValue::Unknown]),
        );
        let checked = run_check::<BaseRoleArgs>(&SPEC, &news, |a, f, _| a.validate(f));
        assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    }
}
