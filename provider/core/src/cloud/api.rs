//! The AWS operations the provider performs, as a trait so planning and
//! execution can be exercised without the SDK, and the SDK adapter stays thin.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde_json::Value as Json;

use super::error::CloudError;

pub type Tags = BTreeMap<String, String>;

/// A role as IAM reports it, with every inline and attached policy.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRole {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub role_id: String,
    pub trust: Json,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<String>,
    pub tags: Tags,
    pub inline_policies: BTreeMap<String, Json>,
    pub managed_policies: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreatedRole {
    pub arn: String,
    pub role_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRole {
    pub name: String,
    pub path: String,
    pub trust: String,
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
    pub permissions_boundary: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodIdentityAssociation {
    pub cluster_name: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    pub association_id: String,
    pub association_arn: String,
    pub disable_session_tags: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPodIdentityAssociation {
    pub cluster_name: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    pub disable_session_tags: bool,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct AccessScope {
    #[serde(rename = "type")]
    pub scope_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub access_entry_arn: String,
    pub policies: BTreeMap<String, AccessScope>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account_id: String,
    pub arn: String,
}

/// What the doctor needs to know about a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    pub arn: String,
    /// `API`, `API_AND_CONFIG_MAP` or `CONFIG_MAP`.
    pub authentication_mode: String,
}

/// IAM quotas of the account that a role's inputs can exceed; adjustable
/// per account, so read rather than assumed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountQuotas {
    /// AssumeRolePolicySizeQuota
    pub trust_policy_chars: Option<usize>,
    /// AttachedPoliciesPerRoleQuota (10 unless raised; at most 20)
    pub attached_policies_per_role: Option<usize>,
}

#[async_trait]
pub trait AwsApi: Send + Sync {
    async fn caller_identity(&self) -> Result<CallerIdentity, CloudError>;

    async fn get_role(&self, name: &str) -> Result<Option<LiveRole>, CloudError>;
    /// One GetRole call: whether the role exists, without reading its policies.
    async fn role_exists(&self, name: &str) -> Result<bool, CloudError>;
    async fn create_role(&self, role: &NewRole) -> Result<CreatedRole, CloudError>;
    async fn update_trust(&self, role: &str, document: &str) -> Result<(), CloudError>;
    async fn update_role(
        &self,
        role: &str,
        description: Option<&str>,
        max_session: Option<i64>,
    ) -> Result<(), CloudError>;
    async fn put_boundary(&self, role: &str, arn: &str) -> Result<(), CloudError>;
    async fn delete_boundary(&self, role: &str) -> Result<(), CloudError>;
    async fn tag_role(&self, role: &str, tags: &Tags) -> Result<(), CloudError>;
    async fn untag_role(&self, role: &str, keys: &[String]) -> Result<(), CloudError>;
    async fn put_role_policy(
        &self,
        role: &str,
        name: &str,
        document: &str,
    ) -> Result<(), CloudError>;
    async fn get_role_policy(&self, role: &str, name: &str) -> Result<Option<Json>, CloudError>;
    async fn delete_role_policy(&self, role: &str, name: &str) -> Result<(), CloudError>;
    async fn attach_policy(&self, role: &str, arn: &str) -> Result<(), CloudError>;
    async fn detach_policy(&self, role: &str, arn: &str) -> Result<(), CloudError>;
    async fn delete_role(&self, role: &str) -> Result<(), CloudError>;
    /// The default version's document of a managed policy (None: no such policy).
    async fn get_managed_policy(&self, arn: &str) -> Result<Option<Json>, CloudError>;
    /// The account's IAM quotas that inputs can exceed (GetAccountSummary).
    async fn account_quotas(&self) -> Result<AccountQuotas, CloudError>;
    async fn describe_cluster(&self, name: &str) -> Result<Option<ClusterInfo>, CloudError>;

    async fn find_pod_identity(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<Option<PodIdentityAssociation>, CloudError>;
    async fn create_pod_identity(
        &self,
        a: &NewPodIdentityAssociation,
    ) -> Result<PodIdentityAssociation, CloudError>;
    async fn update_pod_identity(
        &self,
        cluster: &str,
        id: &str,
        role_arn: &str,
        disable_session_tags: bool,
    ) -> Result<(), CloudError>;
    async fn delete_pod_identity(&self, cluster: &str, id: &str) -> Result<(), CloudError>;

    async fn get_access_entry(
        &self,
        cluster: &str,
        principal: &str,
    ) -> Result<Option<AccessEntry>, CloudError>;
    async fn create_access_entry(
        &self,
        cluster: &str,
        principal: &str,
        tags: &Tags,
    ) -> Result<String, CloudError>;
    async fn associate_access_policy(
        &self,
        cluster: &str,
        principal: &str,
        policy_arn: &str,
        scope: &AccessScope,
    ) -> Result<(), CloudError>;
    async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal: &str,
        policy_arn: &str,
    ) -> Result<(), CloudError>;
    async fn delete_access_entry(&self, cluster: &str, principal: &str) -> Result<(), CloudError>;
}
