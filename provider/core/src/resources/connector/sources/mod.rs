//! The data sources a connector role can reach, one file each: its input
//! type, its rules, the policies it renders and its tests. The connector is
//! assembled from the list below; adding a source is a file and one line.

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::context::{Cloud, OpError};
use crate::iam::arn::AccountContext;
use crate::model::failure::Failure;
use crate::model::spec::{declare, Key, SchemaType, Ty};

pub use eks::ClusterAccess;

/// What a data source contributes to its connector role.
#[async_trait]
pub trait DataSource: std::fmt::Debug + Send + Sync {
    /// Rules beyond the types: identifiers, regions, combinations.
    fn validate(&self, rules: &mut Rules<'_>);
    /// Its inline policies, rendered for one account.
    fn policies(&self, ctx: &AccountContext) -> Vec<(&'static str, Json)>;
    /// Kubernetes access the role needs on a cluster (an access entry).
    fn cluster_access(&self, _ctx: &AccountContext, _principal_arn: &str) -> Option<ClusterAccess> {
        None
    }
    /// The cluster of the access entry it holds: what identifies the entry
    /// (a new cluster is a new entry, with a new ARN).
    fn access_cluster(&self) -> Option<String> {
        None
    }
    /// Whether `preflight` reads AWS: a preview then reaches for credentials.
    fn preflight_reads(&self) -> bool {
        false
    }
    /// Mistakes AWS would only refuse after the role exists, read before
    /// anything is written (in a preview too, when AWS can be reached).
    async fn preflight(&self, _cloud: &Cloud) -> Result<(), OpError> {
        Ok(())
    }
}

/// The seed wants some sources in a role of their own: two of them in one
/// role is mixed. The doctor tells them apart by the services of their actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnRole {
    pub family: &'static str,
    pub services: &'static [&'static str],
}

/// What is known of a kind of source without an instance of it: what the
/// connector reserves, what the doctor checks on live roles and what the
/// policy linter renders. Each source states it in its own file.
pub trait Kind: DataSource + Default + SchemaType + serde::de::DeserializeOwned + 'static {
    /// Names of the inline policies it writes (reserved for it).
    const POLICY_NAMES: &'static [&'static str];
    const OWN_ROLE: Option<OwnRole> = None;
    /// Actions it grants on named resources only: on `Resource: "*"` (a role
    /// written by hand) they are too broad.
    const SCOPED_ACTIONS: &'static [&'static str];
    /// Values for each of its inputs, least configured first: the linter's
    /// matrix, and the examples the doctor's and the sources' tests render.
    fn variants() -> Vec<(Key, Vec<Json>)>;
    /// An input that widens its grant with wildcards (accepted only with
    /// allowWildcards), when its identifiers can hold one.
    fn wildcard() -> Option<Json>;
}

/// A kind of source, as data.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    pub key: Key,
    /// Its object type in the schema.
    pub type_name: &'static str,
    pub policy_names: &'static [&'static str],
    pub own_role: Option<OwnRole>,
    pub scoped_actions: &'static [&'static str],
    pub variants: fn() -> Vec<(Key, Vec<Json>)>,
    pub wildcard: fn() -> Option<Json>,
    /// An input of this kind as a source (for tests and the `sources` listing).
    pub decode: fn(Json) -> Result<Box<dyn DataSource>, String>,
}

fn decode_as<S: Kind>(input: Json) -> Result<Box<dyn DataSource>, String> {
    serde_json::from_value::<S>(input)
        .map(|s| Box::new(s) as Box<dyn DataSource>)
        .map_err(|e| e.to_string())
}

impl Profile {
    const fn of<S: Kind>(key: Key) -> Profile {
        Profile {
            key,
            type_name: match S::TY {
                Ty::Object(name) => name,
                _ => "",
            },
            policy_names: S::POLICY_NAMES,
            own_role: S::OWN_ROLE,
            scoped_actions: S::SCOPED_ACTIONS,
            variants: S::variants,
            wildcard: S::wildcard,
            decode: decode_as::<S>,
        }
    }

    /// The most configured input: each field's last variant.
    pub fn fullest(&self) -> Json {
        Json::Object(
            (self.variants)()
                .into_iter()
                .filter_map(|(k, v)| v.last().cloned().map(|v| (k.name().to_string(), v)))
                .filter(|(_, v)| !v.is_null())
                .collect(),
        )
    }
}

/// One line per data source: its input name, and its field, which is also
/// the name of its file, and its type there.
macro_rules! sources {
    ($($key:literal $field:ident: $ty:ident,)*) => {
        $(pub mod $field;)*

        declare! {
            /// The data-source inputs of a connector.
            pub struct Sources {
                $($key $field: $field::$ty => $field::$ty::DESCRIPTION,)*
            }
        }

        impl Sources {
            /// Every source's input key.
            pub const KEYS: &'static [Key] = &[$(Sources::$field),*];

            /// The configured sources with what is known of their kind, in declaration order.
            pub fn each(&self) -> Vec<(&'static Profile, &dyn DataSource)> {
                let mut found: Vec<(&'static Profile, &dyn DataSource)> = Vec::new();
                let mut profiles = PROFILES.iter();
                $(
                    let profile = profiles.next().expect("one profile per source");
                    if let Some(s) = &self.$field {
                        found.push((profile, s));
                    }
                )*
                found
            }
        }

        /// Every kind of source, in declaration order.
        pub static PROFILES: &[Profile] = &[$(Profile::of::<$field::$ty>(Sources::$field)),*];
    };
}

sources! {
    "redshift" redshift: Redshift,
    "eks" eks: Eks,
    "s3" s3: S3,
    "dynamodb" dynamodb: DynamoDb,
    "athena" athena: Athena,
    "bedrock" bedrock: Bedrock,
    "secretsManager" secrets_manager: SecretsManager,
    "cloudwatchLogs" cloudwatch_logs: CloudWatchLogs,
}

/// Every kind of source as data, for the `sources` subcommand: what the
/// policy linter's matrix and a reviewer read (input key, schema type,
/// policy names, the doctor's facts, example inputs).
pub fn listing() -> Json {
    Json::Array(
        PROFILES
            .iter()
            .map(|p| {
                serde_json::json!({
                    "key": p.key.name(),
                    "type": p.type_name,
                    "policies": p.policy_names,
                    "ownRole": p.own_role.map(|o| serde_json::json!({"family": o.family, "services": o.services})),
                    "scopedActions": p.scoped_actions,
                    "variants": Json::Object((p.variants)().into_iter().map(|(k, v)| (k.name().to_string(), Json::Array(v))).collect()),
                    "wildcard": (p.wildcard)(),
                })
            })
            .collect(),
    )
}

/// The input names, for messages.
pub fn keys() -> Vec<&'static str> {
    Sources::KEYS.iter().map(|k| k.name()).collect()
}

/// Where a source's rules report: failures and warnings named by path
/// under the source's own input, and the connector's wildcard setting.
pub struct Rules<'a> {
    /// The source's input key: a source names its fields, not itself.
    pub source: Key,
    pub allow_wildcards: bool,
    pub failures: &'a mut Vec<Failure>,
    pub warnings: &'a mut Vec<String>,
}

impl Rules<'_> {
    /// The full path of one of the source's fields (`s3.buckets`).
    pub fn path(&self, field: Key) -> String {
        format!("{}.{}", self.source.name(), field.name())
    }

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

    pub fn identifiers(&mut self, field: Key, values: &[String]) {
        let path = self.path(field);
        for (i, v) in values.iter().enumerate() {
            self.identifier(&format!("{path}[{i}]"), v);
        }
    }

    /// A list that must name at least one thing.
    pub fn not_empty(&mut self, field: Key, values: &[String], what: &str) {
        if values.is_empty() {
            let path = self.path(field);
            self.fail(&path, format!("{path} needs at least one {what}"));
        }
    }

    pub fn region(&mut self, field: Key, region: &Option<String>) {
        let path = self.path(field);
        self.region_at(&path, region);
    }

    pub fn region_at(&mut self, path: &str, region: &Option<String>) {
        if let Some(r) = region {
            if !crate::iam::limits::is_region_name(r) {
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

    pub fn buckets(&mut self, field: Key, buckets: &[String]) {
        let path = self.path(field);
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

    pub fn profile_of<S: Kind>() -> &'static Profile {
        let Ty::Object(name) = S::TY else {
            panic!("a source is an object type")
        };
        PROFILES
            .iter()
            .find(|p| p.type_name == name)
            .expect("every source is in sources!")
    }

    fn judge_as(
        profile: &Profile,
        source: &dyn DataSource,
        allow_wildcards: bool,
    ) -> (Vec<Failure>, Vec<String>) {
        let (mut failures, mut warnings) = (Vec::new(), Vec::new());
        source.validate(&mut Rules {
            source: profile.key,
            allow_wildcards,
            failures: &mut failures,
            warnings: &mut warnings,
        });
        (failures, warnings)
    }

    /// Failures and warnings of one source's rules.
    pub fn judge<S: Kind>(source: &S, allow_wildcards: bool) -> (Vec<Failure>, Vec<String>) {
        judge_as(profile_of::<S>(), source, allow_wildcards)
    }

    /// Every rendered policy is a valid identity policy (our grammar and the
    /// evaluator's reading of it) with a reserved name; the linter suite
    /// checks them again.
    pub fn rendered<S: Kind>(source: &S) -> Vec<(&'static str, Json)> {
        let policies = source.policies(&ctx());
        for (name, doc) in &policies {
            crate::iam::policy::check_grammar(doc, crate::iam::policy::DocumentKind::Identity)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(S::POLICY_NAMES.contains(name), "{name} is not reserved");
        }
        policies
    }

    pub fn actions(doc: &Json) -> std::collections::BTreeSet<String> {
        crate::iam::policy::statements(doc)
            .iter()
            .flat_map(|s| crate::iam::policy::string_list(s.get("Action")))
            .collect()
    }

    /// What each source says of itself holds for what it renders: its
    /// variants cover every field and decode, its policies carry reserved
    /// names, each action it calls scoped is rendered on a named resource,
    /// the services of its own-role family are among its actions', and its
    /// wildcard input is refused unless allowed.
    #[test]
    fn every_profile_matches_its_source() {
        for p in PROFILES {
            let fields: std::collections::BTreeSet<&str> =
                (p.variants)().iter().map(|(k, _)| k.name()).collect();
            let schema = crate::resources::connector::SPEC
                .types
                .iter()
                .find(|t| t.name == p.type_name)
                .expect("the source's type is in the schema");
            let declared: std::collections::BTreeSet<&str> =
                schema.props.iter().map(|f| f.name).collect();
            assert_eq!(
                fields,
                declared,
                "{}: variants for every field",
                p.key.name()
            );
            let source =
                (p.decode)(p.fullest()).unwrap_or_else(|e| panic!("{}: {e}", p.key.name()));
            let (failures, _) = judge_as(p, source.as_ref(), false);
            assert!(failures.is_empty(), "{}: {failures:?}", p.key.name());
            let policies = source.policies(&ctx());
            let mut scoped = std::collections::BTreeSet::new();
            let mut services = std::collections::BTreeSet::new();
            for (name, doc) in &policies {
                assert!(p.policy_names.contains(name), "{name} is not reserved");
                for s in crate::iam::policy::statements(doc) {
                    let named = crate::iam::policy::string_list(s.get("Resource"))
                        .iter()
                        .all(|r| r != "*");
                    for a in crate::iam::policy::string_list(s.get("Action")) {
                        services.insert(a.split(':').next().unwrap_or_default().to_string());
                        if named {
                            scoped.insert(a);
                        }
                    }
                }
            }
            for a in p.scoped_actions {
                assert!(
                    scoped.contains(*a),
                    "{}: {a} is not rendered on a named resource",
                    p.key.name()
                );
            }
            for svc in p.own_role.iter().flat_map(|o| o.services) {
                assert!(services.contains(*svc), "{}: no {svc} action", p.key.name());
            }
            if let Some(wild) = (p.wildcard)() {
                let wild = (p.decode)(wild).expect("the wildcard input decodes");
                assert!(
                    !judge_as(p, wild.as_ref(), false).0.is_empty(),
                    "{}",
                    p.key.name()
                );
                assert!(
                    judge_as(p, wild.as_ref(), true).0.is_empty(),
                    "{}",
                    p.key.name()
                );
            }
        }
    }
}
