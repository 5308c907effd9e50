//! `xpander:index:XpanderConnectorRole`: one least-privilege role per data
//! source (seed step 2). Its trust is the seed's four-statement template,
//! written in the seed's "Role Creation Order" without a fixed sleep; it
//! grants the base role the right to assume it, and (for EKS) gets an access
//! entry on the cluster.
//!
//! This file holds the inputs, the state and what the inputs render to;
//! `sources/` the data sources (one file each), `plan.rs` the grant and the
//! steps besides the role, and `resource.rs` its part of the lifecycle.

pub mod plan;
pub mod resource;
pub mod sources;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde_json::Value as Json;

use super::base_role::PodIdentityArgs;
use super::role::{RoleArgs, RoleState, Trust};
use crate::iam::arn::{is_account_id, is_policy_arn, parse_role_arn, AccountContext};
use crate::iam::policy::{check_grammar, decode_document, DocumentKind};
use crate::iam::{limits, templates};
use crate::model::failure::Failure;
use crate::model::spec::{declare, Key, ResourceSpec};
use crate::plan::RoleSpec;
pub use resource::ConnectorRole;
use sources::{strings, ClusterAccess, Rules, Sources};

pub const TOKEN: &str = "xpander:index:XpanderConnectorRole";
pub const DEFAULT_GRANT_BASE_ROLE: bool = true;
pub const DEFAULT_POD_IDENTITY_TRUST: bool = true;
pub const DEFAULT_ALLOW_WILDCARDS: bool = false;

/// A connector's sessions come through the base role: AWS caps chained sessions.
pub const SESSION_DURATION: &str = "Maximum session duration in seconds (3600–43200). Sessions chained from the base role are capped at 1 hour by AWS regardless.";

/// What the trust policy is written from.
const TRUST_SOURCES: &[Key] = &[
    TrustArgs::external_id,
    TrustArgs::trusted_account_id,
    TrustArgs::base_role_arn,
    TrustArgs::pod_identity_trust,
    TrustArgs::pod_identity_scope,
    RoleArgs::role_name,
    RoleArgs::path,
];

pub static SPEC: LazyLock<ResourceSpec> = LazyLock::new(|| {
    ResourceSpec::assemble::<ConnectorArgs, ConnectorState>(
        TOKEN,
        "An xpander connector role: one per data source, with the seed's four-statement trust policy (PodIdentity, CrossAccountWithExternalId, SelfAssume, AllowFromBaseRole), its own least-privilege permissions, the self-assume policy, and a grant on the base role.",
    )
    .describe_input(RoleArgs::max_session_duration, SESSION_DURATION)
    .describe_output(RoleState::arn, "ARN of the role: the value to paste in the xpander UI.")
    .describe_output(RoleState::trust_policy, "The trust policy as written. Always secret: it carries the ExternalId when one is set.")
    .derive(RoleState::trust_policy, [TRUST_SOURCES, &[]])
    .secret_output(RoleState::trust_policy)
    .describe_output(RoleState::policies, "Every inline policy of the role, by name, as written.")
    .derive(RoleState::policies, [Sources::KEYS, &[ConnectorArgs::policies, RoleArgs::role_name, RoleArgs::path]])
    .build()
});

declare! {
    /// Who may assume the connector: the four statements of the seed's trust.
    pub struct TrustArgs {
        "baseRoleArn" base_role_arn: String => "ARN of the xpander base role. Adds the `AllowFromBaseRole` trust statement and (unless `grantBaseRole` is false) grants the base role `sts:AssumeRole` + `sts:TagSession` on this role.",
        "baseRoleId" base_role_id: String => "The base role's `roleId` output. When it changes (the base role was replaced), this connector's trust and grant are rewritten in the same update.",
        "grantBaseRole" grant_base_role: bool [default_bool = DEFAULT_GRANT_BASE_ROLE] => "Write this connector's grant (`xpander-assume-<roleName>`) on the base role.",
        "externalId" external_id: String [secret] => "The xpander organization id. Adds `CrossAccountWithExternalId` (the only statement with an ExternalId condition). Secret.",
        "trustedAccountId" trusted_account_id: String => "Account trusted by `CrossAccountWithExternalId`; defaults to the deploying account, as in the seed's template.",
        "podIdentityTrust" pod_identity_trust: bool [default_bool = DEFAULT_POD_IDENTITY_TRUST] => "Keep the seed's `PodIdentity` fallback statement.",
        "podIdentityScope" pod_identity_scope: PodIdentityArgs => "The Pod Identity association the `PodIdentity` fallback statement admits (pass the base role's `podIdentity`): the trust then requires its cluster, namespace and service account through the session tags EKS sets. Without it the statement admits any association of the account.",
    }
}

declare! {
    pub struct ConnectorArgs {
        flatten role: RoleArgs,
        flatten trust: TrustArgs,
        flatten sources: Sources,
        "policies" policies: BTreeMap<String, Json> => "Additional inline policies by name: JSON objects or JSON strings.",
        "managedPolicyArns" managed_policy_arns: Vec<String> => "Managed policies to attach (exclusively: others are detached).",
        "allowWildcards" allow_wildcards: bool [default_bool = DEFAULT_ALLOW_WILDCARDS] => "Accept `*` and `?` in resource identifiers (tables, work groups, buckets, prefixes, cluster and database names, model and secret ARNs), which widen the grant; each one is still reported as a warning.",
    }
}

declare! {
    pub outputs struct ConnectorState {
        flatten role: RoleState,
        "accessEntryArn" access_entry_arn: String [assigned, optional] => "ARN of the EKS access entry (EKS connectors).",
        "grantPolicyName" grant_policy_name: String [optional, derived_from = &[TrustArgs::base_role_arn, TrustArgs::grant_base_role, RoleArgs::role_name]] => "Name of this connector's inline policy on the base role.",
    }
}

impl AsRef<RoleArgs> for ConnectorArgs {
    fn as_ref(&self) -> &RoleArgs {
        &self.role
    }
}

impl AsRef<RoleState> for ConnectorState {
    fn as_ref(&self) -> &RoleState {
        &self.role
    }
}

/// The grant on the base role: (base role name, policy name, document).
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub base_role: String,
    pub name: String,
    pub document: Json,
}

/// A connector fully rendered for one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub role: RoleSpec,
    pub arn: String,
    pub grant: Option<Grant>,
    pub access: Option<ClusterAccess>,
}

impl AsRef<RoleSpec> for Rendered {
    fn as_ref(&self) -> &RoleSpec {
        &self.role
    }
}

fn custom_document(v: &Json) -> Result<Json, String> {
    match v {
        Json::String(s) => decode_document(s).map_err(|e| format!("policy document is {e}")),
        Json::Object(_) => Ok(v.clone()),
        _ => Err("policy document must be a JSON object or a JSON string".into()),
    }
}

impl ConnectorArgs {
    fn has_permissions(&self) -> bool {
        !self.sources.each().is_empty()
            || self.policies.as_ref().is_some_and(|p| !p.is_empty())
            || self
                .managed_policy_arns
                .as_ref()
                .is_some_and(|p| !p.is_empty())
    }

    /// Policies the provider writes for the configured sources; custom
    /// policies may use any other name (an imported role keeps its own).
    fn template_policy_names(&self) -> Vec<&'static str> {
        let mut names = vec![templates::POLICY_SELF_ASSUME];
        for (profile, _) in self.sources.each() {
            names.extend(profile.policy_names);
        }
        names
    }

    pub fn grants_base_role(&self) -> bool {
        self.trust.base_role_arn.is_some()
            && self
                .trust
                .grant_base_role
                .unwrap_or(DEFAULT_GRANT_BASE_ROLE)
    }

    /// The seed's "works in cloud but not self-hosted" setup. Only meaningful
    /// when `baseRoleArn` is absent, not merely unknown during a preview.
    pub fn cloud_only_warning(&self) -> Option<String> {
        (self.trust.external_id.is_some() && self.trust.base_role_arn.is_none()).then(|| "externalId without baseRoleArn: the xpander platform can assume this role (cloud mode) but the self-hosted AI Gateway, which chains through the base role without an ExternalId, cannot (seed: \"Connector works in cloud but not self-hosted\"); set baseRoleArn to the base role's ARN".to_string())
    }

    /// Trust statements that admit more than the seed's architecture needs:
    /// the deploying account's own root with the ExternalId, or any Pod
    /// Identity association of the account.
    pub fn broad_trust_warnings(&self) -> Vec<String> {
        let t = &self.trust;
        let mut warnings = Vec::new();
        if t.external_id.is_some() && t.trusted_account_id.is_none() {
            warnings.push("externalId without trustedAccountId: CrossAccountWithExternalId then trusts the deploying account's own root, so any principal of this account allowed sts:AssumeRole that knows the organization id can assume the connector; set trustedAccountId to the xpander platform's account".to_string());
        }
        let fallback = t.pod_identity_trust.unwrap_or(DEFAULT_POD_IDENTITY_TRUST);
        match &t.pod_identity_scope {
            None if fallback => warnings.push("podIdentityTrust without podIdentityScope: the PodIdentity fallback statement admits any Pod Identity association of the account (any cluster, namespace and service account); set podIdentityScope to the base role's podIdentity, or podIdentityTrust: false when pods reach the connector through the base role only".to_string()),
            Some(p) if fallback && p.disable_session_tags.unwrap_or(false) => warnings.push("podIdentityScope.disableSessionTags: EKS names the cluster, namespace and service account only in the session tags, so the PodIdentity fallback statement cannot require them".to_string()),
            _ => {}
        }
        warnings
    }

    /// More managed policies than the account lets a role have.
    pub fn too_many_managed_policies(&self, quota: usize) -> Option<Failure> {
        let count = self.managed_policy_arns.as_ref().map_or(0, Vec::len);
        (count > quota).then(|| Failure::new(
            ConnectorArgs::managed_policy_arns.name(),
            format!("managedPolicyArns lists {count} policies; the account's AttachedPoliciesPerRoleQuota is {quota} (10 unless raised, at most 20): raise it with Service Quotas or merge policies"),
        ))
    }

    /// A grant can only be written in the deploying account: a base role
    /// elsewhere (another account or partition) needs grantBaseRole: false.
    pub fn base_role_elsewhere(&self, here: &AccountContext) -> Option<String> {
        let base = parse_role_arn(self.trust.base_role_arn.as_deref()?)?;
        let elsewhere = base.partition != here.partition || base.account_id != here.account_id;
        (elsewhere && self.trust.grant_base_role.unwrap_or(DEFAULT_GRANT_BASE_ROLE)).then(|| format!(
            "baseRoleArn names a role in {}:{}, but this provider deploys to {}:{}; the grant can only be written in the deploying account: set grantBaseRole: false and list this connector's ARN in that base role's connectorRoleArns (deployed with a provider for that account)",
            base.partition, base.account_id, here.partition, here.account_id
        ))
    }

    fn validate_trust(&self, failures: &mut Vec<Failure>, warnings: &mut Vec<String>) {
        let t = &self.trust;
        if let Some(p) = &t.pod_identity_scope {
            p.validate(TrustArgs::pod_identity_scope, failures);
        }
        let mut fail = |p: &str, r: String| failures.push(Failure::new(p, r));
        if let Some(arn) = &t.base_role_arn {
            if parse_role_arn(arn).is_none() {
                fail(
                    TrustArgs::base_role_arn.name(),
                    format!("baseRoleArn {arn:?} is not an IAM role ARN"),
                );
            }
        }
        if let Some(x) = &t.external_id {
            if let Err(r) = limits::check_external_id(x) {
                fail(TrustArgs::external_id.name(), format!("externalId {r}"));
            }
        }
        if let Some(a) = &t.trusted_account_id {
            if !is_account_id(a) {
                fail(
                    TrustArgs::trusted_account_id.name(),
                    format!("trustedAccountId must be a 12-digit account id, got {a:?}"),
                );
            }
            if t.external_id.is_none() {
                fail(TrustArgs::trusted_account_id.name(), "trustedAccountId is only used with externalId (the CrossAccountWithExternalId statement)".into());
            }
        }
        if !t.pod_identity_trust.unwrap_or(DEFAULT_POD_IDENTITY_TRUST)
            && t.external_id.is_none()
            && t.base_role_arn.is_none()
        {
            warnings.push("no PodIdentity, CrossAccountWithExternalId or AllowFromBaseRole statement: only the role itself can assume it".into());
        }
    }

    fn validate_custom_policies(&self, failures: &mut Vec<Failure>, warnings: &mut Vec<String>) {
        let reserved = self.template_policy_names();
        for (name, doc) in self.policies.iter().flatten() {
            let path = format!(
                "{}[{}]",
                ConnectorArgs::policies.name(),
                Json::String(name.clone())
            );
            if let Err(r) = limits::check_policy_name(name) {
                failures.push(Failure::new(&path, r));
            }
            if reserved.contains(&name.as_str()) {
                failures.push(Failure::new(&path, format!("{name:?} is the name of a policy the provider writes for this connector; choose another name")));
            }
            match custom_document(doc).and_then(|d| {
                check_grammar(&d, DocumentKind::Identity)
                    .map(|_| d)
                    .map_err(|e| e.to_string())
            }) {
                Err(r) => failures.push(Failure::new(&path, r)),
                Ok(d) => {
                    if crate::iam::policy::statements(&d).iter().any(|s| {
                        crate::iam::policy::string_list(s.get("Resource"))
                            .iter()
                            .any(|r| r == "*")
                    }) {
                        warnings.push(format!("policies[{name:?}] grants on Resource \"*\"; scope it to specific ARNs where possible"));
                    }
                }
            }
        }
        for (i, arn) in strings(&self.managed_policy_arns).iter().enumerate() {
            if !is_policy_arn(arn) {
                failures.push(Failure::new(
                    format!("{}[{i}]", ConnectorArgs::managed_policy_arns.name()),
                    format!("{arn:?} is not a managed policy ARN"),
                ));
            }
        }
    }

    /// The sizes IAM would refuse, computed before anything is written.
    fn validate_sizes(&self, failures: &mut Vec<Failure>) {
        // Account ids are always 12 digits, so sizes computed with a stand-in
        // are exact up to the partition name.
        let probe = AccountContext {
            partition: "aws".into(),
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
        };
        let Ok(r) = self.render(&probe, &BTreeMap::new(), "urn") else {
            return;
        };
        let trust = limits::policy_size(&r.role.trust);
        if trust > limits::TRUST_POLICY_MAX_CHARS {
            failures.push(Failure::new(
                TrustArgs::external_id.name(),
                format!(
                    "the trust policy would be {trust} characters; IAM's default quota is {}",
                    limits::TRUST_POLICY_MAX_CHARS
                ),
            ));
        }
        let total: usize = r
            .role
            .inline_policies
            .values()
            .map(limits::policy_size)
            .sum();
        if total > limits::INLINE_POLICIES_MAX_CHARS {
            failures.push(Failure::new(ConnectorArgs::policies.name(), format!("inline policies would total {total} characters; IAM allows {} per role (use managedPolicyArns for large policies)", limits::INLINE_POLICIES_MAX_CHARS)));
        }
    }

    pub fn validate(&self, failures: &mut Vec<Failure>, warnings: &mut Vec<String>) {
        self.role.validate(failures);
        if !self.has_permissions() {
            failures.push(Failure::new(ConnectorArgs::policies.name(), format!(
                "a connector needs at least one permission source: {}, policies or managedPolicyArns",
                sources::keys().join(", ")
            )));
        }
        self.validate_trust(failures, warnings);
        let present = self.sources.each();
        let allow_wildcards = self.allow_wildcards.unwrap_or(DEFAULT_ALLOW_WILDCARDS);
        for (profile, source) in &present {
            source.validate(&mut Rules {
                source: profile.key,
                allow_wildcards,
                failures,
                warnings,
            });
        }
        let own_role: Vec<&str> = present
            .iter()
            .filter(|(p, _)| p.own_role.is_some())
            .map(|(p, _)| p.key.name())
            .collect();
        if own_role.len() > 1 {
            warnings.push(format!(
                "{} are combined in one connector role; the seed recommends separate roles per data source",
                own_role.join(" and ")
            ));
        }
        self.validate_custom_policies(failures, warnings);
        if failures.is_empty() && !self.role.name().is_empty() {
            self.validate_sizes(failures);
        }
    }

    /// Everything this connector writes, for one account. Pure.
    pub fn render(
        &self,
        ctx: &AccountContext,
        default_tags: &BTreeMap<String, String>,
        urn: &str,
    ) -> Result<Rendered, String> {
        let name = self.role.name();
        let path = self.role.iam_path();
        let arn = ctx.role_arn(&path, &name);
        let t = &self.trust;
        let trust = templates::ConnectorTrust {
            pod_identity: t
                .pod_identity_trust
                .unwrap_or(DEFAULT_POD_IDENTITY_TRUST)
                .then(|| t.pod_identity_scope.as_ref().and_then(|p| p.scope(ctx))),
            cross_account: t.external_id.as_ref().map(|x| {
                let account = t
                    .trusted_account_id
                    .clone()
                    .unwrap_or_else(|| ctx.account_id.clone());
                (ctx.account_root(&account), x.clone())
            }),
            self_arn: arn.clone(),
            base_role_arn: t.base_role_arn.clone(),
        };
        let mut inline = BTreeMap::new();
        inline.insert(
            templates::POLICY_SELF_ASSUME.to_string(),
            templates::self_assume_policy(&arn),
        );
        let present = self.sources.each();
        for (_, source) in &present {
            for (policy, doc) in source.policies(ctx) {
                inline.insert(policy.to_string(), doc);
            }
        }
        for (n, doc) in self.policies.iter().flatten() {
            inline.insert(n.clone(), custom_document(doc)?);
        }
        let grant = match (
            &t.base_role_arn,
            t.grant_base_role.unwrap_or(DEFAULT_GRANT_BASE_ROLE),
        ) {
            (Some(base), true) => {
                let base = parse_role_arn(base).ok_or("baseRoleArn is not an IAM role ARN")?;
                Some(Grant {
                    base_role: base.name,
                    name: templates::grant_policy_name(&name),
                    document: templates::base_grant(&arn),
                })
            }
            _ => None,
        };
        let access = present
            .iter()
            .find_map(|(_, s)| s.cluster_access(ctx, &arn));
        let trust = Trust {
            initial: trust.initial(),
            full: trust.full(),
        };
        let managed = strings(&self.managed_policy_arns)
            .into_iter()
            .collect::<BTreeSet<_>>();
        Ok(Rendered {
            role: self.role.spec(default_tags, urn, trust, inline, managed),
            arn,
            grant,
            access,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::sources::{eks::Eks, redshift::Redshift};
    use super::*;
    use serde_json::json;

    pub fn ctx() -> AccountContext {
        AccountContext {
            partition: "aws".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    pub fn named(name: &str) -> RoleArgs {
        RoleArgs {
            role_name: Some(name.into()),
            ..Default::default()
        }
    }

    pub fn redshift_args() -> ConnectorArgs {
        ConnectorArgs {
            role: named("xpander-redshift-access"),
            trust: TrustArgs {
                base_role_arn: Some("arn:aws:iam::123456789012:role/xpander-base-role".into()),
                external_id: Some("org-123".into()),
                ..Default::default()
            },
            sources: Sources {
                redshift: Some(Redshift {
                    cluster_identifier: Some("analytics".into()),
                    database_name: Some("dev".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    pub fn eks_args() -> ConnectorArgs {
        ConnectorArgs {
            role: named("xpander-eks-connector"),
            sources: Sources {
                eks: Some(Eks {
                    cluster_name: Some("prod".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn validated(args: &ConnectorArgs) -> (Vec<Failure>, Vec<String>) {
        let (mut f, mut w) = (vec![], vec![]);
        args.validate(&mut f, &mut w);
        (f, w)
    }

    #[test]
    fn renders_the_seed_redshift_connector() {
        let r = redshift_args()
            .render(&ctx(), &BTreeMap::new(), "urn:x")
            .unwrap();
        let names: Vec<&str> = r.role.inline_policies.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "RedshiftCredentials",
                "RedshiftDataAPI",
                "SelfAssumeAndTagSession"
            ]
        );
        let g = r.grant.unwrap();
        assert_eq!(
            (g.base_role.as_str(), g.name.as_str()),
            (
                "xpander-base-role",
                "xpander-assume-xpander-redshift-access"
            )
        );
        assert_eq!(
            g.document["Statement"][0]["Resource"],
            json!("arn:aws:iam::123456789012:role/xpander-redshift-access")
        );
        assert!(!r.role.initial_trust.to_string().contains("role/"));
        assert_eq!(r.access, None);
    }

    #[test]
    fn the_eks_source_brings_the_cluster_access() {
        let r = eks_args().render(&ctx(), &BTreeMap::new(), "u").unwrap();
        let access = r.access.unwrap();
        assert_eq!(access.cluster, "prod");
        assert_eq!(access.principal_arn, r.arn);
    }

    #[test]
    fn sources_that_want_their_own_role_warn_when_combined() {
        let mut args = redshift_args();
        args.sources.eks = eks_args().sources.eks;
        let (_, w) = validated(&args);
        assert!(
            w.iter()
                .any(|m| m.starts_with("redshift and eks are combined")),
            "{w:?}"
        );
        let (_, w) = validated(&redshift_args());
        assert!(!w.iter().any(|m| m.contains("combined")), "{w:?}");
    }

    #[test]
    fn a_connector_needs_a_permission_source() {
        let args = ConnectorArgs {
            role: named("c"),
            ..Default::default()
        };
        let (f, _) = validated(&args);
        assert_eq!(f[0].property, "policies");
        assert!(f[0].reason.contains("bedrock") && f[0].reason.contains("secretsManager"));
    }

    #[test]
    fn an_external_id_without_base_role_warns_with_the_fix() {
        let mut args = redshift_args();
        args.trust.base_role_arn = None;
        let w = args.cloud_only_warning().unwrap();
        assert!(
            w.contains("works in cloud but not self-hosted") && w.contains("set baseRoleArn"),
            "{w}"
        );
        assert_eq!(redshift_args().cloud_only_warning(), None);
    }

    #[test]
    fn a_grant_cannot_go_to_a_base_role_in_another_account() {
        let mut args = redshift_args();
        assert_eq!(args.base_role_elsewhere(&ctx()), None);
        args.trust.base_role_arn = Some("arn:aws:iam::210987654321:role/xpander-base-role".into());
        let reason = args.base_role_elsewhere(&ctx()).unwrap();
        assert!(
            reason.contains("aws:210987654321") && reason.contains("grantBaseRole: false"),
            "{reason}"
        );
        args.trust.grant_base_role = Some(false);
        assert_eq!(args.base_role_elsewhere(&ctx()), None);
    }

    #[test]
    fn managed_policies_are_held_to_the_accounts_quota() {
        let mut args = redshift_args();
        args.managed_policy_arns = Some(
            (0..11)
                .map(|i| format!("arn:aws:iam::123456789012:policy/p{i}"))
                .collect(),
        );
        let failure = args.too_many_managed_policies(10).unwrap();
        assert_eq!(failure.property, "managedPolicyArns");
        assert!(
            failure.reason.contains("lists 11")
                && failure
                    .reason
                    .contains("AttachedPoliciesPerRoleQuota is 10")
        );
        assert!(args.too_many_managed_policies(20).is_none());
    }

    #[test]
    fn validation_names_properties_and_hides_the_external_id() {
        let mut args = redshift_args();
        args.trust.external_id = Some("bad id with spaces".into());
        args.sources.redshift = Some(Redshift {
            cluster_identifier: Some(String::new()),
            database_name: Some(String::new()),
            ..Default::default()
        });
        args.policies = Some([("RedshiftDataAPI".to_string(), json!({}))].into());
        let (f, _) = validated(&args);
        let props: Vec<&str> = f.iter().map(|x| x.property.as_str()).collect();
        for want in [
            "externalId",
            "redshift.clusterIdentifier",
            "redshift.databaseName",
            "policies[\"RedshiftDataAPI\"]",
        ] {
            assert!(props.contains(&want), "{want} not in {props:?}");
        }
        assert!(f.iter().all(|x| !x.reason.contains("bad id with spaces")));
    }
}
