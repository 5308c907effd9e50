//! Troubleshooting "AccessDenied: sts:AssumeRole (from base role)": the base
//! role has no permission to assume the connector, or the connector's trust
//! does not admit the base role (an ExternalId condition on it, a stale
//! unique id in place of its ARN, or no statement at all).

use super::eval::{aws_principals, is_unique_id, stale_statements, Caller, Identity, ASSUME};
use super::{Findings, Severity, Subject};
use crate::cloud::api::LiveRole;
use crate::iam::eval::Request;

/// The connector's side: may the base role call sts:AssumeRole on it.
pub(super) fn check_trust(f: &mut Findings, c: &LiveRole, base: &Caller<'_>) {
    let stale = stale_statements(c);
    for st in &stale {
        let id = aws_principals(st)
            .into_iter()
            .find(|p| is_unique_id(p))
            .unwrap_or_default();
        f.add("STALE_PRINCIPAL", Severity::Error, &c.name, format!("the trust names {id}, the unique id of a role that was deleted; a role recreated with the same name is a different principal"), Some(st), "rewrite the trust policy with the role's ARN (XpanderConnectorRole does this when baseRoleId changes)");
    }
    if base.may_assume {
        return;
    }
    if let Some(stmt) = base.external_id_blocker {
        f.add("EXTERNAL_ID_ON_INTERNAL", Severity::Error, &c.name, format!("the trust statement admitting {} requires an ExternalId; the AI Gateway passes none when it chains or re-assumes, so this fails with AccessDenied", base.who), Some(stmt), &format!("remove the Condition from {}; only CrossAccountWithExternalId carries the ExternalId", base.sid));
    } else if stale.is_empty() && !super::cloud_only::admits_platform_only(c) {
        // A stale unique id explains it (STALE_PRINCIPAL says so); a trust
        // that admits the platform alone is the cloud-only family.
        f.add("TRUST_MISSING_BASE_ROLE", Severity::Error, &c.name, "the connector's trust does not admit the base role, so role chaining from the pods fails with AccessDenied".into(), Some(&c.trust), &super::cloud_only::fix(base));
    }
}

/// The base role's side: may it call sts:AssumeRole on the connector.
pub(super) fn check_grant(f: &mut Findings, s: &Subject, base: &LiveRole, c: &LiveRole) {
    let identity = Identity::of(base, &s.managed);
    let chain = Request::identity(ASSUME, &c.arn);
    if !identity.allows(&chain) {
        let why = identity.why_denied(&chain);
        f.add("BASE_CANNOT_ASSUME", Severity::Error, &base.name, format!("the base role has no permission to assume {}{why}", c.arn), None, &format!("grant the base role sts:AssumeRole + sts:TagSession on {} (AssumeConnectorRoles, or the connector's xpander-assume-{} policy), within its permissions boundary", c.arn, c.name));
    }
}
