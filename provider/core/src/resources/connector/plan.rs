//! The steps a connector takes besides its role: the grant on the base role
//! and the cluster access a source asks for, for create/update and for
//! delete. Pure.

use serde_json::Value as Json;

use super::{ConnectorArgs, ConnectorState, Rendered};
use crate::cloud::api::AccessEntry;
use crate::iam::arn::parse_role_arn;
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
        steps.extend(a.plan(live.access.as_ref()));
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
            let kept = want.access.as_ref().is_some_and(|a| a.same_entry(oa));
            if !kept {
                steps.push(oa.delete());
            }
        }
    }
    steps
}

/// What a connector wrote besides its role, as its last state records it.
/// Delete works from this alone: the inputs may no longer all decode, and
/// today's rendering of them may differ from what was written.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Written {
    /// (base role name, policy name)
    pub grant: Option<(String, String)>,
    /// (cluster, principal ARN)
    pub access: Option<(String, String)>,
}

impl Written {
    pub fn from_state(state: &ConnectorState, args: &ConnectorArgs) -> Written {
        let grant = match (&args.trust.base_role_arn, &state.grant_policy_name) {
            (Some(base), Some(policy)) => parse_role_arn(base).map(|b| (b.name, policy.clone())),
            _ => None,
        };
        let cluster = args
            .sources
            .each()
            .into_iter()
            .find_map(|(_, s)| s.access_cluster());
        let access = match (&state.access_entry_arn, cluster, &state.role.arn) {
            (Some(_), Some(cluster), Some(principal)) => Some((cluster, principal.clone())),
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
    use crate::resources::properties::decode_lenient;
    use serde_json::json;
    use std::collections::BTreeMap;

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
                "managedPolicyArns": "no longer a list",
            })
            .as_object()
            .unwrap(),
        );
        let state: ConnectorState = decode_lenient(&olds);
        let args: ConnectorArgs = decode_lenient(&olds);
        assert_eq!(
            Written::from_state(&state, &args),
            Written {
                grant: Some(("xpander-base-role".into(), "xpander-assume-c".into())),
                access: Some(("prod".into(), "arn:aws:iam::123456789012:role/c".into())),
            }
        );
        assert_eq!(
            Written::from_state(&ConnectorState::default(), &ConnectorArgs::default()),
            Written::default()
        );
    }
}
