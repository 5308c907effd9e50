//! The two resources and what they share: the `Resource` interface the
//! plugin serves (property maps in and out: the boundary), the registry,
//! the properties layer that turns maps into typed `Args`/`State` and back,
//! and the lifecycle every role-backed resource runs.

pub mod base_role;
pub mod connector;
pub mod lifecycle;
pub mod properties;
pub mod role;

use std::sync::Arc;

use async_trait::async_trait;

use crate::context::{Cloud, OpCtx, OpError, ProviderState};
use crate::model::failure::Failure;
use crate::model::spec::{Key, ResourceSpec};
use crate::model::value::PropertyMap;

/// Check's answer: checked inputs, or failures; warnings either way.
#[derive(Debug, Default)]
pub struct Checked {
    pub inputs: PropertyMap,
    pub failures: Vec<Failure>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Autonaming {
    pub proposed_name: Option<String>,
    pub disabled: bool,
}

pub struct CheckRequest<'a> {
    pub name: &'a str,
    pub olds: &'a PropertyMap,
    pub news: &'a PropertyMap,
    pub random_seed: &'a [u8],
    pub autonaming: Autonaming,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    Add,
    Delete,
    Update,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct DiffResult {
    /// (property path, kind, replaces)
    pub entries: Vec<(String, DiffKind, bool)>,
    /// Entries that are drift of an output: the engine shows them by comparing
    /// outputs, not inputs (an input of the same name may not have changed).
    pub drifted: Vec<String>,
    pub delete_before_replace: bool,
}

impl DiffResult {
    /// Records drift of an output (found by refresh) as an update of it.
    pub fn drift(&mut self, key: Key, drifted: bool) {
        let key = key.name();
        if drifted && !self.entries.iter().any(|(k, _, _)| k == key) {
            self.entries
                .push((key.to_string(), DiffKind::Update, false));
            self.drifted.push(key.to_string());
        }
    }

    /// A replacement that keeps the role name must delete the old role first.
    pub fn settle_replacement(&mut self, old_inputs: &PropertyMap, news: &PropertyMap) {
        let replacing = self.entries.iter().any(|(_, _, r)| *r);
        let name = role::RoleArgs::role_name.name();
        self.delete_before_replace = replacing && old_inputs.get(name) == news.get(name);
    }
}

#[async_trait]
pub trait Resource: Send + Sync {
    fn spec(&self) -> &'static ResourceSpec;
    fn check(&self, req: &CheckRequest<'_>, provider: &ProviderState) -> Checked;
    fn diff(
        &self,
        provider: &ProviderState,
        urn: &str,
        olds: &PropertyMap,
        old_inputs: &PropertyMap,
        news: &PropertyMap,
    ) -> DiffResult;
    async fn create(
        &self,
        ctx: &OpCtx<'_>,
        inputs: &PropertyMap,
        preview: bool,
    ) -> Result<(String, PropertyMap), OpError>;
    async fn read(
        &self,
        ctx: &OpCtx<'_>,
        id: &str,
        olds: Option<&PropertyMap>,
        old_inputs: Option<&PropertyMap>,
    ) -> Result<Option<(PropertyMap, PropertyMap)>, OpError>;
    async fn update(
        &self,
        ctx: &OpCtx<'_>,
        id: &str,
        olds: &PropertyMap,
        old_inputs: &PropertyMap,
        news: &PropertyMap,
        preview: bool,
    ) -> Result<PropertyMap, OpError>;
    async fn delete(
        &self,
        ctx: &OpCtx<'_>,
        id: &str,
        olds: &PropertyMap,
        old_inputs: &PropertyMap,
    ) -> Result<(), OpError>;
}

pub fn registry() -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(base_role::BaseRole),
        Arc::new(connector::ConnectorRole),
    ]
}

/// Runs a plan with this operation's budget, streaming progress to the engine.
pub async fn execute(
    ctx: &OpCtx<'_>,
    cloud: &Cloud,
    steps: &[crate::plan::Step],
) -> Result<crate::plan::executor::Applied, crate::plan::executor::Failed> {
    let propagation = ctx.provider.config().propagation_budget();
    let budget = match ctx.timeout {
        Some(t) if t < propagation => {
            crate::cloud::retry::Budget::new(t, ctx.provider.cancel_token())
                .set_by("this resource's customTimeouts")
        }
        _ => crate::cloud::retry::Budget::new(propagation, ctx.provider.cancel_token()),
    };
    let urn = ctx.urn.to_string();
    let provider = ctx.provider;
    let progress = move |msg: String| provider.progress(&urn, &msg);
    let executor = crate::plan::executor::Executor {
        api: cloud.api.as_ref(),
        budget,
        progress: &progress,
    };
    executor.run(steps).await
}

/// Runs a plan for Create/Update: what was applied, and the failure if one
/// stopped it (the caller decides whether that is a partial state).
pub async fn apply(
    ctx: &OpCtx<'_>,
    cloud: &Cloud,
    steps: &[crate::plan::Step],
) -> (
    crate::plan::executor::Applied,
    Option<crate::plan::executor::Failed>,
) {
    match execute(ctx, cloud, steps).await {
        Ok(applied) => (applied, None),
        Err(failed) => (failed.applied.clone(), Some(failed)),
    }
}

/// Reports a failure after the role exists as a partial state, so the engine
/// keeps track of it and the next `up` finishes the job.
pub fn partial(
    id: &str,
    properties: PropertyMap,
    failed: &crate::plan::executor::Failed,
) -> OpError {
    OpError::Partial {
        id: id.to_string(),
        properties,
        reason: format!("{} failed: {}", failed.step, failed.error),
    }
}

#[cfg(test)]
mod tests {
    use super::properties::typed_args;
    use super::*;
    use crate::model::spec;
    use crate::model::value::json_to_map;
    use serde_json::{json, Value as Json};

    fn map(j: Json) -> PropertyMap {
        json_to_map(j.as_object().unwrap())
    }

    /// A value of each schema type, built from the table alone.
    fn sample(ty: spec::Ty, types: &[spec::TypeSpec]) -> Json {
        use spec::Ty;
        match ty {
            Ty::String => json!("x"),
            Ty::Integer => json!(3600),
            Ty::Number => json!(1.5),
            Ty::Boolean => json!(true),
            Ty::StringList => json!(["x"]),
            Ty::StringMap => json!({"k": "v"}),
            Ty::Document => json!({"Version": "2012-10-17", "Statement": []}),
            Ty::DocumentMap => json!({"P": {"Version": "2012-10-17", "Statement": []}}),
            Ty::Object(name) => {
                let t = types
                    .iter()
                    .find(|t| t.name == name)
                    .expect("declared type");
                Json::Object(
                    t.props
                        .iter()
                        .map(|p| (p.name.to_string(), sample(p.ty, types)))
                        .collect(),
                )
            }
            Ty::ObjectList(name) => json!([sample(Ty::Object(name), types)]),
        }
    }

    /// Values of a property with one field (at any depth) of the wrong type,
    /// each with the path its failure must name.
    fn wrong_types(ty: spec::Ty, types: &[spec::TypeSpec], path: &str) -> Vec<(String, Json)> {
        let spec::Ty::Object(name) = ty else {
            let wrong = if ty == spec::Ty::Boolean {
                json!("yes")
            } else {
                json!(true)
            };
            return vec![(path.to_string(), wrong)];
        };
        let t = types
            .iter()
            .find(|t| t.name == name)
            .expect("declared type");
        let mut out = Vec::new();
        for p in t.props {
            for (sub, value) in wrong_types(p.ty, types, &format!("{path}.{}", p.name)) {
                let mut whole = sample(ty, types);
                whole[p.name] = value;
                out.push((sub, whole));
            }
        }
        out
    }

    /// The schema and the decoders come from one declaration; this proves
    /// it from the outside: every input of the schema, nested ones included,
    /// decodes into the typed args, a wrong type fails on its own path, and
    /// every output derives from inputs that exist.
    #[test]
    fn schema_and_decoding_agree() {
        fn decodes(token: &str, inputs: &PropertyMap) -> Result<(), Failure> {
            if token == base_role::TOKEN {
                typed_args::<base_role::BaseRoleArgs>(inputs).map(|_| ())
            } else {
                typed_args::<connector::ConnectorArgs>(inputs).map(|_| ())
            }
        }
        for resource in registry() {
            let spec = resource.spec();
            let inputs: Vec<&spec::Prop> = spec.props.iter().filter(|p| p.input).collect();
            let full = map(Json::Object(
                inputs
                    .iter()
                    .map(|p| (p.name.to_string(), sample(p.ty, spec.types)))
                    .collect(),
            ));
            decodes(spec.token, &full).unwrap_or_else(|f| panic!("{}: {f:?}", spec.token));
            let mut errors = Vec::new();
            spec::type_failures(
                &inputs,
                spec.types,
                &full.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
                "",
                &mut errors,
            );
            assert!(errors.is_empty(), "{errors:?}");
            for input in &inputs {
                for (path, value) in wrong_types(input.ty, spec.types, input.name) {
                    let mut errors = Vec::new();
                    let given = [(input.name.to_string(), value)].into_iter().collect();
                    spec::type_failures(&inputs, spec.types, &given, "", &mut errors);
                    assert!(
                        errors.iter().any(|(at, _)| *at == path),
                        "{path}: {errors:?}"
                    );
                }
            }
            for p in spec.props {
                for source in p.sources() {
                    assert!(
                        spec.prop(source).is_some_and(|s| s.input),
                        "{}.{} derives from {source:?}, which is not an input",
                        spec.token,
                        p.name
                    );
                }
            }
        }
    }
}
