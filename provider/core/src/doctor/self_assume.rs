//! Troubleshooting "AccessDenied: sts:AssumeRole (self-assume)": the AI
//! Gateway re-assumes a connector to refresh its credentials, which needs the
//! trust to admit the role itself without an ExternalId, and a permission to
//! assume itself.

use super::eval::{Caller, Identity, ASSUME};
use super::{Findings, Severity, Subject};
use crate::cloud::api::LiveRole;
use crate::iam::eval::Request;

pub(super) fn check_trust(f: &mut Findings, c: &LiveRole, me: &Caller<'_>) {
    if me.may_assume {
        return;
    }
    match me.external_id_blocker {
        Some(stmt) => f.add("EXTERNAL_ID_ON_INTERNAL", Severity::Error, &c.name, format!("the trust statement admitting {} requires an ExternalId; the AI Gateway passes none when it chains or re-assumes, so this fails with AccessDenied", me.who), Some(stmt), &format!("remove the Condition from {}; only CrossAccountWithExternalId carries the ExternalId", me.sid)),
        None => f.add("TRUST_MISSING_SELF", Severity::Error, &c.name, "the trust does not admit the role itself; the AI Gateway re-assumes it to refresh credentials".into(), Some(&c.trust), &format!("add a {} statement: Principal {{\"AWS\": \"{}\"}}, Action [\"sts:AssumeRole\", \"sts:TagSession\"]", me.sid, c.arn)),
    }
}

pub(super) fn check_permission(f: &mut Findings, s: &Subject, c: &LiveRole) {
    let identity = Identity::of(c, &s.managed);
    let self_assume = Request::identity(ASSUME, &c.arn);
    if !identity.allows(&self_assume) {
        let why = identity.why_denied(&self_assume);
        f.add("SELF_ASSUME_PERMISSION_MISSING", Severity::Error, &c.name, format!("no permission lets the role assume itself{why}"), None, "put the SelfAssumeAndTagSession policy: Allow sts:AssumeRole + sts:TagSession on the role's own ARN");
    }
}
