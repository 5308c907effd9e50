//! `secretsManager`: read the secrets that hold connector credentials
//! (`SecretsManagerAccess`), and decrypt them with their customer managed
//! key only through Secrets Manager (`kms:ViaService`).

use std::collections::BTreeSet;

use serde_json::{json, Value as Json};

use super::{strings, DataSource, Kind, Rules};
use crate::iam::arn::AccountContext;
use crate::iam::templates::document;
use crate::model::spec::{declare, Key};

pub const POLICY: &str = "SecretsManagerAccess";
/// Secrets Manager appends `-` and six characters to a secret's name; this
/// pattern matches exactly that suffix, so it does not widen the grant.
const RANDOM_SUFFIX: &str = "-??????";

declare! {
    pub struct SecretsManager as "SecretsManager", "Secrets holding connector credentials, read by the connector." {
        "secretArns" secret_arns: Vec<String> [required] => "ARNs of the secrets (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`); a name may end in `-??????` to match its random suffix.",
        "kmsKeyArn" kms_key_arn: String => "ARN of the customer managed KMS key that encrypts the secrets: `kms:Decrypt` on it, only through Secrets Manager. Not needed for the AWS managed key `aws/secretsmanager`.",
    }
}

impl SecretsManager {
    pub const DESCRIPTION: &'static str = "Secrets Manager permissions: read the listed secrets (`SecretsManagerAccess`), and decrypt them with their KMS key only through Secrets Manager.";
}

/// (partition, region) of `arn:<partition>:<service>:<region>:<account>:<kind><sep>…`.
fn located<'a>(arn: &'a str, service: &str, kind: &str) -> Option<(&'a str, &'a str)> {
    let p = crate::iam::arn::split_arn(arn)?;
    let ok = p.service == service
        && !p.partition.is_empty()
        && !p.region.is_empty()
        && crate::iam::arn::is_account_id(p.account)
        && p.resource.len() > kind.len()
        && p.resource.starts_with(kind);
    ok.then_some((p.partition, p.region))
}

fn secret(arn: &str) -> Option<(&str, &str)> {
    located(arn, "secretsmanager", "secret:")
}

fn key(arn: &str) -> Option<(&str, &str)> {
    located(arn, "kms", "key/")
}

impl Kind for SecretsManager {
    const POLICY_NAMES: &'static [&'static str] = &[POLICY];
    const SCOPED_ACTIONS: &'static [&'static str] = &[
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "kms:Decrypt",
    ];

    fn variants() -> Vec<(Key, Vec<Json>)> {
        vec![
            (
                SecretsManager::secret_arns,
                vec![json!(["arn:aws:secretsmanager:us-east-1:123456789012:secret:xpander/redshift-AbCdEf"]), json!(["arn:aws:secretsmanager:us-east-1:123456789012:secret:xpander/redshift-AbCdEf", "arn:aws:secretsmanager:us-east-1:123456789012:secret:xpander/athena-??????"])],
            ),
            (SecretsManager::kms_key_arn, vec![Json::Null, json!("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")]),
        ]
    }

    fn wildcard() -> Option<Json> {
        Some(
            json!({"secretArns": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:xpander/*"]}),
        )
    }
}

impl DataSource for SecretsManager {
    fn validate(&self, rules: &mut Rules<'_>) {
        let arns = strings(&self.secret_arns);
        rules.not_empty(SecretsManager::secret_arns, &arns, "secret ARN");
        let mut regions = BTreeSet::new();
        let secrets = rules.path(SecretsManager::secret_arns);
        for (i, arn) in arns.iter().enumerate() {
            let path = format!("{secrets}[{i}]");
            if !rules.identifier(&path, arn.strip_suffix(RANDOM_SUFFIX).unwrap_or(arn)) {
                continue;
            }
            match secret(arn) {
                Some((_, region)) => {
                    regions.insert(region.to_string());
                }
                None => rules.fail(&path, format!("{path}: {arn:?} is not a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)")),
            }
        }
        if let Some(k) = &self.kms_key_arn {
            let path = &rules.path(SecretsManager::kms_key_arn);
            match key(k) {
                None if k.contains(":alias/") => rules.fail(path, format!("{path}: {k:?} is an alias; IAM authorises kms:Decrypt on the key itself: give the key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)")),
                None => rules.fail(path, format!("{path}: {k:?} is not a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)")),
                Some((_, region)) if !regions.is_empty() && !regions.contains(region) => rules.fail(
                    path,
                    format!("{path}: the key is in {region} but the secrets are in {}; a secret is encrypted with a key of its own Region", regions.into_iter().collect::<Vec<_>>().join(", ")),
                ),
                Some(_) => {}
            }
        }
    }

    fn policies(&self, _ctx: &AccountContext) -> Vec<(&'static str, Json)> {
        let arns = strings(&self.secret_arns);
        let mut statements = vec![json!({
            "Sid": "SecretsRead",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": arns,
        })];
        if let Some(k) = &self.kms_key_arn {
            let services: BTreeSet<String> = arns
                .iter()
                .filter_map(|a| secret(a))
                .map(|(partition, region)| {
                    let suffix = if partition == "aws-cn" {
                        "amazonaws.com.cn"
                    } else {
                        "amazonaws.com"
                    };
                    format!("secretsmanager.{region}.{suffix}")
                })
                .collect();
            statements.push(json!({
                "Sid": "SecretsDecrypt",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": k,
                "Condition": {"StringEquals": {"kms:ViaService": services.into_iter().collect::<Vec<_>>()}},
            }));
        }
        vec![(POLICY, document(statements))]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{judge, rendered};
    use super::*;

    const SECRET: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:xpander/redshift-AbCdEf";
    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn source(key: Option<&str>) -> SecretsManager {
        SecretsManager {
            secret_arns: Some(vec![SECRET.into()]),
            kms_key_arn: key.map(str::to_string),
        }
    }

    #[test]
    fn reads_the_secrets_and_decrypts_only_through_secrets_manager() {
        let doc = rendered(&source(None)).remove(0).1;
        assert_eq!(crate::iam::policy::statements(&doc).len(), 1);
        let doc = rendered(&source(Some(KEY))).remove(0).1;
        let decrypt = &crate::iam::policy::statements(&doc)[1];
        assert_eq!(decrypt["Resource"], KEY);
        assert_eq!(
            decrypt["Condition"]["StringEquals"]["kms:ViaService"],
            json!(["secretsmanager.us-east-1.amazonaws.com"])
        );
    }

    #[test]
    fn the_random_suffix_pattern_is_not_a_widening_wildcard() {
        let suffixed = SecretsManager {
            secret_arns: Some(vec![
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:xpander/redshift-??????"
                    .into(),
            ]),
            kms_key_arn: None,
        };
        assert!(judge(&suffixed, false).0.is_empty());
        let star = SecretsManager {
            secret_arns: Some(vec![
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:*".into(),
            ]),
            kms_key_arn: None,
        };
        assert_eq!(
            judge(&star, false).0[0].property,
            "secretsManager.secretArns[0]"
        );
    }

    #[test]
    fn keys_must_be_key_arns_in_the_secrets_region() {
        let alias = judge(
            &source(Some("arn:aws:kms:us-east-1:123456789012:alias/x")),
            false,
        )
        .0;
        assert!(alias[0].reason.contains("alias"));
        let elsewhere = judge(&source(Some(&KEY.replace("us-east-1", "eu-west-1"))), false).0;
        assert!(elsewhere[0].reason.contains("own Region"), "{elsewhere:?}");
        let not_secret = SecretsManager {
            secret_arns: Some(vec!["arn:aws:s3:::bucket".into()]),
            kms_key_arn: None,
        };
        assert_eq!(judge(&not_secret, false).0.len(), 1);
    }
}
