//! What both resources are: an IAM role with a name, path, description,
//! session limit, boundary and tags, and the outputs every role has. Tag
//! merging, ownership, the role spec and the shared validation rules live here.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::cloud::api::LiveRole;
use crate::context::OpError;
use crate::iam::arn::{parse_role_arn, AccountContext};
use crate::iam::limits;
use crate::model::failure::Failure;
use crate::model::spec::declare;
use crate::plan::RoleSpec;

/// Tag marking a role as owned by one Pulumi resource: a create that meets
/// a role carrying its own URN adopts it instead of failing.
pub const OWNER_TAG: &str = "pulumi-xpander:urn";
pub const MANAGED_BY_TAG: &str = "ManagedBy";
pub const MANAGED_BY_VALUE: &str = "pulumi-xpander";
pub const DEFAULT_PATH: &str = "/";
/// IAM's default maximum session duration, which an imported role need not restate.
pub const DEFAULT_SESSION_SECONDS: i64 = 3600;

declare! {
    /// The inputs every role-backed resource has.
    pub struct RoleArgs {
        "roleName" role_name: String [replaces] => "IAM role name. Autonamed from the resource name when omitted (and kept on later runs). Changing it replaces the role.",
        "path" path: String [replaces, default_str = DEFAULT_PATH] => "IAM path of the role. Changing it replaces the role.",
        "description" description: String => "Role description.",
        "maxSessionDuration" max_session_duration: i64 => "Maximum session duration in seconds (3600–43200).",
        "permissionsBoundary" permissions_boundary: String => "ARN of a managed policy used as permissions boundary.",
        "tags" tags: BTreeMap<String, String> => "Tags for the role, merged over the provider's `defaultTags`. `ManagedBy=pulumi-xpander` is added unless set.",
    }
}

declare! {
    /// The outputs both resources have (a resource may describe them its own way).
    pub outputs struct RoleState {
        "arn" arn: String [assigned] => "ARN of the role.",
        "roleId" role_id: String [assigned] => "Unique id (AROA…) of the role.",
        "accountId" account_id: String [assigned] => "Account that owns the role.",
        "trustPolicy" trust_policy: Json => "The trust policy as written.",
        "policies" policies: BTreeMap<String, Json> => "Inline policies owned by this resource, by name.",
        "tagsAll" tags_all: BTreeMap<String, String> [derived_from = &[RoleArgs::tags]] => "All tags on the role, including provider defaults.",
    }
}

impl RoleState {
    /// The deploying account and partition, as the recorded ARN says.
    pub fn account(&self, region: &str) -> Option<AccountContext> {
        let parsed = parse_role_arn(self.arn.as_deref()?)?;
        Some(AccountContext {
            partition: parsed.partition,
            account_id: parsed.account_id,
            region: region.to_string(),
        })
    }

    /// After a rename through `aliases` the URN changes while the role stays:
    /// the ownership tag must follow, or a later create under the new URN
    /// would not recognise the role as its own.
    pub fn owner_tag_is_stale(&self, urn: &str) -> bool {
        self.tags_all
            .as_ref()
            .and_then(|t| t.get(OWNER_TAG))
            .is_some_and(|v| *v != owner_tag_value(urn))
    }
}

/// A role's trust in the seed's "Role Creation Order": what CreateRole
/// writes (naming no role that may not exist yet), then the full trust.
pub struct Trust {
    pub initial: Json,
    pub full: Json,
}

impl RoleArgs {
    pub fn iam_path(&self) -> String {
        self.path.clone().unwrap_or_else(|| DEFAULT_PATH.into())
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

impl RoleArgs {
    /// The role inputs a user could have written for a live role (import).
    pub fn from_live(live: &LiveRole) -> RoleArgs {
        let tags = user_tags(&live.tags);
        RoleArgs {
            role_name: Some(live.name.clone()),
            path: (live.path != DEFAULT_PATH).then(|| live.path.clone()),
            description: live.description.clone(),
            max_session_duration: (live.max_session_duration != DEFAULT_SESSION_SECONDS)
                .then_some(live.max_session_duration),
            permissions_boundary: live.permissions_boundary.clone(),
            tags: (!tags.is_empty()).then_some(tags),
        }
    }

    /// The role as a resource writes it: these inputs, its trust and its
    /// policies, tagged with the defaults and the owner.
    pub fn spec(
        &self,
        default_tags: &BTreeMap<String, String>,
        urn: &str,
        trust: Trust,
        inline_policies: BTreeMap<String, Json>,
        managed_policies: BTreeSet<String>,
    ) -> RoleSpec {
        RoleSpec {
            name: self.name(),
            path: self.iam_path(),
            description: self.description.clone(),
            max_session_duration: self.max_session_duration,
            permissions_boundary: self.permissions_boundary.clone(),
            tags: self.all_tags(default_tags, urn),
            initial_trust: trust.initial,
            trust: trust.full,
            inline_policies,
            managed_policies,
            keeps_connector_grants: false,
        }
    }
}

/// A role that already exists is adopted only when it carries this
/// resource's ownership tag (left by an interrupted create); anything else is
/// someone else's role and must be imported explicitly.
pub fn ensure_owned(live: Option<&LiveRole>, urn: &str, token: &str) -> Result<(), OpError> {
    match live {
        None => Ok(()),
        Some(l) if l.tags.get(OWNER_TAG) == Some(&owner_tag_value(urn)) => Ok(()),
        Some(l) => Err(OpError::Cloud(crate::cloud::error::CloudError::new(
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
        let state = RoleState {
            tags_all: Some([(OWNER_TAG.to_string(), owner_tag_value(old))].into()),
            ..Default::default()
        };
        assert!(!state.owner_tag_is_stale(old));
        assert!(state.owner_tag_is_stale(&old.replace("::old", "::new")));
        assert!(!RoleState::default().owner_tag_is_stale(old));
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
