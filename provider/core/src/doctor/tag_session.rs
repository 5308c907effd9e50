//! Troubleshooting "AccessDenied: sts:TagSession": Pod Identity tags the
//! base role's session and the tags are transitive, so every step of the
//! chain needs sts:TagSession both in the trust of the role it assumes and
//! in the permission of the role that calls.

use super::eval::{from_pods, pod_tags, trust_allows, Caller, Identity, ASSUME, TAG};
use super::{Findings, Severity, Subject};
use crate::cloud::api::LiveRole;
use crate::iam::eval::{statement_applies, Request};
use crate::iam::policy::statements;
use crate::iam::templates::{grant_policy_name, POLICY_ASSUME_CONNECTORS, POLICY_SELF_ASSUME};

/// Pod Identity may assume the base role but not tag its session.
pub(super) fn check_base_trust(f: &mut Findings, s: &Subject, base: &LiveRole) {
    let tags = pod_tags(s, base);
    let assumes = trust_allows(base, &from_pods(ASSUME, base, &tags));
    if assumes && !trust_allows(base, &from_pods(TAG, base, &tags)) {
        f.add("TAG_SESSION_TRUST", Severity::Error, &base.name, "the base role's trust lets Pod Identity assume it but not tag the session; EKS tags Pod Identity sessions".into(), Some(&base.trust), "add \"sts:TagSession\" to the Action of the pods.eks.amazonaws.com statement");
    }
}

/// A caller the connector's trust lets assume it but not tag the session.
pub(super) fn check_connector_trust(
    f: &mut Findings,
    s: &Subject,
    c: &LiveRole,
    callers: &[Caller<'_>],
) {
    // Without session tags (disableSessionTags) nothing is carried into the chain.
    let tags_disabled = s
        .pod_identity
        .as_ref()
        .and_then(|t| t.association.as_ref())
        .is_some_and(|a| a.disable_session_tags);
    let severity = if tags_disabled {
        Severity::Warning
    } else {
        Severity::Error
    };
    for caller in callers.iter().filter(|c| c.may_assume && !c.may_tag) {
        let assume = super::eval::from_role(ASSUME, caller.arn);
        let stmt = statements(&c.trust)
            .into_iter()
            .find(|st| statement_applies(st, &assume));
        f.add("TAG_SESSION_TRUST", severity, &c.name, format!("the trust lets {} call sts:AssumeRole but not sts:TagSession; Pod Identity session tags are transitive, so the chained call fails with AccessDenied: sts:TagSession", caller.who), stmt, &format!("add \"sts:TagSession\" to the Action of {}", caller.sid));
    }
}

/// The connector may assume itself but not tag the session.
pub(super) fn check_self_permission(f: &mut Findings, s: &Subject, c: &LiveRole) {
    let identity = Identity::of(c, &s.managed);
    if identity.allows(&Request::identity(ASSUME, &c.arn))
        && !identity.allows(&Request::identity(TAG, &c.arn))
    {
        f.add(
            "TAG_SESSION_PERMISSION",
            Severity::Error,
            &c.name,
            "the role may assume itself but not tag the session".into(),
            c.inline_policies.get(POLICY_SELF_ASSUME),
            "add \"sts:TagSession\" to SelfAssumeAndTagSession",
        );
    }
}

/// The base role may assume the connector but not tag the session.
pub(super) fn check_base_grant(f: &mut Findings, s: &Subject, base: &LiveRole, c: &LiveRole) {
    let identity = Identity::of(base, &s.managed);
    if identity.allows(&Request::identity(ASSUME, &c.arn))
        && !identity.allows(&Request::identity(TAG, &c.arn))
    {
        let evidence = base
            .inline_policies
            .get(&grant_policy_name(&c.name))
            .or(base.inline_policies.get(POLICY_ASSUME_CONNECTORS));
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
