//! Provider functions (Invoke): `renderConnectorPolicies` shows what a
//! connector would write; `diagnose` runs the doctor's checks on live roles;
//! `deployerPolicy` prints the policy whoever runs `pulumi` needs.

pub mod deployer_policy;
pub mod diagnose;
pub mod render;

use std::sync::LazyLock;

use async_trait::async_trait;

use crate::context::ProviderState;
use crate::model::failure::Failure;
use crate::model::spec::{Prop, ResourceSpec};
use crate::model::value::PropertyMap;

pub struct FunctionSpec {
    pub token: &'static str,
    pub description: &'static str,
    /// Inputs shared with a resource (its input properties).
    pub inputs_from: Option<&'static LazyLock<ResourceSpec>>,
    pub inputs: &'static [Prop],
    /// Inputs required here though optional on the resource they come from.
    pub also_required: &'static [&'static str],
    pub outputs: &'static [Prop],
}

impl FunctionSpec {
    pub fn input_props(&self) -> Vec<&'static Prop> {
        let shared = self
            .inputs_from
            .map(|r| {
                let spec: &'static ResourceSpec = r;
                spec.props.iter().filter(|p| p.input).collect::<Vec<_>>()
            })
            .unwrap_or_default();
        shared.into_iter().chain(self.inputs.iter()).collect()
    }

    pub fn required(&self) -> Vec<&'static str> {
        let own = self
            .input_props()
            .into_iter()
            .filter(|p| p.required_input)
            .map(|p| p.name);
        own.chain(self.also_required.iter().copied()).collect()
    }

    /// Required inputs and types, named by property path.
    pub fn check_args(&self, args: &PropertyMap) -> Vec<Failure> {
        let mut failures: Vec<Failure> = self
            .required()
            .into_iter()
            .filter(|name| {
                args.get(*name)
                    .is_none_or(|v| matches!(v, crate::model::value::PropertyValue::Null))
            })
            .map(|name| Failure::new(name, format!("{name} is required")))
            .collect();
        let known: serde_json::Map<String, serde_json::Value> = args
            .iter()
            .filter_map(|(k, v)| v.to_known_json().map(|j| (k.clone(), j)))
            .collect();
        let types: &[crate::model::spec::TypeSpec] = match self.inputs_from {
            Some(r) => r.types,
            None => &[],
        };
        let mut errors = Vec::new();
        crate::model::spec::type_failures(&self.input_props(), types, &known, "", &mut errors);
        failures.extend(errors.into_iter().map(|(p, r)| Failure::new(p, r)));
        for key in args.keys() {
            if !self.input_props().iter().any(|p| p.name == key) {
                failures.push(Failure::new(
                    key.clone(),
                    format!("{key:?} is not an argument of {}", self.token),
                ));
            }
        }
        failures
    }
}

#[async_trait]
pub trait Function: Send + Sync {
    fn spec(&self) -> &'static FunctionSpec;
    async fn invoke(
        &self,
        provider: &ProviderState,
        args: &PropertyMap,
        preview: bool,
    ) -> Result<PropertyMap, Vec<Failure>>;
}

pub fn registry() -> Vec<Box<dyn Function>> {
    vec![
        Box::new(render::RenderConnectorPolicies),
        Box::new(diagnose::Diagnose),
        Box::new(deployer_policy::DeployerPolicy),
    ]
}
