//! Partition-aware ARNs for the objects this provider names.

/// The AWS partition a region belongs to; ARNs must use it or IAM rejects them.
pub fn partition_for_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

/// Where the role lives: what every ARN we build is relative to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountContext {
    pub partition: String,
    pub account_id: String,
    pub region: String,
}

impl AccountContext {
    pub fn role_arn(&self, path: &str, name: &str) -> String {
        format!(
            "arn:{}:iam::{}:role{}{}",
            self.partition, self.account_id, path, name
        )
    }

    pub fn account_root(&self, account_id: &str) -> String {
        format!("arn:{}:iam::{}:root", self.partition, account_id)
    }

    /// An EKS cluster of this account, in this context's region.
    pub fn cluster_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:eks:{}:{}:cluster/{name}",
            self.partition, self.region, self.account_id
        )
    }

    pub fn eks_access_policy_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:eks::aws:cluster-access-policy/{}",
            self.partition, name
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArn {
    pub partition: String,
    pub account_id: String,
    pub path: String,
    pub name: String,
}

/// The fields of `arn:<partition>:<service>:<region>:<account>:<resource>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnParts<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    /// Everything after the fifth colon (it may hold colons of its own).
    pub resource: &'a str,
}

pub fn split_arn(arn: &str) -> Option<ArnParts<'_>> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    Some(ArnParts {
        partition: parts.next()?,
        service: parts.next()?,
        region: parts.next()?,
        account: parts.next()?,
        resource: parts.next()?,
    })
}

/// Parses `arn:<partition>:iam::<account>:role/<path/>name`.
pub fn parse_role_arn(arn: &str) -> Option<RoleArn> {
    let ArnParts {
        partition,
        service,
        region,
        account,
        resource,
    } = split_arn(arn)?;
    if service != "iam" || !region.is_empty() || partition.is_empty() {
        return None;
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let rest = resource.strip_prefix("role/")?;
    let (path, name) = match rest.rfind('/') {
        Some(i) => (format!("/{}", &rest[..=i]), &rest[i + 1..]),
        None => ("/".to_string(), rest),
    };
    if name.is_empty() {
        return None;
    }
    Some(RoleArn {
        partition: partition.into(),
        account_id: account.into(),
        path,
        name: name.into(),
    })
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
}

/// A managed policy ARN: `arn:<partition>:iam::(aws|<account>):policy/...`.
pub fn is_policy_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[3].is_empty()
        && (parts[4] == "aws" || is_account_id(parts[4]))
        && parts[5].starts_with("policy/")
        && parts[5].len() > "policy/".len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_with_and_without_path() {
        let a = parse_role_arn("arn:aws:iam::123456789012:role/xpander-base-role").unwrap();
        assert_eq!(
            (a.path.as_str(), a.name.as_str()),
            ("/", "xpander-base-role")
        );
        let b = parse_role_arn("arn:aws-cn:iam::123456789012:role/team/a/conn").unwrap();
        assert_eq!(
            (b.partition.as_str(), b.path.as_str(), b.name.as_str()),
            ("aws-cn", "/team/a/", "conn")
        );
        assert!(parse_role_arn("arn:aws:iam::123:role/x").is_none());
        assert!(parse_role_arn("arn:aws:iam::123456789012:user/x").is_none());
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/").is_none());
    }

    #[test]
    fn role_arn_round_trip() {
        let ctx = AccountContext {
            partition: "aws-us-gov".into(),
            account_id: "123456789012".into(),
            region: "us-gov-west-1".into(),
        };
        let arn = ctx.role_arn("/x/", "r");
        assert_eq!(arn, "arn:aws-us-gov:iam::123456789012:role/x/r");
        let p = parse_role_arn(&arn).unwrap();
        assert_eq!((p.path.as_str(), p.name.as_str()), ("/x/", "r"));
    }

    #[test]
    fn partitions() {
        assert_eq!(partition_for_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_for_region("us-gov-east-1"), "aws-us-gov");
        assert_eq!(partition_for_region("eu-west-1"), "aws");
    }

    #[test]
    fn policy_arns() {
        assert!(is_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess"));
        assert!(is_policy_arn("arn:aws:iam::123456789012:policy/team/x"));
        assert!(!is_policy_arn("arn:aws:iam::aws:role/x"));
    }
}
