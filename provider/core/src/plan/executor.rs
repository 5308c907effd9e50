//! Doing it: runs a plan step by step with the retries each step needs, tells
//! the engine what it is waiting for, and reports how far it got, so a
//! failure mid-plan becomes a partial state the next `pulumi up` finishes.

use crate::cloud::api::{
    AwsApi, CreatedRole, NewPodIdentityAssociation, NewRole, PodIdentityAssociation,
};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::retry::{with_retry, Budget};

use super::Step;

/// What the executed steps produced that later steps and the state need.
#[derive(Debug, Default, Clone)]
pub struct Applied {
    pub created_role: Option<CreatedRole>,
    pub association: Option<PodIdentityAssociation>,
    pub access_entry_arn: Option<String>,
    pub steps_done: usize,
}

#[derive(Debug)]
pub struct Failed {
    pub applied: Applied,
    pub step: String,
    pub error: CloudError,
}

pub struct Executor<'a> {
    pub api: &'a dyn AwsApi,
    pub budget: Budget,
    pub progress: &'a (dyn Fn(String) + Send + Sync),
}

fn ok_if_gone(r: Result<(), CloudError>) -> Result<(), CloudError> {
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

/// IAM's aggregate inline-policy quota is what limits connectors per base
/// role; say so, and what to do, where it bites.
fn explain_grant_limit(e: CloudError, policy: &str) -> CloudError {
    if e.class() != ErrorClass::LimitExceeded
        || !policy.starts_with(crate::iam::templates::GRANT_PREFIX)
    {
        return e;
    }
    CloudError {
        message: format!(
            "{} (a base role's inline policies total at most 10,240 characters, about 59 connector grants: give further connectors grantBaseRole: false and list their ARNs in the base role's connectorRoleArns, which holds about 200, or use a second base role)",
            e.message
        ),
        ..e
    }
}

impl Executor<'_> {
    pub async fn run(&self, steps: &[Step]) -> Result<Applied, Failed> {
        let mut applied = Applied::default();
        for step in steps {
            if let Err(error) = self.run_step(step, &mut applied).await {
                return Err(Failed {
                    applied,
                    step: step.describe(),
                    error,
                });
            }
            applied.steps_done += 1;
        }
        Ok(applied)
    }

    async fn retrying<T, F, Fut>(
        &self,
        what: &str,
        retry_on: impl Fn(ErrorClass) -> bool,
        op: F,
    ) -> Result<T, CloudError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, CloudError>>,
    {
        let progress = self.progress;
        let mut waited = None;
        let result = with_retry(
            &self.budget,
            retry_on,
            |err, attempt, elapsed| {
                let why = match err.class() {
                    ErrorClass::PrincipalNotVisible => "waiting for IAM propagation",
                    ErrorClass::DeleteConflict => "waiting for dependent objects to go",
                    ErrorClass::Throttled => "throttled by AWS, backing off",
                    _ => "retrying after a transient AWS error",
                };
                waited = Some(elapsed);
                progress(format!(
                    "{what}: {why} (attempt {attempt}, {:.1}s)",
                    elapsed.as_secs_f64()
                ));
            },
            op,
        )
        .await;
        // The engine keeps showing a resource's last message beside "created":
        // after a wait, say that the step went through.
        if let (Ok(_), Some(elapsed)) = (&result, waited) {
            progress(format!("{what}: done after {:.1}s", elapsed.as_secs_f64()));
        }
        result
    }

    async fn run_step(&self, step: &Step, applied: &mut Applied) -> Result<(), CloudError> {
        let api = self.api;
        let what = step.describe();
        (self.progress)(what.clone());
        let visible = |c| c == ErrorClass::PrincipalNotVisible;
        let never = |_| false;
        match step {
            Step::CreateRole {
                role,
                path,
                trust,
                description,
                max_session_duration,
                permissions_boundary,
                tags,
            } => {
                let new = NewRole {
                    name: role.clone(),
                    path: path.clone(),
                    trust: trust.to_string(),
                    description: description.clone(),
                    max_session_duration: *max_session_duration,
                    permissions_boundary: permissions_boundary.clone(),
                    tags: tags.clone(),
                };
                let created = self
                    .retrying(&what, visible, || api.create_role(&new))
                    .await?;
                applied.created_role = Some(created);
            }
            Step::UpdateTrust { role, trust } => {
                let doc = trust.to_string();
                self.retrying(&what, visible, || api.update_trust(role, &doc))
                    .await?;
            }
            Step::UpdateRole {
                role,
                description,
                max_session_duration,
            } => {
                self.retrying(&what, never, || {
                    api.update_role(role, description.as_deref(), *max_session_duration)
                })
                .await?;
            }
            Step::PutBoundary { role, arn } => {
                self.retrying(&what, never, || api.put_boundary(role, arn))
                    .await?
            }
            Step::DeleteBoundary { role } => ok_if_gone(
                self.retrying(&what, never, || api.delete_boundary(role))
                    .await,
            )?,
            Step::TagRole { role, tags } => {
                self.retrying(&what, never, || api.tag_role(role, tags))
                    .await?
            }
            Step::UntagRole { role, keys } => ok_if_gone(
                self.retrying(&what, never, || api.untag_role(role, keys))
                    .await,
            )?,
            Step::PutPolicy {
                role,
                name,
                document,
            } => {
                let doc = document.to_string();
                self.retrying(&what, never, || api.put_role_policy(role, name, &doc))
                    .await
                    .map_err(|e| explain_grant_limit(e, name))?;
            }
            Step::DeletePolicy { role, name } => ok_if_gone(
                self.retrying(&what, never, || api.delete_role_policy(role, name))
                    .await,
            )?,
            Step::AttachPolicy { role, arn } => {
                self.retrying(&what, never, || api.attach_policy(role, arn))
                    .await?
            }
            Step::DetachPolicy { role, arn } => ok_if_gone(
                self.retrying(&what, never, || api.detach_policy(role, arn))
                    .await,
            )?,
            Step::DeleteRole { role } => {
                let conflict = |c| c == ErrorClass::DeleteConflict;
                ok_if_gone(
                    self.retrying(&what, conflict, || api.delete_role(role))
                        .await,
                )?
            }
            Step::CreatePodIdentity { .. }
            | Step::UpdatePodIdentity { .. }
            | Step::DeletePodIdentity { .. }
            | Step::CreateAccessEntry { .. }
            | Step::AssociateAccessPolicy { .. }
            | Step::DisassociateAccessPolicy { .. }
            | Step::DeleteAccessEntry { .. } => self.run_cluster_step(step, &what, applied).await?,
        }
        Ok(())
    }

    /// The EKS steps: Pod Identity associations and access entries.
    async fn run_cluster_step(
        &self,
        step: &Step,
        what: &str,
        applied: &mut Applied,
    ) -> Result<(), CloudError> {
        let api = self.api;
        let visible = |c| c == ErrorClass::PrincipalNotVisible;
        let never = |_| false;
        match step {
            Step::CreatePodIdentity {
                cluster,
                namespace,
                service_account,
                role_arn,
                disable_session_tags,
                tags,
            } => {
                let new = NewPodIdentityAssociation {
                    cluster_name: cluster.clone(),
                    namespace: namespace.clone(),
                    service_account: service_account.clone(),
                    role_arn: role_arn.clone(),
                    disable_session_tags: *disable_session_tags,
                    tags: tags.clone(),
                };
                let created = match self
                    .retrying(what, visible, || api.create_pod_identity(&new))
                    .await
                {
                    Err(e) if e.class() == ErrorClass::AlreadyExists => {
                        self.adopt_association(&new).await?
                    }
                    other => other?,
                };
                applied.association = Some(created);
            }
            Step::UpdatePodIdentity {
                cluster,
                id,
                role_arn,
                disable_session_tags,
            } => {
                self.retrying(what, visible, || {
                    api.update_pod_identity(cluster, id, role_arn, *disable_session_tags)
                })
                .await?;
            }
            Step::DeletePodIdentity { cluster, id } => ok_if_gone(
                self.retrying(what, never, || api.delete_pod_identity(cluster, id))
                    .await,
            )?,
            Step::CreateAccessEntry {
                cluster,
                principal_arn,
                tags,
            } => {
                let arn = match self
                    .retrying(what, visible, || {
                        api.create_access_entry(cluster, principal_arn, tags)
                    })
                    .await
                {
                    Err(e) if e.class() == ErrorClass::AlreadyExists => api
                        .get_access_entry(cluster, principal_arn)
                        .await?
                        .map(|e| e.access_entry_arn)
                        .unwrap_or_default(),
                    other => other?,
                };
                applied.access_entry_arn = Some(arn);
            }
            Step::AssociateAccessPolicy {
                cluster,
                principal_arn,
                policy_arn,
                scope,
            } => {
                let not_yet = |c| c == ErrorClass::PrincipalNotVisible || c == ErrorClass::NotFound;
                self.retrying(what, not_yet, || {
                    api.associate_access_policy(cluster, principal_arn, policy_arn, scope)
                })
                .await?;
            }
            Step::DisassociateAccessPolicy {
                cluster,
                principal_arn,
                policy_arn,
            } => ok_if_gone(
                self.retrying(what, never, || {
                    api.disassociate_access_policy(cluster, principal_arn, policy_arn)
                })
                .await,
            )?,
            Step::DeleteAccessEntry {
                cluster,
                principal_arn,
            } => ok_if_gone(
                self.retrying(what, never, || {
                    api.delete_access_entry(cluster, principal_arn)
                })
                .await,
            )?,
            other => {
                return Err(CloudError::new(
                    "Plan",
                    "InvalidStep",
                    format!("{} is not an EKS step", other.describe()),
                ))
            }
        }
        Ok(())
    }

    /// One association per service account: an existing one (left by an
    /// interrupted run or made by hand) is pointed at our role and adopted.
    async fn adopt_association(
        &self,
        want: &NewPodIdentityAssociation,
    ) -> Result<PodIdentityAssociation, CloudError> {
        let found = self
            .api
            .find_pod_identity(&want.cluster_name, &want.namespace, &want.service_account)
            .await?
            .ok_or_else(|| {
                CloudError::new(
                    "CreatePodIdentityAssociation",
                    "Conflict",
                    "association reported as existing but not found",
                )
            })?;
        if found.role_arn != want.role_arn
            || found.disable_session_tags != want.disable_session_tags
        {
            (self.progress)(format!(
                "adopting existing Pod Identity association {} for {}/{}",
                found.association_id, want.namespace, want.service_account
            ));
            self.api
                .update_pod_identity(
                    &want.cluster_name,
                    &found.association_id,
                    &want.role_arn,
                    want.disable_session_tags,
                )
                .await?;
        }
        Ok(PodIdentityAssociation {
            role_arn: want.role_arn.clone(),
            disable_session_tags: want.disable_session_tags,
            ..found
        })
    }
}
