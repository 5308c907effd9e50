//! `bedrock`: model invocation for the xpander AI Gateway (`BedrockAccess`).
//! `bedrock:InvokeModel` and `bedrock:InvokeModelWithResponseStream` also
//! authorise the Converse and ConverseStream APIs (they have no IAM action
//! of their own). A cross-Region inference profile routes each request to a
//! foundation model in one of its destination Regions, and IAM checks that
//! model too: the role gets those models, usable only through the profile.

use std::collections::BTreeSet;

use serde_json::{json, Value as Json};

use super::{strings, DataSource, Kind, OwnRole, Rules};
use crate::iam::arn::AccountContext;
use crate::iam::templates::document;
use crate::model::spec::{declare, Key};

pub const POLICY: &str = "BedrockAccess";
const ACTIONS: [&str; 2] = [
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
];

/// Destination Regions of the system-defined cross-Region inference profiles,
/// by the geography prefix of their id (`us.anthropic…`). A model may route to
/// fewer of them; granting the geography's set keeps every route working.
/// Global profiles route to every commercial Region: their Regions are listed
/// by the user (`destinationRegions`).
const GEOGRAPHIES: &[(&str, &[&str])] = &[
    ("us", &["us-east-1", "us-east-2", "us-west-2"]),
    ("us-gov", &["us-gov-east-1", "us-gov-west-1"]),
    (
        "eu",
        &[
            "eu-central-1",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-3",
        ],
    ),
    (
        "apac",
        &[
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-4",
        ],
    ),
    ("jp", &["ap-northeast-1", "ap-northeast-3"]),
    ("au", &["ap-southeast-2", "ap-southeast-4"]),
];

declare! {
    pub struct Bedrock as "Bedrock", "Bedrock models the xpander AI Gateway invokes with this role." {
        "modelArns" model_arns: Vec<String> [required] => "ARNs of the foundation models (`arn:aws:bedrock:<region>::foundation-model/<model id>`) and inference profiles (`arn:aws:bedrock:<region>:<account>:inference-profile/<profile id>`, or `application-inference-profile/<id>`) the role may invoke, with InvokeModel, InvokeModelWithResponseStream, Converse and ConverseStream.",
        "destinationRegions" destination_regions: Vec<String> => "Regions the cross-Region inference profiles in `modelArns` route to. Defaults to the Regions of the profile's geography (`us`, `eu`, `apac`, `jp`, `au`, `us-gov`); required for `global` profiles.",
    }
}

impl Bedrock {
    pub const DESCRIPTION: &'static str = "Bedrock model invocation for the xpander AI Gateway (`BedrockAccess`), scoped to the listed models and inference profiles.";
}

/// `arn:<partition>:bedrock:<region>:<account>:<kind>/<id>`, parsed.
#[derive(Debug, PartialEq)]
struct ModelArn<'a> {
    partition: &'a str,
    region: &'a str,
    account: &'a str,
    kind: &'a str,
    id: &'a str,
}

fn parse(arn: &str) -> Option<ModelArn<'_>> {
    let p = crate::iam::arn::split_arn(arn)?;
    let (kind, id) = p.resource.split_once('/')?;
    let well_formed = p.service == "bedrock"
        && !p.partition.is_empty()
        && !p.region.is_empty()
        && !id.is_empty()
        && match kind {
            "foundation-model" => p.account.is_empty(),
            "inference-profile" | "application-inference-profile" | "provisioned-model" => {
                crate::iam::arn::is_account_id(p.account)
            }
            _ => false,
        };
    well_formed.then_some(ModelArn {
        partition: p.partition,
        region: p.region,
        account: p.account,
        kind,
        id,
    })
}

/// A system-defined cross-Region profile: (geography, model id it serves).
fn cross_region(m: &ModelArn<'_>) -> Option<(&'static str, String)> {
    if m.kind != "inference-profile" {
        return None;
    }
    let (prefix, model) = m.id.split_once('.')?;
    let geography = GEOGRAPHIES
        .iter()
        .map(|(g, _)| *g)
        .chain(["global"])
        .find(|g| *g == prefix)?;
    Some((geography, model.to_string()))
}

fn regions_of(geography: &str) -> Option<&'static [&'static str]> {
    GEOGRAPHIES
        .iter()
        .find(|(g, _)| *g == geography)
        .map(|(_, r)| *r)
}

impl Kind for Bedrock {
    const POLICY_NAMES: &'static [&'static str] = &[POLICY];
    const OWN_ROLE: Option<OwnRole> = Some(OwnRole {
        family: "Bedrock",
        services: &["bedrock"],
    });
    const SCOPED_ACTIONS: &'static [&'static str] = &ACTIONS;

    fn variants() -> Vec<(Key, Vec<Json>)> {
        let (model, profile, eu) = ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0", "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0");
        vec![
            (
                Bedrock::model_arns,
                vec![
                    json!([model]),
                    json!([model, profile]),
                    json!([model, profile, eu]),
                ],
            ),
            (
                Bedrock::destination_regions,
                vec![Json::Null, json!(["us-east-1", "us-west-2"])],
            ),
        ]
    }

    fn wildcard() -> Option<Json> {
        Some(json!({"modelArns": ["arn:aws:bedrock:us-east-1::foundation-model/anthropic.*"]}))
    }
}

impl DataSource for Bedrock {
    fn validate(&self, rules: &mut Rules<'_>) {
        let arns = strings(&self.model_arns);
        rules.not_empty(Bedrock::model_arns, &arns, "model or inference profile ARN");
        let explicit = strings(&self.destination_regions);
        let regions = rules.path(Bedrock::destination_regions);
        for (i, r) in explicit.iter().enumerate() {
            rules.region_at(&format!("{regions}[{i}]"), &Some(r.clone()));
        }
        let models = rules.path(Bedrock::model_arns);
        for (i, arn) in arns.iter().enumerate() {
            let path = format!("{models}[{i}]");
            if !rules.identifier(&path, arn) {
                continue;
            }
            let Some(m) = parse(arn) else {
                rules.fail(&path, format!("{path}: {arn:?} is not a Bedrock foundation-model, inference-profile, application-inference-profile or provisioned-model ARN"));
                continue;
            };
            if m.kind == "application-inference-profile"
                && !arns
                    .iter()
                    .filter_map(|a| parse(a))
                    .any(|o| o.kind == "foundation-model")
            {
                rules.warn(format!("{path}: IAM also checks the foundation models an application inference profile routes to; list them in bedrock.modelArns"));
            }
            if let Some((geography, _)) = cross_region(&m) {
                if regions_of(geography).is_none() && explicit.is_empty() {
                    rules.fail(&path, format!("{path}: the {geography} inference profile routes to Regions the provider cannot list; name them in bedrock.destinationRegions"));
                }
            }
        }
    }

    fn policies(&self, _ctx: &AccountContext) -> Vec<(&'static str, Json)> {
        let arns = strings(&self.model_arns);
        let explicit = strings(&self.destination_regions);
        let mut statements = vec![json!({
            "Sid": "BedrockInvoke",
            "Effect": "Allow",
            "Action": ACTIONS,
            "Resource": arns,
        })];
        let mut profiles = Vec::new();
        let mut routed = BTreeSet::new();
        for m in arns.iter().filter_map(|a| parse(a)) {
            let Some((geography, model)) = cross_region(&m) else {
                continue;
            };
            let regions: Vec<String> = if explicit.is_empty() {
                regions_of(geography)
                    .unwrap_or_default()
                    .iter()
                    .map(|r| r.to_string())
                    .collect()
            } else {
                explicit.clone()
            };
            for region in regions {
                routed.insert(format!(
                    "arn:{}:bedrock:{region}::foundation-model/{model}",
                    m.partition
                ));
            }
            profiles.push(format!(
                "arn:{}:bedrock:{}:{}:inference-profile/{}",
                m.partition, m.region, m.account, m.id
            ));
        }
        if !routed.is_empty() {
            statements.push(json!({
                "Sid": "BedrockModelsThroughProfiles",
                "Effect": "Allow",
                "Action": ACTIONS,
                "Resource": routed.into_iter().collect::<Vec<_>>(),
                "Condition": {"ArnEquals": {"bedrock:InferenceProfileArn": profiles}},
            }));
        }
        vec![(POLICY, document(statements))]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{actions, judge, rendered};
    use super::*;

    const MODEL: &str =
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0";
    const PROFILE: &str = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0";

    fn source(arns: &[&str]) -> Bedrock {
        Bedrock {
            model_arns: Some(arns.iter().map(|a| a.to_string()).collect()),
            destination_regions: None,
        }
    }

    #[test]
    fn a_foundation_model_is_invoked_where_it_is_named() {
        let doc = rendered(&source(&[MODEL])).remove(0).1;
        let statements = crate::iam::policy::statements(&doc);
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Resource"], json!([MODEL]));
        assert_eq!(
            actions(&doc).into_iter().collect::<Vec<_>>(),
            [
                "bedrock:InvokeModel",
                "bedrock:InvokeModelWithResponseStream"
            ]
        );
    }

    #[test]
    fn a_cross_region_profile_also_gets_its_models_in_each_region_only_through_it() {
        let doc = rendered(&source(&[PROFILE])).remove(0).1;
        let routed = &crate::iam::policy::statements(&doc)[1];
        assert_eq!(
            routed["Resource"],
            json!([
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
                "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
                "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0"
            ])
        );
        assert_eq!(
            routed["Condition"]["ArnEquals"]["bedrock:InferenceProfileArn"],
            json!([PROFILE])
        );
        let chosen = Bedrock {
            destination_regions: Some(vec!["us-west-2".into()]),
            ..source(&[PROFILE])
        };
        let doc = rendered(&chosen).remove(0).1;
        assert_eq!(
            crate::iam::policy::statements(&doc)[1]["Resource"],
            json!(["arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0"])
        );
    }

    #[test]
    fn global_profiles_need_their_regions_and_wildcards_need_consent() {
        let global = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-20250514-v1:0";
        let (failures, _) = judge(&source(&[global]), false);
        assert!(
            failures[0].reason.contains("bedrock.destinationRegions"),
            "{failures:?}"
        );
        let named = Bedrock {
            destination_regions: Some(vec!["us-east-1".into(), "eu-west-1".into()]),
            ..source(&[global])
        };
        assert!(judge(&named, false).0.is_empty());
        let star = "arn:aws:bedrock:us-east-1::foundation-model/*";
        assert_eq!(
            judge(&source(&[star]), false).0[0].property,
            "bedrock.modelArns[0]"
        );
        let (failures, warnings) = judge(&source(&[star]), true);
        assert!(failures.is_empty() && warnings.len() == 1);
    }

    #[test]
    fn an_application_profile_alone_warns_that_its_models_are_needed() {
        let app = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123";
        let (failures, warnings) = judge(&source(&[app]), false);
        assert!(failures.is_empty());
        assert!(warnings[0].contains("foundation models"), "{warnings:?}");
        assert!(judge(&source(&[app, MODEL]), false).1.is_empty());
    }

    #[test]
    fn malformed_arns_are_refused() {
        for bad in [
            "anthropic.claude-v2",
            "arn:aws:bedrock:us-east-1:123456789012:foundation-model/x",
            "arn:aws:bedrock:us-east-1::inference-profile/us.x",
            "arn:aws:s3:::bucket/x",
        ] {
            let (failures, _) = judge(&source(&[bad]), false);
            assert_eq!(failures.len(), 1, "{bad}");
        }
        assert!(judge(&source(&[]), false).0[0]
            .reason
            .contains("needs at least one"));
    }
}
