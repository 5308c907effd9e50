//! Policy documents: decoding what IAM returns, a canonical form for semantic
//! equality, and statement-level views for diffs and checks.
//!
//! IAM returns documents URL-encoded, may reorder lists and condition keys,
//! rewrites a bare account id to `arn:<partition>:iam::<id>:root`, and treats a
//! one-element list and a scalar alike. Comparing canonical forms keeps
//! `pulumi preview` free of diffs that never settle.

use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("{0}")]
    Grammar(String),
}

/// Parses a document as IAM returns it (URL-encoded) or as a user wrote it.
pub fn decode_document(text: &str) -> Result<Json, PolicyError> {
    let trimmed = text.trim();
    let decoded = if trimmed.starts_with('%') || !trimmed.starts_with('{') {
        percent_encoding::percent_decode_str(trimmed)
            .decode_utf8()
            .map_err(|e| PolicyError::Json(e.to_string()))?
            .into_owned()
    } else {
        trimmed.to_string()
    };
    serde_json::from_str(&decoded).map_err(|e| PolicyError::Json(e.to_string()))
}

/// The document's statements, whether written as one object or a list.
pub fn statements(doc: &Json) -> Vec<&Json> {
    match doc.get("Statement") {
        Some(Json::Array(items)) => items.iter().collect(),
        Some(obj @ Json::Object(_)) => vec![obj],
        _ => Vec::new(),
    }
}

/// Values of a string-or-list element (`Action`, `Resource`, a principal kind).
pub fn string_list(v: Option<&Json>) -> Vec<String> {
    match v {
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(items)) => items.iter().map(scalar_string).collect(),
        Some(other @ (Json::Bool(_) | Json::Number(_))) => vec![scalar_string(other)],
        _ => Vec::new(),
    }
}

fn scalar_string(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn sorted_set(mut items: Vec<String>) -> Json {
    items.sort();
    items.dedup();
    Json::Array(items.into_iter().map(Json::String).collect())
}

/// A canonical form: equal documents (as IAM evaluates them) canonicalise equal.
pub fn canonicalize(doc: &Json, partition: &str) -> Json {
    let mut out = Map::new();
    if let Some(Json::Object(m)) = Some(doc) {
        for (k, v) in m {
            if k != "Statement" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    let mut stmts: Vec<Json> = statements(doc)
        .into_iter()
        .map(|s| sort_keys(canonical_statement(s, partition)))
        .collect();
    stmts.sort_by_key(|s| s.to_string());
    out.insert("Statement".into(), Json::Array(stmts));
    sort_keys(Json::Object(out))
}

/// Objects with keys in one order, so that the text form (used to order
/// statements) does not depend on how a document was built or parsed.
fn sort_keys(v: Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut entries: Vec<(String, Json)> =
                m.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().collect())
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

fn canonical_statement(stmt: &Json, partition: &str) -> Json {
    let Json::Object(m) = stmt else {
        return stmt.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let canon = match k.as_str() {
            "Sid" if v.as_str() == Some("") => continue,
            "Action" | "NotAction" | "Resource" | "NotResource" => sorted_set(string_list(Some(v))),
            "Principal" | "NotPrincipal" => canonical_principal(v, partition),
            "Condition" => canonical_condition(v),
            _ => v.clone(),
        };
        out.insert(k.clone(), canon);
    }
    Json::Object(out)
}

fn canonical_principal(v: &Json, partition: &str) -> Json {
    match v {
        Json::Object(kinds) => Json::Object(
            kinds
                .iter()
                .map(|(kind, ids)| {
                    let ids = string_list(Some(ids))
                        .into_iter()
                        .map(|id| {
                            if kind == "AWS" && super::arn::is_account_id(&id) {
                                format!("arn:{partition}:iam::{id}:root")
                            } else {
                                id
                            }
                        })
                        .collect();
                    (kind.clone(), sorted_set(ids))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn canonical_condition(v: &Json) -> Json {
    match v {
        Json::Object(ops) => Json::Object(
            ops.iter()
                .map(|(op, keys)| {
                    let keys = match keys {
                        Json::Object(km) => Json::Object(
                            km.iter()
                                .map(|(key, vals)| {
                                    (key.clone(), sorted_set(string_list(Some(vals))))
                                })
                                .collect(),
                        ),
                        other => other.clone(),
                    };
                    (op.clone(), keys)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

pub fn equivalent(a: &Json, b: &Json, partition: &str) -> bool {
    canonicalize(a, partition) == canonicalize(b, partition)
}

/// Which kind of document a grammar check applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A permission (identity) policy: Resource required, Principal forbidden.
    Identity,
    /// A role trust policy: Principal required, Resource forbidden.
    Trust,
}

/// The grammar IAM enforces, checked locally so errors surface at preview.
pub fn check_grammar(doc: &Json, kind: DocumentKind) -> Result<(), PolicyError> {
    let g = |m: String| Err(PolicyError::Grammar(m));
    let Json::Object(top) = doc else {
        return g("a policy document must be a JSON object".into());
    };
    for key in top.keys() {
        if !["Version", "Id", "Statement"].contains(&key.as_str()) {
            return g(format!("unknown top-level element {key:?}"));
        }
    }
    match top.get("Version").and_then(Json::as_str) {
        Some("2012-10-17") | Some("2008-10-17") => {}
        Some(v) => return g(format!("Version must be \"2012-10-17\", got {v:?}")),
        None => return g("Version is required (use \"2012-10-17\")".into()),
    }
    let stmts = statements(doc);
    if stmts.is_empty() {
        return g("Statement must hold at least one statement".into());
    }
    let mut sids = std::collections::BTreeSet::new();
    for (i, s) in stmts.iter().enumerate() {
        let Json::Object(m) = s else {
            return g(format!("Statement[{i}] must be an object"));
        };
        let at = |msg: &str| PolicyError::Grammar(format!("Statement[{i}]: {msg}"));
        for key in m.keys() {
            if ![
                "Sid",
                "Effect",
                "Action",
                "NotAction",
                "Resource",
                "NotResource",
                "Principal",
                "NotPrincipal",
                "Condition",
            ]
            .contains(&key.as_str())
            {
                return Err(at(&format!("unknown element {key:?}")));
            }
        }
        if let Some(sid) = m.get("Sid") {
            let sid = sid.as_str().ok_or_else(|| at("Sid must be a string"))?;
            if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(at(&format!("Sid {sid:?} must be alphanumeric")));
            }
            if !sid.is_empty() && !sids.insert(sid.to_string()) {
                return Err(at(&format!("Sid {sid:?} is used by another statement")));
            }
        }
        match m.get("Effect").and_then(Json::as_str) {
            Some("Allow") | Some("Deny") => {}
            _ => return Err(at("Effect must be \"Allow\" or \"Deny\"")),
        }
        if m.contains_key("Action") == m.contains_key("NotAction") {
            return Err(at("exactly one of Action or NotAction is required"));
        }
        let actions = string_list(m.get("Action").or(m.get("NotAction")));
        if actions.is_empty() {
            return Err(at("Action must name at least one action"));
        }
        for a in &actions {
            if a != "*" && !a.contains(':') {
                return Err(at(&format!(
                    "action {a:?} must look like \"service:Action\""
                )));
            }
        }
        let has_principal = m.contains_key("Principal") || m.contains_key("NotPrincipal");
        let has_resource = m.contains_key("Resource") || m.contains_key("NotResource");
        match kind {
            DocumentKind::Identity => {
                if has_principal {
                    return Err(at("a permission policy must not have Principal"));
                }
                if m.contains_key("Resource") == m.contains_key("NotResource") {
                    return Err(at("exactly one of Resource or NotResource is required"));
                }
            }
            DocumentKind::Trust => {
                if has_resource {
                    return Err(at("a trust policy must not have Resource"));
                }
                if !has_principal {
                    return Err(at("a trust policy statement needs a Principal"));
                }
            }
        }
        if let Some(c) = m.get("Condition") {
            if !c.is_object() {
                return Err(at(
                    "Condition must be an object of operator → {key: values}",
                ));
            }
        }
    }
    Ok(())
}

/// Statements keyed by Sid (or position when unnamed), for statement-level diffs.
pub fn statements_by_sid(doc: &Json) -> Vec<(String, Json)> {
    statements(doc)
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let key = s
                .get("Sid")
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{i}"));
            (key, s.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn url_encoded_documents_decode() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            decode_document(enc).unwrap(),
            json!({"Version": "2012-10-17", "Statement": []})
        );
    }

    #[test]
    fn iam_rewrites_are_equivalent() {
        let ours = json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "X", "Effect": "Allow",
            "Principal": {"AWS": "123456789012", "Service": ["b", "a"]},
            "Action": ["sts:AssumeRole"],
            "Condition": {"StringEquals": {"sts:ExternalId": ["o"]}}
        }]});
        let theirs = json!({"Version": "2012-10-17", "Statement": {
            "Sid": "X", "Effect": "Allow",
            "Principal": {"Service": ["a", "b"], "AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "o"}}
        }});
        assert!(equivalent(&ours, &theirs, "aws"));
        let other = json!({"Version": "2012-10-17", "Statement": {"Sid": "X", "Effect": "Deny",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}});
        assert!(!equivalent(&ours, &other, "aws"));
    }

    #[test]
    fn grammar_names_the_problem() {
        let no_resource = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]});
        let e = check_grammar(&no_resource, DocumentKind::Identity).unwrap_err();
        assert!(e.to_string().contains("Resource"));
        let principal_in_identity = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}]});
        assert!(check_grammar(&principal_in_identity, DocumentKind::Identity).is_err());
        let dup = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        assert!(check_grammar(&dup, DocumentKind::Identity)
            .unwrap_err()
            .to_string()
            .contains("Sid"));
    }

    fn reverse_keys(v: &Json) -> Json {
        match v {
            Json::Object(m) => Json::Object(
                m.iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), reverse_keys(v)))
                    .collect(),
            ),
            Json::Array(items) => Json::Array(items.iter().map(reverse_keys).collect()),
            other => other.clone(),
        }
    }

    fn arb_statement() -> impl Strategy<Value = Json> {
        (
            proptest::collection::vec("[a-z]{2,4}:[A-Z][a-z]{1,5}", 1..4),
            proptest::collection::vec("arn:aws:s3:::[a-z]{1,6}", 1..4),
            any::<bool>(),
        )
            .prop_map(|(actions, resources, allow)| {
                json!({"Effect": if allow {"Allow"} else {"Deny"}, "Action": actions, "Resource": resources})
            })
    }

    proptest! {
        #[test]
        fn canonical_form_ignores_order_and_is_idempotent(stmts in proptest::collection::vec(arb_statement(), 1..5)) {
            let doc = json!({"Version": "2012-10-17", "Statement": stmts.clone()});
            let mut reversed: Vec<Json> = stmts.into_iter().rev().collect();
            for s in reversed.iter_mut() {
                if let Some(Json::Array(a)) = s.get_mut("Action") { a.reverse(); }
            }
            let doc2 = json!({"Version": "2012-10-17", "Statement": reversed});
            prop_assert!(equivalent(&doc, &doc2, "aws"));
            let c = canonicalize(&doc, "aws");
            prop_assert_eq!(canonicalize(&c, "aws"), c);
        }

        #[test]
        fn key_order_does_not_matter(stmts in proptest::collection::vec(arb_statement(), 1..5)) {
            let doc = json!({"Version": "2012-10-17", "Statement": stmts});
            let reordered: Json = serde_json::from_str(&reverse_keys(&doc).to_string()).unwrap();
            prop_assert!(equivalent(&doc, &reordered, "aws"));
        }

        #[test]
        fn decoding_arbitrary_text_never_panics(s in ".{0,200}") {
            let _ = decode_document(&s);
        }
    }
}
