//! The data sources a connector role can reach, one file each: its input
//! type, its rules, the policies it renders and its tests. The connector is
//! assembled from the list below; adding a source is a file and one line.

pub mod athena;
pub mod bedrock;
pub mod dynamodb;
pub mod eks;
pub mod redshift;
pub mod s3;
pub mod secrets_manager;

use serde_json::Value as Json;

use crate::iam::arn::AccountContext;
use crate::model::failure::Failure;
use crate::model::spec::declare;

pub use eks::ClusterAccess;

/// What a data source contributes to its connector role.
pub trait DataSource: std::fmt::Debug {
    /// Names of the inline policies it writes (reserved for it).
    fn policy_names(&self) -> &'static [&'static str];
    /// Rules beyond the types: identifiers, regions, combinations.
    fn validate(&self, rules: &mut Rules<'_>);
    /// Its inline policies, rendered for one account.
    fn policies(&self, ctx: &AccountContext) -> Vec<(&'static str, Json)>;
    /// Kubernetes access the role needs on a cluster (an access entry).
    fn cluster_access(&self, _ctx: &AccountContext, _principal_arn: &str) -> Option<ClusterAccess> {
        None
    }
    /// Sources the seed wants in a role of their own: two of them in one
    /// connector draw a warning.
    fn wants_own_role(&self) -> bool {
        false
    }
}

/// One line per data source: input name, field, type.
macro_rules! sources {
    ($($key:literal $field:ident: $ty:ty,)*) => {
        declare! {
            /// The data-source inputs of a connector.
            pub struct Sources {
                $($key $field: $ty => <$ty>::DESCRIPTION,)*
            }
        }

        impl Sources {
            /// The configured sources with their input names, in declaration order.
            pub fn each(&self) -> Vec<(&'static str, &dyn DataSource)> {
                let mut found: Vec<(&'static str, &dyn DataSource)> = Vec::new();
                $(if let Some(s) = &self.$field {
                    found.push(($key, s));
                })*
                found
            }

            /// The input names, for messages.
            pub const KEYS: &'static [&'static str] = &[$($key),*];
        }
    };
}

sources! {
    "redshift" redshift: redshift::Redshift,
    "eks" eks: eks::Eks,
    "s3" s3: s3::S3,
    "dynamodb" dynamodb: dynamodb::DynamoDb,
    "athena" athena: athena::Athena,
    "bedrock" bedrock: bedrock::Bedrock,
    "secretsManager" secrets_manager: secrets_manager::SecretsManager,
}

/// Where a source's rules report: failures and warnings named by path, and
/// the connector's wildcard setting.
pub struct Rules<'a> {
    pub allow_wildcards: bool,
    pub failures: &'a mut Vec<Failure>,
    pub warnings: &'a mut Vec<String>,
}

impl Rules<'_> {
    pub fn fail(&mut self, path: &str, reason: impl Into<String>) {
        self.failures.push(Failure::new(path, reason));
    }

    pub fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
    }

    /// A resource identifier that ends up in an ARN: `*` or `?` in it widens
    /// the grant to every matching resource. True when it has no wildcard
    /// (and may be checked further).
    pub fn identifier(&mut self, path: &str, value: &str) -> bool {
        if !value.contains(['*', '?']) {
            return true;
        }
        if self.allow_wildcards {
            self.warn(format!(
                "{path} is {value:?}: the wildcard widens the grant to every matching resource (seed: scope resources)"
            ));
        } else {
            self.fail(
                path,
                format!("{path} is {value:?}: wildcards widen the grant to every matching resource; name the resource, or set allowWildcards: true to accept it"),
            );
        }
        false
    }

    pub fn identifiers(&mut self, path: &str, values: &[String]) {
        for (i, v) in values.iter().enumerate() {
            self.identifier(&format!("{path}[{i}]"), v);
        }
    }

    /// A list that must name at least one thing.
    pub fn not_empty(&mut self, path: &str, values: &[String], what: &str) {
        if values.is_empty() {
            self.fail(path, format!("{path} needs at least one {what}"));
        }
    }

    pub fn region(&mut self, path: &str, region: &Option<String>) {
        if let Some(r) = region {
            if !crate::config::is_region_name(r) {
                self.fail(path, format!("{path}: {r:?} is not an AWS region name"));
            }
        }
    }

    pub fn bucket(&mut self, path: &str, bucket: &str) {
        if self.identifier(path, bucket) && !is_bucket_name(bucket) {
            self.fail(
                path,
                format!("{path}: {bucket:?} is not a valid S3 bucket name"),
            );
        }
    }

    pub fn buckets(&mut self, path: &str, buckets: &[String]) {
        for (i, b) in buckets.iter().enumerate() {
            self.bucket(&format!("{path}[{i}]"), b);
        }
    }
}

fn is_bucket_name(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

pub fn strings(v: &Option<Vec<String>>) -> Vec<String> {
    v.clone().unwrap_or_default()
}

/// The source's region, or the provider's.
pub fn region_or(region: &Option<String>, ctx: &AccountContext) -> String {
    region.clone().unwrap_or_else(|| ctx.region.clone())
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub fn ctx() -> AccountContext {
        AccountContext {
            partition: "aws".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    /// Failures and warnings of one source's rules.
    pub fn judge(source: &dyn DataSource, allow_wildcards: bool) -> (Vec<Failure>, Vec<String>) {
        let (mut failures, mut warnings) = (Vec::new(), Vec::new());
        source.validate(&mut Rules {
            allow_wildcards,
            failures: &mut failures,
            warnings: &mut warnings,
        });
        (failures, warnings)
    }

    /// Every rendered policy is a valid identity policy (our grammar and the
    /// evaluator's reading of it); the linter suite checks them again.
    pub fn rendered(source: &dyn DataSource) -> Vec<(&'static str, Json)> {
        let policies = source.policies(&ctx());
        for (name, doc) in &policies {
            crate::iam::policy::check_grammar(doc, crate::iam::policy::DocumentKind::Identity)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                source.policy_names().contains(name),
                "{name} is not reserved"
            );
        }
        policies
    }

    pub fn actions(doc: &Json) -> std::collections::BTreeSet<String> {
        crate::iam::policy::statements(doc)
            .iter()
            .flat_map(|s| crate::iam::policy::string_list(s.get("Action")))
            .collect()
    }
}
