//! The documents of the seed architecture, built for a concrete account and
//! partition. Policy names and statement Sids are exactly the seed's, so a
//! role made by this provider reads like the one the manual steps make.

use serde_json::{json, Value as Json};

use super::arn::AccountContext;

pub const VERSION: &str = "2012-10-17";
pub const ASSUME_AND_TAG: [&str; 2] = ["sts:AssumeRole", "sts:TagSession"];
pub const PODS_SERVICE: &str = "pods.eks.amazonaws.com";

pub const SID_POD_IDENTITY: &str = "PodIdentity";
pub const SID_CROSS_ACCOUNT: &str = "CrossAccountWithExternalId";
pub const SID_SELF_ASSUME: &str = "SelfAssume";
pub const SID_FROM_BASE: &str = "AllowFromBaseRole";

pub const POLICY_ASSUME_CONNECTORS: &str = "AssumeConnectorRoles";
pub const POLICY_SELF_ASSUME: &str = "SelfAssumeAndTagSession";
pub const POLICY_REDSHIFT_CREDENTIALS: &str = "RedshiftCredentials";
pub const POLICY_REDSHIFT_DATA: &str = "RedshiftDataAPI";
pub const POLICY_EKS: &str = "EKSAccess";
pub const POLICY_S3: &str = "S3Access";
pub const POLICY_DYNAMODB: &str = "DynamoDBAccess";
pub const POLICY_ATHENA: &str = "AthenaAccess";
/// Prefix of the grant each connector writes on the base role (one per connector).
pub const GRANT_PREFIX: &str = "xpander-assume-";
/// A trust policy needs at least one statement; this one admits nobody.
pub const SID_PLACEHOLDER: &str = "NoTrustYet";

pub fn grant_policy_name(connector_role_name: &str) -> String {
    let mut name = format!("{GRANT_PREFIX}{connector_role_name}");
    name.truncate(128);
    name
}

fn document(statements: Vec<Json>) -> Json {
    json!({"Version": VERSION, "Statement": statements})
}

fn pod_identity_statement() -> Json {
    json!({
        "Sid": SID_POD_IDENTITY,
        "Effect": "Allow",
        "Principal": {"Service": PODS_SERVICE},
        "Action": ASSUME_AND_TAG,
    })
}

/// Seed step 1: the base role trusts only EKS Pod Identity.
pub fn base_trust() -> Json {
    json!({"Version": VERSION, "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": PODS_SERVICE},
        "Action": ASSUME_AND_TAG,
    }]})
}

/// The seed's `AssumeConnectorRoles` policy on the base role.
pub fn assume_connector_roles(role_arns: &[String]) -> Json {
    document(vec![json!({
        "Effect": "Allow",
        "Action": ASSUME_AND_TAG,
        "Resource": role_arns,
    })])
}

/// The per-connector grant on the base role: the same statement, one ARN.
pub fn base_grant(connector_arn: &str) -> Json {
    document(vec![json!({
        "Effect": "Allow",
        "Action": ASSUME_AND_TAG,
        "Resource": connector_arn,
    })])
}

/// A connector's grant on the base role: named with the grant prefix and
/// holding exactly the document `base_grant` writes, for one role. Anything
/// else under that prefix is not a grant, whoever wrote it.
pub fn is_connector_grant(name: &str, doc: &Json) -> bool {
    if !name.starts_with(GRANT_PREFIX) {
        return false;
    }
    let statements = crate::iam::policy::statements(doc);
    let [statement] = statements.as_slice() else {
        return false;
    };
    match crate::iam::policy::string_list(statement.get("Resource")).as_slice() {
        [target] => crate::iam::arn::parse_role_arn(target).is_some_and(|arn| {
            crate::iam::policy::equivalent(doc, &base_grant(target), &arn.partition)
        }),
        _ => false,
    }
}

/// What a connector's trust policy admits.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorTrust {
    pub pod_identity: bool,
    /// (trusted account root ARN, ExternalId)
    pub cross_account: Option<(String, String)>,
    pub self_arn: String,
    pub base_role_arn: Option<String>,
}

impl ConnectorTrust {
    /// Seed "Role Creation Order" step 1: nothing that names a role that may
    /// not exist yet (the role itself).
    pub fn initial(&self) -> Json {
        let mut stmts = self.external_statements();
        if stmts.is_empty() {
            stmts.push(json!({
                "Sid": SID_PLACEHOLDER,
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole",
            }));
        }
        document(stmts)
    }

    /// The four-statement trust of the seed's template. `SelfAssume` and
    /// `AllowFromBaseRole` never carry an ExternalId condition: the AI Gateway
    /// does not pass one when it chains or re-assumes.
    pub fn full(&self) -> Json {
        let mut stmts = self.external_statements();
        stmts.push(json!({
            "Sid": SID_SELF_ASSUME,
            "Effect": "Allow",
            "Principal": {"AWS": self.self_arn},
            "Action": ASSUME_AND_TAG,
        }));
        if let Some(base) = &self.base_role_arn {
            stmts.push(json!({
                "Sid": SID_FROM_BASE,
                "Effect": "Allow",
                "Principal": {"AWS": base},
                "Action": ASSUME_AND_TAG,
            }));
        }
        document(stmts)
    }

    fn external_statements(&self) -> Vec<Json> {
        let mut stmts = Vec::new();
        if self.pod_identity {
            stmts.push(pod_identity_statement());
        }
        if let Some((root, external_id)) = &self.cross_account {
            stmts.push(json!({
                "Sid": SID_CROSS_ACCOUNT,
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": ASSUME_AND_TAG,
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }));
        }
        stmts
    }
}

/// Seed: required on every connector role.
pub fn self_assume_policy(self_arn: &str) -> Json {
    document(vec![json!({
        "Effect": "Allow",
        "Action": ASSUME_AND_TAG,
        "Resource": self_arn,
    })])
}

pub fn redshift_credentials(
    ctx: &AccountContext,
    region: &str,
    cluster: &str,
    database: &str,
    db_users: &[String],
) -> Json {
    let p = &ctx.partition;
    let a = &ctx.account_id;
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

pub fn redshift_data_api() -> Json {
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

/// The seed's EKSAccess, or (`cluster` given) the same reads scoped to that
/// cluster: its ARN for the EKS actions that take one, its node groups, and
/// its control-plane log group `/aws/eks/<cluster>/cluster`. ListClusters and
/// DescribeLogGroups support no resource type: they stay on `*`.
pub fn eks_access_scoped(ctx: &AccountContext, region: &str, cluster: &str) -> Json {
    let (p, a) = (&ctx.partition, &ctx.account_id);
    let log_group = format!("arn:{p}:logs:{region}:{a}:log-group:/aws/eks/{cluster}/cluster");
    document(vec![
        json!({
            "Sid": "EKSClusterRead",
            "Effect": "Allow",
            "Action": [
                "eks:DescribeCluster",
                "eks:ListNodegroups",
                "eks:ListInsights",
                "eks:DescribeInsight",
                "eks:AccessKubernetesApi",
            ],
            "Resource": format!("arn:{p}:eks:{region}:{a}:cluster/{cluster}"),
        }),
        json!({
            "Sid": "EKSNodegroupRead",
            "Effect": "Allow",
            "Action": "eks:DescribeNodegroup",
            "Resource": format!("arn:{p}:eks:{region}:{a}:nodegroup/{cluster}/*"),
        }),
        json!({
            "Sid": "EKSListClusters",
            "Effect": "Allow",
            "Action": "eks:ListClusters",
            "Resource": "*",
        }),
        json!({
            "Sid": "EKSControlPlaneLogs",
            "Effect": "Allow",
            "Action": ["logs:FilterLogEvents", "logs:DescribeLogStreams"],
            "Resource": log_group.clone(),
        }),
        json!({
            "Sid": "EKSControlPlaneLogEvents",
            "Effect": "Allow",
            "Action": "logs:GetLogEvents",
            "Resource": format!("{log_group}:log-stream:*"),
        }),
        json!({
            "Sid": "LogGroupsList",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": "*",
        }),
    ])
}

pub fn eks_access() -> Json {
    document(vec![
        json!({
            "Effect": "Allow",
            "Action": [
                "eks:DescribeCluster",
                "eks:ListClusters",
                "eks:ListNodegroups",
                "eks:DescribeNodegroup",
                "eks:ListInsights",
                "eks:DescribeInsight",
                "eks:AccessKubernetesApi",
            ],
            "Resource": "*",
        }),
        json!({
            "Effect": "Allow",
            "Action": [
                "logs:GetLogEvents",
                "logs:FilterLogEvents",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
            ],
            "Resource": "*",
        }),
    ])
}

pub fn s3_access(
    ctx: &AccountContext,
    buckets: &[String],
    prefixes: &[String],
    read_only: bool,
) -> Json {
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

pub fn dynamodb_access(
    ctx: &AccountContext,
    region: &str,
    tables: &[String],
    read_only: bool,
) -> Json {
    let (p, a) = (&ctx.partition, &ctx.account_id);
    let resources: Vec<String> = tables
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
    if !read_only {
        actions.extend([
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
        ]);
    }
    document(vec![
        json!({"Sid": "DynamoDBTables", "Effect": "Allow", "Action": actions, "Resource": resources}),
    ])
}

pub fn athena_access(
    ctx: &AccountContext,
    region: &str,
    work_groups: &[String],
    output_bucket: Option<&str>,
    glue_databases: &[String],
    data_buckets: &[String],
) -> Json {
    let (p, a) = (&ctx.partition, &ctx.account_id);
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
        "Resource": work_groups.iter().map(|w| format!("arn:{p}:athena:{region}:{a}:workgroup/{w}")).collect::<Vec<_>>(),
    })];
    if !glue_databases.is_empty() {
        let mut resources = vec![format!("arn:{p}:glue:{region}:{a}:catalog")];
        for db in glue_databases {
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
    if let Some(bucket) = output_bucket {
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
    document(stmts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::policy::{check_grammar, statements, DocumentKind};

    fn ctx() -> AccountContext {
        AccountContext {
            partition: "aws".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    fn trust() -> ConnectorTrust {
        ConnectorTrust {
            pod_identity: true,
            cross_account: Some(("arn:aws:iam::123456789012:root".into(), "org-1".into())),
            self_arn: "arn:aws:iam::123456789012:role/xpander-redshift-access".into(),
            base_role_arn: Some("arn:aws:iam::123456789012:role/xpander-base-role".into()),
        }
    }

    #[test]
    fn full_trust_is_the_seed_template() {
        let full = trust().full();
        let sids: Vec<&str> = statements(&full)
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(
            sids,
            [
                SID_POD_IDENTITY,
                SID_CROSS_ACCOUNT,
                SID_SELF_ASSUME,
                SID_FROM_BASE
            ]
        );
        for s in statements(&full) {
            assert_eq!(s["Action"], serde_json::json!(ASSUME_AND_TAG));
            let sid = s["Sid"].as_str().unwrap();
            let has_condition = s.get("Condition").is_some();
            assert_eq!(has_condition, sid == SID_CROSS_ACCOUNT, "{sid}");
        }
        check_grammar(&full, DocumentKind::Trust).unwrap();
    }

    #[test]
    fn initial_trust_never_names_the_role_itself() {
        let initial = trust().initial().to_string();
        assert!(!initial.contains("xpander-redshift-access"));
        assert!(!initial.contains("xpander-base-role"));
        let bare = ConnectorTrust {
            pod_identity: false,
            cross_account: None,
            ..trust()
        };
        check_grammar(&bare.initial(), DocumentKind::Trust).unwrap();
    }

    #[test]
    fn s3_prefix_condition_covers_list_bucket_only() {
        let doc = s3_access(&ctx(), &["b".into()], &["reports/".into()], true);
        for s in statements(&doc) {
            let actions = crate::iam::policy::string_list(s.get("Action"));
            if s.get("Condition").is_some() {
                assert_eq!(actions, ["s3:ListBucket"], "{s}");
            }
        }
        let location = statements(&doc)
            .into_iter()
            .find(|s| crate::iam::policy::string_list(s.get("Action")) == ["s3:GetBucketLocation"])
            .expect("GetBucketLocation has a statement of its own");
        assert!(location.get("Condition").is_none());
    }

    #[test]
    fn permission_templates_are_valid_identity_policies() {
        let c = ctx();
        for doc in [
            redshift_credentials(&c, "us-east-1", "analytics", "dev", &[]),
            redshift_data_api(),
            eks_access(),
            eks_access_scoped(&c, "us-east-1", "prod"),
            s3_access(&c, &["b".into()], &["p/".into()], true),
            dynamodb_access(&c, "us-east-1", &["t".into()], false),
            athena_access(
                &c,
                "us-east-1",
                &["primary".into()],
                Some("out"),
                &["db".into()],
                &["data".into()],
            ),
            self_assume_policy("arn:aws:iam::123456789012:role/x"),
            base_grant("arn:aws:iam::123456789012:role/x"),
            assume_connector_roles(&["arn:aws:iam::123456789012:role/x".into()]),
        ] {
            check_grammar(&doc, DocumentKind::Identity).unwrap();
        }
    }

    #[test]
    fn redshift_resources_match_the_seed() {
        let doc = redshift_credentials(&ctx(), "eu-west-1", "c1", "db1", &[]);
        assert_eq!(
            doc["Statement"][0]["Resource"],
            serde_json::json!([
                "arn:aws:redshift:eu-west-1:123456789012:cluster:c1",
                "arn:aws:redshift:eu-west-1:123456789012:dbname:c1/db1",
                "arn:aws:redshift:eu-west-1:123456789012:dbuser:c1/*"
            ])
        );
    }
}
