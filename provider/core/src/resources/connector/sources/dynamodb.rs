//! `dynamodb`: tables and their indexes, read-only unless asked (`DynamoDBAccess`).

use serde_json::{json, Value as Json};

use super::{region_or, strings, DataSource, Kind, Rules};
use crate::iam::arn::AccountContext;
use crate::iam::templates::document;
use crate::model::spec::{declare, Key};

pub const POLICY: &str = "DynamoDBAccess";
/// Least privilege by default: writes only when asked.
pub const DEFAULT_READ_ONLY: bool = true;

declare! {
    pub struct DynamoDb as "DynamoDb", "DynamoDB tables the connector reads (and writes unless read-only)." {
        "tables" tables: Vec<String> [required] => "Table names.",
        "region" region: String => "Region of the tables; defaults to the provider's region.",
        "readOnly" read_only: bool [default_bool = DEFAULT_READ_ONLY] => "Only read items (the default, least privilege); `false` adds item writes.",
    }
}

impl DynamoDb {
    pub const DESCRIPTION: &'static str =
        "DynamoDB permissions scoped to tables (`DynamoDBAccess`).";
}

impl Kind for DynamoDb {
    const POLICY_NAMES: &'static [&'static str] = &[POLICY];
    const SCOPED_ACTIONS: &'static [&'static str] = &[
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:DeleteItem",
    ];

    fn variants() -> Vec<(Key, Vec<Json>)> {
        vec![
            (
                DynamoDb::tables,
                vec![json!(["sessions"]), json!(["sessions", "orders"])],
            ),
            (DynamoDb::region, vec![Json::Null, json!("eu-west-1")]),
            (
                DynamoDb::read_only,
                vec![Json::Null, json!(true), json!(false)],
            ),
        ]
    }

    fn wildcard() -> Option<Json> {
        Some(json!({"tables": ["sessions", "*"], "readOnly": false}))
    }
}

impl DataSource for DynamoDb {
    fn validate(&self, rules: &mut Rules<'_>) {
        let tables = strings(&self.tables);
        rules.not_empty(DynamoDb::tables, &tables, "table");
        rules.region(DynamoDb::region, &self.region);
        rules.identifiers(DynamoDb::tables, &tables);
    }

    fn policies(&self, ctx: &AccountContext) -> Vec<(&'static str, Json)> {
        let (p, a) = (&ctx.partition, &ctx.account_id);
        let region = region_or(&self.region, ctx);
        let resources: Vec<String> = strings(&self.tables)
            .iter()
            .flat_map(|t| {
                [
                    format!("arn:{p}:dynamodb:{region}:{a}:table/{t}"),
                    format!("arn:{p}:dynamodb:{region}:{a}:table/{t}/index/*"),
                ]
            })
            .collect();
        let mut actions = vec![
            "dynamodb:DescribeTable",
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:ConditionCheckItem",
        ];
        if !self.read_only.unwrap_or(DEFAULT_READ_ONLY) {
            actions.extend([
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
            ]);
        }
        vec![(
            POLICY,
            document(vec![
                json!({"Sid": "DynamoDBTables", "Effect": "Allow", "Action": actions, "Resource": resources}),
            ]),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{actions, judge, rendered};
    use super::*;

    fn source() -> DynamoDb {
        DynamoDb {
            tables: Some(vec!["sessions".into()]),
            region: Some("eu-west-1".into()),
            ..Default::default()
        }
    }

    #[test]
    fn tables_and_indexes_in_their_region_read_only_by_default() {
        let doc = &rendered(&source())[0].1;
        assert_eq!(
            doc["Statement"][0]["Resource"],
            json!([
                "arn:aws:dynamodb:eu-west-1:123456789012:table/sessions",
                "arn:aws:dynamodb:eu-west-1:123456789012:table/sessions/index/*"
            ])
        );
        assert!(!actions(doc).contains("dynamodb:PutItem"));
        let writer = DynamoDb {
            read_only: Some(false),
            ..source()
        };
        assert!(actions(&rendered(&writer)[0].1).contains("dynamodb:PutItem"));
    }

    #[test]
    fn regions_and_wildcards_are_checked() {
        let bad = DynamoDb {
            tables: Some(vec!["*".into()]),
            region: Some("moon-1".into()),
            ..Default::default()
        };
        let (failures, _) = judge(&bad, false);
        let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(paths, ["dynamodb.region", "dynamodb.tables[0]"]);
    }
}
