//! The steps a connector takes besides its role: the grant on the base role
//! and the cluster access entry, for create/update and for delete. Pure.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::Rendered;
use crate::cloud::api::AccessEntry;
use crate::iam::arn::parse_role_arn;
use crate::model::value::{PropertyMap, PropertyValue};
use crate::plan::Step;

/// What exists besides the role: the grant on the base role and the access entry.
#[derive(Debug, Default, Clone)]
pub struct LiveExtras {
    pub grant: Option<Json>,
    pub access: Option<AccessEntry>,
}

/// Steps for the grant and the cluster access, after the role's own steps.
/// A new grant is written before an old one is revoked.
pub fn plan_extras(
    want: &Rendered,
    live: &LiveExtras,
    old: Option<&Rendered>,
    partition: &str,
) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some(g) = &want.grant {
        let same = live
            .grant
            .as_ref()
            .is_some_and(|d| crate::iam::policy::equivalent(d, &g.document, partition));
        if !same {
            steps.push(Step::PutPolicy {
                role: g.base_role.clone(),
                name: g.name.clone(),
                document: g.document.clone(),
            });
        }
    }
    if let Some(a) = &want.access {
        match &live.access {
            None => {
                steps.push(Step::CreateAccessEntry {
                    cluster: a.cluster.clone(),
                    principal_arn: a.principal_arn.clone(),
                    tags: BTreeMap::new(),
                });
                steps.push(Step::AssociateAccessPolicy {
                    cluster: a.cluster.clone(),
                    principal_arn: a.principal_arn.clone(),
                    policy_arn: a.policy_arn.clone(),
                    scope: a.scope.clone(),
                });
            }
            Some(entry) => {
                for (arn, _) in entry
                    .policies
                    .iter()
                    .filter(|(arn, scope)| **arn != a.policy_arn || **scope != a.scope)
                {
                    steps.push(Step::DisassociateAccessPolicy {
                        cluster: a.cluster.clone(),
                        principal_arn: a.principal_arn.clone(),
                        policy_arn: arn.clone(),
                    });
                }
                if entry.policies.get(&a.policy_arn) != Some(&a.scope) {
                    steps.push(Step::AssociateAccessPolicy {
                        cluster: a.cluster.clone(),
                        principal_arn: a.principal_arn.clone(),
                        policy_arn: a.policy_arn.clone(),
                        scope: a.scope.clone(),
                    });
                }
            }
        }
    }
    if let Some(old) = old {
        if let Some(og) = &old.grant {
            let kept = want
                .grant
                .as_ref()
                .is_some_and(|g| g.base_role == og.base_role && g.name == og.name);
            if !kept {
                steps.push(Step::DeletePolicy {
                    role: og.base_role.clone(),
                    name: og.name.clone(),
                });
            }
        }
        if let Some(oa) = &old.access {
            let kept = want
                .access
                .as_ref()
                .is_some_and(|a| a.cluster == oa.cluster && a.principal_arn == oa.principal_arn);
            if !kept {
                steps.push(Step::DeleteAccessEntry {
                    cluster: oa.cluster.clone(),
                    principal_arn: oa.principal_arn.clone(),
                });
            }
        }
    }
    steps
}

/// What a connector wrote besides its role, as its state's outputs record it.
/// Delete works from this alone: the inputs may no longer decode, and today's
/// rendering of them may differ from what was written.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Written {
    /// (base role name, policy name)
    pub grant: Option<(String, String)>,
    /// (cluster, principal ARN)
    pub access: Option<(String, String)>,
}

impl Written {
    pub fn from_outputs(olds: &PropertyMap) -> Written {
        let text = |key: &str| {
            olds.get(key)
                .map(PropertyValue::to_json)
                .and_then(|v| v.as_str().map(str::to_string))
        };
        let grant = match (text("baseRoleArn"), text("grantPolicyName")) {
            (Some(base), Some(policy)) => parse_role_arn(&base).map(|b| (b.name, policy)),
            _ => None,
        };
        let cluster = olds.get("eks").map(PropertyValue::to_json).and_then(|e| {
            e.get("clusterName")
                .and_then(Json::as_str)
                .map(str::to_string)
        });
        let access = match (text("accessEntryArn"), cluster, text("arn")) {
            (Some(_), Some(cluster), Some(principal)) => Some((cluster, principal)),
            _ => None,
        };
        Written { grant, access }
    }
}

/// Delete order (DESIGN): revoke the grant, remove the access entry (which
/// takes its access policy associations with it); the lifecycle then empties
/// and deletes the role.
pub fn plan_delete(written: &Written, access_entry_exists: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some((base_role, name)) = &written.grant {
        steps.push(Step::DeletePolicy {
            role: base_role.clone(),
            name: name.clone(),
        });
    }
    if let (Some((cluster, principal_arn)), true) = (&written.access, access_entry_exists) {
        steps.push(Step::DeleteAccessEntry {
            cluster: cluster.clone(),
            principal_arn: principal_arn.clone(),
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ctx, eks_args, redshift_args};
    use super::*;
    use serde_json::json;

    #[test]
    fn eks_connector_gets_cluster_access() {
        let r = eks_args().render(&ctx(), &BTreeMap::new(), "u").unwrap();
        let steps = plan_extras(&r, &LiveExtras::default(), None, "aws");
        assert!(matches!(&steps[0], Step::CreateAccessEntry { cluster, .. } if cluster == "prod"));
        assert!(
            matches!(&steps[1], Step::AssociateAccessPolicy { policy_arn, scope, .. }
            if policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" && scope.scope_type == "cluster")
        );
    }

    #[test]
    fn moving_base_roles_grants_before_revoking() {
        let old = redshift_args()
            .render(&ctx(), &BTreeMap::new(), "u")
            .unwrap();
        let mut moved = redshift_args();
        moved.trust.base_role_arn = Some("arn:aws:iam::123456789012:role/new-base".into());
        let new = moved.render(&ctx(), &BTreeMap::new(), "u").unwrap();
        let steps = plan_extras(&new, &LiveExtras::default(), Some(&old), "aws");
        assert!(matches!(&steps[0], Step::PutPolicy { role, .. } if role == "new-base"));
        assert!(
            matches!(&steps[1], Step::DeletePolicy { role, .. } if role == "xpander-base-role")
        );
    }

    #[test]
    fn delete_revokes_the_grant_first() {
        let written = Written {
            grant: Some(("xpander-base-role".into(), "xpander-assume-c".into())),
            access: None,
        };
        let steps = plan_delete(&written, false);
        assert!(
            matches!(&steps[0], Step::DeletePolicy { role, .. } if role == "xpander-base-role")
        );
    }

    #[test]
    fn delete_finds_what_was_written_in_the_outputs_alone() {
        let olds = crate::model::value::json_to_map(
            json!({
                "arn": "arn:aws:iam::123456789012:role/c",
                "baseRoleArn": "arn:aws:iam::123456789012:role/xpander-base-role",
                "grantPolicyName": "xpander-assume-c",
                "eks": {"clusterName": "prod"},
                "accessEntryArn": "arn:aws:eks:us-east-1:123456789012:access-entry/prod/role/123456789012/c/x",
            })
            .as_object()
            .unwrap(),
        );
        assert_eq!(
            Written::from_outputs(&olds),
            Written {
                grant: Some(("xpander-base-role".into(), "xpander-assume-c".into())),
                access: Some(("prod".into(), "arn:aws:iam::123456789012:role/c".into())),
            }
        );
        assert_eq!(
            Written::from_outputs(&PropertyMap::new()),
            Written::default()
        );
    }
}
