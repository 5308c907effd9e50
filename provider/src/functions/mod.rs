//! Provider functions (Invoke): `renderConnectorPolicies` shows what a
//! connector would write; `diagnose` runs the doctor's checks on live roles.

pub mod diagnose;
pub mod render;

use async_trait::async_trait;

use crate::resources::spec::{Prop, ResourceSpec};
use crate::resources::Failure;
use crate::rpc::values::PropertyMap;
use crate::rpc::ProviderState;

pub struct FunctionSpec {
    pub token: &'static str,
    pub description: &'static str,
    /// Inputs shared with a resource (its input properties).
    pub inputs_from: Option<&'static ResourceSpec>,
    pub inputs: &'static [Prop],
    pub outputs: &'static [Prop],
}

impl FunctionSpec {
    pub fn input_props(&self) -> Vec<&'static Prop> {
        let shared = self
            .inputs_from
            .map(|r| r.props.iter().filter(|p| p.input).collect::<Vec<_>>())
            .unwrap_or_default();
        shared.into_iter().chain(self.inputs.iter()).collect()
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
    ]
}
