//! `AwsApi` over the official AWS SDK clients. Each method is one call (or
//! one paginated listing); no policy or retry decisions live here.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_eks::types::{AccessScope as SdkScope, AccessScopeType};
use serde_json::Value as Json;

use super::api::*;
use super::error::CloudError;
use crate::iam::policy::decode_document;

pub struct SdkAws {
    pub iam: aws_sdk_iam::Client,
    pub eks: aws_sdk_eks::Client,
    pub sts: aws_sdk_sts::Client,
}

fn decode(operation: &'static str, text: &str) -> Result<Json, CloudError> {
    decode_document(text).map_err(|e| {
        CloudError::new(
            operation,
            "InvalidDocument",
            format!("IAM returned a document that is {e}"),
        )
    })
}

/// Not-found on a read means "absent", not failure.
fn absent_if_not_found<T>(r: Result<T, CloudError>) -> Result<Option<T>, CloudError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

impl SdkAws {
    /// The GetRole call alone (None: no such role).
    async fn get_role_only(
        &self,
        name: &str,
    ) -> Result<Option<aws_sdk_iam::operation::get_role::GetRoleOutput>, CloudError> {
        absent_if_not_found(
            self.iam
                .get_role()
                .role_name(name)
                .send()
                .await
                .map_err(|e| CloudError::from_sdk("GetRole", e)),
        )
    }

    async fn inline_policy_names(&self, role: &str) -> Result<Vec<String>, CloudError> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_role_policies()
                .role_name(role)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| CloudError::from_sdk("ListRolePolicies", e))?;
            names.extend(out.policy_names().iter().cloned());
            match (out.is_truncated(), out.marker()) {
                (true, Some(m)) => marker = Some(m.to_string()),
                _ => return Ok(names),
            }
        }
    }

    async fn attached_policy_arns(&self, role: &str) -> Result<BTreeSet<String>, CloudError> {
        let mut arns = BTreeSet::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| CloudError::from_sdk("ListAttachedRolePolicies", e))?;
            arns.extend(
                out.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string)),
            );
            match (out.is_truncated(), out.marker()) {
                (true, Some(m)) => marker = Some(m.to_string()),
                _ => return Ok(arns),
            }
        }
    }

    async fn describe_pod_identity(
        &self,
        cluster: &str,
        id: &str,
    ) -> Result<PodIdentityAssociation, CloudError> {
        let out = self
            .eks
            .describe_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .send()
            .await
            .map_err(|e| CloudError::from_sdk("DescribePodIdentityAssociation", e))?;
        let a = out.association().ok_or_else(|| {
            CloudError::new(
                "DescribePodIdentityAssociation",
                "EmptyResponse",
                "no association in response",
            )
        })?;
        Ok(association_from_sdk(a))
    }
}

fn association_from_sdk(a: &aws_sdk_eks::types::PodIdentityAssociation) -> PodIdentityAssociation {
    PodIdentityAssociation {
        cluster_name: a.cluster_name().unwrap_or_default().into(),
        namespace: a.namespace().unwrap_or_default().into(),
        service_account: a.service_account().unwrap_or_default().into(),
        role_arn: a.role_arn().unwrap_or_default().into(),
        association_id: a.association_id().unwrap_or_default().into(),
        association_arn: a.association_arn().unwrap_or_default().into(),
        disable_session_tags: a.disable_session_tags().unwrap_or(false),
    }
}

fn sdk_scope(scope: &AccessScope) -> SdkScope {
    SdkScope::builder()
        .r#type(AccessScopeType::from(scope.scope_type.as_str()))
        .set_namespaces(if scope.namespaces.is_empty() {
            None
        } else {
            Some(scope.namespaces.clone())
        })
        .build()
}

#[async_trait]
impl AwsApi for SdkAws {
    async fn caller_identity(&self) -> Result<CallerIdentity, CloudError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| CloudError::from_sdk("GetCallerIdentity", e))?;
        Ok(CallerIdentity {
            account_id: out.account().unwrap_or_default().into(),
            arn: out.arn().unwrap_or_default().into(),
        })
    }

    async fn role_exists(&self, name: &str) -> Result<bool, CloudError> {
        Ok(self.get_role_only(name).await?.is_some())
    }

    async fn get_role(&self, name: &str) -> Result<Option<LiveRole>, CloudError> {
        let Some(out) = self.get_role_only(name).await? else {
            return Ok(None);
        };
        let Some(role) = out.role() else {
            return Ok(None);
        };
        let mut inline_policies = BTreeMap::new();
        for policy in self.inline_policy_names(name).await? {
            if let Some(doc) = self.get_role_policy(name, &policy).await? {
                inline_policies.insert(policy, doc);
            }
        }
        Ok(Some(LiveRole {
            name: role.role_name().into(),
            path: role.path().into(),
            arn: role.arn().into(),
            role_id: role.role_id().into(),
            trust: decode(
                "GetRole",
                role.assume_role_policy_document().unwrap_or("{}"),
            )?,
            description: role
                .description()
                .map(str::to_string)
                .filter(|d| !d.is_empty()),
            max_session_duration: role.max_session_duration().unwrap_or(3600) as i64,
            permissions_boundary: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
            tags: role
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            inline_policies,
            managed_policies: self.attached_policy_arns(name).await?,
        }))
    }

    async fn create_role(&self, r: &NewRole) -> Result<CreatedRole, CloudError> {
        let tags: Vec<_> = r
            .tags
            .iter()
            .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
            .collect::<Result<_, _>>()
            .map_err(|e| CloudError::new("CreateRole", "InvalidInput", e.to_string()))?;
        let out = self
            .iam
            .create_role()
            .role_name(&r.name)
            .path(&r.path)
            .assume_role_policy_document(&r.trust)
            .set_description(r.description.clone())
            .set_max_session_duration(r.max_session_duration.map(|s| s as i32))
            .set_permissions_boundary(r.permissions_boundary.clone())
            .set_tags(if tags.is_empty() { None } else { Some(tags) })
            .send()
            .await
            .map_err(|e| CloudError::from_sdk("CreateRole", e))?;
        let role = out
            .role()
            .ok_or_else(|| CloudError::new("CreateRole", "EmptyResponse", "no role in response"))?;
        Ok(CreatedRole {
            arn: role.arn().into(),
            role_id: role.role_id().into(),
        })
    }

    async fn update_trust(&self, role: &str, document: &str) -> Result<(), CloudError> {
        self.iam
            .update_assume_role_policy()
            .role_name(role)
            .policy_document(document)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("UpdateAssumeRolePolicy", e))
    }

    async fn update_role(
        &self,
        role: &str,
        description: Option<&str>,
        max_session: Option<i64>,
    ) -> Result<(), CloudError> {
        self.iam
            .update_role()
            .role_name(role)
            .set_description(description.map(str::to_string))
            .set_max_session_duration(max_session.map(|s| s as i32))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("UpdateRole", e))
    }

    async fn put_boundary(&self, role: &str, arn: &str) -> Result<(), CloudError> {
        self.iam
            .put_role_permissions_boundary()
            .role_name(role)
            .permissions_boundary(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("PutRolePermissionsBoundary", e))
    }

    async fn delete_boundary(&self, role: &str) -> Result<(), CloudError> {
        self.iam
            .delete_role_permissions_boundary()
            .role_name(role)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("DeleteRolePermissionsBoundary", e))
    }

    async fn tag_role(&self, role: &str, tags: &Tags) -> Result<(), CloudError> {
        let tags: Vec<_> = tags
            .iter()
            .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
            .collect::<Result<_, _>>()
            .map_err(|e| CloudError::new("TagRole", "InvalidInput", e.to_string()))?;
        self.iam
            .tag_role()
            .role_name(role)
            .set_tags(Some(tags))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("TagRole", e))
    }

    async fn untag_role(&self, role: &str, keys: &[String]) -> Result<(), CloudError> {
        self.iam
            .untag_role()
            .role_name(role)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("UntagRole", e))
    }

    async fn put_role_policy(
        &self,
        role: &str,
        name: &str,
        document: &str,
    ) -> Result<(), CloudError> {
        self.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("PutRolePolicy", e))
    }

    async fn get_role_policy(&self, role: &str, name: &str) -> Result<Option<Json>, CloudError> {
        let got = absent_if_not_found(
            self.iam
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| CloudError::from_sdk("GetRolePolicy", e)),
        )?;
        got.map(|out| decode("GetRolePolicy", out.policy_document()))
            .transpose()
    }

    async fn delete_role_policy(&self, role: &str, name: &str) -> Result<(), CloudError> {
        self.iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("DeleteRolePolicy", e))
    }

    async fn attach_policy(&self, role: &str, arn: &str) -> Result<(), CloudError> {
        self.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("AttachRolePolicy", e))
    }

    async fn detach_policy(&self, role: &str, arn: &str) -> Result<(), CloudError> {
        self.iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("DetachRolePolicy", e))
    }

    async fn delete_role(&self, role: &str) -> Result<(), CloudError> {
        self.iam
            .delete_role()
            .role_name(role)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("DeleteRole", e))
    }

    async fn get_managed_policy(&self, arn: &str) -> Result<Option<Json>, CloudError> {
        let got = absent_if_not_found(
            self.iam
                .get_policy()
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| CloudError::from_sdk("GetPolicy", e)),
        )?;
        let Some(version) = got
            .as_ref()
            .and_then(|o| o.policy())
            .and_then(|p| p.default_version_id())
        else {
            return Ok(None);
        };
        let out = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| CloudError::from_sdk("GetPolicyVersion", e))?;
        out.policy_version()
            .and_then(|v| v.document())
            .map(|d| decode("GetPolicyVersion", d))
            .transpose()
    }

    async fn account_quotas(&self) -> Result<AccountQuotas, CloudError> {
        use aws_sdk_iam::types::SummaryKeyType;
        let out = self
            .iam
            .get_account_summary()
            .send()
            .await
            .map_err(|e| CloudError::from_sdk("GetAccountSummary", e))?;
        let quota = |key: SummaryKeyType| {
            out.summary_map()
                .and_then(|m| m.get(&key))
                .and_then(|v| usize::try_from(*v).ok())
        };
        Ok(AccountQuotas {
            trust_policy_chars: quota(SummaryKeyType::AssumeRolePolicySizeQuota),
            attached_policies_per_role: quota(SummaryKeyType::AttachedPoliciesPerRoleQuota),
        })
    }

    async fn describe_cluster(&self, name: &str) -> Result<Option<ClusterInfo>, CloudError> {
        let got = absent_if_not_found(
            self.eks
                .describe_cluster()
                .name(name)
                .send()
                .await
                .map_err(|e| CloudError::from_sdk("DescribeCluster", e)),
        )?;
        Ok(got.and_then(|o| {
            o.cluster().map(|c| ClusterInfo {
                arn: c.arn().unwrap_or_default().to_string(),
                authentication_mode: c
                    .access_config()
                    .and_then(|a| a.authentication_mode())
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_else(|| "CONFIG_MAP".into()),
            })
        }))
    }

    async fn find_pod_identity(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<Option<PodIdentityAssociation>, CloudError> {
        let listed = absent_if_not_found(
            self.eks
                .list_pod_identity_associations()
                .cluster_name(cluster)
                .namespace(namespace)
                .service_account(service_account)
                .send()
                .await
                .map_err(|e| CloudError::from_sdk("ListPodIdentityAssociations", e)),
        )?;
        let Some(out) = listed else { return Ok(None) };
        let found = out
            .associations()
            .iter()
            .find(|a| {
                a.namespace() == Some(namespace) && a.service_account() == Some(service_account)
            })
            .and_then(|a| a.association_id().map(str::to_string));
        match found {
            Some(id) => absent_if_not_found(self.describe_pod_identity(cluster, &id).await),
            None => Ok(None),
        }
    }

    async fn create_pod_identity(
        &self,
        a: &NewPodIdentityAssociation,
    ) -> Result<PodIdentityAssociation, CloudError> {
        let out = self
            .eks
            .create_pod_identity_association()
            .cluster_name(&a.cluster_name)
            .namespace(&a.namespace)
            .service_account(&a.service_account)
            .role_arn(&a.role_arn)
            .disable_session_tags(a.disable_session_tags)
            .set_tags(if a.tags.is_empty() {
                None
            } else {
                Some(a.tags.clone().into_iter().collect())
            })
            .send()
            .await
            .map_err(|e| CloudError::from_sdk("CreatePodIdentityAssociation", e))?;
        out.association().map(association_from_sdk).ok_or_else(|| {
            CloudError::new(
                "CreatePodIdentityAssociation",
                "EmptyResponse",
                "no association in response",
            )
        })
    }

    async fn update_pod_identity(
        &self,
        cluster: &str,
        id: &str,
        role_arn: &str,
        disable_session_tags: bool,
    ) -> Result<(), CloudError> {
        self.eks
            .update_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .role_arn(role_arn)
            .disable_session_tags(disable_session_tags)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("UpdatePodIdentityAssociation", e))
    }

    async fn delete_pod_identity(&self, cluster: &str, id: &str) -> Result<(), CloudError> {
        self.eks
            .delete_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("DeletePodIdentityAssociation", e))
    }

    async fn get_access_entry(
        &self,
        cluster: &str,
        principal: &str,
    ) -> Result<Option<AccessEntry>, CloudError> {
        let got = absent_if_not_found(
            self.eks
                .describe_access_entry()
                .cluster_name(cluster)
                .principal_arn(principal)
                .send()
                .await
                .map_err(|e| CloudError::from_sdk("DescribeAccessEntry", e)),
        )?;
        let Some(out) = got else { return Ok(None) };
        let arn = out
            .access_entry()
            .and_then(|e| e.access_entry_arn())
            .unwrap_or_default()
            .to_string();
        let mut policies = BTreeMap::new();
        let mut token = None;
        loop {
            let page = self
                .eks
                .list_associated_access_policies()
                .cluster_name(cluster)
                .principal_arn(principal)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| CloudError::from_sdk("ListAssociatedAccessPolicies", e))?;
            for p in page.associated_access_policies() {
                let scope = p.access_scope().map(|s| AccessScope {
                    scope_type: s
                        .r#type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    namespaces: s.namespaces().to_vec(),
                });
                if let (Some(arn), Some(scope)) = (p.policy_arn(), scope) {
                    policies.insert(arn.to_string(), scope);
                }
            }
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        Ok(Some(AccessEntry {
            access_entry_arn: arn,
            policies,
        }))
    }

    async fn create_access_entry(
        &self,
        cluster: &str,
        principal: &str,
        tags: &Tags,
    ) -> Result<String, CloudError> {
        let out = self
            .eks
            .create_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .r#type("STANDARD")
            .set_tags(if tags.is_empty() {
                None
            } else {
                Some(tags.clone().into_iter().collect())
            })
            .send()
            .await
            .map_err(|e| CloudError::from_sdk("CreateAccessEntry", e))?;
        Ok(out
            .access_entry()
            .and_then(|e| e.access_entry_arn())
            .unwrap_or_default()
            .to_string())
    }

    async fn associate_access_policy(
        &self,
        cluster: &str,
        principal: &str,
        policy_arn: &str,
        scope: &AccessScope,
    ) -> Result<(), CloudError> {
        self.eks
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(policy_arn)
            .access_scope(sdk_scope(scope))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("AssociateAccessPolicy", e))
    }

    async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal: &str,
        policy_arn: &str,
    ) -> Result<(), CloudError> {
        self.eks
            .disassociate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(policy_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("DisassociateAccessPolicy", e))
    }

    async fn delete_access_entry(&self, cluster: &str, principal: &str) -> Result<(), CloudError> {
        self.eks
            .delete_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CloudError::from_sdk("DeleteAccessEntry", e))
    }
}
