//! `xpander:index:deployerPolicy`: the identity policy whoever runs `pulumi`
//! with this provider needs (iam/deployer.rs), for a read-only preview or a
//! deploy. Pure: no AWS call.

use std::sync::LazyLock;

use async_trait::async_trait;
use serde_json::Value as Json;

use super::{FunctionSpec, Typed};
use crate::context::ProviderState;
use crate::iam::deployer::{
    self, Mode, Scope, DEFAULT_PARTITION, DEFAULT_PATH, DEFAULT_ROLE_NAME_PREFIX,
};
use crate::model::failure::Failure;
use crate::model::spec::declare;

declare! {
    pub struct DeployerPolicyArgs {
        "mode" mode: String [required] => "`preview`, `deploy`, or `doctor` (the doctor and `diagnose`: reads only).",
        "roleNamePrefix" role_name_prefix: String [default_str = DEFAULT_ROLE_NAME_PREFIX] => "Prefix every managed role name (base and connectors) starts with.",
        "path" path: String [default_str = DEFAULT_PATH] => "IAM path of the roles.",
        "partition" partition: String [default_str = DEFAULT_PARTITION] => "AWS partition.",
        "accountId" account_id: String => "Account of the roles and clusters; any (`*`) when omitted.",
        "region" region: String => "Region of the EKS clusters; any (`*`) when omitted.",
        "clusterName" cluster_name: String => "EKS cluster of the Pod Identity association and access entries; any (`*`) when omitted.",
    }
}

declare! {
    pub outputs struct DeployerPolicyOutput {
        "policy" policy: Json => "The identity policy document.",
        "actions" actions: Vec<String> => "Every action it allows, sorted.",
    }
}

pub static SPEC: LazyLock<FunctionSpec> = LazyLock::new(|| {
    FunctionSpec::new::<DeployerPolicyArgs, DeployerPolicyOutput>(
        "xpander:index:deployerPolicy",
        "The IAM policy the principal running `pulumi` with this provider needs: `preview` (reads only: preview, refresh, Check and Diff) or `deploy` (create, update, delete, refresh and import of both resources), scoped to the roles, path and cluster given.",
        &[],
    )
});

pub struct DeployerPolicy;

impl DeployerPolicyArgs {
    /// The mode and scope, with every problem named.
    pub fn parse(&self) -> Result<(Mode, Scope), Vec<Failure>> {
        let mode = self.mode.clone().unwrap_or_default();
        let Some(mode) = Mode::parse(&mode) else {
            return Err(vec![Failure::new(
                DeployerPolicyArgs::mode.name(),
                format!("mode must be \"preview\", \"deploy\" or \"doctor\", got {mode:?}"),
            )]);
        };
        let defaults = Scope::default();
        let scope = Scope {
            partition: self.partition.clone().unwrap_or(defaults.partition),
            account_id: self.account_id.clone().unwrap_or(defaults.account_id),
            region: self.region.clone().unwrap_or(defaults.region),
            role_name_prefix: self
                .role_name_prefix
                .clone()
                .unwrap_or(defaults.role_name_prefix),
            path: self.path.clone().unwrap_or(defaults.path),
            cluster: self.cluster_name.clone().unwrap_or(defaults.cluster),
        };
        let problems = deployer::check_scope(&scope);
        if problems.is_empty() {
            Ok((mode, scope))
        } else {
            Err(problems
                .into_iter()
                .map(|(p, r)| Failure::new(p, r))
                .collect())
        }
    }
}

#[async_trait]
impl Typed for DeployerPolicy {
    type Args = DeployerPolicyArgs;
    type Output = DeployerPolicyOutput;

    fn spec(&self) -> &'static FunctionSpec {
        &SPEC
    }

    async fn call(
        &self,
        _provider: &ProviderState,
        args: DeployerPolicyArgs,
        _preview: bool,
    ) -> Result<DeployerPolicyOutput, Vec<Failure>> {
        let (mode, scope) = args.parse()?;
        Ok(DeployerPolicyOutput {
            policy: Some(deployer::policy(mode, &scope)),
            actions: Some(
                deployer::actions(mode)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            ),
        })
    }
}
