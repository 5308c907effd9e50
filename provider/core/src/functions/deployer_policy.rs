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
        "mode" mode: String [required] => "`preview`, `deploy`, `doctor` (the doctor and `diagnose`: reads only), or `boundary`: a permissions boundary for the roles the provider creates (what the base role and every data source need), for `permissionsBoundary`.",
        "roleNamePrefix" role_name_prefix: String [default_str = DEFAULT_ROLE_NAME_PREFIX] => "Prefix every managed role name (base and connectors) starts with.",
        "path" path: String [default_str = DEFAULT_PATH] => "IAM path of the roles.",
        "partition" partition: String [default_str = DEFAULT_PARTITION] => "AWS partition.",
        "accountId" account_id: String => "Account of the roles and clusters; any (`*`) when omitted.",
        "region" region: String => "Region of the EKS clusters; any (`*`) when omitted.",
        "connectorPath" connector_path: String => "The base role's `connectorPath`, when connectors live under a path of their own.",
        "clusterName" cluster_name: String => "EKS cluster of the Pod Identity association and access entries; any (`*`) when omitted.",
        "permissionsBoundary" permissions_boundary: String => "With `deploy`: a deployer that cannot escalate. It may create and write only roles held to this permissions boundary (set it as the provider's `permissionsBoundary`), and never remove it.",
        "managedPolicyArns" managed_policy_arns: Vec<String> => "With `permissionsBoundary`: the only managed policies it may attach (the connectors' `managedPolicyArns`); none when omitted.",
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

/// What `deployerPolicy` prints: the policy of whoever runs pulumi, or the
/// permissions boundary of the roles it creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Deployer(Mode),
    Boundary,
}

pub const BOUNDARY_MODE: &str = "boundary";

impl Document {
    pub fn render(self, scope: &Scope) -> (Json, Vec<String>) {
        match self {
            Document::Deployer(mode) => (
                deployer::policy(mode, scope),
                deployer::actions(mode, scope)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            ),
            Document::Boundary => boundary(scope),
        }
    }
}

/// The most the provider's roles need: the chain (assume and tag a role it
/// manages) and every action a data source grants, on any resource: each
/// role's own policies scope them. A connector with `policies` of its own
/// needs their actions added.
fn boundary(scope: &Scope) -> (Json, Vec<String>) {
    let probe = crate::iam::arn::AccountContext {
        partition: scope.partition.clone(),
        account_id: "000000000000".into(),
        region: "us-east-1".into(),
    };
    let mut sources = std::collections::BTreeSet::new();
    for p in crate::resources::connector::sources::PROFILES {
        if let Ok(source) = (p.decode)(p.fullest()) {
            for (_, doc) in source.policies(&probe) {
                for s in crate::iam::policy::statements(&doc) {
                    sources.extend(crate::iam::policy::string_list(s.get("Action")));
                }
            }
        }
    }
    let chain = ["sts:AssumeRole", "sts:TagSession"];
    let roles = scope.roles();
    let data: Vec<String> = sources
        .into_iter()
        .filter(|a| !chain.contains(&a.as_str()))
        .collect();
    let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "ChainThroughXpanderRoles", "Effect": "Allow", "Action": chain, "Resource": roles},
        {"Sid": "DataSources", "Effect": "Allow", "Action": data, "Resource": "*"},
    ]});
    let mut actions: Vec<String> = chain.iter().map(|a| a.to_string()).chain(data).collect();
    actions.sort();
    (doc, actions)
}

impl DeployerPolicyArgs {
    /// The document and scope, with every problem named.
    pub fn parse(&self) -> Result<(Document, Scope), Vec<Failure>> {
        let mode = self.mode.clone().unwrap_or_default();
        let document = match Mode::parse(&mode) {
            Some(m) => Document::Deployer(m),
            None if mode == BOUNDARY_MODE => Document::Boundary,
            None => return Err(vec![Failure::new(
                DeployerPolicyArgs::mode.name(),
                format!("mode must be \"preview\", \"deploy\", \"doctor\" or \"boundary\", got {mode:?}"),
            )]),
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
            connector_path: self.connector_path.clone(),
            cluster: self.cluster_name.clone().unwrap_or(defaults.cluster),
            permissions_boundary: self.permissions_boundary.clone(),
            attachable: self.managed_policy_arns.clone().unwrap_or_default(),
        };
        let problems = deployer::check_scope(&scope);
        if problems.is_empty() {
            Ok((document, scope))
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
        let (document, scope) = args.parse()?;
        let (policy, actions) = document.render(&scope);
        Ok(DeployerPolicyOutput {
            policy: Some(policy),
            actions: Some(actions),
        })
    }
}
