//! What every family of checks asks of the policies: the requests IAM sees
//! (Pod Identity on the base role, a role on a connector's trust), a role's
//! identity policies with its boundary, and how a connector's trust answers
//! the two callers that chain into it.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{PodIdentityTarget, Subject};
use crate::cloud::api::LiveRole;
use crate::iam::eval::{blocked_by_condition, evaluate, glob, Decision, Principal, Request};
use crate::iam::policy::{statements, string_list};
use crate::iam::templates::{
    PODS_SERVICE, SID_FROM_BASE, SID_SELF_ASSUME, TAG_CLUSTER_ARN, TAG_NAMESPACE,
    TAG_SERVICE_ACCOUNT,
};

pub const ASSUME: &str = "sts:AssumeRole";
pub const TAG: &str = "sts:TagSession";

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

pub fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// A trust-policy request as IAM sees it: with the caller's global condition keys.
pub fn from_role<'a>(action: &'a str, arn: &'a str) -> Request<'a> {
    Request::trust(action, Principal::Aws(arn))
        .with("aws:PrincipalArn", arn)
        .with("aws:PrincipalAccount", account_of(arn))
}

/// The session tags EKS Pod Identity sets for the subject's association:
/// its cluster, namespace and service account (none when the association
/// disables them). Without a cluster named, the tags the base role's trust
/// itself requires: the doctor then asks whether some association could
/// use the role.
pub fn pod_tags(s: &Subject, base: &LiveRole) -> Vec<(String, String)> {
    let Some(t) = &s.pod_identity else {
        return required_pod_tags(base);
    };
    if t.association
        .as_ref()
        .is_some_and(|a| a.disable_session_tags)
    {
        return Vec::new();
    }
    let mut tags = vec![
        (TAG_NAMESPACE.to_string(), t.namespace.clone()),
        (TAG_SERVICE_ACCOUNT.to_string(), t.service_account.clone()),
        ("eks-cluster-name".to_string(), t.cluster.clone()),
    ];
    if let Some(c) = &t.cluster_info {
        tags.push((TAG_CLUSTER_ARN.to_string(), c.arn.clone()));
    }
    tags
}

/// The `aws:RequestTag/<key>` values the base role's trust requires of Pod Identity.
pub fn required_pod_tags(base: &LiveRole) -> Vec<(String, String)> {
    statements(&base.trust)
        .into_iter()
        .filter_map(|st| {
            st.pointer("/Condition/StringEquals")
                .and_then(Json::as_object)
        })
        .flat_map(|m| m.iter())
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("aws:RequestTag/")?;
            Some((key.to_string(), string_list(Some(v)).into_iter().next()?))
        })
        .collect()
}

/// The request EKS Pod Identity makes on the base role's trust, with the
/// session tags it passes.
pub fn from_pods<'a>(action: &'a str, base: &LiveRole, tags: &[(String, String)]) -> Request<'a> {
    let mut req = Request::trust(action, Principal::Service(PODS_SERVICE))
        .with("aws:SourceAccount", account_of(&base.arn));
    for (k, v) in tags {
        req = req.with(&format!("aws:RequestTag/{k}"), v);
    }
    req
}

/// A role's identity policies (inline and attached) and boundary, as evaluated together.
pub struct Identity<'a> {
    docs: Vec<&'a Json>,
    boundary: Option<&'a Json>,
}

impl<'a> Identity<'a> {
    pub fn of(role: &'a LiveRole, managed: &'a BTreeMap<String, Json>) -> Self {
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

    pub fn allows(&self, req: &Request<'_>) -> bool {
        evaluate(self.docs.iter().copied(), req) == Decision::Allow
            && self
                .boundary
                .is_none_or(|b| evaluate([b], req) == Decision::Allow)
    }

    /// Allowed by the policies but not by the boundary.
    pub fn only_boundary_denies(&self, req: &Request<'_>) -> bool {
        evaluate(self.docs.iter().copied(), req) == Decision::Allow && !self.allows(req)
    }

    /// " (its permissions boundary denies it)" when that is the reason.
    pub fn why_denied(&self, req: &Request<'_>) -> &'static str {
        if self.only_boundary_denies(req) {
            " (its permissions boundary denies it)"
        } else {
            ""
        }
    }
}

pub fn trust_allows(role: &LiveRole, req: &Request<'_>) -> bool {
    evaluate([&role.trust], req) == Decision::Allow
}

pub fn uses_external_id(stmt: &Json) -> bool {
    stmt.get("Condition")
        .is_some_and(|c| c.to_string().to_lowercase().contains("sts:externalid"))
}

pub fn allow_statements(doc: &Json) -> impl Iterator<Item = &Json> {
    statements(doc)
        .into_iter()
        .filter(|s| s.get("Effect").and_then(Json::as_str) == Some("Allow"))
}

/// Services a role's Allow statements grant actions of, with the policies granting them.
pub fn services(role: &LiveRole) -> BTreeMap<String, Vec<String>> {
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
pub fn reaches_beyond_assume(pattern: &str) -> bool {
    let p = pattern.to_lowercase();
    if !(p.starts_with("sts:") || p == "*") {
        return true;
    }
    STS_ACTIONS
        .iter()
        .any(|a| glob(&p, a, true) && *a != ASSUME && *a != TAG)
}

/// The AWS principals a statement names.
pub fn aws_principals(stmt: &Json) -> Vec<String> {
    string_list(stmt.get("Principal").and_then(|p| p.get("AWS")))
}

/// How a connector's trust answers one caller that chains into it.
pub struct Caller<'a> {
    /// "the base role" or "the role itself", for messages.
    pub who: &'static str,
    pub arn: &'a str,
    /// The seed's statement that admits it.
    pub sid: &'static str,
    pub may_assume: bool,
    pub may_tag: bool,
    /// A statement naming the caller whose ExternalId condition refuses it.
    pub external_id_blocker: Option<&'a Json>,
}

/// The base role, then the role itself.
pub fn callers<'a>(c: &'a LiveRole, base_arn: &'a str) -> [Caller<'a>; 2] {
    let caller = |who, arn: &'a str, sid| {
        let assume = from_role(ASSUME, arn);
        let may_assume = trust_allows(c, &assume);
        let external_id_blocker = (!may_assume)
            .then(|| {
                blocked_by_condition([&c.trust], &assume)
                    .into_iter()
                    .filter(|st| aws_principals(st).iter().any(|p| p == arn))
                    .find(|st| uses_external_id(st))
            })
            .flatten();
        Caller {
            who,
            arn,
            sid,
            may_assume,
            may_tag: trust_allows(c, &from_role(TAG, arn)),
            external_id_blocker,
        }
    };
    [
        caller("the base role", base_arn, SID_FROM_BASE),
        caller("the role itself", c.arn.as_str(), SID_SELF_ASSUME),
    ]
}

/// Trust statements naming a principal by unique id (`AROA…`): IAM writes
/// one in place of a role's ARN when that role is deleted.
pub fn stale_statements(c: &LiveRole) -> Vec<&Json> {
    statements(&c.trust)
        .into_iter()
        .filter(|st| aws_principals(st).iter().any(|p| is_unique_id(p)))
        .collect()
}

pub fn is_unique_id(p: &str) -> bool {
    p.starts_with("AROA") || p.starts_with("AIDA")
}

/// The cluster of the xpander pods, when the subject names one that exists.
pub fn pods_cluster(s: &Subject) -> Option<(&PodIdentityTarget, &crate::cloud::api::ClusterInfo)> {
    s.pod_identity
        .as_ref()
        .and_then(|t| t.cluster_info.as_ref().map(|c| (t, c)))
}
