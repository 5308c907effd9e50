//! Reading what the checks need from live IAM/EKS state.

use std::collections::BTreeMap;

use super::{PodIdentityTarget, Subject};
use crate::cloud::api::AwsApi;
use crate::cloud::error::CloudError;

#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The base role by name, in the account the credentials reach.
    pub base_role: String,
    /// Or by ARN: one in another account is not read (these credentials
    /// cannot); the connectors are checked against its ARN alone.
    pub base_role_arn: Option<String>,
    pub connector_roles: Vec<String>,
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    pub service_account: Option<String>,
}

/// One read per role (with its policies), per referenced managed policy, per
/// association, and per access entry of a connector that holds EKS permissions.
pub async fn gather(api: &dyn AwsApi, scope: &Scope) -> Result<Subject, CloudError> {
    let (base_name, base_elsewhere) = match scope.base_role_arn.as_deref() {
        Some(arn) => {
            let parsed = crate::iam::arn::parse_role_arn(arn).ok_or_else(|| {
                CloudError::new(
                    "GetRole",
                    "InvalidInput",
                    format!("{arn:?} is not an IAM role ARN"),
                )
            })?;
            let here = api.caller_identity().await?;
            let elsewhere = (parsed.account_id != here.account_id).then(|| arn.to_string());
            (parsed.name, elsewhere)
        }
        None => (scope.base_role.clone(), None),
    };
    let base = match base_elsewhere {
        Some(_) => None,
        None => api.get_role(&base_name).await?,
    };
    let mut connectors = Vec::new();
    for name in &scope.connector_roles {
        connectors.push((name.clone(), api.get_role(name).await?));
    }
    let mut referenced: Vec<String> = base
        .iter()
        .chain(connectors.iter().filter_map(|(_, r)| r.as_ref()))
        .flat_map(|r| {
            r.managed_policies
                .iter()
                .chain(r.permissions_boundary.iter())
                .cloned()
        })
        .collect();
    referenced.sort();
    referenced.dedup();
    let mut managed = BTreeMap::new();
    for arn in referenced {
        if let Some(doc) = api.get_managed_policy(&arn).await? {
            managed.insert(arn, doc);
        }
    }
    // Reading the quota needs iam:GetAccountSummary; without it the default applies.
    let trust_quota = api
        .account_quotas()
        .await
        .ok()
        .and_then(|q| q.trust_policy_chars);
    let pod_identity = match &scope.cluster {
        Some(cluster) => {
            let namespace = scope.namespace.clone().unwrap_or_else(|| "xpander".into());
            let service_account = scope
                .service_account
                .clone()
                .unwrap_or_else(|| "xpander".into());
            let cluster_info = api.describe_cluster(cluster).await?;
            let association = match cluster_info {
                Some(_) => {
                    api.find_pod_identity(cluster, &namespace, &service_account)
                        .await?
                }
                None => None,
            };
            Some(PodIdentityTarget {
                cluster: cluster.clone(),
                namespace,
                service_account,
                cluster_info,
                association,
            })
        }
        None => None,
    };
    let mut access_entries = BTreeMap::new();
    let entries_possible = pod_identity
        .as_ref()
        .and_then(|t| t.cluster_info.as_ref())
        .is_some_and(|c| c.authentication_mode != "CONFIG_MAP");
    if let (true, Some(cluster)) = (entries_possible, &scope.cluster) {
        for (name, role) in &connectors {
            let Some(role) = role else { continue };
            let eks = role
                .inline_policies
                .values()
                .flat_map(crate::iam::policy::statements)
                .flat_map(|s| crate::iam::policy::string_list(s.get("Action")))
                .any(|a| a.to_lowercase().starts_with("eks:"));
            if eks {
                access_entries.insert(
                    name.clone(),
                    api.get_access_entry(cluster, &role.arn).await?,
                );
            }
        }
    }
    Ok(Subject {
        base_name,
        base,
        base_elsewhere,
        connectors,
        pod_identity,
        access_entries,
        managed,
        trust_quota,
    })
}
