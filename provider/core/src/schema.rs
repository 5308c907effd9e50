//! `schema.json`, derived from the property tables of the resources and the
//! provider config, so the SDKs and the provider cannot disagree.

use serde_json::{json, Map, Value as Json};

use crate::functions::FunctionSpec;
use crate::model::spec::{Prop, ResourceSpec, Ty};

const PACKAGE: &str = "xpander";

fn type_ref(ty: Ty) -> Json {
    match ty {
        Ty::String => json!({"type": "string"}),
        Ty::Integer => json!({"type": "integer"}),
        Ty::Number => json!({"type": "number"}),
        Ty::Boolean => json!({"type": "boolean"}),
        Ty::StringList => json!({"type": "array", "items": {"type": "string"}}),
        Ty::StringMap => json!({"type": "object", "additionalProperties": {"type": "string"}}),
        Ty::Document => json!({"$ref": "pulumi.json#/Any"}),
        Ty::DocumentMap => {
            json!({"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}})
        }
        Ty::Object(name) => json!({"$ref": format!("#/types/{PACKAGE}:index:{name}")}),
        Ty::ObjectList(name) => {
            json!({"type": "array", "items": {"$ref": format!("#/types/{PACKAGE}:index:{name}")}})
        }
    }
}

fn property(p: &Prop) -> Json {
    let mut v = type_ref(p.ty);
    let m = v.as_object_mut().expect("type refs are objects");
    m.insert("description".into(), Json::String(p.description.into()));
    if p.secret {
        m.insert("secret".into(), Json::Bool(true));
    }
    if p.replaces {
        m.insert("willReplaceOnChanges".into(), Json::Bool(true));
    }
    if let Some(d) = p.default_value() {
        m.insert("default".into(), d.to_json());
    }
    v
}

fn props<'a>(items: impl Iterator<Item = &'a Prop>) -> Map<String, Json> {
    items.map(|p| (p.name.to_string(), property(p))).collect()
}

fn names<'a>(items: impl Iterator<Item = &'a Prop>) -> Vec<&'static str> {
    items.map(|p| p.name).collect()
}

fn resource(spec: &ResourceSpec) -> Json {
    json!({
        "description": spec.description,
        "properties": props(spec.props.iter().filter(|p| p.output)),
        "required": names(spec.props.iter().filter(|p| p.output && p.always)),
        "inputProperties": props(spec.props.iter().filter(|p| p.input)),
        "requiredInputs": names(spec.props.iter().filter(|p| p.required_input)),
    })
}

fn types(specs: &[&ResourceSpec], out: &mut Map<String, Json>) {
    for spec in specs {
        for t in spec.types {
            out.insert(
                format!("{PACKAGE}:index:{}", t.name),
                json!({
                    "type": "object",
                    "description": t.description,
                    "properties": props(t.props.iter()),
                    "required": names(t.props.iter().filter(|p| p.required_input || (!p.input && p.always))),
                }),
            );
        }
    }
}

fn function(f: &FunctionSpec) -> Json {
    json!({
        "description": f.description,
        "inputs": {
            "properties": props(f.inputs()),
            "required": f.required(),
        },
        "outputs": {
            "properties": props(f.outputs()),
            "required": names(f.outputs().filter(|p| p.always)),
        },
    })
}

/// Pulumi's own schema marshaller leaves out empty `required` lists; doing the
/// same keeps `pulumi package get-schema` and schema.json identical.
fn omit_empty_required(v: &mut Json) {
    if let Json::Object(m) = v {
        m.retain(|k, v| {
            !(matches!(k.as_str(), "required" | "requiredInputs")
                && v.as_array().is_some_and(Vec::is_empty))
        });
        m.values_mut().for_each(omit_empty_required);
    }
}

/// The schema of this provider at `version` (the plugin's own).
pub fn schema(version: &str) -> Json {
    let registry = crate::resources::registry();
    let resources: Vec<&ResourceSpec> = registry.iter().map(|r| r.spec()).collect();
    let config = &crate::config::CONFIG_SPEC;
    let functions = crate::functions::registry();
    let mut type_map = Map::new();
    types(&resources, &mut type_map);
    types(&[config], &mut type_map);
    let tables: Vec<&ResourceSpec> = functions.iter().map(|f| &f.spec().table).collect();
    types(&tables, &mut type_map);
    let functions: Map<String, Json> = functions
        .iter()
        .map(|f| (f.spec().token.to_string(), function(f.spec())))
        .collect();
    let mut doc = json!({
        "name": PACKAGE,
        "displayName": "xpander",
        "version": version,
        "description": "The three-tier IAM architecture of a self-hosted xpander install: a base role on EKS Pod Identity and least-privilege connector roles with cross-account trust.",
        "keywords": ["pulumi", "xpander", "aws", "iam", "eks", "category/cloud", "kind/native"],
        "license": "Apache-2.0",
        "publisher": "xpander-ai",
        "repository": "https://github.com/xpander-ai/pulumi-xpander",
        // supportPack: the Go generator writes the SDK's go.mod (module path from
        // language.go.importBasePath) and every SDK states the plugin version.
        "meta": {"moduleFormat": "(.*)", "supportPack": true},
        "config": {"variables": props(config.props.iter())},
        "provider": {"description": config.description, "inputProperties": props(config.props.iter())},
        "types": type_map,
        "functions": functions,
        "resources": resources.iter().map(|r| (r.token.to_string(), resource(r))).collect::<Map<String, Json>>(),
        // 3.269.0: the first Pulumi SDKs with the `exists` check the generated resource classes call.
        "language": {
            "nodejs": {
                "packageName": "@xpander-ai/pulumi-xpander",
                "packageDescription": "Pulumi provider for the xpander self-hosted IAM architecture",
                "dependencies": {"@pulumi/pulumi": "^3.269.0"},
                // The compiler sdk-examples/typescript uses (the generator's default is 4.7).
                "typescriptVersion": "~5.9.3",
                "respectSchemaVersion": true
            },
            "python": {
                "packageName": "pulumi_xpander",
                "requires": {"pulumi": ">=3.269.0,<4.0.0"},
                "pyproject": {"enabled": true},
                // Args classes and their TypedDict twins: `redshift={"cluster_identifier": ...}` type-checks.
                "inputTypes": "classes-and-dicts",
                "respectSchemaVersion": true
            },
            "go": {
                "importBasePath": "github.com/xpander-ai/pulumi-xpander/sdk/go/xpander",
                "respectSchemaVersion": true
            }
        }
    });
    omit_empty_required(&mut doc);
    doc
}

pub fn schema_json(version: &str) -> String {
    let mut s = serde_json::to_string_pretty(&schema(version)).expect("schema serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_object_reference_resolves() {
        let s = schema("0.0.0");
        let text = s.to_string();
        for cap in text.split("#/types/").skip(1) {
            let token = cap.split('"').next().unwrap();
            assert!(s["types"].get(token).is_some(), "dangling type {token}");
        }
    }

    #[test]
    fn external_id_is_secret_and_name_replaces() {
        let s = schema("0.0.0");
        let c = &s["resources"]["xpander:index:XpanderConnectorRole"];
        assert_eq!(c["inputProperties"]["externalId"]["secret"], true);
        assert_eq!(
            c["inputProperties"]["roleName"]["willReplaceOnChanges"],
            true
        );
        assert!(c["required"].as_array().unwrap().contains(&json!("arn")));
    }
}
