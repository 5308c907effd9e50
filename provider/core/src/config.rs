//! Provider configuration (`xpander:` stack config): parsing, validation and
//! the defaults a user would expect. Values may arrive as JSON-encoded strings
//! (the engine passes stack config that way), so every field is coerced.

use std::collections::BTreeMap;
use std::time::Duration;

use std::sync::LazyLock;

use serde_json::Value as Json;

use crate::iam::limits::is_region_name;
use crate::model::spec::{declare, type_failures, ResourceSpec};
use crate::model::value::{PropertyMap, PropertyValue};

pub const DEFAULT_PROPAGATION_TIMEOUT_SECS: u64 = 120;
pub const DEFAULT_MAX_RETRIES: u32 = 10;
/// The engine passes the plugin's version among the config.
pub const VERSION_KEY: &str = "version";

pub const DEFAULT_SESSION_NAME: &str = "pulumi-xpander";

declare! {
    pub struct AssumeRoleConfig as "AssumeRole", "A role the provider assumes before calling AWS." {
        "roleArn" role_arn: String [required] => "ARN of the role.",
        "externalId" external_id: String [secret] => "ExternalId required by the role's trust policy.",
        "sessionName" session_name: String => "Session name (default `pulumi-xpander`).",
    }
}

declare! {
    pub struct Endpoints as "Endpoints", "Endpoint overrides." {
        "iam" iam: String => "IAM endpoint URL.",
        "sts" sts: String => "STS endpoint URL.",
        "eks" eks: String => "EKS endpoint URL.",
    }
}

declare! {
    /// The provider's configuration, described once: the schema's `config`
    /// and `provider` sections, parsing, and the unknown-key warning.
    pub struct ProviderConfig {
        "region" region: String => "AWS region (or AWS_REGION). IAM is global; the region selects EKS and the ARNs of regional services.",
        "profile" profile: String => "Named profile from the shared AWS config files.",
        "assumeRole" assume_role: AssumeRoleConfig => "Role to assume for all AWS calls.",
        "endpoints" endpoints: Endpoints => "Custom endpoints for IAM, STS and EKS (e.g. a local emulator).",
        "defaultTags" default_tags: BTreeMap<String, String> => "Tags added to every role the provider creates.",
        "propagationTimeout" propagation_timeout: f64 => "Seconds to keep retrying while IAM propagates a new role (default 120).",
        "maxRetries" max_retries: i64 => "Attempts per AWS call for transient errors (default 10). Throttled calls are paced and sent again, not counted.",
        "permissionsBoundary" permissions_boundary: String => "Managed policy ARN set as the permissions boundary of every role this provider creates, unless the resource sets its own: pair it with `deployer-policy --mode deploy --permissions-boundary <ARN>`, whose principal may only write roles held to it.",
        "skipCredentialsValidation" skip_credentials_validation: bool => "Do not validate credentials when the provider starts (they are validated lazily on first use either way).",
    }
}

pub const TOKEN: &str = "pulumi:providers:xpander";
pub const DESCRIPTION: &str = "The xpander provider: AWS credentials, region and behaviour.";

/// The configuration's table, for the schema and the unknown-key check.
pub static CONFIG_SPEC: LazyLock<ResourceSpec> = LazyLock::new(|| {
    ResourceSpec::assemble::<ProviderConfig, NoOutputs>(TOKEN, DESCRIPTION).build()
});

declare! {
    /// A provider has inputs only.
    pub outputs struct NoOutputs {}
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFailure {
    pub property: String,
    pub reason: String,
}

impl ProviderConfig {
    pub fn propagation_budget(&self) -> Duration {
        Duration::from_secs_f64(
            self.propagation_timeout
                .unwrap_or(DEFAULT_PROPAGATION_TIMEOUT_SECS as f64),
        )
    }

    pub fn transient_retries(&self) -> u32 {
        self.max_retries
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_MAX_RETRIES)
    }

    /// Parses and validates. Unknown values (preview) are skipped.
    pub fn parse(args: &PropertyMap) -> Result<ProviderConfig, Vec<ConfigFailure>> {
        let mut failures = Vec::new();
        let mut obj = serde_json::Map::new();
        for (key, value) in args {
            if key == VERSION_KEY || value.contains_unknown() {
                continue;
            }
            let json = coerce(value.to_json());
            obj.insert(key.clone(), json);
        }
        let props: Vec<_> = CONFIG_SPEC.props.iter().collect();
        let mut nested = Vec::new();
        type_failures(&props, CONFIG_SPEC.types, &obj, "", &mut nested);
        // Top-level keys are checked by `unknown_keys` (a warning); inside an
        // object an unknown field is a mistake.
        if let Some((path, reason)) = nested.into_iter().find(|(p, _)| p.contains(['.', '['])) {
            failures.push(ConfigFailure {
                property: path.split(['.', '[']).next().unwrap_or("").to_string(),
                reason,
            });
            return Err(failures);
        }
        let cfg: ProviderConfig = match serde_path_to_error::deserialize(Json::Object(obj)) {
            Ok(c) => c,
            Err(e) => {
                let path = e.path().to_string();
                let property = path.split(['.', '[']).next().unwrap_or("").to_string();
                failures.push(ConfigFailure {
                    property,
                    reason: format!("{path}: {}", e.inner()),
                });
                return Err(failures);
            }
        };
        cfg.validate(&mut failures);
        if failures.is_empty() {
            Ok(cfg)
        } else {
            Err(failures)
        }
    }

    fn validate(&self, failures: &mut Vec<ConfigFailure>) {
        let mut fail = |property: &str, reason: String| {
            failures.push(ConfigFailure {
                property: property.into(),
                reason,
            })
        };
        if let Some(r) = &self.region {
            if !is_region_name(r) {
                fail(
                    "region",
                    format!("{r:?} is not an AWS region name (expected e.g. \"us-east-1\")"),
                );
            }
        }
        if let Some(n) = self.max_retries {
            if u32::try_from(n).is_err() {
                fail(
                    ProviderConfig::max_retries.name(),
                    format!("must be a whole number of attempts, 0 or more, got {n}"),
                );
            }
        }
        if let Some(t) = self.propagation_timeout {
            if !(0.0..=3600.0).contains(&t) || t.is_nan() {
                fail(
                    "propagationTimeout",
                    format!("must be between 0 and 3600 seconds, got {t}"),
                );
            }
        }
        if let Some(ar) = &self.assume_role {
            if crate::iam::arn::parse_role_arn(ar.role_arn.as_deref().unwrap_or_default()).is_none()
            {
                fail(
                    "assumeRole",
                    "assumeRole.roleArn must be an IAM role ARN".into(),
                );
            }
            if let Some(x) = &ar.external_id {
                if let Err(reason) = crate::iam::limits::check_external_id(x) {
                    fail("assumeRole", format!("assumeRole.externalId {reason}"));
                }
            }
            if let Some(s) = &ar.session_name {
                let ok = (2..=64).contains(&s.len())
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(c));
                if !ok {
                    fail(
                        "assumeRole",
                        "assumeRole.sessionName must be 2-64 characters of [\\w+=,.@-]".into(),
                    );
                }
            }
        }
        if let Some(ep) = &self.endpoints {
            for (name, url) in [("iam", &ep.iam), ("sts", &ep.sts), ("eks", &ep.eks)] {
                if let Some(u) = url {
                    if !(u.starts_with("http://") || u.starts_with("https://")) {
                        fail(
                            "endpoints",
                            format!("endpoints.{name} must be an http(s) URL, got {u:?}"),
                        );
                    }
                }
            }
        }
        if let Some(b) = &self.permissions_boundary {
            if !crate::iam::arn::is_policy_arn(b) {
                fail(
                    ProviderConfig::permissions_boundary.name(),
                    format!("must be a managed policy ARN, got {b:?}"),
                );
            }
        }
        if let Some(tags) = &self.default_tags {
            for (k, v) in tags {
                if let Err(reason) = crate::iam::limits::check_tag(k, v) {
                    fail("defaultTags", reason);
                }
            }
        }
    }
}

/// Defaults CheckConfig writes into the checked config, so state shows them.
pub fn defaults() -> [(&'static str, PropertyValue); 2] {
    [
        (
            ProviderConfig::propagation_timeout.name(),
            PropertyValue::Number(DEFAULT_PROPAGATION_TIMEOUT_SECS as f64),
        ),
        (
            ProviderConfig::max_retries.name(),
            PropertyValue::Number(DEFAULT_MAX_RETRIES as f64),
        ),
    ]
}

/// Stack config arrives as strings; numbers, booleans and objects are JSON inside them.
fn coerce(v: Json) -> Json {
    match v {
        Json::String(s) => {
            let t = s.trim();
            let looks_json = t.starts_with('{')
                || t.starts_with('[')
                || t == "true"
                || t == "false"
                || t.parse::<f64>().is_ok();
            if looks_json {
                serde_json::from_str(t).unwrap_or(Json::String(s))
            } else {
                Json::String(s)
            }
        }
        other => other,
    }
}

/// Config keys present but not understood.
pub fn unknown_keys(args: &PropertyMap) -> Vec<String> {
    args.keys()
        .filter(|k| k.as_str() != VERSION_KEY && CONFIG_SPEC.prop(k).is_none())
        .cloned()
        .collect()
}

/// Region from config or the standard environment variables (no network).
pub fn resolve_region_locally(cfg: &ProviderConfig) -> Option<String> {
    cfg.region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok().filter(|s| !s.is_empty()))
        .or_else(|| {
            std::env::var("AWS_DEFAULT_REGION")
                .ok()
                .filter(|s| !s.is_empty())
        })
}

/// The region the provider deploys in: config, the standard environment
/// variables, then the selected profile of the shared config files (no network).
pub async fn resolve_region(cfg: &ProviderConfig) -> Option<String> {
    if let Some(r) = resolve_region_locally(cfg) {
        return Some(r);
    }
    let mut b = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(p) = &cfg.profile {
        b = b.profile_name(p);
    }
    use aws_config::meta::region::ProvideRegion;
    b.build().region().await.map(|r| r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, PropertyValue)]) -> PropertyMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn string_encoded_values_are_coerced() {
        let cfg = ProviderConfig::parse(&args(&[
            ("propagationTimeout", PropertyValue::String("30".into())),
            (
                "skipCredentialsValidation",
                PropertyValue::String("true".into()),
            ),
            (
                "endpoints",
                PropertyValue::String(r#"{"iam":"http://127.0.0.1:1"}"#.into()),
            ),
            ("region", PropertyValue::String("eu-west-1".into())),
        ]))
        .unwrap();
        assert_eq!(cfg.propagation_budget(), Duration::from_secs(30));
        assert_eq!(cfg.skip_credentials_validation, Some(true));
        assert_eq!(
            cfg.endpoints.unwrap().iam.as_deref(),
            Some("http://127.0.0.1:1")
        );
    }

    #[test]
    fn bad_values_name_the_property() {
        let f = ProviderConfig::parse(&args(&[(
            "propagationTimeout",
            PropertyValue::Number(-1.0),
        )]))
        .unwrap_err();
        assert_eq!(f[0].property, "propagationTimeout");
        let f = ProviderConfig::parse(&args(&[("region", PropertyValue::String("moon".into()))]))
            .unwrap_err();
        assert_eq!(f[0].property, "region");
        let f = ProviderConfig::parse(&args(&[(
            "maxRetries",
            PropertyValue::String("many".into()),
        )]))
        .unwrap_err();
        assert_eq!(f[0].property, "maxRetries");
    }

    #[test]
    fn secret_external_id_is_read_through_its_wrapper() {
        let mut ar = PropertyMap::new();
        ar.insert(
            "roleArn".into(),
            PropertyValue::String("arn:aws:iam::123456789012:role/deployer".into()),
        );
        ar.insert(
            "externalId".into(),
            PropertyValue::secret(PropertyValue::String("org-1234".into())),
        );
        let cfg =
            ProviderConfig::parse(&args(&[("assumeRole", PropertyValue::Object(ar))])).unwrap();
        assert_eq!(
            cfg.assume_role.unwrap().external_id.as_deref(),
            Some("org-1234")
        );
    }
}
