//! An EKS connector's Kubernetes access: the cluster must admit access
//! entries, and the connector needs one with an access policy.

use serde_json::json;

use super::eval::{pods_cluster, services};
use super::{Findings, Severity, Subject};
use crate::cloud::api::LiveRole;

const CONFIG_MAP: &str = "CONFIG_MAP";

pub(super) fn check(f: &mut Findings, s: &Subject, c: &LiveRole) {
    if !services(c).contains_key("eks") {
        return;
    }
    let name = &c.name;
    let Some((t, cluster)) = pods_cluster(s) else {
        return;
    };
    if cluster.authentication_mode == CONFIG_MAP {
        let evidence =
            json!({"cluster": t.cluster, "authenticationMode": cluster.authentication_mode});
        f.add("EKS_AUTH_MODE", Severity::Error, name, format!("cluster {} authenticates with CONFIG_MAP only, so this EKS connector cannot get an access entry (its Kubernetes access)", t.cluster), Some(&evidence), "switch the cluster to API_AND_CONFIG_MAP (aws eks update-cluster-config --access-config authenticationMode=API_AND_CONFIG_MAP; one-way)");
        return;
    }
    let cluster = t.cluster.as_str();
    match s.access_entries.get(name) {
        None => {}
        Some(None) => f.add("EKS_ACCESS_ENTRY_MISSING", Severity::Error, name, format!("the EKS connector has no access entry on cluster {cluster}, so Kubernetes API calls are refused"), None, "aws eks create-access-entry --principal-arn <connector ARN> --type STANDARD, then associate-access-policy (or set eks on XpanderConnectorRole)"),
        Some(Some(e)) if e.policies.is_empty() => {
            let evidence = json!({"accessEntryArn": e.access_entry_arn, "accessPolicies": []});
            f.add("EKS_ACCESS_POLICY_MISSING", Severity::Error, name, format!("the access entry on {cluster} has no access policy"), Some(&evidence), "aws eks associate-access-policy with AmazonEKSViewPolicy (read-only) or the seed's AmazonEKSClusterAdminPolicy")
        }
        Some(Some(e)) if e.policies.keys().any(|p| p.ends_with("/AmazonEKSClusterAdminPolicy")) => f.add("EKS_CLUSTER_ADMIN", Severity::Info, name, format!("the connector is cluster admin on {cluster} (the seed's choice)"), None, "consider AmazonEKSViewPolicy if the connector only reads"),
        Some(Some(_)) => {}
    }
}
