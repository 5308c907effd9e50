//! `s3`: buckets and prefixes, read-only unless asked (`S3Access`).

use serde_json::{json, Value as Json};

use super::{strings, DataSource, Kind, Rules};
use crate::iam::arn::AccountContext;
use crate::iam::templates::document;
use crate::model::spec::{declare, Key};

pub const POLICY: &str = "S3Access";
/// Least privilege by default: writes only when asked.
pub const DEFAULT_READ_ONLY: bool = true;

declare! {
    pub struct S3 as "S3", "S3 buckets the connector reads (and writes unless read-only)." {
        "buckets" buckets: Vec<String> [required] => "Bucket names.",
        "prefixes" prefixes: Vec<String> => "Key prefixes to restrict object access to.",
        "readOnly" read_only: bool [default_bool = DEFAULT_READ_ONLY] => "Only read objects (the default, least privilege); `false` adds PutObject and DeleteObject.",
    }
}

impl S3 {
    pub const DESCRIPTION: &'static str =
        "S3 permissions scoped to buckets and prefixes (`S3Access`).";
}

impl Kind for S3 {
    const POLICY_NAMES: &'static [&'static str] = &[POLICY];
    const SCOPED_ACTIONS: &'static [&'static str] = &[
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
    ];

    fn variants() -> Vec<(Key, Vec<Json>)> {
        vec![
            (
                S3::buckets,
                vec![
                    json!(["xpander-data"]),
                    json!(["xpander-data", "xpander-exports"]),
                ],
            ),
            (
                S3::prefixes,
                vec![
                    Json::Null,
                    json!(["reports/"]),
                    json!(["reports/", "exports/2026/"]),
                ],
            ),
            (S3::read_only, vec![Json::Null, json!(true), json!(false)]),
        ]
    }

    fn wildcard() -> Option<Json> {
        Some(json!({"buckets": ["xpander-*"], "prefixes": ["team-?/"], "readOnly": false}))
    }
}

impl DataSource for S3 {
    fn validate(&self, rules: &mut Rules<'_>) {
        let buckets = strings(&self.buckets);
        rules.not_empty(S3::buckets, &buckets, "bucket");
        rules.buckets(S3::buckets, &buckets);
        rules.identifiers(S3::prefixes, &strings(&self.prefixes));
    }

    fn policies(&self, ctx: &AccountContext) -> Vec<(&'static str, Json)> {
        vec![(
            POLICY,
            access(
                ctx,
                &strings(&self.buckets),
                &strings(&self.prefixes),
                self.read_only.unwrap_or(DEFAULT_READ_ONLY),
            ),
        )]
    }
}

fn access(ctx: &AccountContext, buckets: &[String], prefixes: &[String], read_only: bool) -> Json {
    let p = &ctx.partition;
    let bucket_arns: Vec<String> = buckets
        .iter()
        .map(|b| format!("arn:{p}:s3:::{b}"))
        .collect();
    let object_arns: Vec<String> = buckets
        .iter()
        .flat_map(|b| {
            if prefixes.is_empty() {
                vec![format!("arn:{p}:s3:::{b}/*")]
            } else {
                prefixes
                    .iter()
                    .map(|x| format!("arn:{p}:s3:::{b}/{x}*"))
                    .collect()
            }
        })
        .collect();
    let mut statements = if prefixes.is_empty() {
        vec![json!({
            "Sid": "S3ListBuckets",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": bucket_arns,
        })]
    } else {
        // `s3:prefix` is a condition key of s3:ListBucket only: in a shared
        // statement it would never match for GetBucketLocation.
        let like: Vec<String> = prefixes.iter().map(|x| format!("{x}*")).collect();
        vec![
            json!({
                "Sid": "S3ListBuckets",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arns,
                "Condition": {"StringLike": {"s3:prefix": like}},
            }),
            json!({
                "Sid": "S3BucketLocation",
                "Effect": "Allow",
                "Action": "s3:GetBucketLocation",
                "Resource": bucket_arns,
            }),
        ]
    };
    let mut actions = vec!["s3:GetObject"];
    if !read_only {
        actions.extend(["s3:PutObject", "s3:DeleteObject"]);
    }
    statements.push(
        json!({"Sid": "S3ObjectAccess", "Effect": "Allow", "Action": actions, "Resource": object_arns}),
    );
    document(statements)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{actions, judge, rendered};
    use super::*;

    fn source(prefixes: &[&str]) -> S3 {
        S3 {
            buckets: Some(vec!["xpander-data".into()]),
            prefixes: Some(prefixes.iter().map(|p| p.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn prefix_condition_covers_list_bucket_only() {
        let doc = &rendered(&source(&["reports/"]))[0].1;
        for s in crate::iam::policy::statements(doc) {
            let acts = crate::iam::policy::string_list(s.get("Action"));
            if s.get("Condition").is_some() {
                assert_eq!(acts, ["s3:ListBucket"], "{s}");
            }
        }
        let location = crate::iam::policy::statements(doc)
            .into_iter()
            .find(|s| crate::iam::policy::string_list(s.get("Action")) == ["s3:GetBucketLocation"])
            .expect("GetBucketLocation has a statement of its own");
        assert!(location.get("Condition").is_none());
    }

    #[test]
    fn read_only_by_default() {
        let doc = &rendered(&source(&[]))[0].1;
        assert!(!actions(doc).contains("s3:PutObject"));
        let writer = S3 {
            read_only: Some(false),
            ..source(&[])
        };
        assert!(actions(&rendered(&writer)[0].1).contains("s3:PutObject"));
    }

    #[test]
    fn bucket_names_and_wildcards_are_checked() {
        let bad = S3 {
            buckets: Some(vec!["Not_A_Bucket".into(), "logs-*".into()]),
            prefixes: Some(vec!["*".into()]),
            ..Default::default()
        };
        let (failures, _) = judge(&bad, false);
        let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(paths, ["s3.buckets[0]", "s3.buckets[1]", "s3.prefixes[0]"]);
        let (failures, _) = judge(
            &S3 {
                buckets: Some(vec![]),
                ..Default::default()
            },
            false,
        );
        assert_eq!(failures[0].reason, "s3.buckets needs at least one bucket");
    }
}
