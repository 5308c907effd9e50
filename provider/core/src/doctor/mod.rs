//! The seed's Troubleshooting section as a machine check. `gather` reads live
//! IAM/EKS state; `diagnose` (pure) evaluates the policies it found — who
//! may assume whom, with which actions and conditions, inside which
//! permissions boundary — and names each cause with its evidence and fix.
//! One file per family of checks: the four Troubleshooting entries
//! (`tag_session`, `self_assume`, `from_base`, `cloud_only`), the base
//! role's Pod Identity (`pod_identity`), EKS access (`eks_access`) and the
//! seed's security recommendations (`recommendations`); `eval` holds the
//! requests and evaluation they share.

mod cloud_only;
mod eks_access;
mod eval;
mod from_base;
pub mod gather;
mod pod_identity;
mod recommendations;
pub mod report;
mod self_assume;
mod tag_session;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::cloud::api::{AccessEntry, ClusterInfo, LiveRole, PodIdentityAssociation};
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

/// The base role as the connector checks see it: its ARN always, the role
/// itself when these credentials can read it.
struct Base<'a> {
    arn: &'a str,
    live: Option<&'a LiveRole>,
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

fn check_base(f: &mut Findings, s: &Subject, base: &LiveRole) {
    pod_identity::check_trust(f, s, base);
    tag_session::check_base_trust(f, s, base);
    recommendations::check_base(f, s, base);
    pod_identity::check_association(f, s, base);
    recommendations::check_common(f, s, base);
}

fn check_connector(f: &mut Findings, s: &Subject, base: &Base<'_>, c: &LiveRole) {
    let callers = eval::callers(c, base.arn);
    from_base::check_trust(f, c, &callers[0]);
    cloud_only::check(f, c, &callers[0]);
    self_assume::check_trust(f, c, &callers[1]);
    tag_session::check_connector_trust(f, s, c, &callers);
    self_assume::check_permission(f, s, c);
    tag_session::check_self_permission(f, s, c);
    if let Some(live) = base.live {
        from_base::check_grant(f, s, live, c);
        tag_session::check_base_grant(f, s, live, c);
    }
    recommendations::check_connector(f, c);
    recommendations::check_external_id_principal(f, c);
    eks_access::check(f, s, c);
    recommendations::check_common(f, s, c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::arn::AccountContext;
    use crate::resources::connector::sources::{eks::Eks, Sources};
    use crate::resources::connector::{ConnectorArgs, TrustArgs};
    use crate::resources::role::RoleArgs;
    use std::collections::BTreeMap;
    use std::collections::BTreeSet;

    /// The xpander platform's account in these tests.
    const PLATFORM: &str = "777788889999";

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
                trusted_account_id: Some(PLATFORM.into()),
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
            crate::iam::templates::base_trust(None),
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

    #[test]
    fn an_external_id_statement_on_the_own_account_is_named() {
        let mut s = correct();
        statement_mut(connector(&mut s), "CrossAccountWithExternalId")["Principal"] =
            json!({"AWS": "arn:aws:iam::123456789012:root"});
        let found = diagnose(&s);
        let f = found
            .iter()
            .find(|f| f.code == "EXTERNAL_ID_OWN_ACCOUNT")
            .expect("named");
        assert_eq!(f.severity, Severity::Warning);
        assert!(!f.evidence.as_ref().unwrap().to_string().contains("org-1"));
        assert_eq!(codes(&s), ["EXTERNAL_ID_OWN_ACCOUNT"]);
    }

    #[test]
    fn a_trust_scoped_to_another_service_account_refuses_the_pods() {
        let mut s = correct();
        let scope = crate::iam::templates::PodScope {
            cluster_arn: "arn:aws:eks:us-east-1:123456789012:cluster/c".into(),
            namespace: "xpander".into(),
            service_account: "xpander".into(),
        };
        s.base.as_mut().unwrap().trust = crate::iam::templates::base_trust(Some(&scope));
        assert_eq!(
            codes(&s),
            Vec::<&str>::new(),
            "the association's own pods are admitted"
        );
        s.pod_identity.as_mut().unwrap().namespace = "other".into();
        let found = diagnose(&s);
        let f = found
            .iter()
            .find(|f| f.code == "POD_IDENTITY_OUT_OF_SCOPE")
            .expect("named");
        assert!(
            f.summary.contains("kubernetes-namespace=xpander")
                && f.summary.contains("other/xpander"),
            "{}",
            f.summary
        );
        s.pod_identity = None;
        assert!(
            !codes(&s)
                .iter()
                .any(|c| c.starts_with("POD_IDENTITY") || c == "BASE_TRUST_NO_POD_IDENTITY"),
            "without a cluster, a scoped trust is one some association can use"
        );
    }
}
