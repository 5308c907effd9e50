//! `athena`: work groups, the Glue catalog they read, the tables' data and
//! the results bucket (`AthenaAccess`).

use serde_json::{json, Value as Json};

use super::{region_or, strings, DataSource, Kind, Rules};
use crate::iam::arn::AccountContext;
use crate::iam::templates::document;
use crate::model::spec::{declare, Key};

pub const POLICY: &str = "AthenaAccess";

declare! {
    pub struct Athena as "Athena", "Athena work groups the connector queries." {
        "workGroups" work_groups: Vec<String> [required] => "Work group names.",
        "region" region: String => "Region of the work groups and Glue catalog; defaults to the provider's region.",
        "outputBucket" output_bucket: String => "Bucket for query results.",
        "glueDatabases" glue_databases: Vec<String> => "Glue databases the queries read.",
        "dataBuckets" data_buckets: Vec<String> => "Buckets holding the tables' data: Athena reads them with the connector's credentials (read only).",
    }
}

impl Athena {
    pub const DESCRIPTION: &'static str =
        "Athena permissions scoped to work groups (`AthenaAccess`).";
}

impl Kind for Athena {
    const POLICY_NAMES: &'static [&'static str] = &[POLICY];
    const SCOPED_ACTIONS: &'static [&'static str] = &[
        "athena:StartQueryExecution",
        "athena:GetQueryResults",
        "glue:GetTable",
        "glue:GetDatabase",
    ];

    fn variants() -> Vec<(Key, Vec<Json>)> {
        vec![
            (
                Athena::work_groups,
                vec![json!(["primary"]), json!(["primary", "analysts"])],
            ),
            (Athena::region, vec![Json::Null, json!("eu-west-1")]),
            (
                Athena::output_bucket,
                vec![Json::Null, json!("xpander-athena-results")],
            ),
            (
                Athena::glue_databases,
                vec![Json::Null, json!(["lake"]), json!(["lake", "raw"])],
            ),
            (
                Athena::data_buckets,
                vec![
                    Json::Null,
                    json!(["xpander-lake"]),
                    json!(["xpander-lake", "xpander-raw"]),
                ],
            ),
        ]
    }

    fn wildcard() -> Option<Json> {
        Some(json!({"workGroups": ["*"], "glueDatabases": ["lake*"],
            "outputBucket": "xpander-athena-results", "dataBuckets": ["xpander-lake-*"]}))
    }
}

impl DataSource for Athena {
    fn validate(&self, rules: &mut Rules<'_>) {
        let work_groups = strings(&self.work_groups);
        rules.not_empty(Athena::work_groups, &work_groups, "work group");
        rules.region(Athena::region, &self.region);
        rules.identifiers(Athena::work_groups, &work_groups);
        rules.identifiers(Athena::glue_databases, &strings(&self.glue_databases));
        rules.buckets(Athena::data_buckets, &strings(&self.data_buckets));
        if let Some(b) = &self.output_bucket {
            let path = rules.path(Athena::output_bucket);
            rules.bucket(&path, b);
        }
    }

    fn policies(&self, ctx: &AccountContext) -> Vec<(&'static str, Json)> {
        let (p, a) = (&ctx.partition, &ctx.account_id);
        let region = region_or(&self.region, ctx);
        let mut stmts = vec![json!({
            "Sid": "AthenaQueries",
            "Effect": "Allow",
            "Action": [
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:StopQueryExecution",
                "athena:GetWorkGroup",
                "athena:ListQueryExecutions",
            ],
            "Resource": strings(&self.work_groups).iter().map(|w| format!("arn:{p}:athena:{region}:{a}:workgroup/{w}")).collect::<Vec<_>>(),
        })];
        let glue_databases = strings(&self.glue_databases);
        if !glue_databases.is_empty() {
            let mut resources = vec![format!("arn:{p}:glue:{region}:{a}:catalog")];
            for db in &glue_databases {
                resources.push(format!("arn:{p}:glue:{region}:{a}:database/{db}"));
                resources.push(format!("arn:{p}:glue:{region}:{a}:table/{db}/*"));
            }
            stmts.push(json!({
                "Sid": "GlueCatalogRead",
                "Effect": "Allow",
                "Action": ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"],
                "Resource": resources,
            }));
        }
        let data_buckets = strings(&self.data_buckets);
        if !data_buckets.is_empty() {
            // Athena reads the tables' data with the caller's credentials.
            stmts.push(json!({
                "Sid": "AthenaSourceBuckets",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
                "Resource": data_buckets.iter().map(|b| format!("arn:{p}:s3:::{b}")).collect::<Vec<_>>(),
            }));
            stmts.push(json!({
                "Sid": "AthenaSourceObjects",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": data_buckets.iter().map(|b| format!("arn:{p}:s3:::{b}/*")).collect::<Vec<_>>(),
            }));
        }
        if let Some(bucket) = &self.output_bucket {
            stmts.push(json!({
                "Sid": "AthenaResultsBucket",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
                "Resource": format!("arn:{p}:s3:::{bucket}"),
            }));
            stmts.push(json!({
                "Sid": "AthenaResultsObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                "Resource": format!("arn:{p}:s3:::{bucket}/*"),
            }));
        }
        vec![(POLICY, document(stmts))]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{judge, rendered};
    use super::*;

    #[test]
    fn reads_its_data_buckets_in_its_region() {
        let source = Athena {
            work_groups: Some(vec!["primary".into()]),
            region: Some("eu-west-1".into()),
            glue_databases: Some(vec!["sales".into()]),
            data_buckets: Some(vec!["lake".into()]),
            output_bucket: Some("results".into()),
        };
        let doc = rendered(&source).remove(0).1;
        let text = doc.to_string();
        assert!(text.contains("arn:aws:athena:eu-west-1:123456789012:workgroup/primary"));
        assert!(text.contains("arn:aws:glue:eu-west-1:123456789012:table/sales/*"));
        let objects = crate::iam::policy::statements(&doc)
            .into_iter()
            .find(|s| s["Sid"] == "AthenaSourceObjects")
            .unwrap();
        assert_eq!(objects["Action"], "s3:GetObject");
        assert_eq!(objects["Resource"], json!(["arn:aws:s3:::lake/*"]));
    }

    #[test]
    fn identifiers_are_checked() {
        let bad = Athena {
            work_groups: Some(vec!["*".into()]),
            data_buckets: Some(vec!["BAD".into()]),
            output_bucket: Some("ok-bucket".into()),
            ..Default::default()
        };
        let (failures, _) = judge(&bad, false);
        let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(paths, ["athena.workGroups[0]", "athena.dataBuckets[0]"]);
    }
}
