//! `xpander:index:XpanderBaseRole`: the role the xpander pods get through EKS
//! Pod Identity (seed step 1). It trusts only `pods.eks.amazonaws.com` and
//! holds no service permission: only `sts:AssumeRole` + `sts:TagSession` on
//! connector roles, granted by each connector or listed in `connectorRoleArns`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use async_trait::async_trait;
use serde_json::Value as Json;

use super::lifecycle::{Observed, PreviewAssigned, Previous, RoleBacked};
use super::properties::Unknowns;
use super::role::{RoleArgs, RoleState, Trust};
use crate::cloud::api::{LiveRole, PodIdentityAssociation};
use crate::cloud::error::CloudError;
use crate::context::{Cloud, OpError, ProviderState};
use crate::iam::arn::{parse_role_arn, AccountContext};
use crate::iam::templates::PodScope;
use crate::iam::{limits, templates};
use crate::model::failure::Failure;
use crate::model::spec::{declare, Key, ResourceSpec};
use crate::plan::{RoleSpec, Step};

pub const TOKEN: &str = "xpander:index:XpanderBaseRole";
/// Where the seed runs xpander: namespace and service account `xpander`.
pub const DEFAULT_NAMESPACE: &str = "xpander";
pub const DEFAULT_SERVICE_ACCOUNT: &str = "xpander";

pub static SPEC: LazyLock<ResourceSpec> = LazyLock::new(|| {
    ResourceSpec::assemble::<BaseRoleArgs, BaseRoleState>(
        TOKEN,
        "The xpander base role: attached to the xpander pods through EKS Pod Identity, trusted only by `pods.eks.amazonaws.com`, with no service permissions — it can only assume connector roles.",
    )
    .describe_output(RoleState::role_id, "Unique id (AROA…) of the role. Pass it to connectors as `baseRoleId` so a replaced base role rewrites their trust.")
    .derive(RoleState::policies, [&[BaseRoleArgs::connector_role_arns, BaseRoleArgs::connector_path], &[]])
    .derive(RoleState::trust_policy, [&[BaseRoleArgs::pod_identity], &[]])
    .build()
});

declare! {
    pub struct BaseRoleArgs {
        flatten role: RoleArgs,
        "connectorRoleArns" connector_role_arns: Vec<String> => "Extra connector role ARNs listed in the seed's `AssumeConnectorRoles` policy. Connectors declared with `XpanderConnectorRole` grant themselves and need not be listed.",
        "connectorPath" connector_path: String => "Grant the base role `sts:AssumeRole` + `sts:TagSession` on every role under this IAM path of its account (policy `AssumeConnectorPath`, e.g. `/xpander/connectors/`): connectors created there with `grantBaseRole: false` need no grant of their own, so one base role serves any number of connectors, in any number of stacks, without a write to it. Each connector's trust must still admit the base role. Not `/` (every role of the account).",
        "podIdentity" pod_identity: PodIdentityArgs => "EKS Pod Identity association for the xpander service account. Changing cluster, namespace or service account replaces the association, not the role.",
    }
}

declare! {
    pub struct PodIdentityArgs as "PodIdentity", "Where the xpander pods run: the Pod Identity association of the base role." {
        "clusterName" cluster_name: String [required] => "EKS cluster name.",
        "namespace" namespace: String [default_str = DEFAULT_NAMESPACE] => "Kubernetes namespace of the service account.",
        "serviceAccount" service_account: String [default_str = DEFAULT_SERVICE_ACCOUNT] => "Kubernetes service account.",
        "disableSessionTags" disable_session_tags: bool => "Stop EKS from adding its six session tags. Connector trust allows `sts:TagSession` either way.",
        "tags" tags: BTreeMap<String, String> => "Tags for the association.",
    }
}

declare! {
    pub outputs struct BaseRoleState {
        flatten role: RoleState,
        "podIdentityAssociationId" pod_identity_association_id: String [assigned, optional] => "Id of the Pod Identity association.",
        "podIdentityAssociationArn" pod_identity_association_arn: String [assigned, optional] => "ARN of the Pod Identity association.",
        "attachedPolicyArns" attached_policy_arns: Vec<String> [assigned, optional] => "Managed policies found attached by a refresh. The base role holds none: anything here is drift, detached by the next update.",
    }
}

impl AsRef<RoleArgs> for BaseRoleArgs {
    fn as_ref(&self) -> &RoleArgs {
        &self.role
    }
}

impl AsRef<RoleState> for BaseRoleState {
    fn as_ref(&self) -> &RoleState {
        &self.role
    }
}

impl PodIdentityArgs {
    /// The association a Pod Identity statement scoped by `PodScope::condition`
    /// admits (import reads it back from the trust).
    pub fn scoped_by(stmt: &Json) -> Option<PodIdentityArgs> {
        let tag = |key: &str| {
            stmt.pointer(&format!("/Condition/StringEquals/aws:RequestTag~1{key}"))
                .and_then(Json::as_str)
                .map(str::to_string)
        };
        let cluster = tag(templates::TAG_CLUSTER_ARN)?;
        Some(PodIdentityArgs {
            cluster_name: cluster
                .rsplit_once("cluster/")
                .map(|(_, name)| name.to_string()),
            namespace: tag(templates::TAG_NAMESPACE),
            service_account: tag(templates::TAG_SERVICE_ACCOUNT),
            ..Default::default()
        })
    }

    /// The pods a trust may admit for this association: EKS names them in
    /// the session tags it sets, unless told not to set any.
    pub fn scope(&self, account: &AccountContext) -> Option<PodScope> {
        if self.disable_session_tags.unwrap_or(false) {
            return None;
        }
        let (cluster, namespace, service_account) = self.key();
        Some(PodScope {
            cluster_arn: account.cluster_arn(&cluster),
            namespace,
            service_account,
        })
    }

    /// The rules of an association (cluster, namespace and service account
    /// names, tags), for the input at `input`.
    pub fn validate(&self, input: Key, failures: &mut Vec<Failure>) {
        let at = |k: Key| format!("{}.{}", input.name(), k.name());
        match &self.cluster_name {
            None => failures.push(Failure::new(
                at(PodIdentityArgs::cluster_name),
                format!("{} is required", at(PodIdentityArgs::cluster_name)),
            )),
            Some(c) => {
                if let Err(r) = limits::check_cluster_name(c) {
                    failures.push(Failure::new(at(PodIdentityArgs::cluster_name), r));
                }
            }
        }
        let (_, ns, sa) = self.key();
        if let Err(r) = limits::check_namespace(&ns) {
            failures.push(Failure::new(at(PodIdentityArgs::namespace), r));
        }
        if let Err(r) = limits::check_service_account(&sa) {
            failures.push(Failure::new(at(PodIdentityArgs::service_account), r));
        }
        for (k, v) in self.tags.iter().flatten() {
            if let Err(r) = limits::check_tag(k, v) {
                failures.push(Failure::new(at(PodIdentityArgs::tags), r));
            }
        }
    }

    pub fn key(&self) -> (String, String, String) {
        (
            self.cluster_name.clone().unwrap_or_default(),
            self.namespace
                .clone()
                .unwrap_or_else(|| DEFAULT_NAMESPACE.into()),
            self.service_account
                .clone()
                .unwrap_or_else(|| DEFAULT_SERVICE_ACCOUNT.into()),
        )
    }
}

impl BaseRoleArgs {
    fn validate(&self, failures: &mut Vec<Failure>) {
        self.role.validate(failures);
        if let Some(path) = &self.connector_path {
            let at = BaseRoleArgs::connector_path.name();
            match limits::check_path(path) {
                Err(r) => failures.push(Failure::new(at, format!("connectorPath {r}"))),
                Ok(()) if path == "/" => failures.push(Failure::new(at, "connectorPath \"/\" would let the base role assume every role of the account that trusts it; give connectors a path of their own, such as /xpander/connectors/")),
                Ok(()) if path.contains(['*', '?']) => failures.push(Failure::new(at, "connectorPath must not hold a wildcard: the grant already covers every role under it")),
                Ok(()) => {}
            }
        }
        for (i, arn) in self.connector_role_arns.iter().flatten().enumerate() {
            let path = format!("{}[{i}]", BaseRoleArgs::connector_role_arns.name());
            if arn.contains('*') {
                failures.push(Failure::new(
                    path,
                    "wildcards are not allowed: the base role may assume only named connector roles (seed: \"Restrict base role\")",
                ));
            } else if parse_role_arn(arn).is_none() {
                failures.push(Failure::new(
                    path,
                    format!("{arn:?} is not an IAM role ARN"),
                ));
            }
        }
        if let Some(p) = &self.pod_identity {
            p.validate(BaseRoleArgs::pod_identity, failures);
        }
    }

    /// A trust that admits any Pod Identity association of the account.
    fn unscoped_trust_warning(&self) -> Option<String> {
        match &self.pod_identity {
            None => Some("podIdentity is not set: the base role's trust admits pods.eks.amazonaws.com for any Pod Identity association of the account (any cluster, namespace and service account); set podIdentity so the trust requires the xpander service account".into()),
            Some(p) if p.disable_session_tags.unwrap_or(false) => Some("podIdentity.disableSessionTags: EKS names the cluster, namespace and service account only in the session tags, so without them the base role's trust cannot require them and admits any Pod Identity association of the account".into()),
            Some(_) => None,
        }
    }

    /// The seed's `AssumeConnectorRoles` list, and the path grant. The
    /// path names the account: without it (a preview before the provider
    /// met AWS) the policies are not known yet.
    fn inline_policies(
        &self,
        account: Option<&AccountContext>,
    ) -> Result<BTreeMap<String, Json>, String> {
        let mut policies = BTreeMap::new();
        let arns = self.connector_role_arns.clone().unwrap_or_default();
        if !arns.is_empty() {
            policies.insert(
                templates::POLICY_ASSUME_CONNECTORS.to_string(),
                templates::assume_connector_roles(&arns),
            );
        }
        if let Some(path) = &self.connector_path {
            let a = account.ok_or("the deploying account is not known yet")?;
            policies.insert(
                templates::POLICY_ASSUME_CONNECTOR_PATH.to_string(),
                templates::assume_connector_path(&a.partition, &a.account_id, path),
            );
        }
        Ok(policies)
    }

    fn role_spec(
        &self,
        account: Option<&AccountContext>,
        default_tags: &BTreeMap<String, String>,
        urn: &str,
    ) -> Result<RoleSpec, String> {
        let scope = match &self.pod_identity {
            Some(p) => p.scope(account.ok_or("the deploying account is not known yet")?),
            None => None,
        };
        let trust = Trust {
            initial: templates::base_trust(scope.as_ref()),
            full: templates::base_trust(scope.as_ref()),
        };
        let policies = self.inline_policies(account)?;
        Ok(RoleSpec {
            keeps_connector_grants: true,
            ..self
                .role
                .spec(default_tags, urn, trust, policies, BTreeSet::new())
        })
    }
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

impl AsRef<RoleSpec> for Desired {
    fn as_ref(&self) -> &RoleSpec {
        &self.role
    }
}

pub struct BaseRole;

/// The sizes of a role's live inline policies, by name (none when it does
/// not exist yet): what IAM sums against its 10,240 characters.
pub(crate) async fn inline_policy_sizes(
    cloud: &Cloud,
    role: &str,
) -> Result<BTreeMap<String, usize>, CloudError> {
    Ok(cloud
        .api
        .get_role(role)
        .await?
        .map(|r| {
            r.inline_policies
                .iter()
                .map(|(name, doc)| (name.clone(), limits::policy_size(doc)))
                .collect()
        })
        .unwrap_or_default())
}

async fn association(
    cloud: &Cloud,
    pod_identity: Option<&PodIdentityArgs>,
) -> Result<Option<PodIdentityAssociation>, OpError> {
    match pod_identity {
        Some(p) => {
            let (c, n, s) = p.key();
            Ok(cloud.api.find_pod_identity(&c, &n, &s).await?)
        }
        None => Ok(None),
    }
}

#[async_trait]
impl RoleBacked for BaseRole {
    type Args = BaseRoleArgs;
    type State = BaseRoleState;
    type Desired = Desired;
    /// The Pod Identity association for the wanted cluster/namespace/service account.
    type Extras = Option<PodIdentityAssociation>;

    fn table(&self) -> &'static ResourceSpec {
        &SPEC
    }

    fn validate(
        &self,
        args: &BaseRoleArgs,
        _provider: &ProviderState,
        _unknown: &Unknowns,
        failures: &mut Vec<Failure>,
        warnings: &mut Vec<String>,
    ) {
        args.validate(failures);
        warnings.extend(args.unscoped_trust_warning());
    }

    fn render(
        &self,
        args: &BaseRoleArgs,
        account: Option<&AccountContext>,
        default_tags: &BTreeMap<String, String>,
        urn: &str,
    ) -> Result<Desired, String> {
        Ok(Desired {
            role: args.role_spec(account, default_tags, urn)?,
            pod_identity: args.pod_identity.clone(),
        })
    }

    /// IAM sums every inline policy of the role, the connectors' grants
    /// included: the base role's own policies are booked with those it
    /// holds, so a preview refuses what would fail with LimitExceeded, and
    /// the connectors of the same run book their grants on top.
    async fn preflight(
        &self,
        args: &BaseRoleArgs,
        provider: &ProviderState,
        preview: bool,
    ) -> Result<(), OpError> {
        let own = args.connector_path.is_some()
            || args
                .connector_role_arns
                .as_ref()
                .is_some_and(|a| !a.is_empty());
        let Some(name) = args.role.role_name.as_deref().filter(|_| own) else {
            return Ok(());
        };
        let cloud = match provider.cloud().await {
            Ok(cloud) => cloud,
            Err(_) if preview => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let Ok(policies) = args.inline_policies(Some(&cloud.account)) else {
            return Ok(());
        };
        let quota = limits::INLINE_POLICIES_MAX_CHARS;
        for (policy, document) in &policies {
            let size = limits::policy_size(document);
            let read = || inline_policy_sizes(&cloud, name);
            let booking = provider
                .book_inline_policy(name, policy, size, quota, read)
                .await?;
            if booking.total > quota {
                let input = if policy == templates::POLICY_ASSUME_CONNECTOR_PATH {
                    BaseRoleArgs::connector_path.name()
                } else {
                    BaseRoleArgs::connector_role_arns.name()
                };
                return Err(OpError::Invalid(format!(
                    "{input}: with its {policy} policy ({size} characters) the base role {name:?} would hold {} inline policies of {} characters in all, the connectors' grants ({}<role>) included; IAM's quota is {quota} per role (it would refuse with LimitExceeded): make room first (a connector's grant goes with the connector, or with grantBaseRole: false)",
                    booking.policies,
                    booking.total,
                    templates::GRANT_PREFIX,
                )));
            }
        }
        Ok(())
    }

    async fn live_extras(&self, cloud: &Cloud, desired: &Desired) -> Result<Self::Extras, OpError> {
        association(cloud, desired.pod_identity.as_ref()).await
    }

    fn plan_extras(
        &self,
        desired: &Desired,
        extras: &Self::Extras,
        previous: Option<&Previous<'_, BaseRoleArgs, BaseRoleState>>,
        account: &AccountContext,
    ) -> Vec<Step> {
        let role_arn = account.role_arn(&desired.role.path, &desired.role.name);
        let old = previous.and_then(|p| {
            let id = p.state.pod_identity_association_id.clone();
            p.args.pod_identity.as_ref().map(|o| (o, id))
        });
        plan_association(
            old,
            desired.pod_identity.as_ref(),
            extras.as_ref(),
            &role_arn,
        )
    }

    fn state(
        &self,
        role: RoleState,
        desired: &Desired,
        seen: &Observed<'_, Self::Extras>,
    ) -> BaseRoleState {
        let association = desired.pod_identity.as_ref().and_then(|_| {
            seen.applied
                .and_then(|a| a.association.as_ref())
                .or(seen.extras.as_ref())
        });
        BaseRoleState {
            role,
            pod_identity_association_id: association.map(|a| a.association_id.clone()),
            pod_identity_association_arn: association.map(|a| a.association_arn.clone()),
            attached_policy_arns: seen
                .live
                .filter(|l| !l.managed_policies.is_empty())
                .map(|l| l.managed_policies.iter().cloned().collect()),
        }
    }

    fn preview_assigned(
        &self,
        args: &BaseRoleArgs,
        previous: Option<&BaseRoleArgs>,
    ) -> PreviewAssigned {
        let Some(old) = previous else {
            return PreviewAssigned::default();
        };
        let moves = old.pod_identity.as_ref().map(PodIdentityArgs::key)
            != args.pod_identity.as_ref().map(PodIdentityArgs::key);
        let keys = vec![
            BaseRoleState::pod_identity_association_id,
            BaseRoleState::pod_identity_association_arn,
        ];
        match (moves, args.pod_identity.is_some()) {
            (false, _) => PreviewAssigned::default(),
            (true, true) => PreviewAssigned {
                anew: keys,
                gone: vec![],
            },
            (true, false) => PreviewAssigned {
                anew: vec![],
                gone: keys,
            },
        }
    }

    /// A managed policy found attached: the base role holds none.
    fn drift(&self, _desired: &Desired, state: &BaseRoleState) -> Vec<Key> {
        let attached = state
            .attached_policy_arns
            .as_ref()
            .is_some_and(|a| !a.is_empty());
        attached
            .then_some(BaseRoleState::attached_policy_arns)
            .into_iter()
            .collect()
    }

    /// A trust scoped to one association names it: without `podIdentity`
    /// the next update would drop the scope. `reconcile` keeps it only while
    /// that association points at this role.
    fn imported(&self, live: &LiveRole) -> BaseRoleArgs {
        let pods = crate::iam::policy::statements(&live.trust)
            .into_iter()
            .find(|s| {
                s.pointer("/Principal/Service").and_then(Json::as_str)
                    == Some(templates::PODS_SERVICE)
            });
        BaseRoleArgs {
            role: RoleArgs::from_live(live),
            pod_identity: pods.and_then(PodIdentityArgs::scoped_by),
            ..Default::default()
        }
    }

    /// `connectorRoleArns` is what AssumeConnectorRoles lists; a Pod Identity
    /// association that no longer points at this role is gone.
    fn reconcile(
        &self,
        live: &LiveRole,
        args: &mut BaseRoleArgs,
        _importing: bool,
        (_, association): (&Desired, &Self::Extras),
    ) -> Result<(), OpError> {
        args.connector_path = live
            .inline_policies
            .get(templates::POLICY_ASSUME_CONNECTOR_PATH)
            .and_then(templates::connector_path_of);
        args.connector_role_arns = live
            .inline_policies
            .get(templates::POLICY_ASSUME_CONNECTORS)
            .map(|doc| {
                crate::iam::policy::statements(doc)
                    .iter()
                    .flat_map(|s| crate::iam::policy::string_list(s.get("Resource")))
                    .collect()
            });
        if association.as_ref().is_none_or(|a| a.role_arn != live.arn) {
            args.pod_identity = None;
        }
        Ok(())
    }

    async fn delete_extras(
        &self,
        cloud: &Cloud,
        state: &BaseRoleState,
        args: &BaseRoleArgs,
    ) -> Result<Vec<Step>, OpError> {
        let ours = state.role.arn.as_ref();
        Ok(association(cloud, args.pod_identity.as_ref())
            .await?
            .filter(|a| Some(&a.role_arn) == ours)
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
    use crate::model::value::{PropertyMap, PropertyValue};
    use crate::resources::properties::run_check;

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
    fn import_reads_the_association_back_from_a_scoped_trust() {
        let account = AccountContext {
            partition: "aws".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        };
        let want = PodIdentityArgs {
            cluster_name: Some("c1".into()),
            namespace: Some("ns".into()),
            service_account: Some("sa".into()),
            ..Default::default()
        };
        let live = |trust: Json| LiveRole {
            name: "xpander-base-role".into(),
            path: "/".into(),
            arn: "arn:aws:iam::123456789012:role/xpander-base-role".into(),
            role_id: "AROAX".into(),
            trust,
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            tags: BTreeMap::new(),
            inline_policies: BTreeMap::new(),
            managed_policies: BTreeSet::new(),
        };
        let scoped = templates::base_trust(want.scope(&account).as_ref());
        assert_eq!(BaseRole.imported(&live(scoped)).pod_identity, Some(want));
        assert_eq!(
            BaseRole
                .imported(&live(templates::base_trust(None)))
                .pod_identity,
            None
        );
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
