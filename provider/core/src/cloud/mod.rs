//! Everything that talks to AWS: the operation trait, its SDK adapter, error
//! classes and the retry loop. Clients are built on first use, so Check, Diff
//! and previews work without credentials.
pub mod api;
pub mod error;
pub mod pacing;
pub mod retry;
pub mod sdk;

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::retry::RetryConfig;

use crate::config::{resolve_region_locally, ProviderConfig};
use error::CloudError;
use sdk::SdkAws;

pub async fn connect(cfg: &ProviderConfig) -> Result<SdkAws, CloudError> {
    // Throttling is handled below the SDK, by one pacer per endpoint
    // (pacing.rs); the SDK's own retries cover transient failures only. Its
    // adaptive mode charged each throttled retry against a client-side rate
    // that could start at 0.5/s, stalling later calls for seconds.
    // A request waits for its send slot inside the HTTP client, with its body
    // not yet read: the SDK's upload stall check (5 s of 0 B/s) would fail
    // every request queued longer than that behind a throttled endpoint
    // (500 connectors in flight at IAM's 10 requests/s). Responses are still
    // checked.
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(cfg.transient_retries() + 1)
                .with_max_backoff(std::time::Duration::from_secs(2)),
        )
        .stalled_stream_protection(
            StalledStreamProtectionConfig::enabled()
                .upload_enabled(false)
                .build(),
        );
    if let Some(region) = resolve_region_locally(cfg) {
        loader = loader.region(Region::new(region));
    }
    if let Some(profile) = &cfg.profile {
        loader = loader.profile_name(profile);
    }
    let endpoints = cfg.endpoints.clone().unwrap_or_default();
    if let Some(sts) = &endpoints.sts {
        loader = loader.endpoint_url(sts);
    }
    let mut shared = loader.load().await;
    if shared.region().is_none() {
        return Err(CloudError::new(
            "Configure",
            "MissingRegion",
            "no AWS region: set `xpander:region` or AWS_REGION",
        ));
    }
    if let Some(ar) = &cfg.assume_role {
        let role_arn = ar.role_arn.clone().unwrap_or_default();
        let mut b = aws_config::sts::AssumeRoleProvider::builder(role_arn).session_name(
            ar.session_name
                .clone()
                .unwrap_or_else(|| crate::config::DEFAULT_SESSION_NAME.into()),
        );
        if let Some(x) = &ar.external_id {
            b = b.external_id(x);
        }
        let provider = b.configure(&shared).build().await;
        shared = shared
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
    }
    let http = default_https_client().ok_or_else(|| {
        CloudError::new(
            "Configure",
            "NoHttpClient",
            "the AWS SDK has no HTTPS client",
        )
    })?;
    let paced = || pacing::PacedClient::new(http.clone());
    let mut iam = aws_sdk_iam::config::Builder::from(&shared).http_client(paced());
    if let Some(url) = &endpoints.iam {
        iam.set_endpoint_url(Some(url.clone()));
    }
    let mut eks = aws_sdk_eks::config::Builder::from(&shared).http_client(paced());
    if let Some(url) = &endpoints.eks {
        eks.set_endpoint_url(Some(url.clone()));
    }
    let mut sts = aws_sdk_sts::config::Builder::from(&shared).http_client(paced());
    if let Some(url) = &endpoints.sts {
        sts.set_endpoint_url(Some(url.clone()));
    }
    Ok(SdkAws {
        iam: aws_sdk_iam::Client::from_conf(iam.build()),
        eks: aws_sdk_eks::Client::from_conf(eks.build()),
        sts: aws_sdk_sts::Client::from_conf(sts.build()),
    })
}

/// The client the SDK would build for itself (hyper 1, rustls on aws-lc).
fn default_https_client() -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
    let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(
        BehaviorVersion::latest(),
    )?;
    plugin
        .runtime_components(&RuntimeComponentsBuilder::new("pulumi-xpander"))
        .http_client()
}
