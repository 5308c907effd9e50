//! `xpander:index:renderConnectorPolicies`: the trust policy, permission
//! policies, base-role grant and access entry an `XpanderConnectorRole`
//! with the same arguments would write — computed by the same code, with no
//! AWS call when the account is given or already known.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use super::{FunctionSpec, Typed};
use crate::context::ProviderState;
use crate::iam::arn::{is_account_id, partition_for_region, AccountContext};
use crate::model::failure::Failure;
use crate::model::spec::{declare, ResourceSpec};
use crate::resources::connector::{self, ConnectorArgs, TrustArgs};
use crate::resources::role::RoleArgs;

declare! {
    pub struct RenderArgs {
        flatten connector: ConnectorArgs,
        "accountId" account_id: String => "Account the role would live in; defaults to the provider's account.",
        "partition" partition: String => "AWS partition (`aws`, `aws-cn`, `aws-us-gov`); defaults to the region's.",
        "region" region: String => "Region for regional ARNs; defaults to the provider's.",
    }
}

declare! {
    pub outputs struct RenderOutput {
        "roleArn" role_arn: String => "ARN the role would have.",
        "initialTrustPolicy" initial_trust_policy: Json [derived_from = &[TrustArgs::external_id]] => "Trust written by CreateRole (no self-reference yet).",
        "trustPolicy" trust_policy: Json [secret, derived_from = &[TrustArgs::external_id]] => "The full trust policy. Secret when it holds the ExternalId.",
        "policies" policies: BTreeMap<String, Json> => "Inline permission policies by name.",
        "managedPolicyArns" managed_policy_arns: Vec<String> => "Managed policies to attach.",
        "grant" grant: Json [optional] => "The grant on the base role: {baseRoleName, policyName, policy}.",
        "accessEntry" access_entry: Json [optional] => "The EKS access entry: {clusterName, principalArn, accessPolicyArn, accessScope}.",
    }
}

pub static SPEC: LazyLock<FunctionSpec> = LazyLock::new(|| {
    FunctionSpec::with(
        ResourceSpec::assemble::<RenderArgs, RenderOutput>(
            "xpander:index:renderConnectorPolicies",
            "Render the documents an XpanderConnectorRole with these arguments would write, without writing anything. Works offline when `accountId` is given.",
        )
        .describe_input(RoleArgs::max_session_duration, connector::SESSION_DURATION),
        &[RoleArgs::role_name],
    )
});

pub struct RenderConnectorPolicies;

async fn account(
    provider: &ProviderState,
    args: &RenderArgs,
    preview: bool,
) -> Result<AccountContext, Failure> {
    let region = args.region.clone().unwrap_or_else(|| provider.region());
    if let Some(id) = args.account_id.clone() {
        if !is_account_id(&id) {
            return Err(Failure::new(
                RenderArgs::account_id.name(),
                format!("accountId must be 12 digits, got {id:?}"),
            ));
        }
        let partition = args
            .partition
            .clone()
            .unwrap_or_else(|| partition_for_region(&region).to_string());
        return Ok(AccountContext {
            partition,
            account_id: id,
            region,
        });
    }
    if let Some(a) = provider.cached_account() {
        return Ok(AccountContext { region, ..a });
    }
    if preview {
        return Err(Failure::new(
            RenderArgs::account_id.name(),
            "accountId is required in a preview before the provider has resolved its account",
        ));
    }
    provider
        .cloud()
        .await
        .map(|c| AccountContext {
            region,
            ..c.account.clone()
        })
        .map_err(|e| {
            Failure::new(
                RenderArgs::account_id.name(),
                format!("accountId was not given and the account could not be resolved: {e}"),
            )
        })
}

#[async_trait]
impl Typed for RenderConnectorPolicies {
    type Args = RenderArgs;
    type Output = RenderOutput;

    fn spec(&self) -> &'static FunctionSpec {
        &SPEC
    }

    async fn call(
        &self,
        provider: &ProviderState,
        args: RenderArgs,
        preview: bool,
    ) -> Result<RenderOutput, Vec<Failure>> {
        let (mut failures, mut warnings) = (Vec::new(), Vec::new());
        args.connector.validate(&mut failures, &mut warnings);
        if !failures.is_empty() {
            return Err(failures);
        }
        let ctx = account(provider, &args, preview)
            .await
            .map_err(|f| vec![f])?;
        let cfg = provider.config();
        let r = args
            .connector
            .render(&ctx, &cfg.default_tags.clone().unwrap_or_default(), "")
            .map_err(|e| vec![Failure::new(ConnectorArgs::policies.name(), e)])?;
        Ok(RenderOutput {
            role_arn: Some(r.arn.clone()),
            initial_trust_policy: Some(r.role.initial_trust.clone()),
            trust_policy: Some(r.role.trust.clone()),
            policies: Some(r.role.inline_policies.clone()),
            managed_policy_arns: Some(r.role.managed_policies.iter().cloned().collect()),
            grant: r.grant.as_ref().map(|g| json!({"baseRoleName": g.base_role, "policyName": g.name, "policy": g.document})),
            access_entry: r.access.as_ref().map(|a| json!({"clusterName": a.cluster, "principalArn": a.principal_arn, "accessPolicyArn": a.policy_arn, "accessScope": a.scope})),
        })
    }
}
