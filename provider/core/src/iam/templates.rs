//! The documents of the seed architecture, built for a concrete account and
//! partition. Policy names and statement Sids are exactly the seed's, so a
//! role made by this provider reads like the one the manual steps make.

use serde_json::{json, Value as Json};

pub const VERSION: &str = "2012-10-17";
pub const ASSUME_AND_TAG: [&str; 2] = ["sts:AssumeRole", "sts:TagSession"];
pub const PODS_SERVICE: &str = "pods.eks.amazonaws.com";

pub const SID_POD_IDENTITY: &str = "PodIdentity";
pub const SID_CROSS_ACCOUNT: &str = "CrossAccountWithExternalId";
pub const SID_SELF_ASSUME: &str = "SelfAssume";
pub const SID_FROM_BASE: &str = "AllowFromBaseRole";

pub const POLICY_ASSUME_CONNECTORS: &str = "AssumeConnectorRoles";
/// The base role's grant on every role under one path (`connectorPath`).
pub const POLICY_ASSUME_CONNECTOR_PATH: &str = "AssumeConnectorPath";
pub const POLICY_SELF_ASSUME: &str = "SelfAssumeAndTagSession";
/// Prefix of the grant each connector writes on the base role (one per connector).
pub const GRANT_PREFIX: &str = "xpander-assume-";
/// A trust policy needs at least one statement; this one admits nobody.
pub const SID_PLACEHOLDER: &str = "NoTrustYet";

pub fn grant_policy_name(connector_role_name: &str) -> String {
    let mut name = format!("{GRANT_PREFIX}{connector_role_name}");
    name.truncate(128);
    name
}

pub fn document(statements: Vec<Json>) -> Json {
    json!({"Version": VERSION, "Statement": statements})
}

/// The session tags EKS Pod Identity sets when it assumes a role for a pod
/// (EKS User Guide, "Create IAM role with trust policy required by EKS Pod
/// Identity"); a trust requires them through `aws:RequestTag/<key>`.
pub const TAG_CLUSTER_ARN: &str = "eks-cluster-arn";
pub const TAG_NAMESPACE: &str = "kubernetes-namespace";
pub const TAG_SERVICE_ACCOUNT: &str = "kubernetes-service-account";

/// Which pods a Pod Identity trust admits: one service account of one
/// namespace on one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodScope {
    pub cluster_arn: String,
    pub namespace: String,
    pub service_account: String,
}

impl PodScope {
    /// The condition on the tags EKS sets for the association's pods. It
    /// covers sts:TagSession too: the tags are what that call passes.
    pub fn condition(&self) -> Json {
        json!({"StringEquals": {
            format!("aws:RequestTag/{TAG_CLUSTER_ARN}"): self.cluster_arn,
            format!("aws:RequestTag/{TAG_NAMESPACE}"): self.namespace,
            format!("aws:RequestTag/{TAG_SERVICE_ACCOUNT}"): self.service_account,
        }})
    }
}

fn pods_statement(sid: Option<&str>, scope: Option<&PodScope>) -> Json {
    let mut stmt = json!({
        "Effect": "Allow",
        "Principal": {"Service": PODS_SERVICE},
        "Action": ASSUME_AND_TAG,
    });
    if let Some(sid) = sid {
        stmt["Sid"] = json!(sid);
    }
    if let Some(scope) = scope {
        stmt["Condition"] = scope.condition();
    }
    stmt
}

/// Seed step 1: the base role trusts only EKS Pod Identity, for the xpander
/// service account when its association is known.
pub fn base_trust(scope: Option<&PodScope>) -> Json {
    document(vec![pods_statement(None, scope)])
}

/// The seed's `AssumeConnectorRoles` policy on the base role.
pub fn assume_connector_roles(role_arns: &[String]) -> Json {
    document(vec![json!({
        "Effect": "Allow",
        "Action": ASSUME_AND_TAG,
        "Resource": role_arns,
    })])
}

/// The base role may assume every role under `path` in its own account:
/// connectors there need no grant of their own. Each still admits the base
/// role in its trust, so a role under the path that does not is out of reach.
pub fn assume_connector_path(partition: &str, account_id: &str, path: &str) -> Json {
    document(vec![json!({
        "Effect": "Allow",
        "Action": ASSUME_AND_TAG,
        "Resource": format!("arn:{partition}:iam::{account_id}:role{path}*"),
    })])
}

/// The path an `AssumeConnectorPath` document grants (import and refresh).
pub fn connector_path_of(doc: &Json) -> Option<String> {
    let statements = crate::iam::policy::statements(doc);
    let [statement] = statements.as_slice() else {
        return None;
    };
    let [resource] = crate::iam::policy::string_list(statement.get("Resource"))
        .try_into()
        .ok()?;
    let rest = resource.split(":role").nth(1)?;
    rest.strip_suffix('*').map(str::to_string)
}

/// The per-connector grant on the base role: the same statement, one ARN.
pub fn base_grant(connector_arn: &str) -> Json {
    document(vec![json!({
        "Effect": "Allow",
        "Action": ASSUME_AND_TAG,
        "Resource": connector_arn,
    })])
}

/// A connector's grant on the base role: named with the grant prefix and
/// holding exactly the document `base_grant` writes, for one role. Anything
/// else under that prefix is not a grant, whoever wrote it.
pub fn is_connector_grant(name: &str, doc: &Json) -> bool {
    if !name.starts_with(GRANT_PREFIX) {
        return false;
    }
    let statements = crate::iam::policy::statements(doc);
    let [statement] = statements.as_slice() else {
        return false;
    };
    match crate::iam::policy::string_list(statement.get("Resource")).as_slice() {
        [target] => crate::iam::arn::parse_role_arn(target).is_some_and(|arn| {
            crate::iam::policy::equivalent(doc, &base_grant(target), &arn.partition)
        }),
        _ => false,
    }
}

/// What a connector's trust policy admits.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorTrust {
    /// The seed's PodIdentity fallback, and which pods it admits (None: any).
    pub pod_identity: Option<Option<PodScope>>,
    /// (trusted account root ARN, ExternalId)
    pub cross_account: Option<(String, String)>,
    pub self_arn: String,
    pub base_role_arn: Option<String>,
}

impl ConnectorTrust {
    /// Seed "Role Creation Order" step 1: nothing that names a role that may
    /// not exist yet (the role itself).
    pub fn initial(&self) -> Json {
        let mut stmts = self.external_statements();
        if stmts.is_empty() {
            stmts.push(json!({
                "Sid": SID_PLACEHOLDER,
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole",
            }));
        }
        document(stmts)
    }

    /// The four-statement trust of the seed's template. `SelfAssume` and
    /// `AllowFromBaseRole` never carry an ExternalId condition: the AI Gateway
    /// does not pass one when it chains or re-assumes.
    pub fn full(&self) -> Json {
        let mut stmts = self.external_statements();
        stmts.push(json!({
            "Sid": SID_SELF_ASSUME,
            "Effect": "Allow",
            "Principal": {"AWS": self.self_arn},
            "Action": ASSUME_AND_TAG,
        }));
        if let Some(base) = &self.base_role_arn {
            stmts.push(json!({
                "Sid": SID_FROM_BASE,
                "Effect": "Allow",
                "Principal": {"AWS": base},
                "Action": ASSUME_AND_TAG,
            }));
        }
        document(stmts)
    }

    fn external_statements(&self) -> Vec<Json> {
        let mut stmts = Vec::new();
        if let Some(scope) = &self.pod_identity {
            stmts.push(pods_statement(Some(SID_POD_IDENTITY), scope.as_ref()));
        }
        if let Some((root, external_id)) = &self.cross_account {
            stmts.push(json!({
                "Sid": SID_CROSS_ACCOUNT,
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": ASSUME_AND_TAG,
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }));
        }
        stmts
    }
}

/// Seed: required on every connector role.
pub fn self_assume_policy(self_arn: &str) -> Json {
    document(vec![json!({
        "Effect": "Allow",
        "Action": ASSUME_AND_TAG,
        "Resource": self_arn,
    })])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::policy::{check_grammar, statements, DocumentKind};

    fn trust() -> ConnectorTrust {
        ConnectorTrust {
            pod_identity: Some(None),
            cross_account: Some(("arn:aws:iam::123456789012:root".into(), "org-1".into())),
            self_arn: "arn:aws:iam::123456789012:role/xpander-redshift-access".into(),
            base_role_arn: Some("arn:aws:iam::123456789012:role/xpander-base-role".into()),
        }
    }

    #[test]
    fn full_trust_is_the_seed_template() {
        let full = trust().full();
        let sids: Vec<&str> = statements(&full)
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(
            sids,
            [
                SID_POD_IDENTITY,
                SID_CROSS_ACCOUNT,
                SID_SELF_ASSUME,
                SID_FROM_BASE
            ]
        );
        for s in statements(&full) {
            assert_eq!(s["Action"], serde_json::json!(ASSUME_AND_TAG));
            let sid = s["Sid"].as_str().unwrap();
            let has_condition = s.get("Condition").is_some();
            assert_eq!(has_condition, sid == SID_CROSS_ACCOUNT, "{sid}");
        }
        check_grammar(&full, DocumentKind::Trust).unwrap();
    }

    #[test]
    fn initial_trust_never_names_the_role_itself() {
        let initial = trust().initial().to_string();
        assert!(!initial.contains("xpander-redshift-access"));
        assert!(!initial.contains("xpander-base-role"));
        let bare = ConnectorTrust {
            pod_identity: None,
            cross_account: None,
            ..trust()
        };
        check_grammar(&bare.initial(), DocumentKind::Trust).unwrap();
    }

    #[test]
    fn permission_templates_are_valid_identity_policies() {
        for doc in [
            self_assume_policy("arn:aws:iam::123456789012:role/x"),
            base_grant("arn:aws:iam::123456789012:role/x"),
            assume_connector_roles(&["arn:aws:iam::123456789012:role/x".into()]),
        ] {
            check_grammar(&doc, DocumentKind::Identity).unwrap();
        }
    }
}
