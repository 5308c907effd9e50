//! Reading what the checks need from live IAM/EKS state.

use std::collections::BTreeMap;

use super::{PodIdentityTarget, Subject};
use crate::cloud::api::AwsApi;
use crate::cloud::error::CloudError;

#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub base_role: String,
    pub connector_roles: Vec<String>,
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    pub service_account: Option<String>,
}

/// One read per role (with its policies), one per association, one access
/// entry per connector that holds EKS permissions.
pub async fn gather(api: &dyn AwsApi, scope: &Scope) -> Result<Subject, CloudError> {
    let base = api.get_role(&scope.base_role).await?;
    let mut connectors = Vec::new();
    for name in &scope.connector_roles {
        connectors.push((name.clone(), api.get_role(name).await?));
    }
    let pod_identity = match &scope.cluster {
        Some(cluster) => {
            let namespace = scope.namespace.clone().unwrap_or_else(|| "xpander".into());
            let service_account = scope
                .service_account
                .clone()
                .unwrap_or_else(|| "xpander".into());
            let association = api
                .find_pod_identity(cluster, &namespace, &service_account)
                .await?;
            Some(PodIdentityTarget {
                cluster: cluster.clone(),
                namespace,
                service_account,
                association,
            })
        }
        None => None,
    };
    let mut access_entries = BTreeMap::new();
    if let Some(cluster) = &scope.cluster {
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
        base_name: scope.base_role.clone(),
        base,
        connectors,
        pod_identity,
        access_entries,
    })
}
