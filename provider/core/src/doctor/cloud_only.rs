//! Troubleshooting "Connector works in cloud but not self-hosted": the trust
//! admits the xpander platform with its ExternalId, but not the base role
//! the self-hosted AI Gateway chains through without one.

use super::eval::{stale_statements, uses_external_id, Caller};
use super::{Findings, Severity};
use crate::cloud::api::LiveRole;
use crate::iam::policy::statements;

/// The trust has an ExternalId statement: the platform's way in.
pub(super) fn admits_platform_only(c: &LiveRole) -> bool {
    statements(&c.trust).iter().any(|st| uses_external_id(st))
}

pub(super) fn fix(base: &Caller<'_>) -> String {
    format!(
        "add an {} statement: Principal {{\"AWS\": \"{}\"}}, Action [\"sts:AssumeRole\", \"sts:TagSession\"]",
        base.sid, base.arn
    )
}

pub(super) fn check(f: &mut Findings, c: &LiveRole, base: &Caller<'_>) {
    let blocked = !base.may_assume && base.external_id_blocker.is_none();
    if blocked && stale_statements(c).is_empty() && admits_platform_only(c) {
        f.add("TRUST_MISSING_BASE_ROLE", Severity::Error, &c.name, "the trust admits the xpander platform (with ExternalId) but not the base role: the connector works in cloud mode but not self-hosted".into(), Some(&c.trust), &fix(base));
    }
}
