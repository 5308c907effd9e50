//! The base role on EKS Pod Identity (seed step 1): its trust admits
//! `pods.eks.amazonaws.com`, and the xpander service account's association
//! on the cluster points at it.

use serde_json::json;

use super::eval::{from_pods, pod_tags, required_pod_tags, trust_allows, ASSUME};
use super::{Findings, Severity, Subject};
use crate::cloud::api::LiveRole;

/// Pod Identity may assume the base role for the xpander service account:
/// the trust admits pods.eks.amazonaws.com, and any session tags it
/// requires are the ones EKS sets for that association.
pub(super) fn check_trust(f: &mut Findings, s: &Subject, base: &LiveRole) {
    let tags = pod_tags(s, base);
    if trust_allows(base, &from_pods(ASSUME, base, &tags)) {
        return;
    }
    let required = required_pod_tags(base);
    if !trust_allows(base, &from_pods(ASSUME, base, &required)) {
        f.add("BASE_TRUST_NO_POD_IDENTITY", Severity::Error, &base.name, "the base role's trust does not admit pods.eks.amazonaws.com for sts:AssumeRole, so Pod Identity cannot attach it".into(), Some(&base.trust), "trust {\"Service\": \"pods.eks.amazonaws.com\"} with Action [\"sts:AssumeRole\", \"sts:TagSession\"] (seed step 1)");
        return;
    }
    let Some(t) = &s.pod_identity else {
        return;
    };
    let wants = required
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let summary = if tags.is_empty() {
        format!("the base role's trust requires the session tags {wants}, but the association for {}/{} on {} sets none (disableSessionTags), so Pod Identity is refused", t.namespace, t.service_account, t.cluster)
    } else {
        format!("the base role's trust admits Pod Identity only for {wants}; pods of {}/{} on cluster {} are refused", t.namespace, t.service_account, t.cluster)
    };
    f.add("POD_IDENTITY_OUT_OF_SCOPE", Severity::Error, &base.name, summary, Some(&base.trust), "run xpander with the service account, namespace and cluster the trust names, or set XpanderBaseRole's podIdentity to this association (the trust follows it)");
}

pub(super) fn check_association(f: &mut Findings, s: &Subject, base: &LiveRole) {
    let Some(t) = &s.pod_identity else {
        return;
    };
    let name = &base.name;
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
