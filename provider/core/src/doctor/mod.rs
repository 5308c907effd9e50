//! The seed's Troubleshooting section as a machine check. `gather` reads live
//! IAM/EKS state; `diagnose` (pure) evaluates the policies it found — who
//! may assume whom, with which actions and conditions, inside which
//! permissions boundary — and names each cause with its evidence and fix.

pub mod gather;
pub mod report;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::cloud::api::{AccessEntry, ClusterInfo, LiveRole, PodIdentityAssociation};
use crate::iam::eval::{blocked_by_condition, evaluate, glob, Decision, Principal, Request};
use crate::iam::limits::{policy_size, INLINE_POLICIES_MAX_CHARS, TRUST_POLICY_MAX_CHARS};
use crate::iam::policy::{statements, string_list};
use crate::iam::templates::PODS_SERVICE;
use crate::model::spec::{record, SchemaType, Ty};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl SchemaType for Severity {
    const TY: Ty = Ty::String;
}

record! {
    /// One problem the doctor found: what the `doctor` subcommand prints and
    /// the `diagnose` function returns.
    pub struct Finding as "Finding", "One problem the doctor found." {
        "code" code: String => "Stable identifier, e.g. TAG_SESSION_TRUST.",
        "severity" severity: Severity => "`error`, `warning` or `info`.",
        "role" role: String => "The role concerned.",
        "summary" summary: String => "What is wrong and what fails because of it.",
        "evidence" evidence: Option<Json> => "The statement or policy concerned (ExternalId values redacted).",
        "fix" fix: String => "How to fix it.",
    }
}

/// Where the base role should be attached.
#[derive(Debug, Clone, PartialEq)]
pub struct PodIdentityTarget {
    pub cluster: String,
    pub namespace: String,
    pub service_account: String,
    /// None: the cluster does not exist.
    pub cluster_info: Option<ClusterInfo>,
    pub association: Option<PodIdentityAssociation>,
}

/// Everything the checks look at, read once.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    pub base_name: String,
    pub base: Option<LiveRole>,
    /// The base role's ARN when it lives in another account than the
    /// credentials reach: not read, the connectors are checked against it.
    pub base_elsewhere: Option<String>,
    pub connectors: Vec<(String, Option<LiveRole>)>,
    pub pod_identity: Option<PodIdentityTarget>,
    /// Per connector name, the access entry on the given cluster (only for EKS connectors).
    pub access_entries: BTreeMap<String, Option<AccessEntry>>,
    /// Documents of the managed policies and boundaries the roles reference.
    pub managed: BTreeMap<String, Json>,
    /// The account's trust-policy quota, when it could be read.
    pub trust_quota: Option<usize>,
}

const ASSUME: &str = "sts:AssumeRole";
const TAG: &str = "sts:TagSession";

/// STS actions, to tell whether a wildcard on the base role reaches beyond
/// AssumeRole/TagSession.
const STS_ACTIONS: [&str; 14] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoot",
    "sts:DecodeAuthorizationMessage",
    "sts:GetAccessKeyInfo",
    "sts:GetCallerIdentity",
    "sts:GetDelegatedAccessToken",
    "sts:GetFederationToken",
    "sts:GetServiceBearerToken",
    "sts:GetSessionToken",
    "sts:SetContext",
    "sts:SetSourceIdentity",
    "sts:TagSession",
];

/// Data sources the seed wants in roles of their own, by the services of
/// their actions: a connector holding two of them is mixed.
const OWN_ROLE_FAMILIES: [(&str, &[&str]); 3] = [
    ("Redshift", &["redshift", "redshift-data"]),
    ("EKS", &["eks"]),
    ("Bedrock", &["bedrock"]),
];

/// Actions whose resources the seed's templates scope; `*` on them is too broad.
const SCOPED_ACTIONS: [&str; 20] = [
    "redshift:GetClusterCredentials",
    "redshift:GetClusterCredentialsWithIAM",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:DeleteItem",
    "athena:StartQueryExecution",
    "athena:GetQueryResults",
    "glue:GetTable",
    "glue:GetDatabase",
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "kms:Decrypt",
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
];

/// ExternalId values are secrets: evidence shows that a condition exists, not its value.
pub fn redact(v: &Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.iter()
                .map(|(k, x)| {
                    if k.eq_ignore_ascii_case("sts:ExternalId") {
                        (k.clone(), json!("***"))
                    } else {
                        (k.clone(), redact(x))
                    }
                })
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

struct Findings(Vec<Finding>);

impl Findings {
    fn add(
        &mut self,
        code: &'static str,
        severity: Severity,
        role: &str,
        summary: String,
        evidence: Option<&Json>,
        fix: &str,
    ) {
        self.0.push(Finding {
            code: code.to_string(),
            severity,
            role: role.to_string(),
            summary,
            evidence: evidence.map(redact),
            fix: fix.to_string(),
        });
    }
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// A trust-policy request as IAM sees it: with the caller's global condition keys.
fn from_role<'a>(action: &'a str, arn: &'a str) -> Request<'a> {
    Request::trust(action, Principal::Aws(arn))
        .with("aws:PrincipalArn", arn)
        .with("aws:PrincipalAccount", account_of(arn))
}

/// The request EKS Pod Identity makes on the base role's trust.
fn from_pods<'a>(
    action: &'a str,
    base: &LiveRole,
    target: Option<&PodIdentityTarget>,
) -> Request<'a> {
    let mut req = Request::trust(action, Principal::Service(PODS_SERVICE))
        .with("aws:SourceAccount", account_of(&base.arn));
    if let Some(cluster) = target.and_then(|t| t.cluster_info.as_ref()) {
        req = req.with("aws:SourceArn", &cluster.arn);
    }
    req
}

/// A role's identity policies (inline and attached) and boundary, as evaluated together.
struct Identity<'a> {
    docs: Vec<&'a Json>,
    boundary: Option<&'a Json>,
}

impl<'a> Identity<'a> {
    fn of(role: &'a LiveRole, managed: &'a BTreeMap<String, Json>) -> Self {
        let docs = role
            .inline_policies
            .values()
            .chain(role.managed_policies.iter().filter_map(|a| managed.get(a)))
            .collect();
        let boundary = role
            .permissions_boundary
            .as_ref()
            .and_then(|b| managed.get(b));
        Identity { docs, boundary }
    }

    fn allows(&self, req: &Request<'_>) -> bool {
        evaluate(self.docs.iter().copied(), req) == Decision::Allow
            && self
                .boundary
                .is_none_or(|b| evaluate([b], req) == Decision::Allow)
    }

    /// Allowed by the policies but not by the boundary.
    fn only_boundary_denies(&self, req: &Request<'_>) -> bool {
        evaluate(self.docs.iter().copied(), req) == Decision::Allow && !self.allows(req)
    }
}

fn trust_allows(role: &LiveRole, req: &Request<'_>) -> bool {
    evaluate([&role.trust], req) == Decision::Allow
}

fn uses_external_id(stmt: &Json) -> bool {
    stmt.get("Condition")
        .is_some_and(|c| c.to_string().to_lowercase().contains("sts:externalid"))
}

fn allow_statements(doc: &Json) -> impl Iterator<Item = &Json> {
    statements(doc)
        .into_iter()
        .filter(|s| s.get("Effect").and_then(Json::as_str) == Some("Allow"))
}

/// Services a role's Allow statements grant actions of, with the policies granting them.
fn services(role: &LiveRole) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (policy, doc) in &role.inline_policies {
        for action in allow_statements(doc).flat_map(|s| string_list(s.get("Action"))) {
            if let Some(svc) = action.split(':').next() {
                let entry = out.entry(svc.to_lowercase()).or_default();
                if !entry.contains(policy) {
                    entry.push(policy.clone());
                }
            }
        }
    }
    out
}

/// An action pattern on the base role that reaches beyond AssumeRole/TagSession.
fn reaches_beyond_assume(pattern: &str) -> bool {
    let p = pattern.to_lowercase();
    if !(p.starts_with("sts:") || p == "*") {
        return true;
    }
    STS_ACTIONS
        .iter()
        .any(|a| glob(&p, a, true) && *a != ASSUME && *a != TAG)
}

pub fn diagnose(s: &Subject) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    let base = match (&s.base, &s.base_elsewhere) {
        (Some(live), _) => {
            check_base(&mut f, s, live);
            Base {
                arn: &live.arn,
                live: Some(live),
            }
        }
        (None, Some(arn)) => {
            f.add(
                "BASE_ROLE_ELSEWHERE",
                Severity::Info,
                arn,
                format!("the base role {arn} is in another account: these credentials do not read it, so its trust, Pod Identity and grants are not checked here"),
                None,
                "run diagnose (or the doctor) with credentials of the base role's account, listing this connector's ARN",
            );
            Base { arn, live: None }
        }
        (None, None) => {
            f.add(
                "ROLE_NOT_FOUND",
                Severity::Error,
                &s.base_name,
                format!("base role {:?} does not exist", s.base_name),
                None,
                "create the base role (XpanderBaseRole) or pass the right name",
            );
            return f.0;
        }
    };
    for (name, connector) in &s.connectors {
        match connector {
            None => f.add(
                "ROLE_NOT_FOUND",
                Severity::Error,
                name,
                format!("connector role {name:?} does not exist"),
                None,
                "create it (XpanderConnectorRole) or pass the right name",
            ),
            Some(c) => check_connector(&mut f, s, &base, c),
        }
    }
    f.0.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.role.cmp(&b.role))
            .then(a.code.cmp(&b.code))
    });
    f.0
}

/// The base role as the connector checks see it: its ARN always, the role
/// itself when these credentials can read it.
struct Base<'a> {
    arn: &'a str,
    live: Option<&'a LiveRole>,
}

/// The base role's side of the chain: may it assume (and tag) the connector.
fn check_base_grants(f: &mut Findings, s: &Subject, base: &LiveRole, c: &LiveRole) {
    let base_identity = Identity::of(base, &s.managed);
    let chain = Request::identity(ASSUME, &c.arn);
    if !base_identity.allows(&chain) {
        let why = if base_identity.only_boundary_denies(&chain) {
            " (its permissions boundary denies it)"
        } else {
            ""
        };
        f.add("BASE_CANNOT_ASSUME", Severity::Error, &base.name, format!("the base role has no permission to assume {}{why}", c.arn), None, &format!("grant the base role sts:AssumeRole + sts:TagSession on {} (AssumeConnectorRoles, or the connector's xpander-assume-{} policy), within its permissions boundary", c.arn, c.name));
    } else if !base_identity.allows(&Request::identity(TAG, &c.arn)) {
        let evidence = base
            .inline_policies
            .get(&crate::iam::templates::grant_policy_name(&c.name))
            .or(base
                .inline_policies
                .get(crate::iam::templates::POLICY_ASSUME_CONNECTORS));
        f.add(
            "TAG_SESSION_PERMISSION",
            Severity::Error,
            &base.name,
            format!("the base role may assume {} but not tag the session", c.arn),
            evidence,
            "add \"sts:TagSession\" next to sts:AssumeRole in the base role's policy",
        );
    }
}

fn check_base(f: &mut Findings, s: &Subject, base: &LiveRole) {
    let name = &base.name;
    let target = s.pod_identity.as_ref();
    if !trust_allows(base, &from_pods(ASSUME, base, target)) {
        f.add("BASE_TRUST_NO_POD_IDENTITY", Severity::Error, name, "the base role's trust does not admit pods.eks.amazonaws.com for sts:AssumeRole, so Pod Identity cannot attach it".into(), Some(&base.trust), "trust {\"Service\": \"pods.eks.amazonaws.com\"} with Action [\"sts:AssumeRole\", \"sts:TagSession\"] (seed step 1)");
    } else if !trust_allows(base, &from_pods(TAG, base, target)) {
        f.add("TAG_SESSION_TRUST", Severity::Error, name, "the base role's trust lets Pod Identity assume it but not tag the session; EKS tags Pod Identity sessions".into(), Some(&base.trust), "add \"sts:TagSession\" to the Action of the pods.eks.amazonaws.com statement");
    }
    let mut documents: Vec<(String, &Json)> = base
        .inline_policies
        .iter()
        .map(|(k, v)| (format!("inline policy {k:?}"), v))
        .collect();
    documents.extend(
        base.managed_policies
            .iter()
            .filter_map(|a| s.managed.get(a).map(|d| (format!("managed policy {a}"), d))),
    );
    for (label, doc) in documents {
        for stmt in allow_statements(doc) {
            let beyond = string_list(stmt.get("Action"))
                .into_iter()
                .find(|a| reaches_beyond_assume(a));
            if let Some(action) =
                beyond.or_else(|| stmt.get("NotAction").map(|_| "NotAction".to_string()))
            {
                f.add("BASE_SERVICE_PERMISSIONS", Severity::Error, name, format!("{label} grants {action:?} to the base role; it should only assume connector roles"), Some(stmt), "move service permissions to a connector role (seed: \"Restrict base role\")");
            }
            let star = string_list(stmt.get("Resource")).iter().any(|r| r == "*");
            if star
                && string_list(stmt.get("Action"))
                    .iter()
                    .any(|a| glob(a, ASSUME, true))
            {
                f.add(
                    "BASE_ASSUMES_ANY_ROLE",
                    Severity::Warning,
                    name,
                    format!("{label} lets the base role assume any role"),
                    Some(stmt),
                    "list the connector role ARNs instead of \"*\"",
                );
            }
        }
    }
    if let Some(t) = target {
        match (&t.cluster_info, &t.association) {
            (None, _) => f.add("CLUSTER_NOT_FOUND", Severity::Error, name, format!("EKS cluster {:?} does not exist in this account and region", t.cluster), None, "check --cluster / clusterName and the region"),
            (Some(_), None) => f.add("POD_IDENTITY_MISSING", Severity::Error, name, format!("no Pod Identity association for {}/{} on cluster {}", t.namespace, t.service_account, t.cluster), None, "aws eks create-pod-identity-association for the xpander service account with the base role (or set podIdentity on XpanderBaseRole)"),
            (Some(_), Some(a)) if a.role_arn != base.arn => {
                let evidence = json!({"associationId": a.association_id, "namespace": a.namespace, "serviceAccount": a.service_account, "roleArn": a.role_arn});
                f.add("POD_IDENTITY_OTHER_ROLE", Severity::Error, name, format!("the Pod Identity association {} for {}/{} points to {}, not the base role", a.association_id, t.namespace, t.service_account, a.role_arn), Some(&evidence), "update the association's role to the base role");
            }
            _ => {}
        }
    }
    check_common(f, s, base);
}

fn check_connector(f: &mut Findings, s: &Subject, base: &Base<'_>, c: &LiveRole) {
    let name = &c.name;
    let identity = Identity::of(c, &s.managed);
    let stale: Vec<&Json> = statements(&c.trust)
        .into_iter()
        .filter(|st| {
            string_list(st.get("Principal").and_then(|p| p.get("AWS")))
                .iter()
                .any(|p| p.starts_with("AROA") || p.starts_with("AIDA"))
        })
        .collect();
    for st in &stale {
        let id = string_list(st.get("Principal").and_then(|p| p.get("AWS")))
            .into_iter()
            .find(|p| p.starts_with("AROA") || p.starts_with("AIDA"))
            .unwrap_or_default();
        f.add("STALE_PRINCIPAL", Severity::Error, name, format!("the trust names {id}, the unique id of a role that was deleted; a role recreated with the same name is a different principal"), Some(st), "rewrite the trust policy with the role's ARN (XpanderConnectorRole does this when baseRoleId changes)");
    }
    let tags_disabled = s
        .pod_identity
        .as_ref()
        .and_then(|t| t.association.as_ref())
        .is_some_and(|a| a.disable_session_tags);

    for (who, arn, sid) in [
        ("the base role", base.arn, "AllowFromBaseRole"),
        ("the role itself", c.arn.as_str(), "SelfAssume"),
    ] {
        let assume = from_role(ASSUME, arn);
        if !trust_allows(c, &assume) {
            let names_it = |st: &&&Json| {
                string_list(st.get("Principal").and_then(|p| p.get("AWS")))
                    .iter()
                    .any(|p| p == arn)
            };
            let blockers = blocked_by_condition([&c.trust], &assume);
            if let Some(stmt) = blockers
                .iter()
                .filter(names_it)
                .find(|st| uses_external_id(st))
            {
                f.add("EXTERNAL_ID_ON_INTERNAL", Severity::Error, name, format!("the trust statement admitting {who} requires an ExternalId; the AI Gateway passes none when it chains or re-assumes, so this fails with AccessDenied"), Some(stmt), &format!("remove the Condition from {sid}; only CrossAccountWithExternalId carries the ExternalId"));
            } else if !stale.is_empty() && arn == base.arn {
                // A stale unique id explains it; STALE_PRINCIPAL already says so.
            } else if arn == base.arn {
                let cloud_only = statements(&c.trust).iter().any(|st| uses_external_id(st));
                let summary = if cloud_only {
                    "the trust admits the xpander platform (with ExternalId) but not the base role: the connector works in cloud mode but not self-hosted".to_string()
                } else {
                    "the connector's trust does not admit the base role, so role chaining from the pods fails with AccessDenied".to_string()
                };
                f.add("TRUST_MISSING_BASE_ROLE", Severity::Error, name, summary, Some(&c.trust), &format!("add an {sid} statement: Principal {{\"AWS\": \"{}\"}}, Action [\"sts:AssumeRole\", \"sts:TagSession\"]", base.arn));
            } else {
                f.add("TRUST_MISSING_SELF", Severity::Error, name, "the trust does not admit the role itself; the AI Gateway re-assumes it to refresh credentials".into(), Some(&c.trust), &format!("add a {sid} statement: Principal {{\"AWS\": \"{}\"}}, Action [\"sts:AssumeRole\", \"sts:TagSession\"]", c.arn));
            }
        } else if !trust_allows(c, &from_role(TAG, arn)) {
            let stmt = statements(&c.trust)
                .into_iter()
                .find(|st| crate::iam::eval::statement_applies(st, &assume));
            // Without session tags (disableSessionTags) nothing is carried into the chain.
            let severity = if tags_disabled {
                Severity::Warning
            } else {
                Severity::Error
            };
            f.add("TAG_SESSION_TRUST", severity, name, format!("the trust lets {who} call sts:AssumeRole but not sts:TagSession; Pod Identity session tags are transitive, so the chained call fails with AccessDenied: sts:TagSession"), stmt, &format!("add \"sts:TagSession\" to the Action of {sid}"));
        }
    }

    let self_assume = Request::identity(ASSUME, &c.arn);
    if !identity.allows(&self_assume) {
        let why = if identity.only_boundary_denies(&self_assume) {
            " (its permissions boundary denies it)"
        } else {
            ""
        };
        f.add("SELF_ASSUME_PERMISSION_MISSING", Severity::Error, name, format!("no permission lets the role assume itself{why}"), None, "put the SelfAssumeAndTagSession policy: Allow sts:AssumeRole + sts:TagSession on the role's own ARN");
    } else if !identity.allows(&Request::identity(TAG, &c.arn)) {
        f.add(
            "TAG_SESSION_PERMISSION",
            Severity::Error,
            name,
            "the role may assume itself but not tag the session".into(),
            c.inline_policies.get("SelfAssumeAndTagSession"),
            "add \"sts:TagSession\" to SelfAssumeAndTagSession",
        );
    }
    if let Some(live) = base.live {
        check_base_grants(f, s, live, c);
    }

    let svc = services(c);
    let families: Vec<(&str, Vec<&String>)> = OWN_ROLE_FAMILIES
        .iter()
        .map(|(family, services)| {
            let policies = services
                .iter()
                .filter_map(|k| svc.get(*k))
                .flatten()
                .collect::<Vec<_>>();
            (*family, policies)
        })
        .filter(|(_, policies)| !policies.is_empty())
        .collect();
    if families.len() > 1 {
        let names: Vec<&str> = families.iter().map(|(f, _)| *f).collect();
        let evidence = Json::Object(
            families
                .iter()
                .map(|(f, p)| (f.to_string(), json!(p)))
                .collect(),
        );
        f.add("MIXED_DATA_SOURCES", Severity::Warning, name, format!("one role holds permissions of {}", names.join(" and ")), Some(&evidence), "split into one connector role per data source (seed: \"Separate roles per data source\")");
    }
    for (policy, doc) in &c.inline_policies {
        for stmt in allow_statements(doc) {
            if !string_list(stmt.get("Resource")).iter().any(|r| r == "*") {
                continue;
            }
            let scoped = string_list(stmt.get("Action")).into_iter().find(|a| {
                SCOPED_ACTIONS
                    .iter()
                    .any(|concrete| glob(a, concrete, true))
            });
            if let Some(action) = scoped {
                f.add("RESOURCE_STAR", Severity::Warning, name, format!("policy {policy:?} grants {action:?} on Resource \"*\""), Some(stmt), "scope the Resource to the cluster, bucket, table, work group, model or secret ARNs (seed: \"Scope resources\")");
            }
        }
    }
    let config_map_only = s
        .pod_identity
        .as_ref()
        .and_then(|t| t.cluster_info.as_ref().map(|c| (t, c)))
        .filter(|(_, c)| c.authentication_mode == "CONFIG_MAP");
    if let (true, Some((t, cluster))) = (svc.contains_key("eks"), config_map_only) {
        let evidence =
            json!({"cluster": t.cluster, "authenticationMode": cluster.authentication_mode});
        f.add("EKS_AUTH_MODE", Severity::Error, name, format!("cluster {} authenticates with CONFIG_MAP only, so this EKS connector cannot get an access entry (its Kubernetes access)", t.cluster), Some(&evidence), "switch the cluster to API_AND_CONFIG_MAP (aws eks update-cluster-config --access-config authenticationMode=API_AND_CONFIG_MAP; one-way)");
    }
    if svc.contains_key("eks") {
        let cluster = s
            .pod_identity
            .as_ref()
            .filter(|t| {
                t.cluster_info
                    .as_ref()
                    .is_some_and(|c| c.authentication_mode != "CONFIG_MAP")
            })
            .map(|t| t.cluster.as_str());
        if let (Some(entry), Some(cluster)) = (s.access_entries.get(name), cluster) {
            match entry {
                None => f.add("EKS_ACCESS_ENTRY_MISSING", Severity::Error, name, format!("the EKS connector has no access entry on cluster {cluster}, so Kubernetes API calls are refused"), None, "aws eks create-access-entry --principal-arn <connector ARN> --type STANDARD, then associate-access-policy (or set eks on XpanderConnectorRole)"),
                Some(e) if e.policies.is_empty() => {
                    let evidence = json!({"accessEntryArn": e.access_entry_arn, "accessPolicies": []});
                    f.add("EKS_ACCESS_POLICY_MISSING", Severity::Error, name, format!("the access entry on {cluster} has no access policy"), Some(&evidence), "aws eks associate-access-policy with AmazonEKSViewPolicy (read-only) or the seed's AmazonEKSClusterAdminPolicy")
                }
                Some(e) if e.policies.keys().any(|p| p.ends_with("/AmazonEKSClusterAdminPolicy")) => f.add("EKS_CLUSTER_ADMIN", Severity::Info, name, format!("the connector is cluster admin on {cluster} (the seed's choice)"), None, "consider AmazonEKSViewPolicy if the connector only reads"),
                Some(_) => {}
            }
        }
    }
    check_common(f, s, c);
}

fn check_common(f: &mut Findings, s: &Subject, role: &LiveRole) {
    let quota = s.trust_quota.unwrap_or(TRUST_POLICY_MAX_CHARS);
    let trust = policy_size(&role.trust);
    if trust * 10 > quota * 9 {
        f.add(
            "SIZE_NEAR_QUOTA",
            Severity::Warning,
            &role.name,
            format!("the trust policy is {trust} of {quota} characters"),
            None,
            "shorten it or raise the ACLSizePerRole quota",
        );
    }
    let inline: usize = role.inline_policies.values().map(policy_size).sum();
    if inline * 10 > INLINE_POLICIES_MAX_CHARS * 9 {
        f.add(
            "SIZE_NEAR_QUOTA",
            Severity::Warning,
            &role.name,
            format!("inline policies total {inline} of {INLINE_POLICIES_MAX_CHARS} characters"),
            None,
            "move large policies to managed policies",
        );
    }
    let missing: Vec<&str> = ["Environment", "Project", "ManagedBy"]
        .into_iter()
        .filter(|t| !role.tags.contains_key(*t))
        .collect();
    if !missing.is_empty() {
        f.add(
            "MISSING_TAGS",
            Severity::Info,
            &role.name,
            format!("missing governance tags: {}", missing.join(", ")),
            None,
            "tag roles with Environment, Project and ManagedBy (seed: \"Tag roles\")",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::arn::AccountContext;
    use crate::resources::connector::sources::{eks::Eks, Sources};
    use crate::resources::connector::{ConnectorArgs, TrustArgs};
    use crate::resources::role::RoleArgs;
    use std::collections::BTreeSet;

    fn ctx() -> AccountContext {
        AccountContext {
            partition: "aws".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    fn live(name: &str, trust: Json, inline: BTreeMap<String, Json>) -> LiveRole {
        LiveRole {
            name: name.into(),
            path: "/".into(),
            arn: ctx().role_arn("/", name),
            role_id: format!("AROA{}", name.len()),
            trust,
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            tags: [
                ("Environment", "prod"),
                ("Project", "x"),
                ("ManagedBy", "pulumi-xpander"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            inline_policies: inline,
            managed_policies: BTreeSet::new(),
        }
    }

    /// A correct setup, rendered by the resources themselves.
    fn correct() -> Subject {
        let args = ConnectorArgs {
            role: RoleArgs {
                role_name: Some("xpander-eks-connector".into()),
                ..Default::default()
            },
            trust: TrustArgs {
                base_role_arn: Some(ctx().role_arn("/", "xpander-base-role")),
                external_id: Some("org-1".into()),
                ..Default::default()
            },
            sources: Sources {
                eks: Some(Eks {
                    cluster_name: Some("c".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = args.render(&ctx(), &BTreeMap::new(), "u").unwrap();
        let grant = r.grant.clone().unwrap();
        let base = live(
            "xpander-base-role",
            crate::iam::templates::base_trust(),
            [(grant.name, grant.document)].into(),
        );
        let connector = live(
            "xpander-eks-connector",
            r.role.trust.clone(),
            r.role.inline_policies.clone(),
        );
        let assoc = PodIdentityAssociation {
            cluster_name: "c".into(),
            namespace: "xpander".into(),
            service_account: "xpander".into(),
            role_arn: base.arn.clone(),
            association_id: "a-1".into(),
            association_arn: "arn:a".into(),
            disable_session_tags: false,
        };
        let entry = AccessEntry {
            access_entry_arn: "arn:e".into(),
            policies: [(
                "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".to_string(),
                crate::cloud::api::AccessScope {
                    scope_type: "cluster".into(),
                    namespaces: vec![],
                },
            )]
            .into(),
        };
        Subject {
            base_name: base.name.clone(),
            base: Some(base),
            base_elsewhere: None,
            connectors: vec![("xpander-eks-connector".into(), Some(connector))],
            pod_identity: Some(PodIdentityTarget {
                cluster: "c".into(),
                namespace: "xpander".into(),
                service_account: "xpander".into(),
                cluster_info: Some(ClusterInfo {
                    arn: "arn:aws:eks:us-east-1:123456789012:cluster/c".into(),
                    authentication_mode: "API_AND_CONFIG_MAP".into(),
                }),
                association: Some(assoc),
            }),
            access_entries: [("xpander-eks-connector".to_string(), Some(entry))].into(),
            managed: BTreeMap::new(),
            trust_quota: None,
        }
    }

    fn codes(s: &Subject) -> Vec<String> {
        diagnose(s)
            .into_iter()
            .filter(|f| f.severity != Severity::Info)
            .map(|f| f.code)
            .collect()
    }

    fn connector(s: &mut Subject) -> &mut LiveRole {
        s.connectors[0].1.as_mut().unwrap()
    }

    fn statement_mut<'a>(role: &'a mut LiveRole, sid: &str) -> &'a mut Json {
        role.trust["Statement"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["Sid"] == sid)
            .unwrap()
    }

    #[test]
    fn a_correct_setup_has_no_findings() {
        assert_eq!(codes(&correct()), Vec::<&str>::new());
    }

    #[test]
    fn tag_session_missing_in_trust() {
        let mut s = correct();
        statement_mut(connector(&mut s), "AllowFromBaseRole")["Action"] = json!("sts:AssumeRole");
        assert_eq!(codes(&s), ["TAG_SESSION_TRUST"]);
    }

    #[test]
    fn external_id_on_self_assume_is_named_and_redacted() {
        let mut s = correct();
        statement_mut(connector(&mut s), "SelfAssume")["Condition"] =
            json!({"StringEquals": {"sts:ExternalId": "org-1"}});
        let found = diagnose(&s);
        let f = found
            .iter()
            .find(|f| f.code == "EXTERNAL_ID_ON_INTERNAL")
            .unwrap();
        assert!(!f.evidence.as_ref().unwrap().to_string().contains("org-1"));
        assert_eq!(codes(&s), ["EXTERNAL_ID_ON_INTERNAL"]);
    }

    #[test]
    fn base_cannot_assume() {
        let mut s = correct();
        s.base.as_mut().unwrap().inline_policies.clear();
        assert_eq!(codes(&s), ["BASE_CANNOT_ASSUME"]);
    }

    #[test]
    fn works_in_cloud_not_self_hosted() {
        let mut s = correct();
        let c = connector(&mut s);
        c.trust["Statement"]
            .as_array_mut()
            .unwrap()
            .retain(|st| st["Sid"] != "AllowFromBaseRole");
        let found = diagnose(&s);
        assert_eq!(codes(&s), ["TRUST_MISSING_BASE_ROLE"]);
        assert!(found[0].summary.contains("cloud"));
    }

    #[test]
    fn stale_principal_and_base_permissions_and_pod_identity() {
        let mut s = correct();
        statement_mut(connector(&mut s), "AllowFromBaseRole")["Principal"] =
            json!({"AWS": "AROAOLDBASEROLE"});
        s.base.as_mut().unwrap().inline_policies.insert("Extra".into(), json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}));
        s.pod_identity.as_mut().unwrap().association = None;
        let mut c = codes(&s);
        c.sort();
        assert_eq!(
            c,
            [
                "BASE_SERVICE_PERMISSIONS",
                "POD_IDENTITY_MISSING",
                "STALE_PRINCIPAL"
            ],
            "a stale id explains the missing base role"
        );
    }

    #[test]
    fn boundaries_and_managed_policies_count() {
        let mut s = correct();
        let base = s.base.as_mut().unwrap();
        let grant = std::mem::take(&mut base.inline_policies);
        base.managed_policies
            .insert("arn:aws:iam::123456789012:policy/grant".into());
        s.managed.insert(
            "arn:aws:iam::123456789012:policy/grant".into(),
            grant.into_values().next().unwrap(),
        );
        assert_eq!(
            codes(&s),
            Vec::<&str>::new(),
            "a grant in a managed policy is a grant"
        );
        let base = s.base.as_mut().unwrap();
        base.permissions_boundary = Some("arn:aws:iam::123456789012:policy/boundary".into());
        s.managed.insert(
            "arn:aws:iam::123456789012:policy/boundary".into(),
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
        );
        assert_eq!(codes(&s), ["BASE_CANNOT_ASSUME"]);
    }

    #[test]
    fn conditions_on_caller_keys_are_evaluated() {
        let mut s = correct();
        statement_mut(connector(&mut s), "AllowFromBaseRole")["Principal"] =
            json!({"AWS": "arn:aws:iam::123456789012:root"});
        statement_mut(connector(&mut s), "AllowFromBaseRole")["Condition"] = json!({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/xpander-base-role"}});
        assert_eq!(codes(&s), Vec::<&str>::new());
    }

    #[test]
    fn wildcards_are_matched_not_compared() {
        let mut s = correct();
        s.base
            .as_mut()
            .unwrap()
            .inline_policies
            .values_mut()
            .next()
            .unwrap()["Statement"][0]["Action"] = json!(["sts:AssumeRole", "sts:Tag*"]);
        connector(&mut s).inline_policies.insert(
            "Wide".into(),
            json!({"Statement": [
            {"Effect": "Allow", "Action": "dynamodb:Get*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}),
        );
        let found = diagnose(&s);
        let c: Vec<_> = found
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .map(|f| (f.code.clone(), f.summary.clone()))
            .collect();
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].0, "RESOURCE_STAR");
        assert!(c[0].1.contains("dynamodb:Get*"));
    }

    #[test]
    fn model_invocation_beside_a_data_source_is_mixed_but_secrets_are_not() {
        use crate::resources::connector::sources::{
            bedrock::Bedrock, secrets_manager::SecretsManager, DataSource,
        };
        let ctx = ctx();
        let secrets = SecretsManager {
            secret_arns: Some(vec![
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf".into(),
            ]),
            kms_key_arn: None,
        };
        let mut s = correct();
        for (policy, doc) in secrets.policies(&ctx) {
            connector(&mut s).inline_policies.insert(policy.into(), doc);
        }
        assert_eq!(codes(&s), Vec::<&str>::new());
        let bedrock = Bedrock {
            model_arns: Some(vec![
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0".into(),
            ]),
            destination_regions: None,
        };
        for (policy, doc) in bedrock.policies(&ctx) {
            connector(&mut s).inline_policies.insert(policy.into(), doc);
        }
        let found = diagnose(&s);
        let mixed = found
            .iter()
            .find(|f| f.code == "MIXED_DATA_SOURCES")
            .expect("mixed");
        assert_eq!(
            mixed.summary,
            "one role holds permissions of EKS and Bedrock"
        );
    }

    #[test]
    fn model_and_secret_reads_on_every_resource_are_too_broad() {
        for action in [
            "bedrock:InvokeModel",
            "secretsmanager:DescribeSecret",
            "kms:Decrypt",
        ] {
            let mut s = correct();
            connector(&mut s).inline_policies.insert(
                "Wide".into(),
                json!({"Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}),
            );
            assert!(codes(&s).iter().any(|c| c == "RESOURCE_STAR"), "{action}");
        }
    }

    #[test]
    fn a_base_role_in_another_account_is_named_not_read() {
        let mut s = correct();
        let arn = s.base.take().unwrap().arn;
        s.base_elsewhere = Some(arn.clone());
        let found = diagnose(&s);
        assert_eq!(codes(&s), Vec::<&str>::new());
        assert!(found
            .iter()
            .any(|f| f.code == "BASE_ROLE_ELSEWHERE" && f.role == arn));
        statement_mut(connector(&mut s), "AllowFromBaseRole")["Action"] = json!("sts:AssumeRole");
        assert_eq!(codes(&s), ["TAG_SESSION_TRUST"]);
    }

    #[test]
    fn missing_cluster_and_config_map_mode() {
        let mut s = correct();
        s.pod_identity.as_mut().unwrap().cluster_info = None;
        s.pod_identity.as_mut().unwrap().association = None;
        s.access_entries.clear();
        assert_eq!(codes(&s), ["CLUSTER_NOT_FOUND"]);
        let mut s = correct();
        s.pod_identity
            .as_mut()
            .unwrap()
            .cluster_info
            .as_mut()
            .unwrap()
            .authentication_mode = "CONFIG_MAP".into();
        s.access_entries.clear();
        assert_eq!(codes(&s), ["EKS_AUTH_MODE"]);
    }

    #[test]
    fn eks_access_entry_missing() {
        let mut s = correct();
        s.access_entries
            .insert("xpander-eks-connector".into(), None);
        assert_eq!(codes(&s), ["EKS_ACCESS_ENTRY_MISSING"]);
    }
}
