//! The two resources and the machinery they share: the check pipeline
//! (decode → typed args → rules, with failures named by property path),
//! secret and unknown propagation from the property tables, and the diff.

pub mod base_role;
pub mod connector;
pub mod lifecycle;
pub mod role;

use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::context::{Cloud, OpCtx, OpError, ProviderState};
use crate::model::failure::Failure;
use crate::model::spec::{self, ResourceSpec};
use crate::model::value::{path_within, unknown_paths, PropertyMap, PropertyValue};

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
    pub fn drift(&mut self, key: &str, drifted: bool) {
        if drifted && !self.entries.iter().any(|(k, _, _)| k == key) {
            self.entries
                .push((key.to_string(), DiffKind::Update, false));
            self.drifted.push(key.to_string());
        }
    }

    /// A replacement that keeps the role name must delete the old role first.
    pub fn settle_replacement(&mut self, old_inputs: &PropertyMap, news: &PropertyMap) {
        let replacing = self.entries.iter().any(|(_, _, r)| *r);
        self.delete_before_replace =
            replacing && old_inputs.get("roleName") == news.get("roleName");
    }
}

#[async_trait]
pub trait Resource: Send + Sync {
    fn spec(&self) -> &'static ResourceSpec;
    fn check(&self, req: &CheckRequest<'_>, provider: &ProviderState) -> Checked;
    fn diff(
        &self,
        provider: &ProviderState,
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

/// Typed args from checked inputs, plus the paths that are unknown (preview).
pub fn typed_args<T: DeserializeOwned>(inputs: &PropertyMap) -> Result<(T, Vec<String>), Failure> {
    let unknown = unknown_paths(inputs);
    let json = Json::Object(
        inputs
            .iter()
            .filter_map(|(k, v)| v.to_known_json().map(|j| (k.clone(), j)))
            .collect(),
    );
    match serde_path_to_error::deserialize::<_, T>(json) {
        Ok(v) => Ok((v, unknown)),
        Err(e) => {
            let path = e.path().to_string();
            Err(Failure::new(
                top_level(&path),
                format!("{path}: {}", e.into_inner()),
            ))
        }
    }
}

fn top_level(path: &str) -> String {
    path.split(['.', '[']).next().unwrap_or(path).to_string()
}

/// The shared front half of Check: unknown keys, types, then `rules`.
/// Failures at, under or around unknown (preview) values are dropped: they
/// are judged once the values are known.
pub fn run_check<T: DeserializeOwned>(
    spec: &ResourceSpec,
    news: &PropertyMap,
    rules: impl FnOnce(&T, &mut Vec<Failure>, &mut Vec<String>),
) -> Checked {
    let mut checked = Checked {
        inputs: news.clone(),
        ..Default::default()
    };
    for key in news.keys() {
        if !spec.input_names().any(|n| n == key) {
            checked.failures.push(Failure::new(
                key.clone(),
                format!(
                    "{key:?} is not an input of {}; see the package schema for the inputs it takes",
                    spec.token
                ),
            ));
        }
    }
    for p in spec.props.iter().filter(|p| p.required_input) {
        if matches!(news.get(p.name), None | Some(PropertyValue::Null)) {
            checked
                .failures
                .push(Failure::new(p.name, format!("{} is required", p.name)));
        }
    }
    // JSON has no NaN or infinity: the typed view would see them as absent.
    for (key, value) in news {
        non_finite_paths(key, value, &mut |path| {
            checked.failures.push(Failure::new(
                path.clone(),
                format!("{path} must be a finite number"),
            ))
        });
    }
    let known: serde_json::Map<String, Json> = news
        .iter()
        .filter_map(|(k, v)| v.to_known_json().map(|j| (k.clone(), j)))
        .collect();
    let props: Vec<&spec::Prop> = spec.props.iter().filter(|p| p.input).collect();
    let unknown = unknown_paths(news);
    let judged = |f: &Failure| {
        !unknown
            .iter()
            .any(|u| path_within(&f.property, u) || path_within(u, &f.property))
    };
    let mut type_errors = Vec::new();
    spec::type_failures(&props, spec.types, &known, "", &mut type_errors);
    let type_errors: Vec<Failure> = type_errors
        .into_iter()
        .map(|(p, r)| Failure::new(p, r))
        .filter(judged)
        .collect();
    if !type_errors.is_empty() {
        checked.failures.extend(type_errors);
        return checked;
    }
    match typed_args::<T>(news) {
        Ok((args, _)) => {
            let mut failures = Vec::new();
            rules(&args, &mut failures, &mut checked.warnings);
            checked.failures.extend(failures.into_iter().filter(judged));
        }
        Err(f) => checked.failures.push(f),
    }
    checked
}

fn non_finite_paths(path: &str, value: &PropertyValue, found: &mut dyn FnMut(String)) {
    match value {
        PropertyValue::Number(n) if !n.is_finite() => found(path.to_string()),
        PropertyValue::Secret(inner) => non_finite_paths(path, inner, found),
        PropertyValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                non_finite_paths(&format!("{path}[{i}]"), item, found);
            }
        }
        PropertyValue::Object(m) => {
            for (k, v) in m {
                non_finite_paths(&format!("{path}.{k}"), v, found);
            }
        }
        _ => {}
    }
}

/// Applies the property table to outputs: echoed inputs keep their secret
/// wrappers, derived outputs are secret when a source is, schema secrets always are.
pub fn apply_secrets(spec: &ResourceSpec, inputs: &PropertyMap, outputs: &mut PropertyMap) {
    for p in spec.props {
        let Some(v) = outputs.get(p.name) else {
            continue;
        };
        if matches!(v, PropertyValue::Null | PropertyValue::Unknown) && !p.secret {
            continue;
        }
        let echoed_secret = p.input
            && inputs
                .get(p.name)
                .is_some_and(PropertyValue::contains_secret);
        let derived_secret = p.derived_from.iter().any(|src| {
            inputs.get(*src).is_some_and(|v| v.contains_secret())
                || (spec.prop(src).is_some_and(|sp| sp.secret)
                    && inputs
                        .get(*src)
                        .is_some_and(|v| !matches!(v, PropertyValue::Null)))
        });
        if echoed_secret || derived_secret || (p.secret && !matches!(v, PropertyValue::Null)) {
            let inner = outputs.remove(p.name).unwrap_or(PropertyValue::Null);
            outputs.insert(p.name.to_string(), PropertyValue::secret(inner));
        }
    }
}

/// Preview of a create or update: inputs echoed, derived outputs filled when
/// computable, AWS-assigned ones unknown until the role exists.
pub fn preview_outputs(
    spec: &ResourceSpec,
    inputs: &PropertyMap,
    known: &PropertyMap,
    role_exists: bool,
) -> PropertyMap {
    let mut out = inputs.clone();
    for p in spec.props.iter().filter(|p| !p.input) {
        let source_unknown = p
            .derived_from
            .iter()
            .any(|s| inputs.get(*s).is_some_and(PropertyValue::contains_unknown));
        let value = match known.get(p.name) {
            Some(v) if !source_unknown && (role_exists || !p.assigned) => v.clone(),
            _ if p.always || source_unknown => PropertyValue::Unknown,
            _ => continue,
        };
        out.insert(p.name.to_string(), value);
    }
    apply_secrets(spec, inputs, &mut out);
    out
}

/// Top-level input changes between the last deployment and now, with
/// replacement flags from the table. Documents compare canonically. An absent
/// input equals its schema default: SDKs fill defaults in, while inputs read
/// back by `pulumi import` (and programs in languages that do not) leave them out.
pub fn diff_inputs(
    spec: &ResourceSpec,
    old_inputs: &PropertyMap,
    news: &PropertyMap,
) -> DiffResult {
    let mut result = DiffResult::default();
    for p in spec.props.iter().filter(|p| p.input) {
        let given = |m: &PropertyMap| {
            m.get(p.name)
                .filter(|v| !matches!(v, PropertyValue::Null))
                .cloned()
                .or_else(|| p.default_value())
        };
        let (old, new) = (given(old_inputs), given(news));
        let (old, new) = (old.as_ref(), new.as_ref());
        let kind = match (old, new) {
            (None, None) => continue,
            (None, Some(_)) => DiffKind::Add,
            (Some(_), None) => DiffKind::Delete,
            (Some(a), Some(b)) => {
                if !b.contains_unknown() && same_value(p.ty, a, b) {
                    continue;
                }
                DiffKind::Update
            }
        };
        match (old, new, p.ty) {
            // Nested inputs and maps show the fields that changed, so a
            // reviewer of `pulumi preview --diff` sees `redshift.databaseName`
            // or `policies["Custom"]` rather than a whole object.
            (
                Some(a),
                Some(b),
                spec::Ty::Object(_) | spec::Ty::StringMap | spec::Ty::DocumentMap,
            ) if !b.contains_unknown() => {
                let before = result.entries.len();
                nested_paths(
                    p.name,
                    &normalise_documents(&a.to_json()),
                    &normalise_documents(&b.to_json()),
                    !matches!(p.ty, spec::Ty::Object(_)),
                    &mut |path, k| result.entries.push((path, k, p.replaces)),
                );
                if result.entries.len() == before {
                    result.entries.push((p.name.to_string(), kind, p.replaces));
                }
            }
            _ => result.entries.push((p.name.to_string(), kind, p.replaces)),
        }
    }
    result
}

/// Leaf paths where two JSON values differ. Maps stop at their keys
/// (`flat`): a policy document is shown as one changed value.
fn nested_paths(path: &str, a: &Json, b: &Json, flat: bool, out: &mut dyn FnMut(String, DiffKind)) {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            for (k, va) in x {
                let sub = crate::model::value::join_key(path, k);
                match y.get(k) {
                    None => out(sub, DiffKind::Delete),
                    Some(vb) if vb == va => {}
                    Some(_) if flat => out(sub, DiffKind::Update),
                    Some(vb) => nested_paths(&sub, va, vb, false, out),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out(crate::model::value::join_key(path, k), DiffKind::Add);
            }
        }
        _ if a != b => out(path.to_string(), DiffKind::Update),
        _ => {}
    }
}

fn same_value(ty: spec::Ty, a: &PropertyValue, b: &PropertyValue) -> bool {
    match ty {
        spec::Ty::Document | spec::Ty::DocumentMap => {
            normalise_documents(&a.to_json()) == normalise_documents(&b.to_json())
        }
        _ => a.to_json() == b.to_json(),
    }
}

/// A map of policy documents as an output value.
pub fn documents_value(map: &std::collections::BTreeMap<String, Json>) -> PropertyValue {
    PropertyValue::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), PropertyValue::from_json(v)))
            .collect(),
    )
}

/// Documents given as JSON strings compare equal to the same object.
pub fn normalise_documents(v: &Json) -> Json {
    match v {
        Json::String(s) => crate::iam::policy::decode_document(s)
            .map(|d| crate::iam::policy::canonicalize(&d, "aws"))
            .unwrap_or_else(|_| v.clone()),
        Json::Object(m) if m.contains_key("Statement") => {
            crate::iam::policy::canonicalize(v, "aws")
        }
        Json::Object(m) => Json::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), normalise_documents(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Runs a plan with this operation's budget, streaming progress to the engine.
pub async fn execute(
    ctx: &OpCtx<'_>,
    cloud: &Cloud,
    steps: &[crate::plan::Step],
) -> Result<crate::plan::executor::Applied, crate::plan::executor::Failed> {
    let propagation = ctx.provider.config().propagation_timeout();
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
    use super::*;
    use crate::resources::connector::SPEC;
    use serde_json::json;

    fn map(j: Json) -> PropertyMap {
        crate::model::value::json_to_map(j.as_object().unwrap())
    }

    #[test]
    fn nested_changes_have_their_own_paths() {
        let old = map(
            json!({"roleName": "r", "redshift": {"clusterIdentifier": "c", "databaseName": "dev"}, "tags": {"a": "1"},
            "policies": {"P": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}}),
        );
        let new = map(
            json!({"roleName": "r", "redshift": {"clusterIdentifier": "c", "databaseName": "prod"}, "tags": {"b": "2"},
            "policies": {"P": "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\"],\"Resource\":\"*\"}}"}}),
        );
        let paths: Vec<(String, DiffKind)> = diff_inputs(&SPEC, &old, &new)
            .entries
            .into_iter()
            .map(|(p, k, _)| (p, k))
            .collect();
        assert_eq!(
            paths,
            [
                ("tags.a".to_string(), DiffKind::Delete),
                ("tags.b".to_string(), DiffKind::Add),
                ("redshift.databaseName".to_string(), DiffKind::Update)
            ]
        );
    }

    #[test]
    fn unchanged_inputs_have_no_diff() {
        let v = map(json!({"roleName": "r", "s3": {"buckets": ["b"]}, "externalId": "x"}));
        assert!(diff_inputs(&SPEC, &v, &v).entries.is_empty());
    }

    #[test]
    fn name_changes_replace() {
        let old = map(json!({"roleName": "a"}));
        let new = map(json!({"roleName": "b"}));
        assert_eq!(
            diff_inputs(&SPEC, &old, &new).entries,
            [("roleName".to_string(), DiffKind::Update, true)]
        );
    }

    #[test]
    fn an_absent_input_equals_its_default() {
        // What `pulumi import` stores (no defaults) against what an SDK sends.
        let imported = map(json!({"roleName": "r"}));
        let program = map(
            json!({"roleName": "r", "path": "/", "podIdentityTrust": true, "grantBaseRole": true}),
        );
        assert!(diff_inputs(&SPEC, &imported, &program).entries.is_empty());
        let moved = map(json!({"roleName": "r", "path": "/xpander/"}));
        assert_eq!(
            diff_inputs(&SPEC, &imported, &moved).entries,
            [("path".to_string(), DiffKind::Update, true)]
        );
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
                for source in p.derived_from {
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
