//! Reading what the checks need from live IAM/EKS state.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::{PodIdentityTarget, Subject};
use crate::cloud::api::{AccessEntry, AwsApi, LiveRole};
use crate::cloud::error::CloudError;
use crate::resources::base_role::{DEFAULT_NAMESPACE, DEFAULT_SERVICE_ACCOUNT};

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
    let (base_name, base_elsewhere) = base_role(api, scope).await?;
    let base = match base_elsewhere {
        Some(_) => None,
        None => api.get_role(&base_name).await?,
    };
    let mut connectors = Vec::new();
    for name in &scope.connector_roles {
        connectors.push((name.clone(), api.get_role(name).await?));
    }
    let managed = managed_policies(
        api,
        base.iter()
            .chain(connectors.iter().filter_map(|(_, r)| r.as_ref())),
    )
    .await?;
    // Reading the quota needs iam:GetAccountSummary; without it the default applies.
    let trust_quota = api
        .account_quotas()
        .await
        .ok()
        .and_then(|q| q.trust_policy_chars);
    let pod_identity = pod_identity(api, scope).await?;
    let access_entries = access_entries(api, scope, pod_identity.as_ref(), &connectors).await?;
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

/// The base role's name, and its ARN when it lives in another account.
async fn base_role(
    api: &dyn AwsApi,
    scope: &Scope,
) -> Result<(String, Option<String>), CloudError> {
    let Some(arn) = scope.base_role_arn.as_deref() else {
        return Ok((scope.base_role.clone(), None));
    };
    let parsed = crate::iam::arn::parse_role_arn(arn).ok_or_else(|| {
        CloudError::new(
            "GetRole",
            "InvalidInput",
            format!("{arn:?} is not an IAM role ARN"),
        )
    })?;
    let here = api.caller_identity().await?;
    let elsewhere = (parsed.account_id != here.account_id).then(|| arn.to_string());
    Ok((parsed.name, elsewhere))
}

/// The documents of every managed policy and boundary the roles reference, once each.
async fn managed_policies<'a>(
    api: &dyn AwsApi,
    roles: impl Iterator<Item = &'a LiveRole>,
) -> Result<BTreeMap<String, Json>, CloudError> {
    let referenced: BTreeSet<String> = roles
        .flat_map(|r| {
            r.managed_policies
                .iter()
                .chain(r.permissions_boundary.iter())
                .cloned()
        })
        .collect();
    let mut managed = BTreeMap::new();
    for arn in referenced {
        if let Some(doc) = api.get_managed_policy(&arn).await? {
            managed.insert(arn, doc);
        }
    }
    Ok(managed)
}

async fn pod_identity(
    api: &dyn AwsApi,
    scope: &Scope,
) -> Result<Option<PodIdentityTarget>, CloudError> {
    let Some(cluster) = &scope.cluster else {
        return Ok(None);
    };
    let namespace = scope
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.into());
    let service_account = scope
        .service_account
        .clone()
        .unwrap_or_else(|| DEFAULT_SERVICE_ACCOUNT.into());
    let cluster_info = api.describe_cluster(cluster).await?;
    let association = match cluster_info {
        Some(_) => {
            api.find_pod_identity(cluster, &namespace, &service_account)
                .await?
        }
        None => None,
    };
    Ok(Some(PodIdentityTarget {
        cluster: cluster.clone(),
        namespace,
        service_account,
        cluster_info,
        association,
    }))
}

/// The access entry of each connector holding EKS permissions, on a cluster that admits them.
async fn access_entries(
    api: &dyn AwsApi,
    scope: &Scope,
    target: Option<&PodIdentityTarget>,
    connectors: &[(String, Option<LiveRole>)],
) -> Result<BTreeMap<String, Option<AccessEntry>>, CloudError> {
    let mut entries = BTreeMap::new();
    let possible = target
        .and_then(|t| t.cluster_info.as_ref())
        .is_some_and(|c| c.authentication_mode != "CONFIG_MAP");
    let (true, Some(cluster)) = (possible, &scope.cluster) else {
        return Ok(entries);
    };
    for (name, role) in connectors {
        let Some(role) = role else { continue };
        let eks = role
            .inline_policies
            .values()
            .flat_map(crate::iam::policy::statements)
            .flat_map(|s| crate::iam::policy::string_list(s.get("Action")))
            .any(|a| a.to_lowercase().starts_with("eks:"));
        if eks {
            entries.insert(
                name.clone(),
                api.get_access_entry(cluster, &role.arn).await?,
            );
        }
    }
    Ok(entries)
}
