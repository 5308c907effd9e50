//! `eks`: the seed's `EKSAccess` policy (or one scoped to the cluster), plus
//! an access entry and access policy on the cluster (Kubernetes access):
//! what the cluster must allow before anything is written, the steps that
//! create, move and remove the entry, and what a preview cannot know of it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use super::{strings, DataSource, Kind, OwnRole, Rules};
use crate::cloud::api::{AccessEntry, AccessScope};
use crate::context::{Cloud, OpError};
use crate::iam::arn::AccountContext;
use crate::iam::limits;
use crate::iam::templates::document;
use crate::model::spec::{declare, Key};
use crate::plan::Step;

pub const POLICY: &str = "EKSAccess";
pub const DEFAULT_ACCESS_POLICY: &str = "AmazonEKSClusterAdminPolicy";
pub const VIEW_POLICY: &str = "AmazonEKSViewPolicy";
pub const DEFAULT_SCOPED_POLICY: bool = false;
pub const CLUSTER_SCOPE: &str = "cluster";
pub const NAMESPACE_SCOPE: &str = "namespace";

declare! {
    pub struct Eks as "Eks", "An EKS cluster the connector reads, with its Kubernetes access." {
        "clusterName" cluster_name: String [required] => "EKS cluster name, in the provider's region (use a provider for another region).",
        "scopedPolicy" scoped_policy: bool [default_bool = DEFAULT_SCOPED_POLICY] => "Scope `EKSAccess` to this cluster (its ARN, node groups and control-plane log group) instead of the seed's `Resource: \"*\"`; the connector then cannot read other clusters or other log groups, such as Container Insights application logs.",
        "accessPolicyArn" access_policy_arn: String => "EKS access policy to associate; the seed's `AmazonEKSClusterAdminPolicy` by default. `AmazonEKSViewPolicy` is the read-only choice.",
        "accessScope" access_scope: EksAccessScope => "Scope of the access policy (cluster by default).",
    }
}

declare! {
    pub struct EksAccessScope as "AccessScope", "Scope of an EKS access policy association." {
        "type" scope_type: String [required] => "`cluster` or `namespace`.",
        "namespaces" namespaces: Vec<String> => "Namespaces, when the type is `namespace`.",
    }
}

impl Eks {
    pub const DESCRIPTION: &'static str = "EKS permissions: the seed's `EKSAccess` policy plus an access entry and access policy on the cluster.";

    fn access_policy_name(&self) -> String {
        match &self.access_policy_arn {
            Some(arn) => arn.rsplit('/').next().unwrap_or(arn).to_string(),
            None => DEFAULT_ACCESS_POLICY.into(),
        }
    }
}

/// What the EKS connector needs on its cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterAccess {
    pub cluster: String,
    pub principal_arn: String,
    pub policy_arn: String,
    pub scope: AccessScope,
}

impl Kind for Eks {
    const POLICY_NAMES: &'static [&'static str] = &[POLICY];
    const OWN_ROLE: Option<OwnRole> = Some(OwnRole {
        family: "EKS",
        services: &["eks"],
    });
    // The seed's EKSAccess is on "*" by design; nothing here is held to a named resource.
    const SCOPED_ACTIONS: &'static [&'static str] = &[];

    fn variants() -> Vec<(Key, Vec<Json>)> {
        vec![
            (Eks::cluster_name, vec![json!("xpander-cluster")]),
            (
                Eks::scoped_policy,
                vec![Json::Null, json!(false), json!(true)],
            ),
            (
                Eks::access_policy_arn,
                vec![
                    Json::Null,
                    json!(format!(
                        "arn:aws:eks::aws:cluster-access-policy/{VIEW_POLICY}"
                    )),
                ],
            ),
            (
                Eks::access_scope,
                vec![
                    Json::Null,
                    json!({"type": NAMESPACE_SCOPE, "namespaces": ["xpander", "default"]}),
                ],
            ),
        ]
    }

    /// A cluster name cannot hold a wildcard (EKS's naming rule refuses it).
    fn wildcard() -> Option<Json> {
        None
    }
}

#[async_trait]
impl DataSource for Eks {
    fn validate(&self, rules: &mut Rules<'_>) {
        let cluster = rules.path(Eks::cluster_name);
        if let Some(c) = &self.cluster_name {
            if let Err(r) = limits::check_cluster_name(c) {
                rules.fail(&cluster, r);
            }
        }
        if let Some(arn) = &self.access_policy_arn {
            let ok = arn.starts_with("arn:") && arn.contains(":eks::aws:cluster-access-policy/");
            if !ok {
                let path = rules.path(Eks::access_policy_arn);
                rules.fail(&path, format!("{arn:?} is not an EKS access policy ARN (arn:<partition>:eks::aws:cluster-access-policy/<Name>)"));
            }
        }
        if let Some(s) = &self.access_scope {
            let scope = rules.path(Eks::access_scope);
            let namespaces = format!("{scope}.{}", EksAccessScope::namespaces.name());
            match s.scope_type.as_deref() {
                Some(CLUSTER_SCOPE) if s.namespaces.as_ref().is_some_and(|n| !n.is_empty()) => {
                    rules.fail(
                        &namespaces,
                        "namespaces are only allowed with type \"namespace\"",
                    )
                }
                Some(NAMESPACE_SCOPE) if strings(&s.namespaces).is_empty() => rules.fail(
                    &namespaces,
                    "a namespace scope needs at least one namespace",
                ),
                Some(CLUSTER_SCOPE | NAMESPACE_SCOPE) => {}
                other => rules.fail(
                    &format!("{scope}.{}", EksAccessScope::scope_type.name()),
                    format!("must be \"cluster\" or \"namespace\", got {other:?}"),
                ),
            }
        }
        if self.access_policy_name() == DEFAULT_ACCESS_POLICY {
            rules.warn(format!("{}: the connector gets {DEFAULT_ACCESS_POLICY} (the seed's choice); set {} to {VIEW_POLICY} for read-only Kubernetes access", rules.source.name(), rules.path(Eks::access_policy_arn)));
        }
    }

    fn policies(&self, ctx: &AccountContext) -> Vec<(&'static str, Json)> {
        let scoped = self.scoped_policy.unwrap_or(DEFAULT_SCOPED_POLICY);
        let policy = match (&self.cluster_name, scoped) {
            (Some(cluster), true) => scoped_access(ctx, &ctx.region, cluster),
            _ => seed_access(),
        };
        vec![(POLICY, policy)]
    }

    fn cluster_access(&self, ctx: &AccountContext, principal_arn: &str) -> Option<ClusterAccess> {
        Some(ClusterAccess {
            cluster: self.cluster_name.clone().unwrap_or_default(),
            principal_arn: principal_arn.to_string(),
            policy_arn: self
                .access_policy_arn
                .clone()
                .unwrap_or_else(|| ctx.eks_access_policy_arn(DEFAULT_ACCESS_POLICY)),
            scope: AccessScope {
                scope_type: self
                    .access_scope
                    .as_ref()
                    .and_then(|s| s.scope_type.clone())
                    .unwrap_or_else(|| CLUSTER_SCOPE.into()),
                namespaces: self
                    .access_scope
                    .as_ref()
                    .map(|s| strings(&s.namespaces))
                    .unwrap_or_default(),
            },
        })
    }

    fn access_cluster(&self) -> Option<String> {
        self.cluster_name.clone()
    }

    fn preflight_reads(&self) -> bool {
        true
    }

    /// Access entries need a cluster that exists and whose authentication
    /// mode admits them: said before anything is written (AWS would refuse
    /// only at CreateAccessEntry, after the role exists).
    async fn preflight(&self, cloud: &Cloud) -> Result<(), OpError> {
        let Some(cluster) = self.cluster_name.as_deref() else {
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
}

impl ClusterAccess {
    /// Steps that bring the live entry (None: absent) to this access; its
    /// policy associations are exclusive.
    pub fn plan(&self, live: Option<&AccessEntry>) -> Vec<Step> {
        let mut steps = Vec::new();
        let associate = || Step::AssociateAccessPolicy {
            cluster: self.cluster.clone(),
            principal_arn: self.principal_arn.clone(),
            policy_arn: self.policy_arn.clone(),
            scope: self.scope.clone(),
        };
        match live {
            None => {
                steps.push(Step::CreateAccessEntry {
                    cluster: self.cluster.clone(),
                    principal_arn: self.principal_arn.clone(),
                    tags: BTreeMap::new(),
                });
                steps.push(associate());
            }
            Some(entry) => {
                for (arn, _) in entry
                    .policies
                    .iter()
                    .filter(|(arn, scope)| **arn != self.policy_arn || **scope != self.scope)
                {
                    steps.push(Step::DisassociateAccessPolicy {
                        cluster: self.cluster.clone(),
                        principal_arn: self.principal_arn.clone(),
                        policy_arn: arn.clone(),
                    });
                }
                if entry.policies.get(&self.policy_arn) != Some(&self.scope) {
                    steps.push(associate());
                }
            }
        }
        steps
    }

    /// The same entry (cluster and principal), whatever its policy.
    pub fn same_entry(&self, other: &ClusterAccess) -> bool {
        self.cluster == other.cluster && self.principal_arn == other.principal_arn
    }

    pub fn delete(&self) -> Step {
        Step::DeleteAccessEntry {
            cluster: self.cluster.clone(),
            principal_arn: self.principal_arn.clone(),
        }
    }
}

/// The seed's EKSAccess, as written there.
fn seed_access() -> Json {
    document(vec![
        json!({
            "Effect": "Allow",
            "Action": [
                "eks:DescribeCluster",
                "eks:ListClusters",
                "eks:ListNodegroups",
                "eks:DescribeNodegroup",
                "eks:ListInsights",
                "eks:DescribeInsight",
                "eks:AccessKubernetesApi",
            ],
            "Resource": "*",
        }),
        json!({
            "Effect": "Allow",
            "Action": [
                "logs:GetLogEvents",
                "logs:FilterLogEvents",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
            ],
            "Resource": "*",
        }),
    ])
}

/// The same reads scoped to one cluster: its ARN for the EKS actions that
/// take one, its node groups, and its control-plane log group
/// `/aws/eks/<cluster>/cluster`. ListClusters and DescribeLogGroups support
/// no resource type: they stay on `*`.
fn scoped_access(ctx: &AccountContext, region: &str, cluster: &str) -> Json {
    let (p, a) = (&ctx.partition, &ctx.account_id);
    let log_group = format!("arn:{p}:logs:{region}:{a}:log-group:/aws/eks/{cluster}/cluster");
    document(vec![
        json!({
            "Sid": "EKSClusterRead",
            "Effect": "Allow",
            "Action": [
                "eks:DescribeCluster",
                "eks:ListNodegroups",
                "eks:ListInsights",
                "eks:DescribeInsight",
                "eks:AccessKubernetesApi",
            ],
            "Resource": format!("arn:{p}:eks:{region}:{a}:cluster/{cluster}"),
        }),
        json!({
            "Sid": "EKSNodegroupRead",
            "Effect": "Allow",
            "Action": "eks:DescribeNodegroup",
            "Resource": format!("arn:{p}:eks:{region}:{a}:nodegroup/{cluster}/*"),
        }),
        json!({
            "Sid": "EKSListClusters",
            "Effect": "Allow",
            "Action": "eks:ListClusters",
            "Resource": "*",
        }),
        json!({
            "Sid": "EKSControlPlaneLogs",
            "Effect": "Allow",
            "Action": ["logs:FilterLogEvents", "logs:DescribeLogStreams"],
            "Resource": log_group.clone(),
        }),
        json!({
            "Sid": "EKSControlPlaneLogEvents",
            "Effect": "Allow",
            "Action": "logs:GetLogEvents",
            "Resource": format!("{log_group}:log-stream:*"),
        }),
        json!({
            "Sid": "LogGroupsList",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": "*",
        }),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, judge, rendered};
    use super::*;

    fn source() -> Eks {
        Eks {
            cluster_name: Some("prod".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_seed_policy_unless_scoped() {
        let seed = rendered(&source()).remove(0).1;
        assert_eq!(seed, seed_access());
        let scoped = rendered(&Eks {
            scoped_policy: Some(true),
            ..source()
        })
        .remove(0)
        .1;
        let text = scoped.to_string();
        assert!(text.contains("arn:aws:eks:us-east-1:123456789012:cluster/prod"));
        assert!(text.contains("log-group:/aws/eks/prod/cluster"));
        for s in crate::iam::policy::statements(&scoped) {
            let star = crate::iam::policy::string_list(s.get("Resource")) == ["*"];
            let acts = crate::iam::policy::string_list(s.get("Action"));
            assert!(
                !star || acts == ["eks:ListClusters"] || acts == ["logs:DescribeLogGroups"],
                "{s}"
            );
        }
    }

    #[test]
    fn cluster_access_defaults_to_the_seeds_admin_policy_on_the_cluster() {
        let access = source()
            .cluster_access(&ctx(), "arn:aws:iam::123456789012:role/c")
            .unwrap();
        assert_eq!(access.cluster, "prod");
        assert_eq!(
            access.policy_arn,
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        );
        assert_eq!(access.scope.scope_type, "cluster");
        let (_, warnings) = judge(&source(), false);
        assert!(warnings[0].contains("eks.accessPolicyArn to AmazonEKSViewPolicy"));
    }

    #[test]
    fn scopes_are_checked() {
        let bad = Eks {
            access_scope: Some(EksAccessScope {
                scope_type: Some("namespace".into()),
                namespaces: None,
            }),
            access_policy_arn: Some("AmazonEKSViewPolicy".into()),
            ..source()
        };
        let (failures, _) = judge(&bad, false);
        let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(paths, ["eks.accessPolicyArn", "eks.accessScope.namespaces"]);
    }
}
