//! The seed's Troubleshooting section as a machine check. `gather` reads live
//! IAM/EKS state; `diagnose` (pure) evaluates the policies it found — who
//! may assume whom, with which actions and conditions — and names each
//! cause with its evidence and fix.

pub mod gather;
pub mod report;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value as Json};

use crate::cloud::api::{AccessEntry, LiveRole, PodIdentityAssociation};
use crate::iam::eval::{blocked_by_condition, evaluate, Decision, Principal, Request};
use crate::iam::limits::{policy_size, INLINE_POLICIES_MAX_CHARS, TRUST_POLICY_MAX_CHARS};
use crate::iam::policy::{statements, string_list};
use crate::iam::templates::PODS_SERVICE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub role: String,
    pub summary: String,
    /// The statement or policy concerned, with ExternalId values redacted.
    pub evidence: Option<Json>,
    pub fix: String,
}

/// Where the base role should be attached.
#[derive(Debug, Clone, PartialEq)]
pub struct PodIdentityTarget {
    pub cluster: String,
    pub namespace: String,
    pub service_account: String,
    pub association: Option<PodIdentityAssociation>,
}

/// Everything the checks look at, read once.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    pub base_name: String,
    pub base: Option<LiveRole>,
    pub connectors: Vec<(String, Option<LiveRole>)>,
    pub pod_identity: Option<PodIdentityTarget>,
    /// Per connector name, the access entry on the given cluster (only for EKS connectors).
    pub access_entries: BTreeMap<String, Option<AccessEntry>>,
}

const ASSUME: &str = "sts:AssumeRole";
const TAG: &str = "sts:TagSession";

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
            code,
            severity,
            role: role.to_string(),
            summary,
            evidence: evidence.map(redact),
            fix: fix.to_string(),
        });
    }
}

fn allowed(docs: &[&Json], req: &Request<'_>) -> bool {
    evaluate(docs.iter().copied(), req) == Decision::Allow
}

fn uses_external_id(stmt: &Json) -> bool {
    stmt.get("Condition")
        .is_some_and(|c| c.to_string().to_lowercase().contains("sts:externalid"))
}

/// Services a role's Allow statements grant actions of.
fn services(role: &LiveRole) -> Vec<String> {
    let mut out: Vec<String> = role
        .inline_policies
        .values()
        .flat_map(|d| {
            statements(d)
                .into_iter()
                .filter(|s| s.get("Effect").and_then(Json::as_str) == Some("Allow"))
                .collect::<Vec<_>>()
        })
        .flat_map(|s| string_list(s.get("Action")))
        .filter_map(|a| a.split(':').next().map(str::to_lowercase))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Actions whose resources the seed's templates scope; `*` on them is too broad.
const SCOPED_ACTION_PREFIXES: [&str; 6] = [
    "redshift:getclustercredentials",
    "s3:",
    "dynamodb:",
    "athena:",
    "glue:",
    "secretsmanager:",
];

pub fn diagnose(s: &Subject) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    let Some(base) = &s.base else {
        f.add(
            "ROLE_NOT_FOUND",
            Severity::Error,
            &s.base_name,
            format!("base role {:?} does not exist", s.base_name),
            None,
            "create the base role (XpanderBaseRole) or pass the right name",
        );
        return f.0;
    };
    check_base(&mut f, base, s.pod_identity.as_ref());
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
            Some(c) => check_connector(
                &mut f,
                base,
                c,
                s.access_entries.get(name),
                s.pod_identity.as_ref().map(|p| p.cluster.as_str()),
            ),
        }
    }
    f.0.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.role.cmp(&b.role))
            .then(a.code.cmp(b.code))
    });
    f.0
}

fn check_base(f: &mut Findings, base: &LiveRole, target: Option<&PodIdentityTarget>) {
    let name = &base.name;
    let trust = [&base.trust];
    if !allowed(
        &trust,
        &Request::trust(ASSUME, Principal::Service(PODS_SERVICE)),
    ) {
        f.add("BASE_TRUST_NO_POD_IDENTITY", Severity::Error, name, "the base role's trust does not admit pods.eks.amazonaws.com for sts:AssumeRole, so Pod Identity cannot attach it".into(), Some(&base.trust), "trust {\"Service\": \"pods.eks.amazonaws.com\"} with Action [\"sts:AssumeRole\", \"sts:TagSession\"] (seed step 1)");
    } else if !allowed(
        &trust,
        &Request::trust(TAG, Principal::Service(PODS_SERVICE)),
    ) {
        f.add("TAG_SESSION_TRUST", Severity::Error, name, "the base role's trust lets Pod Identity assume it but not tag the session; EKS always tags Pod Identity sessions".into(), Some(&base.trust), "add \"sts:TagSession\" to the Action of the pods.eks.amazonaws.com statement");
    }
    for (policy, doc) in &base.inline_policies {
        for stmt in statements(doc) {
            if stmt.get("Effect").and_then(Json::as_str) != Some("Allow") {
                continue;
            }
            let broad = string_list(stmt.get("Action")).into_iter().find(|a| {
                let a = a.to_lowercase();
                a != ASSUME.to_lowercase() && a != TAG.to_lowercase()
            });
            if let Some(action) =
                broad.or_else(|| stmt.get("NotAction").map(|_| "NotAction".to_string()))
            {
                f.add("BASE_SERVICE_PERMISSIONS", Severity::Error, name, format!("inline policy {policy:?} grants {action:?} to the base role; it should only assume connector roles"), Some(stmt), "move service permissions to a connector role (seed: \"Restrict base role\")");
            }
            let star = string_list(stmt.get("Resource")).iter().any(|r| r == "*");
            if star
                && string_list(stmt.get("Action"))
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(ASSUME))
            {
                f.add(
                    "BASE_ASSUMES_ANY_ROLE",
                    Severity::Warning,
                    name,
                    format!("inline policy {policy:?} lets the base role assume any role"),
                    Some(stmt),
                    "list the connector role ARNs instead of \"*\"",
                );
            }
        }
    }
    for arn in &base.managed_policies {
        f.add(
            "BASE_SERVICE_PERMISSIONS",
            Severity::Error,
            name,
            format!("managed policy {arn} is attached to the base role"),
            None,
            "detach it; give the permissions to a connector role (seed: \"Restrict base role\")",
        );
    }
    if let Some(t) = target {
        match &t.association {
            None => f.add("POD_IDENTITY_MISSING", Severity::Error, name, format!("no Pod Identity association for {}/{} on cluster {}", t.namespace, t.service_account, t.cluster), None, "aws eks create-pod-identity-association for the xpander service account with the base role (or set podIdentity on XpanderBaseRole)"),
            Some(a) if a.role_arn != base.arn => f.add("POD_IDENTITY_OTHER_ROLE", Severity::Error, name, format!("the Pod Identity association {} for {}/{} points to {}, not the base role", a.association_id, t.namespace, t.service_account, a.role_arn), None, "update the association's role to the base role"),
            Some(_) => {}
        }
    }
    check_common(f, base);
}

fn check_connector(
    f: &mut Findings,
    base: &LiveRole,
    c: &LiveRole,
    entry: Option<&Option<AccessEntry>>,
    cluster: Option<&str>,
) {
    let name = &c.name;
    let trust = [&c.trust];
    let identity: Vec<&Json> = c.inline_policies.values().collect();
    let base_identity: Vec<&Json> = base.inline_policies.values().collect();

    for (who, arn, sid) in [
        ("the base role", base.arn.as_str(), "AllowFromBaseRole"),
        ("the role itself", c.arn.as_str(), "SelfAssume"),
    ] {
        let assume = Request::trust(ASSUME, Principal::Aws(arn));
        if !allowed(&trust, &assume) {
            let blockers = blocked_by_condition(trust, &assume);
            let names_it = |s: &&&Json| {
                string_list(s.get("Principal").and_then(|p| p.get("AWS")))
                    .iter()
                    .any(|p| p == arn)
            };
            if let Some(stmt) = blockers
                .iter()
                .filter(names_it)
                .find(|s| uses_external_id(s))
            {
                f.add("EXTERNAL_ID_ON_INTERNAL", Severity::Error, name, format!("the trust statement admitting {who} requires an ExternalId; the AI Gateway passes none when it chains or re-assumes, so this fails with AccessDenied"), Some(stmt), &format!("remove the Condition from {sid}; only CrossAccountWithExternalId carries the ExternalId"));
            } else if arn == base.arn {
                let cloud_only = statements(&c.trust).iter().any(|s| uses_external_id(s));
                let summary = if cloud_only {
                    "the trust admits the xpander platform (with ExternalId) but not the base role: the connector works in cloud mode but not self-hosted".to_string()
                } else {
                    "the connector's trust does not admit the base role, so role chaining from the pods fails with AccessDenied".to_string()
                };
                f.add("TRUST_MISSING_BASE_ROLE", Severity::Error, name, summary, Some(&c.trust), &format!("add an {sid} statement: Principal {{\"AWS\": \"{}\"}}, Action [\"sts:AssumeRole\", \"sts:TagSession\"]", base.arn));
            } else {
                f.add("TRUST_MISSING_SELF", Severity::Error, name, "the trust does not admit the role itself; the AI Gateway re-assumes it to refresh credentials".into(), Some(&c.trust), &format!("add a {sid} statement: Principal {{\"AWS\": \"{}\"}}, Action [\"sts:AssumeRole\", \"sts:TagSession\"]", c.arn));
            }
        } else if !allowed(&trust, &Request::trust(TAG, Principal::Aws(arn))) {
            let stmt = statements(&c.trust)
                .into_iter()
                .find(|s| crate::iam::eval::statement_applies(s, &assume));
            f.add("TAG_SESSION_TRUST", Severity::Error, name, format!("the trust lets {who} call sts:AssumeRole but not sts:TagSession; Pod Identity session tags are transitive, so the chained call fails with AccessDenied: sts:TagSession"), stmt, &format!("add \"sts:TagSession\" to the Action of {sid}"));
        }
    }

    if !allowed(&identity, &Request::identity(ASSUME, &c.arn)) {
        f.add("SELF_ASSUME_PERMISSION_MISSING", Severity::Error, name, "no permission policy lets the role assume itself".into(), None, "put the SelfAssumeAndTagSession policy: Allow sts:AssumeRole + sts:TagSession on the role's own ARN");
    } else if !allowed(&identity, &Request::identity(TAG, &c.arn)) {
        f.add(
            "TAG_SESSION_PERMISSION",
            Severity::Error,
            name,
            "the role may assume itself but not tag the session".into(),
            c.inline_policies.get("SelfAssumeAndTagSession"),
            "add \"sts:TagSession\" to SelfAssumeAndTagSession",
        );
    }
    if !allowed(&base_identity, &Request::identity(ASSUME, &c.arn)) {
        f.add("BASE_CANNOT_ASSUME", Severity::Error, &base.name, format!("the base role has no permission to assume {}", c.arn), None, &format!("grant the base role sts:AssumeRole + sts:TagSession on {} (AssumeConnectorRoles, or the connector's xpander-assume-{} policy)", c.arn, c.name));
    } else if !allowed(&base_identity, &Request::identity(TAG, &c.arn)) {
        f.add(
            "TAG_SESSION_PERMISSION",
            Severity::Error,
            &base.name,
            format!("the base role may assume {} but not tag the session", c.arn),
            None,
            "add \"sts:TagSession\" next to sts:AssumeRole in the base role's policy",
        );
    }

    let svc = services(c);
    let has = |p: &str| svc.iter().any(|s| s == p);
    if (has("redshift") || has("redshift-data")) && has("eks") {
        f.add("MIXED_DATA_SOURCES", Severity::Warning, name, "one role holds both Redshift and EKS permissions".into(), None, "split into one connector role per data source (seed: \"Separate roles per data source\")");
    }
    for (policy, doc) in &c.inline_policies {
        for stmt in statements(doc) {
            let star = string_list(stmt.get("Resource")).iter().any(|r| r == "*");
            let scoped = string_list(stmt.get("Action")).into_iter().find(|a| {
                let a = a.to_lowercase();
                a == "*" || SCOPED_ACTION_PREFIXES.iter().any(|p| a.starts_with(p))
            });
            if let (true, Some(action)) = (star, scoped) {
                f.add("RESOURCE_STAR", Severity::Warning, name, format!("policy {policy:?} grants {action:?} on Resource \"*\""), Some(stmt), "scope the Resource to the cluster, bucket, table or work group ARNs (seed: \"Scope resources\")");
            }
        }
    }
    if has("eks") {
        if let (Some(entry), Some(cluster)) = (entry, cluster) {
            match entry {
                None => f.add("EKS_ACCESS_ENTRY_MISSING", Severity::Error, name, format!("the EKS connector has no access entry on cluster {cluster}, so Kubernetes API calls are refused"), None, "aws eks create-access-entry --principal-arn <connector ARN> --type STANDARD, then associate-access-policy (or set eks on XpanderConnectorRole)"),
                Some(e) if e.policies.is_empty() => f.add("EKS_ACCESS_POLICY_MISSING", Severity::Error, name, format!("the access entry on {cluster} has no access policy"), None, "aws eks associate-access-policy with AmazonEKSViewPolicy (read-only) or the seed's AmazonEKSClusterAdminPolicy"),
                Some(e) if e.policies.keys().any(|p| p.ends_with("/AmazonEKSClusterAdminPolicy")) => f.add("EKS_CLUSTER_ADMIN", Severity::Info, name, format!("the connector is cluster admin on {cluster} (the seed's choice)"), None, "consider AmazonEKSViewPolicy if the connector only reads"),
                Some(_) => {}
            }
        }
    }
    for principal in statements(&c.trust)
        .iter()
        .flat_map(|s| string_list(s.get("Principal").and_then(|p| p.get("AWS"))))
    {
        if principal.starts_with("AROA") || principal.starts_with("AIDA") {
            f.add("STALE_PRINCIPAL", Severity::Error, name, format!("the trust names {principal}, the unique id of a role that was deleted; a role recreated with the same name is a different principal"), None, "rewrite the trust policy with the role's ARN (XpanderConnectorRole does this when baseRoleId changes)");
        }
    }
    check_common(f, c);
}

fn check_common(f: &mut Findings, role: &LiveRole) {
    let trust = policy_size(&role.trust);
    if trust * 10 > TRUST_POLICY_MAX_CHARS * 9 {
        f.add(
            "SIZE_NEAR_QUOTA",
            Severity::Warning,
            &role.name,
            format!("the trust policy is {trust} of {TRUST_POLICY_MAX_CHARS} characters"),
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
    use crate::resources::connector_role::{ConnectorArgs, EksArgs};
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
            base_role_arn: Some(ctx().role_arn("/", "xpander-base-role")),
            external_id: Some("org-1".into()),
            eks: Some(EksArgs {
                cluster_name: Some("c".into()),
                ..Default::default()
            }),
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
            connectors: vec![("xpander-eks-connector".into(), Some(connector))],
            pod_identity: Some(PodIdentityTarget {
                cluster: "c".into(),
                namespace: "xpander".into(),
                service_account: "xpander".into(),
                association: Some(assoc),
            }),
            access_entries: [("xpander-eks-connector".to_string(), Some(entry))].into(),
        }
    }

    fn codes(s: &Subject) -> Vec<&'static str> {
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
        let c = codes(&s);
        for want in [
            "STALE_PRINCIPAL",
            "BASE_SERVICE_PERMISSIONS",
            "POD_IDENTITY_MISSING",
            "TRUST_MISSING_BASE_ROLE",
        ] {
            assert!(c.contains(&want), "{want} not in {c:?}");
        }
    }

    #[test]
    fn eks_access_entry_missing() {
        let mut s = correct();
        s.access_entries
            .insert("xpander-eks-connector".into(), None);
        assert_eq!(codes(&s), ["EKS_ACCESS_ENTRY_MISSING"]);
    }
}
