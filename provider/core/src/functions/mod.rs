//! Provider functions (Invoke): `renderConnectorPolicies` shows what a
//! connector would write; `diagnose` runs the doctor's checks on live roles;
//! `deployerPolicy` prints the policy whoever runs `pulumi` needs. Each is
//! declared as typed arguments and a typed result; the property maps of the
//! wire are decoded and encoded here alone.

pub mod deployer_policy;
pub mod diagnose;
pub mod render;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::context::ProviderState;
use crate::model::failure::Failure;
use crate::model::spec::{type_failures, Declared, Key, Prop, ResourceSpec, SpecBuilder, TypeSpec};
use crate::model::value::{PropertyMap, PropertyValue};
use crate::resources::properties::{encode, typed_args};

pub struct FunctionSpec {
    pub token: &'static str,
    pub description: &'static str,
    /// Its arguments (inputs) and result (outputs), as one table.
    pub table: ResourceSpec,
    /// Arguments required here though optional where they are declared.
    pub also_required: &'static [Key],
}

impl FunctionSpec {
    pub fn new<A: Declared, O: Declared>(
        token: &'static str,
        description: &'static str,
        also_required: &'static [Key],
    ) -> FunctionSpec {
        Self::with(
            ResourceSpec::assemble::<A, O>(token, description),
            also_required,
        )
    }

    /// From a table put together by hand (a shared input described its own way).
    pub fn with(table: SpecBuilder, also_required: &'static [Key]) -> FunctionSpec {
        let table = table.build();
        FunctionSpec {
            token: table.token,
            description: table.description,
            table,
            also_required,
        }
    }

    pub fn inputs(&self) -> impl Iterator<Item = &'static Prop> {
        self.table.props.iter().filter(|p| p.input)
    }

    pub fn outputs(&self) -> impl Iterator<Item = &'static Prop> {
        self.table.props.iter().filter(|p| !p.input)
    }

    pub fn types(&self) -> &'static [TypeSpec] {
        self.table.types
    }

    pub fn required(&self) -> Vec<&'static str> {
        self.inputs()
            .filter(|p| p.required_input)
            .map(|p| p.name)
            .chain(self.also_required.iter().map(|k| k.name()))
            .collect()
    }

    /// Required arguments, types and unknown keys, named by property path.
    pub fn check_args(&self, args: &PropertyMap) -> Vec<Failure> {
        let mut failures: Vec<Failure> = self
            .required()
            .into_iter()
            .filter(|name| {
                args.get(*name)
                    .is_none_or(|v| matches!(v, PropertyValue::Null))
            })
            .map(|name| Failure::new(name, format!("{name} is required")))
            .collect();
        let known: serde_json::Map<String, serde_json::Value> = args
            .iter()
            .filter_map(|(k, v)| v.to_known_json().map(|j| (k.clone(), j)))
            .collect();
        let inputs: Vec<&Prop> = self.inputs().collect();
        let mut errors = Vec::new();
        type_failures(&inputs, self.types(), &known, "", &mut errors);
        failures.extend(errors.into_iter().map(|(p, r)| Failure::new(p, r)));
        for key in args.keys() {
            if !inputs.iter().any(|p| p.name == key) {
                failures.push(Failure::new(
                    key.clone(),
                    format!("{key:?} is not an argument of {}", self.token),
                ));
            }
        }
        failures
    }

    /// A result is secret where the arguments it comes from are: a secret
    /// argument, or one the table holds secret. (The schema's `secret` flag
    /// on a result only tells SDKs that it may be.)
    fn secrets(&self, args: &PropertyMap, out: &mut PropertyMap) {
        for p in self.outputs() {
            let derived = p.sources().any(|src| {
                args.get(src).is_some_and(|v| {
                    v.contains_secret()
                        || (self.table.prop(src).is_some_and(|s| s.secret)
                            && !matches!(v, PropertyValue::Null))
                })
            });
            if !derived {
                continue;
            }
            if let Some(v) = out.remove(p.name) {
                out.insert(p.name.to_string(), PropertyValue::secret(v));
            }
        }
    }
}

/// What the plugin calls: property maps in and out.
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

/// A function in its own types.
#[async_trait]
pub trait Typed: Send + Sync {
    type Args: Declared + DeserializeOwned + Send + Sync;
    type Output: Declared + Serialize;
    fn spec(&self) -> &'static FunctionSpec;
    async fn call(
        &self,
        provider: &ProviderState,
        args: Self::Args,
        preview: bool,
    ) -> Result<Self::Output, Vec<Failure>>;
}

#[async_trait]
impl<F: Typed> Function for F {
    fn spec(&self) -> &'static FunctionSpec {
        Typed::spec(self)
    }

    async fn invoke(
        &self,
        provider: &ProviderState,
        args: &PropertyMap,
        preview: bool,
    ) -> Result<PropertyMap, Vec<Failure>> {
        let spec = Typed::spec(self);
        let failures = spec.check_args(args);
        if !failures.is_empty() {
            return Err(failures);
        }
        let (typed, _) = typed_args::<F::Args>(args).map_err(|f| vec![f])?;
        let output = self.call(provider, typed, preview).await?;
        let mut out = encode(&output);
        spec.secrets(args, &mut out);
        Ok(out)
    }
}

pub fn registry() -> Vec<Box<dyn Function>> {
    vec![
        Box::new(render::RenderConnectorPolicies),
        Box::new(diagnose::Diagnose),
        Box::new(deployer_policy::DeployerPolicy),
    ]
}
