//! What an operation works with: the provider's process-wide state (config,
//! lazily built AWS clients and the account they act in, the cancel token, a
//! reporter for progress and warnings), and the context and errors of one
//! resource operation.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;

use crate::cloud::api::AwsApi;
use crate::cloud::error::CloudError;
use crate::config::{resolve_region_locally, ProviderConfig};
use crate::iam::arn::{partition_for_region, AccountContext};
use crate::model::value::PropertyMap;

/// How a message reaches the user: the plugin shows it under the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
}

/// Where progress lines and warnings go (the engine's log, in the plugin).
pub trait Reporter: Send + Sync {
    fn report(&self, severity: Severity, urn: &str, message: &str, ephemeral: bool);
}

/// A reporter that drops everything: for tools that run no engine.
pub struct Silent;

impl Reporter for Silent {
    fn report(&self, _: Severity, _: &str, _: &str, _: bool) {}
}

/// AWS clients plus the account they act in, resolved once per process.
pub struct Cloud {
    pub api: Box<dyn AwsApi>,
    pub account: AccountContext,
}

pub struct ProviderState {
    config: RwLock<ProviderConfig>,
    cloud: tokio::sync::Mutex<Option<Arc<Cloud>>>,
    account: RwLock<Option<AccountContext>>,
    attached_policy_quota: RwLock<Option<usize>>,
    grants: tokio::sync::Mutex<BTreeMap<String, RoleInlineSizes>>,
    log: Arc<dyn Reporter>,
    cancel: CancellationToken,
}

impl ProviderState {
    pub fn new(log: Arc<dyn Reporter>) -> Self {
        ProviderState {
            config: RwLock::new(ProviderConfig::default()),
            cloud: tokio::sync::Mutex::new(None),
            account: RwLock::new(None),
            attached_policy_quota: RwLock::new(None),
            grants: tokio::sync::Mutex::new(BTreeMap::new()),
            log,
            cancel: CancellationToken::new(),
        }
    }

    pub fn config(&self) -> ProviderConfig {
        self.config.read().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn set_config(&self, cfg: ProviderConfig) {
        if let Ok(mut c) = self.config.write() {
            *c = cfg;
        }
    }

    pub fn region(&self) -> String {
        resolve_region_locally(&self.config()).unwrap_or_else(|| "us-east-1".into())
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The account, if some operation already resolved it (previews use it
    /// to render documents without making a call of their own).
    pub fn cached_account(&self) -> Option<AccountContext> {
        self.account.read().ok().and_then(|a| a.clone())
    }

    /// The account's managed-policies-per-role quota, once an operation read it.
    pub fn cached_attached_policy_quota(&self) -> Option<usize> {
        self.attached_policy_quota.read().ok().and_then(|q| *q)
    }

    /// Reads the account's managed-policies-per-role quota (once per process).
    pub async fn attached_policy_quota(&self, cloud: &Cloud) -> Result<Option<usize>, CloudError> {
        if let Some(q) = self.cached_attached_policy_quota() {
            return Ok(Some(q));
        }
        let quota = cloud.api.account_quotas().await?.attached_policies_per_role;
        if let (Some(q), Ok(mut slot)) = (quota, self.attached_policy_quota.write()) {
            *slot = Some(q);
        }
        Ok(quota)
    }

    /// AWS clients, built and authenticated on first use. A failure is not
    /// cached, so fixing credentials does not need a new process.
    pub async fn cloud(&self) -> Result<Arc<Cloud>, CloudError> {
        let mut slot = self.cloud.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let cfg = self.config();
        let api = crate::cloud::connect(&cfg).await?;
        let who = api.caller_identity().await?;
        let region = self.region();
        let partition = who
            .arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| partition_for_region(&region).to_string());
        let account = AccountContext {
            partition,
            account_id: who.account_id,
            region,
        };
        if let Ok(mut a) = self.account.write() {
            *a = Some(account.clone());
        }
        let cloud = Arc::new(Cloud {
            api: Box::new(api),
            account,
        });
        *slot = Some(cloud.clone());
        Ok(cloud)
    }

    /// Books an inline policy this process will write on another role (a
    /// connector's grant on its base role) if that role's inline policies
    /// would then total at most `quota` characters: the live ones (read once
    /// per role and process, by `read`) and those other operations of this
    /// process booked, this policy counted at `size`. Parallel steps of one
    /// `up` see each other's bookings before any write is made.
    pub async fn book_inline_policy<F>(
        &self,
        role: &str,
        policy: &str,
        size: usize,
        quota: usize,
        read: impl FnOnce() -> F,
    ) -> Result<Booking, CloudError>
    where
        F: Future<Output = Result<BTreeMap<String, usize>, CloudError>>,
    {
        let mut roles = self.grants.lock().await;
        if !roles.contains_key(role) {
            let live = read().await?;
            roles.insert(
                role.to_string(),
                RoleInlineSizes {
                    live,
                    booked: BTreeMap::new(),
                },
            );
        }
        let sizes = roles.get_mut(role).expect("inserted above");
        let mut all = sizes.live.clone();
        all.extend(sizes.booked.clone());
        all.insert(policy.to_string(), size);
        let booking = Booking {
            total: all.values().sum(),
            policies: all.len(),
        };
        if booking.total <= quota {
            sizes.booked.insert(policy.to_string(), size);
        }
        Ok(booking)
    }

    /// A progress line under the resource (ephemeral: the CLI replaces it).
    pub fn progress(&self, urn: &str, message: &str) {
        self.log.report(Severity::Info, urn, message, true);
    }

    pub fn warn(&self, urn: &str, message: &str) {
        self.log.report(Severity::Warning, urn, message, false);
    }
}

/// Errors of Create/Read/Update/Delete, by what the engine should do.
#[derive(Debug)]
pub enum OpError {
    Invalid(String),
    Cloud(CloudError),
    /// The role exists but is unfinished: the engine records this state and
    /// the next `up` runs Update to finish.
    Partial {
        id: String,
        properties: PropertyMap,
        reason: String,
    },
}

impl From<CloudError> for OpError {
    fn from(e: CloudError) -> Self {
        OpError::Cloud(e)
    }
}

/// What a role's inline policies would total with a booked one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booking {
    pub total: usize,
    pub policies: usize,
}

/// A role's inline policy sizes, by name: as read, and as booked to be written.
struct RoleInlineSizes {
    live: BTreeMap<String, usize>,
    booked: BTreeMap<String, usize>,
}

/// One resource operation: which resource, its budget, and the provider it runs in.
pub struct OpCtx<'a> {
    pub urn: &'a str,
    pub name: &'a str,
    pub provider: &'a ProviderState,
    pub timeout: Option<std::time::Duration>,
}
