//! `cloudwatchLogs`: CloudWatch Logs Insights queries and event reads on
//! named log groups (`CloudWatchLogsAccess`), for agents that investigate
//! what an application logged.

use serde_json::{json, Value as Json};

use super::{region_or, strings, DataSource, Kind, Rules};
use crate::iam::arn::AccountContext;
use crate::iam::templates::document;
use crate::model::spec::{declare, Key};

pub const POLICY: &str = "CloudWatchLogsAccess";
/// CloudWatch Logs' naming rule for log groups.
const NAME_MAX: usize = 512;

declare! {
    pub struct CloudWatchLogs as "CloudWatchLogs", "CloudWatch Logs log groups the connector queries with Logs Insights and reads." {
        "logGroups" log_groups: Vec<String> [required] => "Log group names (`/aws/lambda/orders`).",
        "region" region: String => "Region of the log groups; defaults to the provider's region.",
    }
}

impl CloudWatchLogs {
    pub const DESCRIPTION: &'static str =
        "CloudWatch Logs permissions: Logs Insights queries and event reads on the listed log groups (`CloudWatchLogsAccess`).";
}

fn is_log_group_name(name: &str) -> bool {
    (1..=NAME_MAX).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
}

impl Kind for CloudWatchLogs {
    const POLICY_NAMES: &'static [&'static str] = &[POLICY];
    // FilterLogEvents and GetLogEvents are on "*" in the seed's EKSAccess;
    // running Insights queries on every log group is this source's to refuse.
    const SCOPED_ACTIONS: &'static [&'static str] = &["logs:StartQuery", "logs:GetQueryResults"];

    fn variants() -> Vec<(Key, Vec<Json>)> {
        vec![
            (
                CloudWatchLogs::log_groups,
                vec![json!(["/aws/lambda/orders"]), json!(["/aws/lambda/orders", "/ecs/gateway"])],
            ),
            (CloudWatchLogs::region, vec![Json::Null, json!("eu-west-1")]),
        ]
    }

    fn wildcard() -> Option<Json> {
        Some(json!({"logGroups": ["/aws/lambda/*"]}))
    }
}

impl DataSource for CloudWatchLogs {
    fn validate(&self, rules: &mut Rules<'_>) {
        let groups = strings(&self.log_groups);
        rules.not_empty(CloudWatchLogs::log_groups, &groups, "log group");
        rules.region(CloudWatchLogs::region, &self.region);
        let path = rules.path(CloudWatchLogs::log_groups);
        for (i, g) in groups.iter().enumerate() {
            let at = format!("{path}[{i}]");
            if rules.identifier(&at, g) && !is_log_group_name(g) {
                rules.fail(&at, format!("{at}: {g:?} is not a log group name (1-{NAME_MAX} characters of letters, digits and ._-/#)"));
            }
        }
    }

    fn policies(&self, ctx: &AccountContext) -> Vec<(&'static str, Json)> {
        let (p, a) = (&ctx.partition, &ctx.account_id);
        let region = region_or(&self.region, ctx);
        let groups: Vec<String> = strings(&self.log_groups)
            .iter()
            .map(|g| format!("arn:{p}:logs:{region}:{a}:log-group:{g}"))
            .collect();
        let streams: Vec<String> = groups.iter().map(|g| format!("{g}:log-stream:*")).collect();
        vec![(
            POLICY,
            document(vec![
                json!({
                    "Sid": "LogsInsightsOnGroups",
                    "Effect": "Allow",
                    "Action": [
                        "logs:StartQuery",
                        "logs:GetQueryResults",
                        "logs:GetLogGroupFields",
                        "logs:FilterLogEvents",
                        "logs:DescribeLogStreams",
                    ],
                    "Resource": groups,
                }),
                json!({
                    "Sid": "LogEventsOfGroups",
                    "Effect": "Allow",
                    "Action": "logs:GetLogEvents",
                    "Resource": streams,
                }),
                // No resource type: these name a query id, or list groups.
                json!({
                    "Sid": "LogsInsightsQueries",
                    "Effect": "Allow",
                    "Action": ["logs:StopQuery", "logs:DescribeQueries", "logs:DescribeLogGroups"],
                    "Resource": "*",
                }),
            ]),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{actions, judge, rendered};
    use super::*;

    fn source() -> CloudWatchLogs {
        CloudWatchLogs {
            log_groups: Some(vec!["/aws/lambda/orders".into()]),
            region: Some("eu-west-1".into()),
        }
    }

    #[test]
    fn queries_and_reads_only_the_named_groups() {
        let doc = &rendered(&source())[0].1;
        let statements = crate::iam::policy::statements(doc);
        assert_eq!(
            statements[0]["Resource"],
            json!(["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders"])
        );
        assert_eq!(
            statements[1]["Resource"],
            json!(["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders:log-stream:*"])
        );
        let on_star = actions(statements[2]);
        assert!(!on_star.contains("logs:StartQuery") && !on_star.contains("logs:GetLogEvents"));
    }

    #[test]
    fn names_regions_and_wildcards_are_checked() {
        let bad = CloudWatchLogs {
            log_groups: Some(vec!["/aws/*".into(), "bad name".into()]),
            region: Some("moon-1".into()),
        };
        let (failures, _) = judge(&bad, false);
        let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(
            paths,
            ["cloudwatchLogs.region", "cloudwatchLogs.logGroups[0]", "cloudwatchLogs.logGroups[1]"]
        );
        let (failures, warnings) = judge(
            &CloudWatchLogs {
                log_groups: Some(vec!["/aws/*".into()]),
                region: None,
            },
            true,
        );
        assert!(failures.is_empty() && warnings.len() == 1, "{failures:?}");
    }
}
