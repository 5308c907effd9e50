//! `xpander:index:XpanderConnectorRole`: one least-privilege role per data
//! source (seed step 2). Its trust is the seed's four-statement template,
//! written in the seed's "Role Creation Order" without a fixed sleep; it
//! grants the base role the right to assume it, and (for EKS) gets an access
//! entry on the cluster.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value as Json;

use super::role::{self, RoleArgs};
use super::spec::{Prop, ResourceSpec, Ty, TypeSpec};
use super::*;
use crate::cloud::api::{AccessEntry, AccessScope, LiveRole};
use crate::iam::arn::{is_account_id, is_policy_arn, parse_role_arn, AccountContext};
use crate::iam::policy::{check_grammar, decode_document, DocumentKind};
use crate::iam::{limits, templates};
use crate::plan::{plan_role, plan_role_delete, RoleSpec, Step};

pub const TOKEN: &str = "xpander:index:XpanderConnectorRole";
pub const DEFAULT_EKS_ACCESS_POLICY: &str = "AmazonEKSClusterAdminPolicy";

const TRUST_SOURCES: &[&str] = &[
    "externalId",
    "trustedAccountId",
    "baseRoleArn",
    "podIdentityTrust",
    "roleName",
    "path",
];
const POLICY_SOURCES: &[&str] = &[
    "redshift", "eks", "s3", "dynamodb", "athena", "policies", "roleName", "path",
];

pub static SPEC: ResourceSpec = ResourceSpec {
    token: TOKEN,
    description: "An xpander connector role: one per data source, with the seed's four-statement trust policy (PodIdentity, CrossAccountWithExternalId, SelfAssume, AllowFromBaseRole), its own least-privilege permissions, the self-assume policy, and a grant on the base role.",
    props: &[
        Prop::input("roleName", Ty::String, "IAM role name. Autonamed from the resource name when omitted (and kept on later runs). Changing it replaces the role.").replaces(),
        Prop::input("path", Ty::String, "IAM path of the role. Changing it replaces the role.").replaces().default("/"),
        Prop::input("description", Ty::String, "Role description."),
        Prop::input("maxSessionDuration", Ty::Integer, "Maximum session duration in seconds (3600–43200). Sessions chained from the base role are capped at 1 hour by AWS regardless."),
        Prop::input("permissionsBoundary", Ty::String, "ARN of a managed policy used as permissions boundary."),
        Prop::input("tags", Ty::StringMap, "Tags for the role, merged over the provider's `defaultTags`. `ManagedBy=pulumi-xpander` is added unless set."),
        Prop::input("baseRoleArn", Ty::String, "ARN of the xpander base role. Adds the `AllowFromBaseRole` trust statement and (unless `grantBaseRole` is false) grants the base role `sts:AssumeRole` + `sts:TagSession` on this role."),
        Prop::input("baseRoleId", Ty::String, "The base role's `roleId` output. When it changes (the base role was replaced), this connector's trust and grant are rewritten in the same update."),
        Prop::input("grantBaseRole", Ty::Boolean, "Write this connector's grant (`xpander-assume-<roleName>`) on the base role.").default("true"),
        Prop::input("externalId", Ty::String, "The xpander organization id. Adds `CrossAccountWithExternalId` (the only statement with an ExternalId condition). Secret.").secret(),
        Prop::input("trustedAccountId", Ty::String, "Account trusted by `CrossAccountWithExternalId`; defaults to the deploying account, as in the seed's template."),
        Prop::input("podIdentityTrust", Ty::Boolean, "Keep the seed's `PodIdentity` fallback statement.").default("true"),
        Prop::input("redshift", Ty::Object("Redshift"), "Redshift permissions: the seed's `RedshiftCredentials` and `RedshiftDataAPI` policies."),
        Prop::input("eks", Ty::Object("Eks"), "EKS permissions: the seed's `EKSAccess` policy plus an access entry and access policy on the cluster."),
        Prop::input("s3", Ty::Object("S3"), "S3 permissions scoped to buckets and prefixes (`S3Access`)."),
        Prop::input("dynamodb", Ty::Object("DynamoDb"), "DynamoDB permissions scoped to tables (`DynamoDBAccess`)."),
        Prop::input("athena", Ty::Object("Athena"), "Athena permissions scoped to work groups (`AthenaAccess`)."),
        Prop::input("policies", Ty::DocumentMap, "Additional inline policies by name: JSON objects or JSON strings."),
        Prop::input("managedPolicyArns", Ty::StringList, "Managed policies to attach (exclusively: others are detached)."),
        Prop::input("allowWildcards", Ty::Boolean, "Accept `*` and `?` in resource identifiers (tables, work groups, buckets, prefixes, cluster and database names), which widen the grant; each one is still reported as a warning.").default("false"),
        Prop::assigned("arn", Ty::String, "ARN of the role: the value to paste in the xpander UI."),
        Prop::assigned("roleId", Ty::String, "Unique id (AROA…) of the role."),
        Prop::assigned("accountId", Ty::String, "Account that owns the role."),
        Prop::computed("trustPolicy", Ty::Document, "The trust policy as written. Always secret: it carries the ExternalId when one is set.", TRUST_SOURCES).secret(),
        Prop::computed("policies", Ty::DocumentMap, "Every inline policy of the role, by name, as written.", POLICY_SOURCES),
        Prop::computed("tagsAll", Ty::StringMap, "All tags on the role, including provider defaults.", &["tags"]),
        Prop::assigned("accessEntryArn", Ty::String, "ARN of the EKS access entry (EKS connectors).").optional_output(),
        Prop::computed("grantPolicyName", Ty::String, "Name of this connector's inline policy on the base role.", &["baseRoleArn", "grantBaseRole", "roleName"]).optional_output(),
    ],
    types: &[
        TypeSpec {
            name: "Redshift",
            description: "A Redshift cluster and database the connector queries.",
            props: &[
                Prop::input("clusterIdentifier", Ty::String, "Redshift cluster identifier.").required(),
                Prop::input("databaseName", Ty::String, "Database name.").required(),
                Prop::input("region", Ty::String, "Region of the cluster; defaults to the provider's region."),
                Prop::input("dbUsers", Ty::StringList, "Database users the connector may get credentials for; all (`*`) when omitted, as in the seed."),
            ],
        },
        TypeSpec {
            name: "Eks",
            description: "An EKS cluster the connector reads, with its Kubernetes access.",
            props: &[
                Prop::input("clusterName", Ty::String, "EKS cluster name, in the provider's region (use a provider for another region).").required(),
                Prop::input("scopedPolicy", Ty::Boolean, "Scope `EKSAccess` to this cluster (its ARN, node groups and control-plane log group) instead of the seed's `Resource: \"*\"`; the connector then cannot read other clusters or other log groups, such as Container Insights application logs.").default("false"),
                Prop::input("accessPolicyArn", Ty::String, "EKS access policy to associate; the seed's `AmazonEKSClusterAdminPolicy` by default. `AmazonEKSViewPolicy` is the read-only choice."),
                Prop::input("accessScope", Ty::Object("AccessScope"), "Scope of the access policy (cluster by default)."),
            ],
        },
        TypeSpec {
            name: "AccessScope",
            description: "Scope of an EKS access policy association.",
            props: &[
                Prop::input("type", Ty::String, "`cluster` or `namespace`.").required(),
                Prop::input("namespaces", Ty::StringList, "Namespaces, when the type is `namespace`."),
            ],
        },
        TypeSpec {
            name: "S3",
            description: "S3 buckets the connector reads (and writes unless read-only).",
            props: &[
                Prop::input("buckets", Ty::StringList, "Bucket names.").required(),
                Prop::input("prefixes", Ty::StringList, "Key prefixes to restrict object access to."),
                Prop::input("readOnly", Ty::Boolean, "Only read objects (the default, least privilege); `false` adds PutObject and DeleteObject.").default("true"),
            ],
        },
        TypeSpec {
            name: "DynamoDb",
            description: "DynamoDB tables the connector reads (and writes unless read-only).",
            props: &[
                Prop::input("tables", Ty::StringList, "Table names.").required(),
                Prop::input("region", Ty::String, "Region of the tables; defaults to the provider's region."),
                Prop::input("readOnly", Ty::Boolean, "Only read items (the default, least privilege); `false` adds item writes.").default("true"),
            ],
        },
        TypeSpec {
            name: "Athena",
            description: "Athena work groups the connector queries.",
            props: &[
                Prop::input("workGroups", Ty::StringList, "Work group names.").required(),
                Prop::input("region", Ty::String, "Region of the work groups and Glue catalog; defaults to the provider's region."),
                Prop::input("outputBucket", Ty::String, "Bucket for query results."),
                Prop::input("glueDatabases", Ty::StringList, "Glue databases the queries read."),
                Prop::input("dataBuckets", Ty::StringList, "Buckets holding the tables' data: Athena reads them with the connector's credentials (read only)."),
            ],
        },
    ],
};

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedshiftArgs {
    pub cluster_identifier: Option<String>,
    pub database_name: Option<String>,
    pub region: Option<String>,
    pub db_users: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EksArgs {
    pub cluster_name: Option<String>,
    pub scoped_policy: Option<bool>,
    pub access_policy_arn: Option<String>,
    pub access_scope: Option<AccessScopeArgs>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccessScopeArgs {
    #[serde(rename = "type")]
    pub scope_type: Option<String>,
    pub namespaces: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3Args {
    pub buckets: Option<Vec<String>>,
    pub prefixes: Option<Vec<String>>,
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DynamoDbArgs {
    pub tables: Option<Vec<String>>,
    pub region: Option<String>,
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AthenaArgs {
    pub work_groups: Option<Vec<String>>,
    pub region: Option<String>,
    pub output_bucket: Option<String>,
    pub glue_databases: Option<Vec<String>>,
    pub data_buckets: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorArgs {
    #[serde(flatten)]
    pub role: RoleArgs,
    pub base_role_arn: Option<String>,
    pub base_role_id: Option<String>,
    pub grant_base_role: Option<bool>,
    pub external_id: Option<String>,
    pub trusted_account_id: Option<String>,
    pub pod_identity_trust: Option<bool>,
    pub redshift: Option<RedshiftArgs>,
    pub eks: Option<EksArgs>,
    pub s3: Option<S3Args>,
    pub dynamodb: Option<DynamoDbArgs>,
    pub athena: Option<AthenaArgs>,
    pub policies: Option<BTreeMap<String, Json>>,
    pub managed_policy_arns: Option<Vec<String>>,
    pub allow_wildcards: Option<bool>,
}

/// The grant on the base role: (base role name, policy name, document).
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub base_role: String,
    pub name: String,
    pub document: Json,
}

/// What the EKS connector needs on its cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterAccess {
    pub cluster: String,
    pub principal_arn: String,
    pub policy_arn: String,
    pub scope: AccessScope,
}

/// A connector fully rendered for one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub role: RoleSpec,
    pub arn: String,
    pub grant: Option<Grant>,
    pub access: Option<ClusterAccess>,
}

fn strings(v: &Option<Vec<String>>) -> Vec<String> {
    v.clone().unwrap_or_default()
}

fn custom_document(v: &Json) -> Result<Json, String> {
    match v {
        Json::String(s) => decode_document(s).map_err(|e| format!("policy document is {e}")),
        Json::Object(_) => Ok(v.clone()),
        _ => Err("policy document must be a JSON object or a JSON string".into()),
    }
}

fn is_bucket_name(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

/// Resource identifiers that end up in ARNs: `*` or `?` in any of them widens
/// the grant to every matching resource.
struct Identifiers<'a> {
    allow_wildcards: bool,
    failures: &'a mut Vec<Failure>,
    warnings: &'a mut Vec<String>,
}

impl Identifiers<'_> {
    /// True when the value may be checked further (it has no wildcard).
    fn check(&mut self, path: &str, value: &str) -> bool {
        if !value.contains(['*', '?']) {
            return true;
        }
        if self.allow_wildcards {
            self.warnings.push(format!(
                "{path} is {value:?}: the wildcard widens the grant to every matching resource (seed: scope resources)"
            ));
        } else {
            self.failures.push(Failure::new(
                path,
                format!("{path} is {value:?}: wildcards widen the grant to every matching resource; name the resource, or set allowWildcards: true to accept it"),
            ));
        }
        false
    }

    fn check_all(&mut self, path: &str, values: &[String]) {
        for (i, v) in values.iter().enumerate() {
            self.check(&format!("{path}[{i}]"), v);
        }
    }

    fn check_region(&mut self, path: &str, region: &Option<String>) {
        if let Some(r) = region {
            if !crate::config::is_region_name(r) {
                self.failures.push(Failure::new(
                    path,
                    format!("{path}: {r:?} is not an AWS region name"),
                ));
            }
        }
    }

    fn check_bucket(&mut self, path: &str, bucket: &str) {
        if self.check(path, bucket) && !is_bucket_name(bucket) {
            self.failures.push(Failure::new(
                path,
                format!("{path}: {bucket:?} is not a valid S3 bucket name"),
            ));
        }
    }

    fn check_buckets(&mut self, path: &str, buckets: &[String]) {
        for (i, b) in buckets.iter().enumerate() {
            self.check_bucket(&format!("{path}[{i}]"), b);
        }
    }
}

impl ConnectorArgs {
    fn has_permissions(&self) -> bool {
        self.redshift.is_some()
            || self.eks.is_some()
            || self.s3.is_some()
            || self.dynamodb.is_some()
            || self.athena.is_some()
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
        if self.redshift.is_some() {
            names.extend([
                templates::POLICY_REDSHIFT_CREDENTIALS,
                templates::POLICY_REDSHIFT_DATA,
            ]);
        }
        for (present, name) in [
            (self.eks.is_some(), templates::POLICY_EKS),
            (self.s3.is_some(), templates::POLICY_S3),
            (self.dynamodb.is_some(), templates::POLICY_DYNAMODB),
            (self.athena.is_some(), templates::POLICY_ATHENA),
        ] {
            if present {
                names.push(name);
            }
        }
        names
    }

    fn access_policy_name(&self) -> Option<String> {
        let e = self.eks.as_ref()?;
        Some(match &e.access_policy_arn {
            Some(arn) => arn.rsplit('/').next().unwrap_or(arn).to_string(),
            None => DEFAULT_EKS_ACCESS_POLICY.into(),
        })
    }

    /// The seed's "works in cloud but not self-hosted" setup. Only meaningful
    /// when `baseRoleArn` is absent, not merely unknown during a preview.
    fn cloud_only_warning(&self) -> Option<String> {
        (self.external_id.is_some() && self.base_role_arn.is_none()).then(|| "externalId without baseRoleArn: the xpander platform can assume this role (cloud mode) but the self-hosted AI Gateway, which chains through the base role without an ExternalId, cannot (seed: \"Connector works in cloud but not self-hosted\"); set baseRoleArn to the base role's ARN".to_string())
    }

    /// More managed policies than the account lets a role have.
    fn too_many_managed_policies(&self, quota: usize) -> Option<Failure> {
        let count = self.managed_policy_arns.as_ref().map_or(0, Vec::len);
        (count > quota).then(|| Failure::new(
            "managedPolicyArns",
            format!("managedPolicyArns lists {count} policies; the account's AttachedPoliciesPerRoleQuota is {quota} (10 unless raised, at most 20): raise it with Service Quotas or merge policies"),
        ))
    }

    /// A grant can only be written in the deploying account: a base role
    /// elsewhere (another account or partition) needs grantBaseRole: false.
    fn base_role_elsewhere(&self, here: &AccountContext) -> Option<String> {
        let base = parse_role_arn(self.base_role_arn.as_deref()?)?;
        let elsewhere = base.partition != here.partition || base.account_id != here.account_id;
        (elsewhere && self.grant_base_role.unwrap_or(true)).then(|| format!(
            "baseRoleArn names a role in {}:{}, but this provider deploys to {}:{}; the grant can only be written in the deploying account: set grantBaseRole: false and list this connector's ARN in that base role's connectorRoleArns (deployed with a provider for that account)",
            base.partition, base.account_id, here.partition, here.account_id
        ))
    }

    /// Regions, bucket names and wildcards in every identifier that ends up in an ARN.
    fn validate_identifiers(&self, failures: &mut Vec<Failure>, warnings: &mut Vec<String>) {
        let mut ids = Identifiers {
            allow_wildcards: self.allow_wildcards.unwrap_or(false),
            failures,
            warnings,
        };
        if let Some(r) = &self.redshift {
            ids.check_region("redshift.region", &r.region);
            for (path, value) in [
                ("redshift.clusterIdentifier", &r.cluster_identifier),
                ("redshift.databaseName", &r.database_name),
            ] {
                if let Some(v) = value {
                    ids.check(path, v);
                }
            }
        }
        if let Some(s) = &self.s3 {
            ids.check_buckets("s3.buckets", &strings(&s.buckets));
            ids.check_all("s3.prefixes", &strings(&s.prefixes));
        }
        if let Some(d) = &self.dynamodb {
            ids.check_region("dynamodb.region", &d.region);
            ids.check_all("dynamodb.tables", &strings(&d.tables));
        }
        if let Some(a) = &self.athena {
            ids.check_region("athena.region", &a.region);
            ids.check_all("athena.workGroups", &strings(&a.work_groups));
            ids.check_all("athena.glueDatabases", &strings(&a.glue_databases));
            ids.check_buckets("athena.dataBuckets", &strings(&a.data_buckets));
            if let Some(b) = &a.output_bucket {
                ids.check_bucket("athena.outputBucket", b);
            }
        }
    }

    pub fn validate(&self, failures: &mut Vec<Failure>, warnings: &mut Vec<String>) {
        self.role.validate(failures);
        let mut fail = |p: &str, r: String| failures.push(Failure::new(p, r));
        if !self.has_permissions() {
            fail("policies", "a connector needs at least one permission source: redshift, eks, s3, dynamodb, athena, policies or managedPolicyArns".into());
        }
        if let Some(arn) = &self.base_role_arn {
            if parse_role_arn(arn).is_none() {
                fail(
                    "baseRoleArn",
                    format!("baseRoleArn {arn:?} is not an IAM role ARN"),
                );
            }
        }
        if let Some(x) = &self.external_id {
            if let Err(r) = limits::check_external_id(x) {
                fail("externalId", format!("externalId {r}"));
            }
        }
        if let Some(a) = &self.trusted_account_id {
            if !is_account_id(a) {
                fail(
                    "trustedAccountId",
                    format!("trustedAccountId must be a 12-digit account id, got {a:?}"),
                );
            }
            if self.external_id.is_none() {
                fail("trustedAccountId", "trustedAccountId is only used with externalId (the CrossAccountWithExternalId statement)".into());
            }
        }
        if let Some(r) = &self.redshift {
            if r.cluster_identifier.as_deref().unwrap_or("").is_empty() {
                fail(
                    "redshift.clusterIdentifier",
                    "redshift.clusterIdentifier is required".into(),
                );
            }
            if r.database_name.as_deref().unwrap_or("").is_empty() {
                fail(
                    "redshift.databaseName",
                    "redshift.databaseName is required".into(),
                );
            }
        }
        if let Some(e) = &self.eks {
            match &e.cluster_name {
                None => fail("eks.clusterName", "eks.clusterName is required".into()),
                Some(c) => {
                    if let Err(r) = limits::check_cluster_name(c) {
                        fail("eks.clusterName", r);
                    }
                }
            }
            if let Some(arn) = &e.access_policy_arn {
                let ok =
                    arn.starts_with("arn:") && arn.contains(":eks::aws:cluster-access-policy/");
                if !ok {
                    fail("eks.accessPolicyArn", format!("{arn:?} is not an EKS access policy ARN (arn:<partition>:eks::aws:cluster-access-policy/<Name>)"));
                }
            }
            if let Some(s) = &e.access_scope {
                match s.scope_type.as_deref() {
                    Some("cluster") => {
                        if s.namespaces.as_ref().is_some_and(|n| !n.is_empty()) {
                            fail(
                                "eks.accessScope.namespaces",
                                "namespaces are only allowed with type \"namespace\"".into(),
                            );
                        }
                    }
                    Some("namespace") => {
                        let ns = strings(&s.namespaces);
                        if ns.is_empty() {
                            fail(
                                "eks.accessScope.namespaces",
                                "a namespace scope needs at least one namespace".into(),
                            );
                        }
                    }
                    other => fail(
                        "eks.accessScope.type",
                        format!("must be \"cluster\" or \"namespace\", got {other:?}"),
                    ),
                }
            }
            if self.access_policy_name().as_deref() == Some(DEFAULT_EKS_ACCESS_POLICY) {
                warnings.push("eks: the connector gets AmazonEKSClusterAdminPolicy (the seed's choice); set eks.accessPolicyArn to AmazonEKSViewPolicy for read-only Kubernetes access".into());
            }
        }
        if self.redshift.is_some() && self.eks.is_some() {
            warnings.push("redshift and eks are combined in one connector role; the seed recommends separate roles per data source".into());
        }
        if let Some(s) = &self.s3 {
            if strings(&s.buckets).is_empty() {
                fail("s3.buckets", "s3.buckets needs at least one bucket".into());
            }
        }
        if let Some(d) = &self.dynamodb {
            if strings(&d.tables).is_empty() {
                fail(
                    "dynamodb.tables",
                    "dynamodb.tables needs at least one table".into(),
                );
            }
        }
        if let Some(a) = &self.athena {
            if strings(&a.work_groups).is_empty() {
                fail(
                    "athena.workGroups",
                    "athena.workGroups needs at least one work group".into(),
                );
            }
        }
        for (name, doc) in self.policies.iter().flatten() {
            let path = format!("policies[{}]", Json::String(name.clone()));
            if let Err(r) = limits::check_policy_name(name) {
                fail(&path, r);
            }
            if self.template_policy_names().contains(&name.as_str()) {
                fail(&path, format!("{name:?} is the name of a policy the provider writes for this connector; choose another name"));
            }
            match custom_document(doc).and_then(|d| {
                check_grammar(&d, DocumentKind::Identity)
                    .map(|_| d)
                    .map_err(|e| e.to_string())
            }) {
                Err(r) => fail(&path, r),
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
        let managed = strings(&self.managed_policy_arns);
        for (i, arn) in managed.iter().enumerate() {
            if !is_policy_arn(arn) {
                fail(
                    &format!("managedPolicyArns[{i}]"),
                    format!("{arn:?} is not a managed policy ARN"),
                );
            }
        }
        if self.pod_identity_trust == Some(false)
            && self.external_id.is_none()
            && self.base_role_arn.is_none()
        {
            warnings.push("no PodIdentity, CrossAccountWithExternalId or AllowFromBaseRole statement: only the role itself can assume it".into());
        }
        self.validate_identifiers(failures, warnings);
        if failures.is_empty() && !self.role.name().is_empty() {
            // Account ids are always 12 digits, so sizes computed with a stand-in are exact
            // up to the partition name.
            let probe = AccountContext {
                partition: "aws".into(),
                account_id: "000000000000".into(),
                region: "us-east-1".into(),
            };
            if let Ok(r) = self.render(&probe, &BTreeMap::new(), "urn") {
                let trust = limits::policy_size(&r.role.trust);
                if trust > limits::TRUST_POLICY_MAX_CHARS {
                    failures.push(Failure::new("externalId", format!("the trust policy would be {trust} characters; IAM's default quota is {}", limits::TRUST_POLICY_MAX_CHARS)));
                }
                let total: usize = r
                    .role
                    .inline_policies
                    .values()
                    .map(limits::policy_size)
                    .sum();
                if total > limits::INLINE_POLICIES_MAX_CHARS {
                    failures.push(Failure::new("policies", format!("inline policies would total {total} characters; IAM allows {} per role (use managedPolicyArns for large policies)", limits::INLINE_POLICIES_MAX_CHARS)));
                }
            }
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
        let path = self.role.path();
        let arn = ctx.role_arn(&path, &name);
        let region = |r: &Option<String>| r.clone().unwrap_or_else(|| ctx.region.clone());
        let trust = templates::ConnectorTrust {
            pod_identity: self.pod_identity_trust.unwrap_or(true),
            cross_account: self.external_id.as_ref().map(|x| {
                let account = self
                    .trusted_account_id
                    .clone()
                    .unwrap_or_else(|| ctx.account_id.clone());
                (ctx.account_root(&account), x.clone())
            }),
            self_arn: arn.clone(),
            base_role_arn: self.base_role_arn.clone(),
        };
        let mut inline = BTreeMap::new();
        inline.insert(
            templates::POLICY_SELF_ASSUME.to_string(),
            templates::self_assume_policy(&arn),
        );
        if let Some(r) = &self.redshift {
            let cluster = r.cluster_identifier.clone().unwrap_or_default();
            let db = r.database_name.clone().unwrap_or_default();
            inline.insert(
                templates::POLICY_REDSHIFT_CREDENTIALS.into(),
                templates::redshift_credentials(
                    ctx,
                    &region(&r.region),
                    &cluster,
                    &db,
                    &strings(&r.db_users),
                ),
            );
            inline.insert(
                templates::POLICY_REDSHIFT_DATA.into(),
                templates::redshift_data_api(),
            );
        }
        if let Some(e) = &self.eks {
            let policy = match (&e.cluster_name, e.scoped_policy.unwrap_or(false)) {
                (Some(cluster), true) => templates::eks_access_scoped(ctx, &ctx.region, cluster),
                _ => templates::eks_access(),
            };
            inline.insert(templates::POLICY_EKS.into(), policy);
        }
        if let Some(s) = &self.s3 {
            inline.insert(
                templates::POLICY_S3.into(),
                templates::s3_access(
                    ctx,
                    &strings(&s.buckets),
                    &strings(&s.prefixes),
                    s.read_only.unwrap_or(true),
                ),
            );
        }
        if let Some(d) = &self.dynamodb {
            inline.insert(
                templates::POLICY_DYNAMODB.into(),
                templates::dynamodb_access(
                    ctx,
                    &region(&d.region),
                    &strings(&d.tables),
                    d.read_only.unwrap_or(true),
                ),
            );
        }
        if let Some(a) = &self.athena {
            inline.insert(
                templates::POLICY_ATHENA.into(),
                templates::athena_access(
                    ctx,
                    &region(&a.region),
                    &strings(&a.work_groups),
                    a.output_bucket.as_deref(),
                    &strings(&a.glue_databases),
                    &strings(&a.data_buckets),
                ),
            );
        }
        for (n, doc) in self.policies.iter().flatten() {
            inline.insert(n.clone(), custom_document(doc)?);
        }
        let grant = match (&self.base_role_arn, self.grant_base_role.unwrap_or(true)) {
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
        let access = self.eks.as_ref().map(|e| ClusterAccess {
            cluster: e.cluster_name.clone().unwrap_or_default(),
            principal_arn: arn.clone(),
            policy_arn: e
                .access_policy_arn
                .clone()
                .unwrap_or_else(|| ctx.eks_access_policy_arn(DEFAULT_EKS_ACCESS_POLICY)),
            scope: e
                .access_scope
                .as_ref()
                .map(|s| AccessScope {
                    scope_type: s.scope_type.clone().unwrap_or_else(|| "cluster".into()),
                    namespaces: strings(&s.namespaces),
                })
                .unwrap_or(AccessScope {
                    scope_type: "cluster".into(),
                    namespaces: vec![],
                }),
        });
        Ok(Rendered {
            role: RoleSpec {
                name,
                path,
                description: self.role.description.clone(),
                max_session_duration: self.role.max_session_duration,
                permissions_boundary: self.role.permissions_boundary.clone(),
                tags: self.role.all_tags(default_tags, urn),
                initial_trust: trust.initial(),
                trust: trust.full(),
                inline_policies: inline,
                managed_policies: strings(&self.managed_policy_arns)
                    .into_iter()
                    .collect::<BTreeSet<_>>(),
                keeps_connector_grants: false,
            },
            arn,
            grant,
            access,
        })
    }
}

/// What exists besides the role: the grant on the base role and the access entry.
#[derive(Debug, Default, Clone)]
pub struct LiveExtras {
    pub grant: Option<Json>,
    pub access: Option<AccessEntry>,
}

/// Steps for the grant and the cluster access, after the role's own steps.
/// A new grant is written before an old one is revoked.
pub fn plan_extras(
    want: &Rendered,
    live: &LiveExtras,
    old: Option<&Rendered>,
    partition: &str,
) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some(g) = &want.grant {
        let same = live
            .grant
            .as_ref()
            .is_some_and(|d| crate::iam::policy::equivalent(d, &g.document, partition));
        if !same {
            steps.push(Step::PutPolicy {
                role: g.base_role.clone(),
                name: g.name.clone(),
                document: g.document.clone(),
            });
        }
    }
    if let Some(a) = &want.access {
        match &live.access {
            None => {
                steps.push(Step::CreateAccessEntry {
                    cluster: a.cluster.clone(),
                    principal_arn: a.principal_arn.clone(),
                    tags: BTreeMap::new(),
                });
                steps.push(Step::AssociateAccessPolicy {
                    cluster: a.cluster.clone(),
                    principal_arn: a.principal_arn.clone(),
                    policy_arn: a.policy_arn.clone(),
                    scope: a.scope.clone(),
                });
            }
            Some(entry) => {
                for (arn, _) in entry
                    .policies
                    .iter()
                    .filter(|(arn, scope)| **arn != a.policy_arn || **scope != a.scope)
                {
                    steps.push(Step::DisassociateAccessPolicy {
                        cluster: a.cluster.clone(),
                        principal_arn: a.principal_arn.clone(),
                        policy_arn: arn.clone(),
                    });
                }
                if entry.policies.get(&a.policy_arn) != Some(&a.scope) {
                    steps.push(Step::AssociateAccessPolicy {
                        cluster: a.cluster.clone(),
                        principal_arn: a.principal_arn.clone(),
                        policy_arn: a.policy_arn.clone(),
                        scope: a.scope.clone(),
                    });
                }
            }
        }
    }
    if let Some(old) = old {
        if let Some(og) = &old.grant {
            let kept = want
                .grant
                .as_ref()
                .is_some_and(|g| g.base_role == og.base_role && g.name == og.name);
            if !kept {
                steps.push(Step::DeletePolicy {
                    role: og.base_role.clone(),
                    name: og.name.clone(),
                });
            }
        }
        if let Some(oa) = &old.access {
            let kept = want
                .access
                .as_ref()
                .is_some_and(|a| a.cluster == oa.cluster && a.principal_arn == oa.principal_arn);
            if !kept {
                steps.push(Step::DeleteAccessEntry {
                    cluster: oa.cluster.clone(),
                    principal_arn: oa.principal_arn.clone(),
                });
            }
        }
    }
    steps
}

/// Delete order (DESIGN): revoke the grant, remove the access entry (which
/// takes its access policy associations with it), then empty and delete the role.
/// What a connector wrote besides its role, as its state's outputs record it.
/// Delete works from this alone: the inputs may no longer decode, and today's
/// rendering of them may differ from what was written.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Written {
    /// (base role name, policy name)
    pub grant: Option<(String, String)>,
    /// (cluster, principal ARN)
    pub access: Option<(String, String)>,
}

impl Written {
    pub fn from_outputs(olds: &PropertyMap) -> Written {
        let text = |key: &str| {
            olds.get(key)
                .map(PropertyValue::to_json)
                .and_then(|v| v.as_str().map(str::to_string))
        };
        let grant = match (text("baseRoleArn"), text("grantPolicyName")) {
            (Some(base), Some(policy)) => parse_role_arn(&base).map(|b| (b.name, policy)),
            _ => None,
        };
        let cluster = olds.get("eks").map(PropertyValue::to_json).and_then(|e| {
            e.get("clusterName")
                .and_then(Json::as_str)
                .map(str::to_string)
        });
        let access = match (text("accessEntryArn"), cluster, text("arn")) {
            (Some(_), Some(cluster), Some(principal)) => Some((cluster, principal)),
            _ => None,
        };
        Written { grant, access }
    }
}

pub fn plan_delete(
    written: &Written,
    live_role: Option<&LiveRole>,
    live: &LiveExtras,
) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some((base_role, name)) = &written.grant {
        steps.push(Step::DeletePolicy {
            role: base_role.clone(),
            name: name.clone(),
        });
    }
    if let (Some((cluster, principal_arn)), Some(_)) = (&written.access, &live.access) {
        steps.push(Step::DeleteAccessEntry {
            cluster: cluster.clone(),
            principal_arn: principal_arn.clone(),
        });
    }
    steps.extend(plan_role_delete(live_role));
    steps
}

fn documents(map: &BTreeMap<String, Json>) -> PropertyValue {
    PropertyValue::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), PropertyValue::from_json(v)))
            .collect(),
    )
}

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
    out.insert("policies".into(), documents(policies));
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
    let Some(base) = args.base_role_arn.as_deref().and_then(parse_role_arn) else {
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
    let Some(cluster) = args.eks.as_ref().and_then(|e| e.cluster_name.as_deref()) else {
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
            if args.eks.is_some() {
                if let Ok(cloud) = ctx.provider.cloud().await {
                    check_cluster(&args, &cloud).await?;
                }
            }
            let mut out = preview_outputs(&SPEC, inputs, &known, false);
            if args.eks.is_some() {
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
        if args.external_id.is_some() {
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
            let cluster_changes = old_args.eks.as_ref().map(|e| &e.cluster_name)
                != args.eks.as_ref().map(|e| &e.cluster_name);
            if cluster_changes {
                known.remove("accessEntryArn");
            }
            let mut out = preview_outputs(&SPEC, news, &known, true);
            if cluster_changes && args.eks.is_some() {
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
        let entry = if args.eks.is_some() {
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
    use super::*;
    use serde_json::json;

    fn ctx() -> AccountContext {
        AccountContext {
            partition: "aws".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    fn redshift_args() -> ConnectorArgs {
        ConnectorArgs {
            role: RoleArgs {
                role_name: Some("xpander-redshift-access".into()),
                ..Default::default()
            },
            base_role_arn: Some("arn:aws:iam::123456789012:role/xpander-base-role".into()),
            external_id: Some("org-123".into()),
            redshift: Some(RedshiftArgs {
                cluster_identifier: Some("analytics".into()),
                database_name: Some("dev".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
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
    }

    #[test]
    fn eks_connector_gets_cluster_access() {
        let args = ConnectorArgs {
            role: RoleArgs {
                role_name: Some("xpander-eks-connector".into()),
                ..Default::default()
            },
            eks: Some(EksArgs {
                cluster_name: Some("prod".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let r = args.render(&ctx(), &BTreeMap::new(), "u").unwrap();
        let steps = plan_extras(&r, &LiveExtras::default(), None, "aws");
        assert!(matches!(&steps[0], Step::CreateAccessEntry { cluster, .. } if cluster == "prod"));
        assert!(
            matches!(&steps[1], Step::AssociateAccessPolicy { policy_arn, scope, .. }
            if policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" && scope.scope_type == "cluster")
        );
    }

    #[test]
    fn moving_base_roles_grants_before_revoking() {
        let old = redshift_args()
            .render(&ctx(), &BTreeMap::new(), "u")
            .unwrap();
        let mut moved = redshift_args();
        moved.base_role_arn = Some("arn:aws:iam::123456789012:role/new-base".into());
        let new = moved.render(&ctx(), &BTreeMap::new(), "u").unwrap();
        let steps = plan_extras(&new, &LiveExtras::default(), Some(&old), "aws");
        assert!(matches!(&steps[0], Step::PutPolicy { role, .. } if role == "new-base"));
        assert!(
            matches!(&steps[1], Step::DeletePolicy { role, .. } if role == "xpander-base-role")
        );
    }

    fn validated(args: &ConnectorArgs) -> (Vec<Failure>, Vec<String>) {
        let (mut f, mut w) = (vec![], vec![]);
        args.validate(&mut f, &mut w);
        (f, w)
    }

    fn only(source: ConnectorArgs) -> ConnectorArgs {
        ConnectorArgs {
            role: RoleArgs {
                role_name: Some("c".into()),
                ..Default::default()
            },
            ..source
        }
    }

    fn policy(args: &ConnectorArgs, name: &str) -> Json {
        let r = args.render(&ctx(), &BTreeMap::new(), "u").unwrap();
        r.role.inline_policies[name].clone()
    }

    fn actions(doc: &Json) -> BTreeSet<String> {
        crate::iam::policy::statements(doc)
            .iter()
            .flat_map(|s| crate::iam::policy::string_list(s.get("Action")))
            .collect()
    }

    #[test]
    fn wildcards_in_identifiers_are_refused_unless_allowed() {
        let mut args = only(ConnectorArgs {
            dynamodb: Some(DynamoDbArgs {
                tables: Some(vec!["orders".into(), "*".into()]),
                ..Default::default()
            }),
            s3: Some(S3Args {
                buckets: Some(vec!["data".into()]),
                prefixes: Some(vec!["team-?/".into()]),
                ..Default::default()
            }),
            redshift: Some(RedshiftArgs {
                cluster_identifier: Some("an*".into()),
                database_name: Some("dev".into()),
                ..Default::default()
            }),
            athena: Some(AthenaArgs {
                work_groups: Some(vec!["*".into()]),
                ..Default::default()
            }),
            ..Default::default()
        });
        let (f, _) = validated(&args);
        let refused: Vec<&str> = f.iter().map(|x| x.property.as_str()).collect();
        for path in [
            "dynamodb.tables[1]",
            "s3.prefixes[0]",
            "redshift.clusterIdentifier",
            "athena.workGroups[0]",
        ] {
            assert!(refused.contains(&path), "{path} not refused: {f:?}");
        }
        assert!(f.iter().all(|x| x.reason.contains("allowWildcards")));
        args.allow_wildcards = Some(true);
        let (f, w) = validated(&args);
        assert!(f.is_empty(), "{f:?}");
        assert!(
            w.iter()
                .any(|m| m.starts_with("dynamodb.tables[1] is \"*\"")),
            "{w:?}"
        );
    }

    #[test]
    fn s3_and_dynamodb_are_read_only_by_default() {
        let s3 = only(ConnectorArgs {
            s3: Some(S3Args {
                buckets: Some(vec!["data".into()]),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert!(!actions(&policy(&s3, templates::POLICY_S3)).contains("s3:PutObject"));
        let dynamo = only(ConnectorArgs {
            dynamodb: Some(DynamoDbArgs {
                tables: Some(vec!["t".into()]),
                ..Default::default()
            }),
            ..Default::default()
        });
        let granted = actions(&policy(&dynamo, templates::POLICY_DYNAMODB));
        assert!(granted.contains("dynamodb:GetItem"), "{granted:?}");
        assert!(
            !granted
                .iter()
                .any(|a| a.contains("Put") || a.contains("Delete") || a.contains("Update")),
            "{granted:?}"
        );
    }

    #[test]
    fn athena_reads_its_data_buckets_in_its_region() {
        let args = only(ConnectorArgs {
            athena: Some(AthenaArgs {
                work_groups: Some(vec!["primary".into()]),
                region: Some("eu-west-1".into()),
                data_buckets: Some(vec!["lake".into()]),
                ..Default::default()
            }),
            ..Default::default()
        });
        let doc = policy(&args, templates::POLICY_ATHENA);
        let text = doc.to_string();
        assert!(
            text.contains("arn:aws:s3:::lake/*") && text.contains("s3:GetObject"),
            "{text}"
        );
        assert!(
            text.contains("arn:aws:athena:eu-west-1:123456789012:workgroup/primary"),
            "{text}"
        );
        assert!(!text.contains("s3:PutObject"), "{text}");
    }

    #[test]
    fn an_external_id_without_base_role_warns_with_the_fix() {
        let mut args = redshift_args();
        args.base_role_arn = None;
        let w = args.cloud_only_warning().unwrap();
        assert!(
            w.contains("works in cloud but not self-hosted") && w.contains("set baseRoleArn"),
            "{w}"
        );
        assert_eq!(redshift_args().cloud_only_warning(), None);
    }

    #[test]
    fn the_eks_scoped_policy_names_the_cluster() {
        let args = only(ConnectorArgs {
            eks: Some(EksArgs {
                cluster_name: Some("prod".into()),
                scoped_policy: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        });
        let doc = policy(&args, templates::POLICY_EKS);
        for s in crate::iam::policy::statements(&doc) {
            let actions = crate::iam::policy::string_list(s.get("Action"));
            let resources = crate::iam::policy::string_list(s.get("Resource"));
            if resources == ["*"] {
                // The two list actions support no resource type.
                assert!(
                    actions == ["eks:ListClusters"] || actions == ["logs:DescribeLogGroups"],
                    "{s}"
                );
            } else {
                assert!(resources.iter().all(|r| r.contains("prod")), "{s}");
            }
        }
    }

    #[test]
    fn a_grant_cannot_go_to_a_base_role_in_another_account() {
        let mut args = redshift_args();
        assert_eq!(args.base_role_elsewhere(&ctx()), None);
        args.base_role_arn = Some("arn:aws:iam::210987654321:role/xpander-base-role".into());
        let reason = args.base_role_elsewhere(&ctx()).unwrap();
        assert!(
            reason.contains("aws:210987654321") && reason.contains("grantBaseRole: false"),
            "{reason}"
        );
        args.grant_base_role = Some(false);
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
    fn delete_revokes_the_grant_first() {
        let written = Written {
            grant: Some(("xpander-base-role".into(), "xpander-assume-c".into())),
            access: None,
        };
        let steps = plan_delete(&written, None, &LiveExtras::default());
        assert!(
            matches!(&steps[0], Step::DeletePolicy { role, .. } if role == "xpander-base-role")
        );
    }

    #[test]
    fn delete_finds_what_was_written_in_the_outputs_alone() {
        let olds = crate::rpc::values::json_to_map(
            json!({
                "arn": "arn:aws:iam::123456789012:role/c",
                "baseRoleArn": "arn:aws:iam::123456789012:role/xpander-base-role",
                "grantPolicyName": "xpander-assume-c",
                "eks": {"clusterName": "prod"},
                "accessEntryArn": "arn:aws:eks:us-east-1:123456789012:access-entry/prod/role/123456789012/c/x",
            })
            .as_object()
            .unwrap(),
        );
        assert_eq!(
            Written::from_outputs(&olds),
            Written {
                grant: Some(("xpander-base-role".into(), "xpander-assume-c".into())),
                access: Some(("prod".into(), "arn:aws:iam::123456789012:role/c".into())),
            }
        );
        assert_eq!(
            Written::from_outputs(&PropertyMap::new()),
            Written::default()
        );
    }

    #[test]
    fn validation_names_properties_and_hides_the_external_id() {
        let mut args = redshift_args();
        args.external_id = Some("bad id with spaces".into());
        args.redshift = Some(RedshiftArgs::default());
        args.policies = Some([("RedshiftDataAPI".to_string(), json!({}))].into());
        let (mut f, mut w) = (vec![], vec![]);
        args.validate(&mut f, &mut w);
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
