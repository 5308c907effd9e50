//! `redshift`: the seed's `RedshiftCredentials` and `RedshiftDataAPI` policies.

use serde_json::{json, Value as Json};

use super::{region_or, strings, DataSource, Kind, OwnRole, Rules};
use crate::iam::arn::AccountContext;
use crate::iam::templates::document;
use crate::model::spec::{declare, Key};

pub const POLICY_CREDENTIALS: &str = "RedshiftCredentials";
pub const POLICY_DATA_API: &str = "RedshiftDataAPI";

declare! {
    pub struct Redshift as "Redshift", "A Redshift cluster and database the connector queries." {
        "clusterIdentifier" cluster_identifier: String [required] => "Redshift cluster identifier.",
        "databaseName" database_name: String [required] => "Database name.",
        "region" region: String => "Region of the cluster; defaults to the provider's region.",
        "dbUsers" db_users: Vec<String> => "Database users the connector may get credentials for; all (`*`) when omitted, as in the seed.",
    }
}

impl Redshift {
    pub const DESCRIPTION: &'static str =
        "Redshift permissions: the seed's `RedshiftCredentials` and `RedshiftDataAPI` policies.";
}

impl Kind for Redshift {
    const POLICY_NAMES: &'static [&'static str] = &[POLICY_CREDENTIALS, POLICY_DATA_API];
    const OWN_ROLE: Option<OwnRole> = Some(OwnRole {
        family: "Redshift",
        services: &["redshift", "redshift-data"],
    });
    const SCOPED_ACTIONS: &'static [&'static str] = &[
        "redshift:GetClusterCredentials",
        "redshift:GetClusterCredentialsWithIAM",
    ];

    fn variants() -> Vec<(Key, Vec<Json>)> {
        vec![
            (Redshift::cluster_identifier, vec![json!("analytics")]),
            (Redshift::database_name, vec![json!("dev")]),
            (Redshift::region, vec![Json::Null, json!("eu-west-1")]),
            (
                Redshift::db_users,
                vec![Json::Null, json!(["analyst"]), json!(["analyst", "etl"])],
            ),
        ]
    }

    fn wildcard() -> Option<Json> {
        Some(json!({"clusterIdentifier": "analytics-*", "databaseName": "dev"}))
    }
}

impl DataSource for Redshift {
    fn validate(&self, rules: &mut Rules<'_>) {
        rules.region(Redshift::region, &self.region);
        for (field, value) in [
            (Redshift::cluster_identifier, &self.cluster_identifier),
            (Redshift::database_name, &self.database_name),
        ] {
            let path = rules.path(field);
            match value.as_deref() {
                Some("") => rules.fail(&path, format!("{path} must not be empty")),
                Some(v) => {
                    rules.identifier(&path, v);
                }
                None => {}
            }
        }
    }

    fn policies(&self, ctx: &AccountContext) -> Vec<(&'static str, Json)> {
        let cluster = self.cluster_identifier.clone().unwrap_or_default();
        let database = self.database_name.clone().unwrap_or_default();
        vec![
            (
                POLICY_CREDENTIALS,
                credentials(
                    ctx,
                    &region_or(&self.region, ctx),
                    &cluster,
                    &database,
                    &strings(&self.db_users),
                ),
            ),
            (POLICY_DATA_API, data_api()),
        ]
    }
}

fn credentials(
    ctx: &AccountContext,
    region: &str,
    cluster: &str,
    database: &str,
    db_users: &[String],
) -> Json {
    let (p, a) = (&ctx.partition, &ctx.account_id);
    let mut resources = vec![
        format!("arn:{p}:redshift:{region}:{a}:cluster:{cluster}"),
        format!("arn:{p}:redshift:{region}:{a}:dbname:{cluster}/{database}"),
    ];
    if db_users.is_empty() {
        resources.push(format!("arn:{p}:redshift:{region}:{a}:dbuser:{cluster}/*"));
    } else {
        resources.extend(
            db_users
                .iter()
                .map(|u| format!("arn:{p}:redshift:{region}:{a}:dbuser:{cluster}/{u}")),
        );
    }
    document(vec![json!({
        "Effect": "Allow",
        "Action": [
            "redshift:GetClusterCredentials",
            "redshift:GetClusterCredentialsWithIAM",
            "redshift:DescribeClusters",
        ],
        "Resource": resources,
    })])
}

/// The Data API takes no resource-level scoping: the seed's `Resource: "*"`.
fn data_api() -> Json {
    document(vec![json!({
        "Effect": "Allow",
        "Action": [
            "redshift-data:ExecuteStatement",
            "redshift-data:GetStatementResult",
            "redshift-data:DescribeStatement",
            "redshift-data:ListStatements",
            "redshift-data:CancelStatement",
            "redshift-data:BatchExecuteStatement",
            "redshift-data:ListDatabases",
            "redshift-data:ListSchemas",
            "redshift-data:ListTables",
            "redshift-data:DescribeTable",
        ],
        "Resource": "*",
    })])
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, judge, rendered};
    use super::*;

    fn seed() -> Redshift {
        Redshift {
            cluster_identifier: Some("analytics".into()),
            database_name: Some("dev".into()),
            ..Default::default()
        }
    }

    #[test]
    fn resources_match_the_seed() {
        let doc = credentials(&ctx(), "eu-west-1", "c1", "db1", &[]);
        assert_eq!(
            doc["Statement"][0]["Resource"],
            json!([
                "arn:aws:redshift:eu-west-1:123456789012:cluster:c1",
                "arn:aws:redshift:eu-west-1:123456789012:dbname:c1/db1",
                "arn:aws:redshift:eu-west-1:123456789012:dbuser:c1/*"
            ])
        );
        let names: Vec<_> = rendered(&seed()).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, [POLICY_CREDENTIALS, POLICY_DATA_API]);
    }

    #[test]
    fn db_users_narrow_the_credentials() {
        let source = Redshift {
            db_users: Some(vec!["reader".into()]),
            region: Some("eu-west-1".into()),
            ..seed()
        };
        let doc = &rendered(&source)[0].1;
        let resources = doc["Statement"][0]["Resource"].to_string();
        assert!(resources.contains("dbuser:analytics/reader"));
        assert!(!resources.contains("dbuser:analytics/*"));
        assert!(resources.contains(":eu-west-1:"));
    }

    #[test]
    fn wildcard_clusters_and_empty_names_are_refused() {
        let source = Redshift {
            cluster_identifier: Some("*".into()),
            database_name: Some(String::new()),
            ..seed()
        };
        let (failures, _) = judge(&source, false);
        let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(
            paths,
            ["redshift.clusterIdentifier", "redshift.databaseName"]
        );
        let (failures, warnings) = judge(
            &Redshift {
                database_name: Some("dev".into()),
                ..source
            },
            true,
        );
        assert!(failures.is_empty());
        assert_eq!(warnings.len(), 1);
    }
}
