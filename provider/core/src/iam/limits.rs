//! IAM and EKS naming rules and size quotas, checked before any AWS call so a
//! bad input fails in `pulumi preview` with the property and the rule named.

/// Default trust-policy quota (ACLSizePerRole); adjustable per account.
pub const TRUST_POLICY_MAX_CHARS: usize = 2048;
/// Aggregate size of all inline policies of one role.
pub const INLINE_POLICIES_MAX_CHARS: usize = 10_240;
/// AWS's ceiling for AttachedPoliciesPerRoleQuota (10 by default): Check uses
/// the account's own quota once the provider has read it.
pub const MANAGED_POLICIES_PER_ROLE_MAX: usize = 20;
pub const MAX_TAGS: usize = 50;
pub const ROLE_NAME_MAX: usize = 64;
pub const DESCRIPTION_MAX: usize = 1000;
pub const SESSION_MIN_SECS: i64 = 3600;
pub const SESSION_MAX_SECS: i64 = 43_200;

fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

pub fn check_role_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > ROLE_NAME_MAX {
        return Err(format!(
            "must be 1-{ROLE_NAME_MAX} characters, got {}",
            name.len()
        ));
    }
    if !name.chars().all(is_iam_name_char) {
        return Err("may contain only letters, digits and _+=,.@-".into());
    }
    Ok(())
}

pub fn check_policy_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 128 {
        return Err(format!(
            "policy name must be 1-128 characters, got {}",
            name.len()
        ));
    }
    if !name.chars().all(is_iam_name_char) {
        return Err(format!(
            "policy name {name:?} may contain only letters, digits and _+=,.@-"
        ));
    }
    Ok(())
}

pub fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.len() > 512 {
        return Err("must be 1-512 characters".into());
    }
    if !(path.starts_with('/') && path.ends_with('/')) {
        return Err("must be \"/\" or begin and end with \"/\"".into());
    }
    if !path.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c)) {
        return Err("may contain only printable ASCII characters without spaces".into());
    }
    Ok(())
}

pub fn check_description(d: &str) -> Result<(), String> {
    if d.chars().count() > DESCRIPTION_MAX {
        return Err(format!("must be at most {DESCRIPTION_MAX} characters"));
    }
    if d.chars()
        .any(|c| matches!(c, '\u{201c}' | '\u{201d}' | '\u{2018}' | '\u{2019}'))
    {
        return Err("must not contain curly quotes (IAM rejects them)".into());
    }
    Ok(())
}

pub fn check_session_duration(secs: i64) -> Result<(), String> {
    if !(SESSION_MIN_SECS..=SESSION_MAX_SECS).contains(&secs) {
        return Err(format!(
            "must be between {SESSION_MIN_SECS} and {SESSION_MAX_SECS} seconds, got {secs}"
        ));
    }
    Ok(())
}

/// ExternalId: 2-1,224 characters of `[\w+=,.@:/-]`. The value is never echoed.
pub fn check_external_id(x: &str) -> Result<(), String> {
    let n = x.chars().count();
    if !(2..=1224).contains(&n) {
        return Err(format!("must be 2-1224 characters (got {n})"));
    }
    if !x
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c))
    {
        return Err("may contain only letters, digits and _+=,.@:/- (no whitespace)".into());
    }
    Ok(())
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c)
}

pub fn check_tag(key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(format!("tag key {key:?} must be 1-128 characters"));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!("tag key {key:?} uses the reserved prefix \"aws:\""));
    }
    if value.chars().count() > 256 {
        return Err(format!("tag {key:?}: value must be at most 256 characters"));
    }
    if !key.chars().all(is_tag_char) {
        return Err(format!(
            "tag key {key:?} may contain only letters, digits, spaces and _.:/=+-@"
        ));
    }
    if !value.chars().all(is_tag_char) {
        return Err(format!(
            "tag {key:?}: value may contain only letters, digits, spaces and _.:/=+-@"
        ));
    }
    Ok(())
}

/// Tag keys that differ only by case collide in IAM.
pub fn check_tag_set<'a>(keys: impl IntoIterator<Item = &'a String>) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut count = 0;
    for k in keys {
        count += 1;
        if !seen.insert(k.to_lowercase()) {
            return Err(format!(
                "tag keys must be unique ignoring case; {k:?} repeats another key"
            ));
        }
    }
    if count > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags per role, got {count}"));
    }
    Ok(())
}

/// EKS cluster names: 1-100 characters, alphanumeric start, then [A-Za-z0-9_-].
pub fn check_cluster_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a valid EKS cluster name (1-100 characters: letters, digits, - and _, starting alphanumeric)"))
    }
}

/// Kubernetes namespace: a DNS-1123 label.
pub fn check_namespace(ns: &str) -> Result<(), String> {
    if is_dns_label(ns) {
        Ok(())
    } else {
        Err(format!("{ns:?} is not a valid Kubernetes namespace (DNS-1123 label: at most 63 lowercase letters, digits and -)"))
    }
}

/// Kubernetes service account: a DNS-1123 subdomain.
pub fn check_service_account(sa: &str) -> Result<(), String> {
    let ok = !sa.is_empty() && sa.len() <= 253 && sa.split('.').all(is_dns_label);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{sa:?} is not a valid Kubernetes service account name (DNS-1123 subdomain)"
        ))
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// IAM counts policy size without whitespace.
pub fn policy_size(doc: &serde_json::Value) -> usize {
    serde_json::to_string(doc)
        .map(|s| s.chars().filter(|c| !c.is_whitespace()).count())
        .unwrap_or(0)
}

/// An AWS region name (`us-east-1`, `us-gov-west-1`), by its shape.
pub fn is_region_name(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names() {
        assert!(check_role_name("xpander-base-role").is_ok());
        assert!(check_role_name(&"a".repeat(64)).is_ok());
        assert!(check_role_name(&"a".repeat(65)).is_err());
        assert!(check_role_name("has space").is_err());
        assert!(check_role_name("").is_err());
    }

    #[test]
    fn paths() {
        assert!(check_path("/").is_ok());
        assert!(check_path("/team/xpander/").is_ok());
        assert!(check_path("team/").is_err());
        assert!(check_path("/a b/").is_err());
    }

    #[test]
    fn external_ids_never_echo_the_value() {
        let e = check_external_id("has space").unwrap_err();
        assert!(!e.contains("has space"));
        assert!(check_external_id("org-1234:abc").is_ok());
        assert!(check_external_id("x").is_err());
    }

    #[test]
    fn tags() {
        assert!(check_tag("Environment", "prod").is_ok());
        assert!(check_tag("aws:thing", "x").is_err());
        assert!(check_tag("k", &"v".repeat(257)).is_err());
        assert!(check_tag_set(&["Env".to_string(), "env".to_string()]).is_err());
    }

    #[test]
    fn kubernetes_names() {
        assert!(check_namespace("xpander").is_ok());
        assert!(check_namespace("Xpander").is_err());
        assert!(check_service_account("xpander.sa").is_ok());
        assert!(check_cluster_name("prod-eks_1").is_ok());
        assert!(check_cluster_name("-bad").is_err());
    }

    #[test]
    fn sizes_ignore_whitespace() {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": []});
        assert_eq!(
            policy_size(&doc),
            r#"{"Version":"2012-10-17","Statement":[]}"#.len()
        );
    }

    #[test]
    fn region_names() {
        assert!(is_region_name("us-east-1"));
        assert!(is_region_name("us-gov-west-1"));
        assert!(!is_region_name("useast1"));
        assert!(!is_region_name("us-east-x"));
    }
}
