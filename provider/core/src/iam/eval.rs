//! A small IAM policy evaluator: enough of the language to answer "does this
//! trust policy admit that principal for that action?" and "does this
//! identity policy allow that action on that resource?", which is how the
//! doctor finds the seed's Troubleshooting causes instead of searching text.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::policy::{statements, string_list};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    /// An IAM role or user ARN, or an account root ARN.
    Aws(&'a str),
    Service(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub action: &'a str,
    /// Set for trust (resource) policies.
    pub principal: Option<Principal<'a>>,
    /// Set for identity policies.
    pub resource: Option<&'a str>,
    /// Condition keys the request carries (e.g. `sts:ExternalId`).
    pub context: BTreeMap<String, Vec<String>>,
}

impl<'a> Request<'a> {
    pub fn trust(action: &'a str, principal: Principal<'a>) -> Self {
        Request {
            action,
            principal: Some(principal),
            resource: None,
            context: BTreeMap::new(),
        }
    }

    pub fn identity(action: &'a str, resource: &'a str) -> Self {
        Request {
            action,
            principal: None,
            resource: Some(resource),
            context: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.context
            .entry(key.to_string())
            .or_default()
            .push(value.to_string());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// Glob match with `*` and `?` (IAM's wildcards).
pub fn glob(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = if case_insensitive {
        (
            pattern.to_lowercase().chars().collect(),
            value.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), value.chars().collect())
    };
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

fn principal_matches(spec: &Json, who: Principal<'_>) -> bool {
    if spec.as_str() == Some("*") {
        return true;
    }
    let Some(kinds) = spec.as_object() else {
        return false;
    };
    match who {
        Principal::Service(svc) => string_list(kinds.get("Service")).iter().any(|s| s == svc),
        Principal::Aws(arn) => string_list(kinds.get("AWS")).iter().any(|p| {
            p == "*"
                || p == arn
                || (super::arn::is_account_id(p) && account_of(arn) == Some(p.as_str()))
                || (p.ends_with(":root")
                    && account_of(p) == account_of(arn)
                    && account_of(arn).is_some())
        }),
    }
}

fn condition_holds(conditions: &Json, context: &BTreeMap<String, Vec<String>>) -> bool {
    let Some(ops) = conditions.as_object() else {
        return false;
    };
    ops.iter().all(|(op, keys)| {
        let Some(keys) = keys.as_object() else {
            return false;
        };
        let (set_op, op) = match op.split_once(':') {
            Some((q, rest)) => (Some(q), rest),
            None => (None, op.as_str()),
        };
        let (op, if_exists) = match op.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (op, false),
        };
        keys.iter().all(|(key, expected)| {
            let expected = string_list(Some(expected));
            let actual = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v);
            let Some(actual) = actual else {
                return match op {
                    "Null" => expected.iter().any(|e| e == "true"),
                    _ => if_exists || op.contains("Not"),
                };
            };
            let one = |value: &str| match op {
                "StringEquals" | "ArnEquals" => expected.iter().any(|e| e == value),
                "StringEqualsIgnoreCase" => expected.iter().any(|e| e.eq_ignore_ascii_case(value)),
                "StringLike" | "ArnLike" => expected.iter().any(|e| glob(e, value, false)),
                "StringNotEquals" | "ArnNotEquals" => expected.iter().all(|e| e != value),
                "StringNotLike" | "ArnNotLike" => expected.iter().all(|e| !glob(e, value, false)),
                "Bool" => expected.iter().any(|e| e.eq_ignore_ascii_case(value)),
                "Null" => expected.iter().any(|e| e == "false"),
                _ => false,
            };
            match set_op {
                Some("ForAllValues") => actual.iter().all(|v| one(v)),
                _ => actual.iter().any(|v| one(v)),
            }
        })
    })
}

/// Whether one statement applies to the request (its Effect aside).
pub fn statement_applies(stmt: &Json, req: &Request<'_>) -> bool {
    let action_ok = match (stmt.get("Action"), stmt.get("NotAction")) {
        (Some(a), _) => string_list(Some(a))
            .iter()
            .any(|p| glob(p, req.action, true)),
        (None, Some(n)) => !string_list(Some(n))
            .iter()
            .any(|p| glob(p, req.action, true)),
        _ => false,
    };
    if !action_ok {
        return false;
    }
    if let Some(resource) = req.resource {
        let ok = match (stmt.get("Resource"), stmt.get("NotResource")) {
            (Some(r), _) => string_list(Some(r))
                .iter()
                .any(|p| glob(p, resource, false)),
            (None, Some(n)) => !string_list(Some(n))
                .iter()
                .any(|p| glob(p, resource, false)),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    if let Some(who) = req.principal {
        let ok = match (stmt.get("Principal"), stmt.get("NotPrincipal")) {
            (Some(p), _) => principal_matches(p, who),
            (None, Some(n)) => !principal_matches(n, who),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    stmt.get("Condition")
        .is_none_or(|c| condition_holds(c, &req.context))
}

/// Explicit deny wins, then any allow, else implicit deny.
pub fn evaluate<'d>(docs: impl IntoIterator<Item = &'d Json>, req: &Request<'_>) -> Decision {
    let mut allowed = false;
    for doc in docs {
        for stmt in statements(doc) {
            if !statement_applies(stmt, req) {
                continue;
            }
            match stmt.get("Effect").and_then(Json::as_str) {
                Some("Deny") => return Decision::ExplicitDeny,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// The statements that would allow the request if their conditions held:
/// used to name the condition that blocks it.
pub fn blocked_by_condition<'d>(
    docs: impl IntoIterator<Item = &'d Json>,
    req: &Request<'_>,
) -> Vec<&'d Json> {
    let unconditioned = Request {
        context: BTreeMap::new(),
        ..req.clone()
    };
    let mut out = Vec::new();
    for doc in docs {
        for stmt in statements(doc) {
            if stmt.get("Effect").and_then(Json::as_str) != Some("Allow")
                || stmt.get("Condition").is_none()
            {
                continue;
            }
            let mut stripped = stmt.clone();
            if let Some(m) = stripped.as_object_mut() {
                m.remove("Condition");
            }
            if statement_applies(&stripped, &unconditioned) && !statement_applies(stmt, req) {
                out.push(stmt);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const BASE: &str = "arn:aws:iam::123456789012:role/xpander-base-role";

    #[test]
    fn trust_with_external_id_blocks_internal_calls() {
        let trust = json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "AllowFromBaseRole", "Effect": "Allow", "Principal": {"AWS": BASE},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"sts:ExternalId": "org-1"}}}]});
        let req = Request::trust("sts:AssumeRole", Principal::Aws(BASE));
        assert_eq!(evaluate([&trust], &req), Decision::ImplicitDeny);
        assert_eq!(blocked_by_condition([&trust], &req).len(), 1);
        assert_eq!(
            evaluate([&trust], &req.clone().with("sts:ExternalId", "org-1")),
            Decision::Allow
        );
    }

    #[test]
    fn account_principals_and_services() {
        let trust = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:*"},
            {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:TagSession"}]});
        assert_eq!(
            evaluate(
                [&trust],
                &Request::trust("sts:AssumeRole", Principal::Aws(BASE))
            ),
            Decision::Allow
        );
        assert_eq!(
            evaluate(
                [&trust],
                &Request::trust(
                    "sts:AssumeRole",
                    Principal::Aws("arn:aws:iam::999999999999:role/x")
                )
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(
                [&trust],
                &Request::trust(
                    "sts:TagSession",
                    Principal::Service("pods.eks.amazonaws.com")
                )
            ),
            Decision::Allow
        );
    }

    #[test]
    fn identity_resources_and_denies() {
        let p = json!({"Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::123456789012:role/xpander-*"},
            {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::123456789012:role/xpander-secret"}]});
        assert_eq!(
            evaluate(
                [&p],
                &Request::identity(
                    "sts:assumerole",
                    "arn:aws:iam::123456789012:role/xpander-eks"
                )
            ),
            Decision::Allow
        );
        assert_eq!(
            evaluate(
                [&p],
                &Request::identity(
                    "sts:AssumeRole",
                    "arn:aws:iam::123456789012:role/xpander-secret"
                )
            ),
            Decision::ExplicitDeny
        );
        assert_eq!(
            evaluate(
                [&p],
                &Request::identity(
                    "sts:TagSession",
                    "arn:aws:iam::123456789012:role/xpander-eks"
                )
            ),
            Decision::ImplicitDeny
        );
    }

    proptest! {
        #[test]
        fn star_matches_everything(v in ".{0,30}") {
            prop_assert!(glob("*", &v, false));
            prop_assert!(glob(&v.replace(['*', '?'], ""), &v.replace(['*', '?'], ""), false));
        }
    }
}
