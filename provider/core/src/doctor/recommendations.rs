//! The seed's security recommendations: restrict the base role, separate
//! roles per data source, scope resources, tag roles; and the size quotas a
//! role's documents grow towards.

use serde_json::{json, Value as Json};

use super::eval::{
    account_of, allow_statements, aws_principals, reaches_beyond_assume, services,
    uses_external_id, ASSUME,
};
use super::{Findings, Severity, Subject};
use crate::cloud::api::LiveRole;
use crate::iam::eval::glob;
use crate::iam::limits::{policy_size, INLINE_POLICIES_MAX_CHARS, TRUST_POLICY_MAX_CHARS};
use crate::iam::policy::{statements, string_list};
use crate::resources::connector::sources::PROFILES;

/// "Restrict base role": only sts:AssumeRole + sts:TagSession, on named roles.
pub(super) fn check_base(f: &mut Findings, s: &Subject, base: &LiveRole) {
    let name = &base.name;
    let mut documents: Vec<(String, &Json)> = base
        .inline_policies
        .iter()
        .map(|(k, v)| (format!("inline policy {k:?}"), v))
        .collect();
    documents.extend(
        base.managed_policies
            .iter()
            .filter_map(|a| s.managed.get(a).map(|d| (format!("managed policy {a}"), d))),
    );
    for (label, doc) in documents {
        for stmt in allow_statements(doc) {
            let actions = string_list(stmt.get("Action"));
            let beyond = actions.iter().find(|a| reaches_beyond_assume(a)).cloned();
            if let Some(action) =
                beyond.or_else(|| stmt.get("NotAction").map(|_| "NotAction".to_string()))
            {
                f.add("BASE_SERVICE_PERMISSIONS", Severity::Error, name, format!("{label} grants {action:?} to the base role; it should only assume connector roles"), Some(stmt), "move service permissions to a connector role (seed: \"Restrict base role\")");
            }
            let star = string_list(stmt.get("Resource")).iter().any(|r| r == "*");
            if star && actions.iter().any(|a| glob(a, ASSUME, true)) {
                f.add(
                    "BASE_ASSUMES_ANY_ROLE",
                    Severity::Warning,
                    name,
                    format!("{label} lets the base role assume any role"),
                    Some(stmt),
                    "list the connector role ARNs instead of \"*\"",
                );
            }
        }
    }
}

/// "Separate roles per data source" and "Scope resources", by what each
/// data source says of itself.
pub(super) fn check_connector(f: &mut Findings, c: &LiveRole) {
    let svc = services(c);
    let families: Vec<(&str, Vec<&String>)> = PROFILES
        .iter()
        .filter_map(|p| p.own_role)
        .map(|own| {
            let policies = own
                .services
                .iter()
                .filter_map(|k| svc.get(*k))
                .flatten()
                .collect::<Vec<_>>();
            (own.family, policies)
        })
        .filter(|(_, policies)| !policies.is_empty())
        .collect();
    if families.len() > 1 {
        let names: Vec<&str> = families.iter().map(|(f, _)| *f).collect();
        let evidence = Json::Object(
            families
                .iter()
                .map(|(f, p)| (f.to_string(), json!(p)))
                .collect(),
        );
        f.add("MIXED_DATA_SOURCES", Severity::Warning, &c.name, format!("one role holds permissions of {}", names.join(" and ")), Some(&evidence), "split into one connector role per data source (seed: \"Separate roles per data source\")");
    }
    let scoped: Vec<&str> = PROFILES
        .iter()
        .flat_map(|p| p.scoped_actions.iter().copied())
        .collect();
    for (policy, doc) in &c.inline_policies {
        for stmt in allow_statements(doc) {
            if !string_list(stmt.get("Resource")).iter().any(|r| r == "*") {
                continue;
            }
            let wide = string_list(stmt.get("Action"))
                .into_iter()
                .find(|a| scoped.iter().any(|concrete| glob(a, concrete, true)));
            if let Some(action) = wide {
                f.add("RESOURCE_STAR", Severity::Warning, &c.name, format!("policy {policy:?} grants {action:?} on Resource \"*\""), Some(stmt), "scope the Resource to the cluster, bucket, table, work group, model or secret ARNs (seed: \"Scope resources\")");
            }
        }
    }
}

/// The ExternalId guards the xpander platform's way in; a statement that
/// trusts the role's own account with it lets any principal of that account
/// allowed sts:AssumeRole, knowing the organization id, assume the connector.
pub(super) fn check_external_id_principal(f: &mut Findings, c: &LiveRole) {
    let own = account_of(&c.arn);
    for stmt in statements(&c.trust)
        .into_iter()
        .filter(|st| uses_external_id(st))
    {
        let principals = aws_principals(stmt);
        let own_account = principals
            .iter()
            .any(|p| p == own || (p.ends_with(":root") && account_of(p) == own));
        if own_account {
            f.add("EXTERNAL_ID_OWN_ACCOUNT", Severity::Warning, &c.name, format!("the ExternalId statement trusts the connector's own account {own}, not the xpander platform's: any principal of this account allowed sts:AssumeRole that knows the organization id can assume the connector"), Some(stmt), "trust the xpander platform's account (XpanderConnectorRole's trustedAccountId)");
        }
    }
}

/// Size quotas and "Tag roles", for every role.
pub(super) fn check_common(f: &mut Findings, s: &Subject, role: &LiveRole) {
    let quota = s.trust_quota.unwrap_or(TRUST_POLICY_MAX_CHARS);
    let trust = policy_size(&role.trust);
    if trust * 10 > quota * 9 {
        f.add(
            "SIZE_NEAR_QUOTA",
            Severity::Warning,
            &role.name,
            format!("the trust policy is {trust} of {quota} characters"),
            None,
            "shorten it or raise the ACLSizePerRole quota",
        );
    }
    let inline: usize = role.inline_policies.values().map(policy_size).sum();
    if inline * 10 > INLINE_POLICIES_MAX_CHARS * 9 {
        f.add(
            "SIZE_NEAR_QUOTA",
            Severity::Warning,
            &role.name,
            format!("inline policies total {inline} of {INLINE_POLICIES_MAX_CHARS} characters"),
            None,
            "move large policies to managed policies",
        );
    }
    let missing: Vec<&str> = ["Environment", "Project", "ManagedBy"]
        .into_iter()
        .filter(|t| !role.tags.contains_key(*t))
        .collect();
    if !missing.is_empty() {
        f.add(
            "MISSING_TAGS",
            Severity::Info,
            &role.name,
            format!("missing governance tags: {}", missing.join(", ")),
            None,
            "tag roles with Environment, Project and ManagedBy (seed: \"Tag roles\")",
        );
    }
}
