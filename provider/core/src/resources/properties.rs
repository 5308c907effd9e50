//! The boundary between the engine's property maps and the typed world:
//! inputs decode into a resource's `Args`, its `State` encodes into outputs,
//! and the property tables decide what is secret, what a preview leaves
//! unknown, what Check reports and what Diff shows. Resource code never sees
//! a `PropertyMap`; everything here works from the tables.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

use super::{Autonaming, CheckRequest, Checked, DiffKind, DiffResult};
use crate::iam::limits;
use crate::model::failure::Failure;
use crate::model::spec::{self, Key, ResourceSpec};
use crate::model::value::{join_key, path_within, unknown_paths, PropertyMap, PropertyValue};
use crate::resources::role::RoleArgs;

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

/// Decodes what still decodes: a top-level input whose value no longer fits
/// its type (state written by another version) is left out rather than
/// failing the whole decode. Delete uses it, so nothing written is orphaned.
pub fn decode_lenient<T: DeserializeOwned + Default>(map: &PropertyMap) -> T {
    let mut json: serde_json::Map<String, Json> = map
        .iter()
        .filter_map(|(k, v)| v.to_known_json().map(|j| (k.clone(), j)))
        .collect();
    loop {
        match serde_path_to_error::deserialize::<_, T>(Json::Object(json.clone())) {
            Ok(v) => return v,
            Err(e) => {
                let key = top_level(&e.path().to_string());
                if json.remove(&key).is_none() {
                    return T::default();
                }
            }
        }
    }
}

/// A typed value as properties: absent fields are left out.
pub fn encode<T: Serialize>(value: &T) -> PropertyMap {
    match serde_json::to_value(value) {
        Ok(Json::Object(m)) => crate::model::value::json_to_map(&m),
        _ => PropertyMap::new(),
    }
}

/// Inputs after a refresh or import brought them in line with what is live:
/// an input whose value did not change keeps what the engine sent (secret
/// wrappers included, and a null stays null); a changed or new one is
/// encoded, secret when the table says so or the old value was.
pub fn merge_inputs<A: Serialize>(spec: &ResourceSpec, raw: &PropertyMap, args: &A) -> PropertyMap {
    let encoded = encode(args);
    let mut out: PropertyMap = raw
        .iter()
        .filter(|(k, v)| matches!(v, PropertyValue::Null) && !encoded.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, value) in encoded {
        let kept = raw
            .get(&key)
            .filter(|old| old.to_known_json().as_ref() == Some(&value.to_json()));
        let value = match kept {
            Some(old) => old.clone(),
            None => {
                let secret = spec.prop(&key).is_some_and(|p| p.secret)
                    || raw.get(&key).is_some_and(PropertyValue::contains_secret);
                if secret {
                    PropertyValue::secret(value)
                } else {
                    value
                }
            }
        };
        out.insert(key, value);
    }
    out
}

/// Fills `roleName` when absent: reuse the name from the last deployment,
/// else the engine's proposed name, else `<resource name>-<7 hex>` from the
/// engine's random seed (stable within one run).
pub fn autoname(
    resource_name: &str,
    olds: &PropertyMap,
    news: &mut PropertyMap,
    random_seed: &[u8],
    autonaming: &Autonaming,
) -> Result<(), Failure> {
    let key = RoleArgs::role_name.name();
    if matches!(news.get(key), Some(v) if !matches!(v, PropertyValue::Null)) {
        return Ok(());
    }
    if autonaming.disabled {
        return Err(Failure::new(
            key,
            "roleName is required: autonaming is disabled for this stack",
        ));
    }
    let name = if let Some(PropertyValue::String(old)) = olds.get(key) {
        old.clone()
    } else if let Some(p) = &autonaming.proposed_name {
        p.clone()
    } else {
        let suffix: String = random_seed
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()[..7.min(random_seed.len() * 2)]
            .to_string();
        let mut base: String = resource_name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
            .collect();
        base.truncate(limits::ROLE_NAME_MAX - 8);
        if suffix.is_empty() {
            base
        } else {
            format!("{base}-{suffix}")
        }
    };
    news.insert(key.into(), PropertyValue::String(name));
    Ok(())
}

/// Check for a role resource: fill `roleName`, then the shared pipeline with
/// the resource's rules, which also learn which inputs are not known yet.
/// The checked inputs keep the user's values as sent (secret wrappers
/// included) plus the name.
pub fn check_role<T: DeserializeOwned>(
    spec: &ResourceSpec,
    req: &CheckRequest<'_>,
    rules: impl FnOnce(&T, &Unknowns, &mut Vec<Failure>, &mut Vec<String>),
) -> Checked {
    let mut news = req.news.clone();
    if let Err(f) = autoname(
        req.name,
        req.olds,
        &mut news,
        req.random_seed,
        &req.autonaming,
    ) {
        return Checked {
            inputs: news,
            failures: vec![f],
            warnings: vec![],
        };
    }
    let unknowns = Unknowns(unknown_paths(&news));
    let mut checked = run_check::<T>(spec, &news, |args, f, w| rules(args, &unknowns, f, w));
    checked.inputs = news;
    checked
}

/// The inputs a preview does not know yet.
pub struct Unknowns(Vec<String>);

impl Unknowns {
    pub fn contains(&self, key: Key) -> bool {
        self.0.iter().any(|p| path_within(p, key.name()))
    }
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
            let hint = match crate::model::failure::closest(key, spec.input_names()) {
                Some(name) => format!("did you mean {name:?}?"),
                None => "see the package schema for the inputs it takes".to_string(),
            };
            checked.failures.push(Failure::new(
                key.clone(),
                format!("{key:?} is not an input of {}; {hint}", spec.token),
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
        let derived_secret = p.sources().any(|src| {
            inputs.get(src).is_some_and(|v| v.contains_secret())
                || (spec.prop(src).is_some_and(|sp| sp.secret)
                    && inputs
                        .get(src)
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
            .sources()
            .any(|s| inputs.get(s).is_some_and(PropertyValue::contains_unknown));
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
                let sub = join_key(path, k);
                match y.get(k) {
                    None => out(sub, DiffKind::Delete),
                    Some(vb) if vb == va => {}
                    Some(_) if flat => out(sub, DiffKind::Update),
                    Some(vb) => nested_paths(&sub, va, vb, false, out),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out(join_key(path, k), DiffKind::Add);
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

    #[test]
    fn autonames_are_stable_and_valid() {
        let mut news = PropertyMap::new();
        let an = Autonaming {
            proposed_name: None,
            disabled: false,
        };
        autoname(
            "redshift connector!",
            &PropertyMap::new(),
            &mut news,
            &[0xab, 0xcd, 0xef, 0x01],
            &an,
        )
        .unwrap();
        let PropertyValue::String(n) = &news["roleName"] else {
            panic!()
        };
        assert_eq!(n, "redshiftconnector-abcdef0");
        crate::iam::limits::check_role_name(n).unwrap();
        let olds = news.clone();
        let mut again = PropertyMap::new();
        autoname("redshift connector!", &olds, &mut again, &[1, 2, 3, 4], &an).unwrap();
        assert_eq!(again["roleName"], olds["roleName"]);
    }

    #[test]
    fn a_mistyped_input_names_the_closest_one() {
        let known = ["databaseName", "clusterIdentifier", "region", "dbUsers"];
        use crate::model::failure::closest;
        assert_eq!(
            closest("databseName", known.iter().copied()),
            Some("databaseName")
        );
        assert_eq!(
            closest("DatabaseName", known.iter().copied()),
            Some("databaseName")
        );
        assert_eq!(closest("regoin", known.iter().copied()), Some("region"));
        assert_eq!(closest("bucketName", known.iter().copied()), None);
        let checked = run_check::<crate::resources::connector::ConnectorArgs>(
            &crate::resources::connector::SPEC,
            &[("baseRoleARN".to_string(), PropertyValue::String("x".into()))].into(),
            |_, _, _| {},
        );
        assert!(
            checked.failures[0]
                .reason
                .ends_with("did you mean \"baseRoleArn\"?"),
            "{:?}",
            checked.failures
        );
    }
}
