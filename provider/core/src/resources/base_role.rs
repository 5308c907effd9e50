//! `xpander:index:XpanderBaseRole`: the role the xpander pods get through EKS
//! Pod Identity (seed step 1). It trusts only `pods.eks.amazonaws.com` and
//! holds no service permission: only `sts:AssumeRole` + `sts:TagSession` on
//! connector roles, granted by each connector or listed in `connectorRoleArns`.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use std::sync::LazyLock;

use serde_json::Value as Json;

use super::lifecycle::{self, Observed, Previous, RoleBacked};
use super::role::{self, RoleArgs};
use super::*;
use crate::cloud::api::{LiveRole, PodIdentityAssociation};
use crate::iam::arn::{parse_role_arn, AccountContext};
use crate::iam::{limits, templates};
use crate::model::spec::{declare, Prop, ResourceSpec, Ty};
use crate::plan::{RoleSpec, Step};

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

/// Outputs from the inputs plus what AWS assigned.
fn outputs(
    inputs: &PropertyMap,
    spec: &RoleSpec,
    seen: &Observed<'_, Option<PodIdentityAssociation>>,
    association: Option<&PodIdentityAssociation>,
) -> PropertyMap {
    let mut out = inputs.clone();
    let mut set = |k: &str, v: Option<PropertyValue>| {
        if let Some(v) = v {
            out.insert(k.to_string(), v);
        }
    };
    let text = |s: &str| PropertyValue::String(s.into());
    set(
        "arn",
        seen.account
            .map(|a| text(&a.role_arn(&spec.path, &spec.name))),
    );
    set("roleId", seen.role_id.as_deref().map(text));
    set("accountId", seen.account.map(|a| text(&a.account_id)));
    set("trustPolicy", Some(PropertyValue::from_json(seen.trust)));
    set("policies", Some(documents_value(seen.policies)));
    set(
        "tagsAll",
        Some(PropertyValue::Object(
            spec.tags
                .iter()
                .map(|(k, v)| (k.clone(), text(v)))
                .collect(),
        )),
    );
    set(
        "podIdentityAssociationId",
        association.map(|a| text(&a.association_id)),
    );
    set(
        "podIdentityAssociationArn",
        association.map(|a| text(&a.association_arn)),
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

/// What the base role writes: the role, and where its Pod Identity association goes.
pub struct Desired {
    pub role: RoleSpec,
    pub pod_identity: Option<PodIdentityArgs>,
}

pub struct BaseRole;

impl BaseRole {
    async fn association(
        cloud: &crate::context::Cloud,
        args: &BaseRoleArgs,
    ) -> Result<Option<PodIdentityAssociation>, OpError> {
        match &args.pod_identity {
            Some(p) => {
                let (c, n, s) = p.key();
                Ok(cloud.api.find_pod_identity(&c, &n, &s).await?)
            }
            None => Ok(None),
        }
    }
}

#[async_trait]
impl RoleBacked for BaseRole {
    type Args = BaseRoleArgs;
    type Desired = Desired;
    /// The Pod Identity association for the wanted cluster/namespace/service account.
    type Extras = Option<PodIdentityAssociation>;

    fn table(&self) -> &'static ResourceSpec {
        &SPEC
    }

    fn check(&self, req: &CheckRequest<'_>, _provider: &crate::context::ProviderState) -> Checked {
        role::check_role::<BaseRoleArgs>(&SPEC, req, |args, failures, _| args.validate(failures))
    }

    fn diff(
        &self,
        _provider: &crate::context::ProviderState,
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

    fn render(
        &self,
        args: &BaseRoleArgs,
        _account: Option<&AccountContext>,
        default_tags: &BTreeMap<String, String>,
        urn: &str,
    ) -> Result<Desired, String> {
        Ok(Desired {
            role: args.role_spec(default_tags, urn),
            pod_identity: args.pod_identity.clone(),
        })
    }

    fn role<'a>(&self, desired: &'a Desired) -> &'a RoleSpec {
        &desired.role
    }

    async fn live_extras(
        &self,
        cloud: &crate::context::Cloud,
        args: &BaseRoleArgs,
        _desired: &Desired,
    ) -> Result<Self::Extras, OpError> {
        Self::association(cloud, args).await
    }

    fn plan_extras(
        &self,
        desired: &Desired,
        extras: &Self::Extras,
        previous: Option<&Previous<'_, BaseRoleArgs>>,
        account: &AccountContext,
    ) -> Vec<Step> {
        let role_arn = account.role_arn(&desired.role.path, &desired.role.name);
        let old = previous.and_then(|p| {
            let id = role::string_output(p.outputs, "podIdentityAssociationId");
            p.args.pod_identity.as_ref().map(|o| (o, id))
        });
        plan_association(
            old,
            desired.pod_identity.as_ref(),
            extras.as_ref(),
            &role_arn,
        )
    }

    fn outputs(
        &self,
        inputs: &PropertyMap,
        desired: &Desired,
        seen: &Observed<'_, Self::Extras>,
    ) -> PropertyMap {
        let association = if desired.pod_identity.is_some() {
            seen.applied
                .and_then(|a| a.association.as_ref())
                .or(seen.extras.as_ref())
        } else {
            None
        };
        outputs(inputs, &desired.role, seen, association)
    }

    fn preview_unknowns(
        &self,
        args: &BaseRoleArgs,
        previous: Option<&BaseRoleArgs>,
        known: &mut PropertyMap,
        out: &mut PropertyMap,
    ) {
        let Some(old) = previous else {
            return;
        };
        let moves = old.pod_identity.as_ref().map(PodIdentityArgs::key)
            != args.pod_identity.as_ref().map(PodIdentityArgs::key);
        if moves {
            known.remove("podIdentityAssociationId");
            known.remove("podIdentityAssociationArn");
            if args.pod_identity.is_some() {
                out.insert("podIdentityAssociationId".into(), PropertyValue::Unknown);
                out.insert("podIdentityAssociationArn".into(), PropertyValue::Unknown);
            }
        }
    }

    fn imported_inputs(&self, live: &LiveRole) -> PropertyMap {
        role::imported_role_inputs(live)
    }

    /// `connectorRoleArns` is what AssumeConnectorRoles lists; a Pod Identity
    /// association that no longer points at this role is gone.
    fn reconcile_inputs(
        &self,
        live: &LiveRole,
        inputs: &mut PropertyMap,
        _importing: bool,
        (_, association): (&Desired, &Self::Extras),
    ) -> Result<(), OpError> {
        match live
            .inline_policies
            .get(templates::POLICY_ASSUME_CONNECTORS)
        {
            Some(doc) => {
                let arns = crate::iam::policy::statements(doc)
                    .iter()
                    .flat_map(|s| crate::iam::policy::string_list(s.get("Resource")))
                    .collect::<Vec<_>>();
                inputs.insert(
                    "connectorRoleArns".into(),
                    PropertyValue::from_json(&serde_json::json!(arns)),
                );
            }
            None => {
                inputs.remove("connectorRoleArns");
            }
        }
        if association.as_ref().is_none_or(|a| a.role_arn != live.arn) {
            inputs.remove("podIdentity");
        }
        Ok(())
    }

    /// Grants written by connectors live on this role but belong to them.
    fn owned_policies(&self, live: &LiveRole) -> BTreeMap<String, Json> {
        live.inline_policies
            .iter()
            .filter(|(k, v)| !templates::is_connector_grant(k, v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn read_outputs(
        &self,
        out: &mut PropertyMap,
        _inputs: &PropertyMap,
        live: &LiveRole,
        _desired: &Desired,
        _extras: &Self::Extras,
    ) {
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
    }

    async fn delete_extras(
        &self,
        cloud: &crate::context::Cloud,
        outputs: &PropertyMap,
        inputs: &PropertyMap,
    ) -> Result<Vec<Step>, OpError> {
        let args: BaseRoleArgs = lifecycle::decode(inputs).unwrap_or_default();
        let ours = role::string_output(outputs, "arn");
        Ok(Self::association(cloud, &args)
            .await?
            .filter(|a| Some(&a.role_arn) == ours.as_ref())
            .map(|a| Step::DeletePodIdentity {
                cluster: args
                    .pod_identity
                    .as_ref()
                    .map(|p| p.key().0)
                    .unwrap_or_default(),
                id: a.association_id,
            })
            .into_iter()
            .collect())
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
