//! Resource properties described once, as data: the schema, unknown-key
//! checks, secretness and preview unknowns are all derived from these tables.

use crate::rpc::values::PropertyValue;
use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    StringList,
    StringMap,
    /// A policy document: a JSON object (or, as input, a JSON string).
    Document,
    /// Map of policy name → document.
    DocumentMap,
    /// An object type defined in `TypeSpec`s, by token suffix.
    Object(&'static str),
    /// A list of such objects.
    ObjectList(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Prop {
    pub name: &'static str,
    pub ty: Ty,
    pub description: &'static str,
    pub input: bool,
    pub output: bool,
    pub required_input: bool,
    /// Always present in outputs.
    pub always: bool,
    pub secret: bool,
    /// Changing it replaces the resource.
    pub replaces: bool,
    pub default: Option<&'static str>,
    /// Inputs this output is computed from (secret if any of them is, unknown
    /// in preview if any of them is). Empty for AWS-assigned values.
    pub derived_from: &'static [&'static str],
    /// Assigned by AWS when the role is created.
    pub assigned: bool,
}

impl Prop {
    pub const fn input(name: &'static str, ty: Ty, description: &'static str) -> Prop {
        Prop {
            name,
            ty,
            description,
            input: true,
            output: true,
            required_input: false,
            always: false,
            secret: false,
            replaces: false,
            default: None,
            derived_from: &[],
            assigned: false,
        }
    }
    pub const fn computed(
        name: &'static str,
        ty: Ty,
        description: &'static str,
        derived_from: &'static [&'static str],
    ) -> Prop {
        Prop {
            input: false,
            always: true,
            derived_from,
            ..Prop::input(name, ty, description)
        }
    }
    pub const fn assigned(name: &'static str, ty: Ty, description: &'static str) -> Prop {
        Prop {
            input: false,
            always: true,
            assigned: true,
            ..Prop::input(name, ty, description)
        }
    }
    pub const fn required(self) -> Prop {
        Prop {
            required_input: true,
            always: true,
            ..self
        }
    }
    pub const fn secret(self) -> Prop {
        Prop {
            secret: true,
            ..self
        }
    }
    pub const fn replaces(self) -> Prop {
        Prop {
            replaces: true,
            ..self
        }
    }
    pub const fn optional_output(self) -> Prop {
        Prop {
            always: false,
            ..self
        }
    }
    pub const fn default(self, value: &'static str) -> Prop {
        Prop {
            default: Some(value),
            ..self
        }
    }
    /// The schema default as a value of the property's type.
    pub fn default_value(&self) -> Option<PropertyValue> {
        let d = self.default?;
        Some(match self.ty {
            Ty::Boolean => PropertyValue::Bool(d == "true"),
            Ty::Integer | Ty::Number => PropertyValue::Number(d.parse().ok()?),
            _ => PropertyValue::String(d.into()),
        })
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TypeSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub props: &'static [Prop],
}

#[derive(Debug, Clone, Copy)]
pub struct ResourceSpec {
    pub token: &'static str,
    pub description: &'static str,
    pub props: &'static [Prop],
    pub types: &'static [TypeSpec],
}

impl ResourceSpec {
    pub fn input_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.props.iter().filter(|p| p.input).map(|p| p.name)
    }
    pub fn prop(&self, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.name == name)
    }
}

/// Type errors of a JSON object against a property table, each named by its
/// full path, so `maxSessionDuration: "long"` fails on `maxSessionDuration`
/// rather than wherever serde happened to be. Nulls count as absent.
pub fn type_failures(
    props: &[&Prop],
    types: &[TypeSpec],
    value: &serde_json::Map<String, Json>,
    path: &str,
    out: &mut Vec<(String, String)>,
) {
    for (key, v) in value {
        let sub = crate::rpc::values::join_key(path, key);
        match props.iter().find(|p| p.name == key) {
            Some(p) => check_type(p.ty, types, v, &sub, out),
            None if !path.is_empty() => {
                out.push((sub.clone(), format!("{sub} is not a known field")))
            }
            None => {}
        }
    }
}

fn check_type(ty: Ty, types: &[TypeSpec], v: &Json, path: &str, out: &mut Vec<(String, String)>) {
    let mut fail = |expected: &str| {
        out.push((
            path.to_string(),
            format!("{path} must be {expected}, got {}", describe(v)),
        ))
    };
    match (ty, v) {
        (_, Json::Null) => {}
        (Ty::String, Json::String(_))
        | (Ty::Boolean, Json::Bool(_))
        | (Ty::Number, Json::Number(_)) => {}
        (Ty::Integer, Json::Number(n)) if n.is_i64() || n.is_u64() => {}
        (Ty::Document, Json::Object(_) | Json::String(_)) => {}
        (Ty::StringList, Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_string() {
                    let p = crate::rpc::values::join_index(path, i);
                    out.push((
                        p.clone(),
                        format!("{p} must be a string, got {}", describe(item)),
                    ));
                }
            }
        }
        (Ty::StringMap, Json::Object(m)) => {
            for (k, item) in m {
                if !item.is_string() {
                    let p = crate::rpc::values::join_key(path, k);
                    out.push((
                        p.clone(),
                        format!("{p} must be a string, got {}", describe(item)),
                    ));
                }
            }
        }
        (Ty::DocumentMap, Json::Object(m)) => {
            for (k, item) in m {
                if !(item.is_object() || item.is_string()) {
                    let p = crate::rpc::values::join_key(path, k);
                    out.push((
                        p.clone(),
                        format!(
                            "{p} must be a policy document (object or JSON string), got {}",
                            describe(item)
                        ),
                    ));
                }
            }
        }
        (Ty::Object(name), Json::Object(m)) => {
            if let Some(t) = types.iter().find(|t| t.name == name) {
                let props: Vec<&Prop> = t.props.iter().collect();
                type_failures(&props, types, m, path, out);
            }
        }
        (Ty::ObjectList(name), Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_type(
                    Ty::Object(name),
                    types,
                    item,
                    &crate::rpc::values::join_index(path, i),
                    out,
                );
            }
        }
        (Ty::String, _) => fail("a string"),
        (Ty::Integer, _) => fail("a whole number"),
        (Ty::Number, _) => fail("a number"),
        (Ty::Boolean, _) => fail("true or false"),
        (Ty::StringList, _) => fail("a list of strings"),
        (Ty::StringMap, _) => fail("a map of strings"),
        (Ty::Document, _) => fail("a policy document (object or JSON string)"),
        (Ty::DocumentMap, _) => fail("a map of policy documents"),
        (Ty::Object(_), _) => fail("an object"),
        (Ty::ObjectList(_), _) => fail("a list of objects"),
    }
}

fn describe(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}
