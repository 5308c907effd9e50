//! `xpander:index:deployerPolicy`: the identity policy whoever runs `pulumi`
//! with this provider needs (iam/deployer.rs), for a read-only preview or a
//! deploy. Pure: no AWS call.

use std::collections::{BTreeMap, BTreeSet};
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
/// manages) and every action a data source grants, each on any resource of
/// the types the sources grant it on (each role's own policies name the
/// resources). A connector with `policies` of its own needs their actions
/// added.
fn boundary(scope: &Scope) -> (Json, Vec<String>) {
    let probe = crate::iam::arn::AccountContext {
        partition: scope.partition.clone(),
        account_id: "000000000000".into(),
        region: "us-east-1".into(),
    };
    let chain = ["sts:AssumeRole", "sts:TagSession"];
    let mut granted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in crate::resources::connector::sources::PROFILES {
        for input in every_variant(p) {
            let Ok(source) = (p.decode)(input) else {
                continue;
            };
            for (_, doc) in source.policies(&probe) {
                for s in crate::iam::policy::statements(&doc) {
                    let resources: Vec<String> = crate::iam::policy::string_list(s.get("Resource"))
                        .iter()
                        .map(|r| any_of_its_type(r))
                        .collect();
                    for action in crate::iam::policy::string_list(s.get("Action")) {
                        if !chain.contains(&action.as_str()) {
                            granted
                                .entry(action)
                                .or_default()
                                .extend(resources.iter().cloned());
                        }
                    }
                }
            }
        }
    }
    // One statement per set of resources, the actions on any resource last.
    // An action some source grants on "*" and another on resources of a type
    // (the seed's EKSAccess and its scoped form) only ever acts on that type.
    let mut by_resources: BTreeMap<(bool, Vec<String>), Vec<String>> = BTreeMap::new();
    for (action, resources) in &granted {
        let typed: Vec<String> = resources.iter().filter(|r| *r != "*").cloned().collect();
        let key = if typed.is_empty() {
            (true, vec!["*".to_string()])
        } else {
            (false, typed)
        };
        by_resources.entry(key).or_default().push(action.clone());
    }
    let mut statements = vec![serde_json::json!(
        {"Sid": "ChainThroughXpanderRoles", "Effect": "Allow", "Action": chain, "Resource": scope.roles()}
    )];
    for (i, ((_, resources), actions)) in by_resources.into_iter().enumerate() {
        let resource = match resources.as_slice() {
            [one] => Json::from(one.as_str()),
            _ => Json::from(resources),
        };
        statements.push(serde_json::json!({
            "Sid": format!("DataSources{}", i + 1),
            "Effect": "Allow",
            "Action": actions,
            "Resource": resource,
        }));
    }
    let doc = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    let mut actions: Vec<String> = chain
        .iter()
        .map(|a| a.to_string())
        .chain(granted.into_keys())
        .collect();
    actions.sort();
    (doc, actions)
}

/// The source's fullest input, and it with each field set to each of its
/// other values (an option such as readOnly changes the actions), and its
/// wildcard form.
fn every_variant(p: &crate::resources::connector::sources::Profile) -> Vec<Json> {
    let fullest = p.fullest();
    let mut inputs = vec![fullest.clone()];
    for (field, values) in (p.variants)() {
        for value in values {
            let mut input = fullest.clone();
            match (&mut input, value) {
                (Json::Object(o), Json::Null) => {
                    o.remove(field.name());
                }
                (Json::Object(o), v) => {
                    o.insert(field.name().to_string(), v);
                }
                _ => {}
            }
            inputs.push(input);
        }
    }
    inputs.extend((p.wildcard)());
    inputs
}

/// Any resource of the type `resource` names, in any region and account:
/// `arn:aws:dynamodb:us-east-1:1:table/orders` is `arn:aws:dynamodb:*:*:table/*`.
/// An S3 ARN names a bucket or an object, with no type in it.
fn any_of_its_type(resource: &str) -> String {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let [arn, partition, service, region, account, rest] = parts.as_slice() else {
        return resource.to_string();
    };
    let any = |part: &str| if part.is_empty() { "" } else { "*" };
    let of_type = if *service == "s3" {
        if rest.contains('/') {
            "*/*".to_string()
        } else {
            "*".to_string()
        }
    } else {
        match rest.find(['/', ':']) {
            Some(i) => format!("{}*", &rest[..=i]),
            None => rest.to_string(),
        }
    };
    format!(
        "{arn}:{partition}:{service}:{}:{}:{of_type}",
        any(region),
        any(account)
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::policy::{check_grammar, statements, string_list, DocumentKind};

    #[test]
    fn a_resource_widens_to_its_type() {
        for (named, any) in [
            (
                "arn:aws:dynamodb:us-east-1:1:table/orders/index/*",
                "arn:aws:dynamodb:*:*:table/*",
            ),
            (
                "arn:aws:logs:us-east-1:1:log-group:/ecs/gw:log-stream:*",
                "arn:aws:logs:*:*:log-group:*",
            ),
            (
                "arn:aws:redshift:us-east-1:1:dbuser:analytics/etl",
                "arn:aws:redshift:*:*:dbuser:*",
            ),
            (
                "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0",
                "arn:aws:bedrock:*::foundation-model/*",
            ),
            (
                "arn:aws:glue:us-east-1:1:catalog",
                "arn:aws:glue:*:*:catalog",
            ),
            ("arn:aws-cn:s3:::xpander-data", "arn:aws-cn:s3:::*"),
            ("arn:aws:s3:::xpander-data/reports/*", "arn:aws:s3:::*/*"),
            ("*", "*"),
        ] {
            assert_eq!(any_of_its_type(named), any, "{named}");
        }
    }

    #[test]
    fn the_boundary_holds_every_action_a_source_grants() {
        let (doc, actions) = boundary(&Scope::default());
        check_grammar(&doc, DocumentKind::Identity).unwrap();
        let probe = crate::iam::arn::AccountContext {
            partition: "aws".into(),
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
        };
        for p in crate::resources::connector::sources::PROFILES {
            for input in every_variant(p) {
                let Ok(source) = (p.decode)(input) else {
                    continue;
                };
                for (name, policy) in source.policies(&probe) {
                    for s in statements(&policy) {
                        for a in string_list(s.get("Action")) {
                            assert!(actions.contains(&a), "{name}: {a}");
                        }
                    }
                }
            }
        }
        let everywhere: Vec<_> = statements(&doc)
            .into_iter()
            .filter(|s| string_list(s.get("Resource")) == ["*"])
            .flat_map(|s| string_list(s.get("Action")))
            .collect();
        assert!(
            everywhere.contains(&"eks:ListClusters".to_string()),
            "{everywhere:?}"
        );
        for typed in [
            "s3:GetObject",
            "eks:DescribeCluster",
            "logs:FilterLogEvents",
        ] {
            assert!(
                !everywhere.contains(&typed.to_string()),
                "{typed}: {everywhere:?}"
            );
        }
    }
}
