//! What both resources are: an IAM role with a name, path, description,
//! session limit, boundary and tags. Autonaming, tag merging, ownership and
//! the shared validation rules live here.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{Autonaming, Failure};
use crate::iam::limits;
use crate::model::spec::declare;
use crate::model::value::{PropertyMap, PropertyValue};

/// Tag marking a role as owned by one Pulumi resource: a create that meets
/// a role carrying its own URN adopts it instead of failing.
pub const OWNER_TAG: &str = "pulumi-xpander:urn";
pub const MANAGED_BY_TAG: &str = "ManagedBy";
pub const MANAGED_BY_VALUE: &str = "pulumi-xpander";

declare! {
    /// The inputs every role-backed resource has.
    pub struct RoleArgs {
        "roleName" role_name: String [replaces] => "IAM role name. Autonamed from the resource name when omitted (and kept on later runs). Changing it replaces the role.",
        "path" path: String [replaces, default = "/"] => "IAM path of the role. Changing it replaces the role.",
        "description" description: String => "Role description.",
        "maxSessionDuration" max_session_duration: i64 => "Maximum session duration in seconds (3600–43200).",
        "permissionsBoundary" permissions_boundary: String => "ARN of a managed policy used as permissions boundary.",
        "tags" tags: BTreeMap<String, String> => "Tags for the role, merged over the provider's `defaultTags`. `ManagedBy=pulumi-xpander` is added unless set.",
    }
}

impl RoleArgs {
    pub fn path(&self) -> String {
        self.path.clone().unwrap_or_else(|| "/".into())
    }

    pub fn name(&self) -> String {
        self.role_name.clone().unwrap_or_default()
    }

    pub fn validate(&self, failures: &mut Vec<Failure>) {
        if let Some(n) = &self.role_name {
            if let Err(r) = limits::check_role_name(n) {
                failures.push(Failure::new("roleName", format!("roleName {r}")));
            }
        }
        if let Some(p) = &self.path {
            if let Err(r) = limits::check_path(p) {
                failures.push(Failure::new("path", format!("path {r}")));
            }
        }
        if let Some(d) = &self.description {
            if let Err(r) = limits::check_description(d) {
                failures.push(Failure::new("description", format!("description {r}")));
            }
        }
        if let Some(s) = self.max_session_duration {
            if let Err(r) = limits::check_session_duration(s) {
                failures.push(Failure::new(
                    "maxSessionDuration",
                    format!("maxSessionDuration {r}"),
                ));
            }
        }
        if let Some(b) = &self.permissions_boundary {
            if !crate::iam::arn::is_policy_arn(b) {
                failures.push(Failure::new(
                    "permissionsBoundary",
                    format!("permissionsBoundary must be a managed policy ARN, got {b:?}"),
                ));
            }
        }
        if let Some(tags) = &self.tags {
            for (k, v) in tags {
                if let Err(r) = limits::check_tag(k, v) {
                    failures.push(Failure::new("tags", r));
                }
                if k == OWNER_TAG {
                    failures.push(Failure::new(
                        "tags",
                        format!(
                            "tag key {OWNER_TAG:?} is reserved for the provider's ownership marker"
                        ),
                    ));
                }
            }
            if let Err(r) = limits::check_tag_set(tags.keys()) {
                failures.push(Failure::new("tags", r));
            }
        }
    }

    /// Every tag the role carries: provider defaults, then the user's, then
    /// `ManagedBy` (the seed's governance tag) unless set, then ownership.
    pub fn all_tags(
        &self,
        default_tags: &BTreeMap<String, String>,
        urn: &str,
    ) -> BTreeMap<String, String> {
        let mut tags = default_tags.clone();
        tags.extend(self.tags.clone().unwrap_or_default());
        tags.entry(MANAGED_BY_TAG.into())
            .or_insert_with(|| MANAGED_BY_VALUE.into());
        tags.insert(OWNER_TAG.into(), owner_tag_value(urn));
        tags
    }
}

/// After a rename through `aliases` the URN changes while the role stays: the
/// ownership tag must follow, or a later create under the new URN would not
/// recognise the role as its own.
pub fn owner_tag_is_stale(olds: &PropertyMap, urn: &str) -> bool {
    let Some(PropertyValue::Object(tags)) = olds.get("tagsAll") else {
        return false;
    };
    matches!(tags.get(OWNER_TAG), Some(PropertyValue::String(v)) if *v != owner_tag_value(urn))
}

/// Tag values cannot hold `$` (parent separators in URNs) nor exceed 256
/// characters, so the URN is made safe, or hashed when long.
pub fn owner_tag_value(urn: &str) -> String {
    let safe: String = urn
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " _.:/=+-@".contains(c) {
                c
            } else {
                '/'
            }
        })
        .collect();
    if safe.chars().count() <= 256 {
        safe
    } else {
        format!("sha256:{:x}", Sha256::digest(urn.as_bytes()))
    }
}

/// Fills `roleName` when absent: reuse the name from the last deployment,
/// else the engine's proposed name, else `<resource name>-<7 hex>` from the
/// engine's random seed (stable within one run).
pub fn autoname(
    resource_name: &str,
    olds: &PropertyMap,
    news: &mut PropertyMap,
    random_seed: &[u8],
    autonaming: &Autonaming,
) -> Result<(), Failure> {
    if matches!(news.get("roleName"), Some(v) if !matches!(v, PropertyValue::Null)) {
        return Ok(());
    }
    if autonaming.disabled {
        return Err(Failure::new(
            "roleName",
            "roleName is required: autonaming is disabled for this stack",
        ));
    }
    let name = if let Some(PropertyValue::String(old)) = olds.get("roleName") {
        old.clone()
    } else if let Some(p) = &autonaming.proposed_name {
        p.clone()
    } else {
        let suffix: String = random_seed
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()[..7.min(random_seed.len() * 2)]
            .to_string();
        let mut base: String = resource_name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
            .collect();
        base.truncate(limits::ROLE_NAME_MAX - 8);
        if suffix.is_empty() {
            base
        } else {
            format!("{base}-{suffix}")
        }
    };
    news.insert("roleName".into(), PropertyValue::String(name));
    Ok(())
}

/// Check for a role resource: fill `roleName`, then the shared pipeline with
/// the resource's rules. The checked inputs keep the user's values as sent
/// (secret wrappers included) plus the name.
pub fn check_role<T: serde::de::DeserializeOwned>(
    spec: &crate::model::spec::ResourceSpec,
    req: &super::CheckRequest<'_>,
    rules: impl FnOnce(&T, &mut Vec<Failure>, &mut Vec<String>),
) -> super::Checked {
    let mut news = req.news.clone();
    if let Err(f) = autoname(
        req.name,
        req.olds,
        &mut news,
        req.random_seed,
        &req.autonaming,
    ) {
        return super::Checked {
            inputs: news,
            failures: vec![f],
            warnings: vec![],
        };
    }
    let mut checked = super::run_check::<T>(spec, &news, rules);
    checked.inputs = news;
    checked
}

/// The deploying account and partition as recorded in a role's outputs.
pub fn account_from_outputs(
    olds: &PropertyMap,
    region: &str,
) -> Option<crate::iam::arn::AccountContext> {
    let arn = match olds.get("arn")? {
        PropertyValue::String(s) => s,
        _ => return None,
    };
    let parsed = crate::iam::arn::parse_role_arn(arn)?;
    Some(crate::iam::arn::AccountContext {
        partition: parsed.partition,
        account_id: parsed.account_id,
        region: region.to_string(),
    })
}

pub fn string_output(map: &PropertyMap, key: &str) -> Option<String> {
    match map.get(key) {
        Some(PropertyValue::String(s)) => Some(s.clone()),
        Some(PropertyValue::Secret(inner)) => match inner.as_ref() {
            PropertyValue::String(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Tags a user could have written: without the ones the provider adds.
pub fn user_tags(live: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    live.iter()
        .filter(|(k, v)| {
            k.as_str() != OWNER_TAG
                && !(k.as_str() == MANAGED_BY_TAG && v.as_str() == MANAGED_BY_VALUE)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Inputs common to both resources, recovered from a live role (import).
pub fn imported_role_inputs(live: &crate::cloud::api::LiveRole) -> PropertyMap {
    let mut m = PropertyMap::new();
    m.insert("roleName".into(), PropertyValue::String(live.name.clone()));
    if live.path != "/" {
        m.insert("path".into(), PropertyValue::String(live.path.clone()));
    }
    if let Some(d) = &live.description {
        m.insert("description".into(), PropertyValue::String(d.clone()));
    }
    if live.max_session_duration != 3600 {
        m.insert(
            "maxSessionDuration".into(),
            PropertyValue::Number(live.max_session_duration as f64),
        );
    }
    if let Some(b) = &live.permissions_boundary {
        m.insert(
            "permissionsBoundary".into(),
            PropertyValue::String(b.clone()),
        );
    }
    let tags = user_tags(&live.tags);
    if !tags.is_empty() {
        m.insert(
            "tags".into(),
            PropertyValue::Object(
                tags.into_iter()
                    .map(|(k, v)| (k, PropertyValue::String(v)))
                    .collect(),
            ),
        );
    }
    m
}

/// A role that already exists is adopted only when it carries this
/// resource's ownership tag (left by an interrupted create); anything else is
/// someone else's role and must be imported explicitly.
pub fn ensure_owned(
    live: Option<&crate::cloud::api::LiveRole>,
    urn: &str,
    token: &str,
) -> Result<(), super::OpError> {
    match live {
        None => Ok(()),
        Some(l) if l.tags.get(OWNER_TAG) == Some(&owner_tag_value(urn)) => Ok(()),
        Some(l) => Err(super::OpError::Cloud(crate::cloud::error::CloudError::new(
            "CreateRole",
            "EntityAlreadyExists",
            format!(
                "role {:?} already exists and is not managed by this resource; adopt it with `pulumi import {token} <resource name> {}`, or choose another roleName",
                l.name, l.name
            ),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_rename_makes_the_owner_tag_stale() {
        let old = "urn:pulumi:dev::p::xpander:index:XpanderConnectorRole::old";
        let tags = PropertyMap::from([(
            OWNER_TAG.to_string(),
            PropertyValue::String(owner_tag_value(old)),
        )]);
        let olds = PropertyMap::from([("tagsAll".to_string(), PropertyValue::Object(tags))]);
        assert!(!owner_tag_is_stale(&olds, old));
        assert!(owner_tag_is_stale(&olds, &old.replace("::old", "::new")));
        assert!(!owner_tag_is_stale(&PropertyMap::new(), old));
    }

    #[test]
    fn autonames_are_stable_and_valid() {
        let mut news = PropertyMap::new();
        let an = Autonaming {
            proposed_name: None,
            disabled: false,
        };
        autoname(
            "redshift connector!",
            &PropertyMap::new(),
            &mut news,
            &[0xab, 0xcd, 0xef, 0x01],
            &an,
        )
        .unwrap();
        let PropertyValue::String(n) = &news["roleName"] else {
            panic!()
        };
        assert_eq!(n, "redshiftconnector-abcdef0");
        limits::check_role_name(n).unwrap();
        let olds = news.clone();
        let mut again = PropertyMap::new();
        autoname("redshift connector!", &olds, &mut again, &[1, 2, 3, 4], &an).unwrap();
        assert_eq!(again["roleName"], olds["roleName"]);
    }

    #[test]
    fn owner_tag_is_a_valid_tag_value() {
        let v = owner_tag_value(
            "urn:pulumi:dev::proj::my:mod:Parent$xpander:index:XpanderBaseRole::base",
        );
        limits::check_tag(OWNER_TAG, &v).unwrap();
        let long = owner_tag_value(&"x".repeat(400));
        assert!(long.starts_with("sha256:"));
    }

    #[test]
    fn managed_by_is_added_unless_given() {
        let args = RoleArgs {
            tags: Some([("ManagedBy".to_string(), "platform".to_string())].into()),
            ..Default::default()
        };
        let tags = args.all_tags(&BTreeMap::new(), "urn:x");
        assert_eq!(tags["ManagedBy"], "platform");
        assert!(RoleArgs::default()
            .all_tags(&BTreeMap::new(), "urn:x")
            .contains_key("ManagedBy"));
    }
}
