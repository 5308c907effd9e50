//! The base role on EKS Pod Identity (seed step 1): its trust admits
//! `pods.eks.amazonaws.com`, and the xpander service account's association
//! on the cluster points at it.

use serde_json::json;

use super::eval::{from_pods, trust_allows, ASSUME};
use super::{Findings, Severity, Subject};
use crate::cloud::api::LiveRole;

pub(super) fn check_trust(f: &mut Findings, s: &Subject, base: &LiveRole) {
    if !trust_allows(base, &from_pods(ASSUME, base, s.pod_identity.as_ref())) {
        f.add("BASE_TRUST_NO_POD_IDENTITY", Severity::Error, &base.name, "the base role's trust does not admit pods.eks.amazonaws.com for sts:AssumeRole, so Pod Identity cannot attach it".into(), Some(&base.trust), "trust {\"Service\": \"pods.eks.amazonaws.com\"} with Action [\"sts:AssumeRole\", \"sts:TagSession\"] (seed step 1)");
    }
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
