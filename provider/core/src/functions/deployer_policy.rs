//! `xpander:index:deployerPolicy`: the identity policy whoever runs `pulumi`
//! with this provider needs (iam/deployer.rs), for a read-only preview or a
//! deploy. Pure: no AWS call.

use async_trait::async_trait;

use super::{Function, FunctionSpec};
use crate::context::ProviderState;
use crate::iam::deployer::{self, Mode, Scope};
use crate::model::failure::Failure;
use crate::model::spec::{Prop, Ty};
use crate::model::value::{PropertyMap, PropertyValue};

pub static SPEC: FunctionSpec = FunctionSpec {
    token: "xpander:index:deployerPolicy",
    description: "The IAM policy the principal running `pulumi` with this provider needs: `preview` (reads only: preview, refresh, Check and Diff) or `deploy` (create, update, delete, refresh and import of both resources), scoped to the roles, path and cluster given.",
    inputs_from: None,
    also_required: &[],
    inputs: &[
        Prop::input("mode", Ty::String, "`preview`, `deploy`, or `doctor` (the doctor and `diagnose`: reads only).").required(),
        Prop::input("roleNamePrefix", Ty::String, "Prefix every managed role name (base and connectors) starts with.").default("xpander-"),
        Prop::input("path", Ty::String, "IAM path of the roles.").default("/"),
        Prop::input("partition", Ty::String, "AWS partition.").default("aws"),
        Prop::input("accountId", Ty::String, "Account of the roles and clusters; any (`*`) when omitted."),
        Prop::input("region", Ty::String, "Region of the EKS clusters; any (`*`) when omitted."),
        Prop::input("clusterName", Ty::String, "EKS cluster of the Pod Identity association and access entries; any (`*`) when omitted."),
    ],
    outputs: &[
        Prop::computed("policy", Ty::Document, "The identity policy document.", &[]),
        Prop::computed("actions", Ty::StringList, "Every action it allows, sorted.", &[]),
    ],
};

pub struct DeployerPolicy;

/// The mode and scope from function arguments or command-line flags (by
/// their schema names), with every problem named.
pub fn parse(arg: impl Fn(&str) -> Option<String>) -> Result<(Mode, Scope), Vec<Failure>> {
    let mode = arg("mode").unwrap_or_default();
    let Some(mode) = Mode::parse(&mode) else {
        return Err(vec![Failure::new(
            "mode",
            format!("mode must be \"preview\", \"deploy\" or \"doctor\", got {mode:?}"),
        )]);
    };
    let defaults = Scope::default();
    let scope = Scope {
        partition: arg("partition").unwrap_or(defaults.partition),
        account_id: arg("accountId").unwrap_or(defaults.account_id),
        region: arg("region").unwrap_or(defaults.region),
        role_name_prefix: arg("roleNamePrefix").unwrap_or(defaults.role_name_prefix),
        path: arg("path").unwrap_or(defaults.path),
        cluster: arg("clusterName").unwrap_or(defaults.cluster),
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

#[async_trait]
impl Function for DeployerPolicy {
    fn spec(&self) -> &'static FunctionSpec {
        &SPEC
    }

    async fn invoke(
        &self,
        _provider: &ProviderState,
        args: &PropertyMap,
        _preview: bool,
    ) -> Result<PropertyMap, Vec<Failure>> {
        let failures = SPEC.check_args(args);
        if !failures.is_empty() {
            return Err(failures);
        }
        let (mode, scope) = parse(|key| {
            args.get(key)
                .and_then(|v| v.to_json().as_str().map(str::to_string))
        })?;
        let mut out = PropertyMap::new();
        out.insert(
            "policy".into(),
            PropertyValue::from_json(&deployer::policy(mode, &scope)),
        );
        out.insert(
            "actions".into(),
            PropertyValue::Array(
                deployer::actions(mode)
                    .into_iter()
                    .map(|a| PropertyValue::String(a.into()))
                    .collect(),
            ),
        );
        Ok(out)
    }
}
