//! Deciding what to do, as data. A create, update or delete is first computed
//! as an ordered list of AWS steps (pure; unit-tested without AWS), then run
//! by the executor. The seed's "Role Creation Order" lives in `plan_role`:
//! create with the initial trust, write permissions, then the full trust.

pub mod executor;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::cloud::api::{AccessScope, LiveRole, Tags};
use crate::iam::policy::equivalent;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    CreateRole {
        role: String,
        path: String,
        trust: Json,
        description: Option<String>,
        max_session_duration: Option<i64>,
        permissions_boundary: Option<String>,
        tags: Tags,
    },
    /// Retried while IAM does not yet see a principal it names (propagation).
    UpdateTrust {
        role: String,
        trust: Json,
    },
    UpdateRole {
        role: String,
        description: Option<String>,
        max_session_duration: Option<i64>,
    },
    PutBoundary {
        role: String,
        arn: String,
    },
    DeleteBoundary {
        role: String,
    },
    TagRole {
        role: String,
        tags: Tags,
    },
    UntagRole {
        role: String,
        keys: Vec<String>,
    },
    PutPolicy {
        role: String,
        name: String,
        document: Json,
    },
    DeletePolicy {
        role: String,
        name: String,
    },
    AttachPolicy {
        role: String,
        arn: String,
    },
    DetachPolicy {
        role: String,
        arn: String,
    },
    DeleteRole {
        role: String,
    },
    CreatePodIdentity {
        cluster: String,
        namespace: String,
        service_account: String,
        role_arn: String,
        disable_session_tags: bool,
        tags: Tags,
    },
    UpdatePodIdentity {
        cluster: String,
        id: String,
        role_arn: String,
        disable_session_tags: bool,
    },
    DeletePodIdentity {
        cluster: String,
        id: String,
    },
    CreateAccessEntry {
        cluster: String,
        principal_arn: String,
        tags: Tags,
    },
    AssociateAccessPolicy {
        cluster: String,
        principal_arn: String,
        policy_arn: String,
        scope: AccessScope,
    },
    DisassociateAccessPolicy {
        cluster: String,
        principal_arn: String,
        policy_arn: String,
    },
    DeleteAccessEntry {
        cluster: String,
        principal_arn: String,
    },
}

impl Step {
    /// One line for progress messages and previews. Never includes documents
    /// (a trust policy may carry the ExternalId).
    pub fn describe(&self) -> String {
        match self {
            Step::CreateRole { role, .. } => format!("create role {role}"),
            Step::UpdateTrust { role, .. } => format!("write trust policy of {role}"),
            Step::UpdateRole { role, .. } => {
                format!("update description/session duration of {role}")
            }
            Step::PutBoundary { role, .. } => format!("set permissions boundary of {role}"),
            Step::DeleteBoundary { role } => format!("remove permissions boundary of {role}"),
            Step::TagRole { role, tags } => format!("tag {role} ({} tags)", tags.len()),
            Step::UntagRole { role, keys } => format!("untag {role} ({})", keys.join(", ")),
            Step::PutPolicy { role, name, .. } => format!("put inline policy {name} on {role}"),
            Step::DeletePolicy { role, name } => format!("delete inline policy {name} from {role}"),
            Step::AttachPolicy { role, arn } => format!("attach {arn} to {role}"),
            Step::DetachPolicy { role, arn } => format!("detach {arn} from {role}"),
            Step::DeleteRole { role } => format!("delete role {role}"),
            Step::CreatePodIdentity {
                cluster,
                namespace,
                service_account,
                ..
            } => {
                format!("associate {namespace}/{service_account} on {cluster} via Pod Identity")
            }
            Step::UpdatePodIdentity { cluster, id, .. } => {
                format!("update Pod Identity association {id} on {cluster}")
            }
            Step::DeletePodIdentity { cluster, id } => {
                format!("delete Pod Identity association {id} on {cluster}")
            }
            Step::CreateAccessEntry {
                cluster,
                principal_arn,
                ..
            } => format!("create access entry for {principal_arn} on {cluster}"),
            Step::AssociateAccessPolicy {
                cluster,
                policy_arn,
                ..
            } => format!("associate {policy_arn} on {cluster}"),
            Step::DisassociateAccessPolicy {
                cluster,
                policy_arn,
                ..
            } => format!("disassociate {policy_arn} on {cluster}"),
            Step::DeleteAccessEntry {
                cluster,
                principal_arn,
            } => format!("delete access entry for {principal_arn} on {cluster}"),
        }
    }
}

/// The role a resource wants, fully rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleSpec {
    pub name: String,
    pub path: String,
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
    pub permissions_boundary: Option<String>,
    pub tags: Tags,
    /// Trust written by CreateRole: must not name principals that may not exist yet.
    pub initial_trust: Json,
    pub trust: Json,
    pub inline_policies: BTreeMap<String, Json>,
    pub managed_policies: BTreeSet<String>,
    /// Connector grants on this role (`templates::is_connector_grant`)
    /// belong to the connectors and are left alone: the base role.
    pub keeps_connector_grants: bool,
}

/// Steps that bring `live` (None: absent) to `want`. Permissions are written
/// before the trust that lets anyone use them; removals come last.
pub fn plan_role(live: Option<&LiveRole>, want: &RoleSpec, partition: &str) -> Vec<Step> {
    let role = want.name.clone();
    let mut steps = Vec::new();
    let Some(live) = live else {
        steps.push(Step::CreateRole {
            role: role.clone(),
            path: want.path.clone(),
            trust: want.initial_trust.clone(),
            description: want.description.clone(),
            max_session_duration: want.max_session_duration,
            permissions_boundary: want.permissions_boundary.clone(),
            tags: want.tags.clone(),
        });
        for (name, document) in &want.inline_policies {
            steps.push(Step::PutPolicy {
                role: role.clone(),
                name: name.clone(),
                document: document.clone(),
            });
        }
        for arn in &want.managed_policies {
            steps.push(Step::AttachPolicy {
                role: role.clone(),
                arn: arn.clone(),
            });
        }
        if !equivalent(&want.initial_trust, &want.trust, partition) {
            steps.push(Step::UpdateTrust {
                role,
                trust: want.trust.clone(),
            });
        }
        return steps;
    };

    // The boundary first: a deployer held to it may write only roles that
    // already have it (iam:PermissionsBoundary is the role's current one).
    match (&live.permissions_boundary, &want.permissions_boundary) {
        (Some(a), Some(b)) if a == b => {}
        (_, Some(b)) => steps.push(Step::PutBoundary {
            role: role.clone(),
            arn: b.clone(),
        }),
        (Some(_), None) => steps.push(Step::DeleteBoundary { role: role.clone() }),
        (None, None) => {}
    }
    let want_session = want.max_session_duration.unwrap_or(3600);
    if live.description != want.description || live.max_session_duration != want_session {
        steps.push(Step::UpdateRole {
            role: role.clone(),
            description: Some(want.description.clone().unwrap_or_default()),
            max_session_duration: Some(want_session),
        });
    }
    let changed_tags: Tags = want
        .tags
        .iter()
        .filter(|(k, v)| live.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed_tags.is_empty() {
        steps.push(Step::TagRole {
            role: role.clone(),
            tags: changed_tags,
        });
    }
    let stale_tags: Vec<String> = live
        .tags
        .keys()
        .filter(|k| !want.tags.contains_key(*k))
        .cloned()
        .collect();
    if !stale_tags.is_empty() {
        steps.push(Step::UntagRole {
            role: role.clone(),
            keys: stale_tags,
        });
    }
    for (name, document) in &want.inline_policies {
        let same = live
            .inline_policies
            .get(name)
            .is_some_and(|d| equivalent(d, document, partition));
        if !same {
            steps.push(Step::PutPolicy {
                role: role.clone(),
                name: name.clone(),
                document: document.clone(),
            });
        }
    }
    for arn in want.managed_policies.difference(&live.managed_policies) {
        steps.push(Step::AttachPolicy {
            role: role.clone(),
            arn: arn.clone(),
        });
    }
    if !equivalent(&live.trust, &want.trust, partition) {
        steps.push(Step::UpdateTrust {
            role: role.clone(),
            trust: want.trust.clone(),
        });
    }
    for (name, document) in &live.inline_policies {
        let foreign = want.keeps_connector_grants
            && crate::iam::templates::is_connector_grant(name, document);
        if !want.inline_policies.contains_key(name) && !foreign {
            steps.push(Step::DeletePolicy {
                role: role.clone(),
                name: name.clone(),
            });
        }
    }
    for arn in live.managed_policies.difference(&want.managed_policies) {
        steps.push(Step::DetachPolicy {
            role: role.clone(),
            arn: arn.clone(),
        });
    }
    steps
}

/// Steps that empty and delete a role (IAM refuses to delete a role that
/// still has policies). `live` None: already gone.
pub fn plan_role_delete(live: Option<&LiveRole>) -> Vec<Step> {
    let Some(live) = live else { return Vec::new() };
    let role = live.name.clone();
    let mut steps: Vec<Step> = live
        .inline_policies
        .keys()
        .map(|name| Step::DeletePolicy {
            role: role.clone(),
            name: name.clone(),
        })
        .collect();
    steps.extend(live.managed_policies.iter().map(|arn| Step::DetachPolicy {
        role: role.clone(),
        arn: arn.clone(),
    }));
    steps.push(Step::DeleteRole { role });
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> RoleSpec {
        RoleSpec {
            name: "conn".into(),
            path: "/".into(),
            description: None,
            max_session_duration: None,
            permissions_boundary: None,
            tags: [("ManagedBy".to_string(), "pulumi-xpander".to_string())].into(),
            initial_trust: json!({"Version": "2012-10-17", "Statement": [{"Sid": "PodIdentity", "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            trust: json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "PodIdentity", "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"},
                {"Sid": "SelfAssume", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/conn"}, "Action": "sts:AssumeRole"}]}),
            inline_policies: [("A".to_string(), json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))].into(),
            managed_policies: BTreeSet::new(),
            keeps_connector_grants: true,
        }
    }

    fn live_from(spec: &RoleSpec) -> LiveRole {
        LiveRole {
            name: spec.name.clone(),
            path: spec.path.clone(),
            arn: "arn:aws:iam::123456789012:role/conn".into(),
            role_id: "AROAEXAMPLE".into(),
            trust: spec.trust.clone(),
            description: spec.description.clone(),
            max_session_duration: 3600,
            permissions_boundary: None,
            tags: spec.tags.clone(),
            inline_policies: spec.inline_policies.clone(),
            managed_policies: spec.managed_policies.clone(),
        }
    }

    #[test]
    fn create_follows_the_seed_role_creation_order() {
        let steps = plan_role(None, &spec(), "aws");
        assert!(
            matches!(&steps[0], Step::CreateRole { trust, .. } if !trust.to_string().contains("role/conn"))
        );
        assert!(matches!(&steps[1], Step::PutPolicy { name, .. } if name == "A"));
        assert!(
            matches!(steps.last().unwrap(), Step::UpdateTrust { trust, .. } if trust.to_string().contains("role/conn"))
        );
    }

    #[test]
    fn a_role_takes_its_boundary_before_any_other_write() {
        let mut s = spec();
        let live = live_from(&s);
        s.permissions_boundary = Some("arn:aws:iam::123456789012:policy/xpander-boundary".into());
        s.description = Some("now held".into());
        s.inline_policies.insert("B".into(), json!({}));
        let steps = plan_role(Some(&live), &s, "aws");
        assert!(
            matches!(&steps[0], Step::PutBoundary { arn, .. } if arn.ends_with("/xpander-boundary")),
            "{steps:?}"
        );
        assert!(steps.iter().any(|st| matches!(st, Step::UpdateRole { .. })));
    }

    #[test]
    fn converged_role_plans_nothing() {
        let s = spec();
        assert_eq!(plan_role(Some(&live_from(&s)), &s, "aws"), Vec::new());
    }

    #[test]
    fn drift_is_repaired_and_foreign_grants_are_kept() {
        let s = spec();
        let mut live = live_from(&s);
        live.inline_policies.insert("Injected".into(), json!({}));
        live.inline_policies.insert(
            "xpander-assume-other".into(),
            crate::iam::templates::base_grant("arn:aws:iam::123456789012:role/other"),
        );
        // Under the grant prefix, but not a grant: drift like any other.
        live.inline_policies.insert(
            "xpander-assume-backdoor".into(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        );
        live.trust = s.initial_trust.clone();
        live.tags.insert("Stale".into(), "x".into());
        let steps = plan_role(Some(&live), &s, "aws");
        assert!(steps.contains(&Step::DeletePolicy {
            role: "conn".into(),
            name: "Injected".into()
        }));
        assert!(!steps.iter().any(
            |st| matches!(st, Step::DeletePolicy { name, .. } if name == "xpander-assume-other")
        ));
        assert!(steps.contains(&Step::DeletePolicy {
            role: "conn".into(),
            name: "xpander-assume-backdoor".into()
        }));
        assert!(steps
            .iter()
            .any(|st| matches!(st, Step::UpdateTrust { .. })));
        assert!(steps.contains(&Step::UntagRole {
            role: "conn".into(),
            keys: vec!["Stale".into()]
        }));
    }

    #[test]
    fn delete_empties_the_role_first() {
        let mut live = live_from(&spec());
        live.managed_policies
            .insert("arn:aws:iam::aws:policy/ReadOnlyAccess".into());
        let steps = plan_role_delete(Some(&live));
        assert!(matches!(steps.last().unwrap(), Step::DeleteRole { .. }));
        assert_eq!(steps.len(), 3);
        assert!(plan_role_delete(None).is_empty());
    }
}
