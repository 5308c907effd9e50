//! Pulumi property values as the provider reasons about them: a typed tree
//! with secrets, unknowns and resource references, its JSON views, and the
//! JS-like paths that name a place inside it. The wire encoding lives in the
//! plugin's rpc layer; nothing here knows about protobuf.

use std::collections::BTreeMap;

use serde_json::Value as Json;

pub type PropertyMap = BTreeMap<String, PropertyValue>;

#[derive(Clone, Debug, PartialEq)]
pub enum PropertyValue {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<PropertyValue>),
    Object(PropertyMap),
    Secret(Box<PropertyValue>),
    Unknown,
    ResourceRef {
        urn: String,
        /// `None` for component references; `Some(Unknown)` before the id is known.
        id: Option<Box<PropertyValue>>,
        package_version: String,
    },
}

/// Appends a key to a JS-like property path (`a.b`, `a["x.y"]`).
pub fn join_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", Json::String(key.to_string())),
    }
}

pub fn join_index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

impl PropertyValue {
    /// Wraps in a secret without nesting wrappers (the engine rejects nested ones).
    pub fn secret(inner: PropertyValue) -> PropertyValue {
        match inner {
            s @ PropertyValue::Secret(_) => s,
            other => PropertyValue::Secret(Box::new(other)),
        }
    }

    pub fn contains_secret(&self) -> bool {
        match self {
            PropertyValue::Secret(_) => true,
            PropertyValue::Array(items) => items.iter().any(Self::contains_secret),
            PropertyValue::Object(m) => m.values().any(Self::contains_secret),
            _ => false,
        }
    }

    pub fn contains_unknown(&self) -> bool {
        match self {
            PropertyValue::Unknown => true,
            PropertyValue::Secret(inner) => inner.contains_unknown(),
            PropertyValue::Array(items) => items.iter().any(Self::contains_unknown),
            PropertyValue::Object(m) => m.values().any(Self::contains_unknown),
            PropertyValue::ResourceRef { id: Some(id), .. } => id.contains_unknown(),
            _ => false,
        }
    }

    /// Paths (relative to `base`) of every unknown inside this value.
    pub fn unknown_paths(&self, base: &str, out: &mut Vec<String>) {
        match self {
            PropertyValue::Unknown => out.push(base.to_string()),
            PropertyValue::Secret(inner) => inner.unknown_paths(base, out),
            PropertyValue::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    x.unknown_paths(&join_index(base, i), out);
                }
            }
            PropertyValue::Object(m) => {
                for (k, x) in m {
                    x.unknown_paths(&join_key(base, k), out);
                }
            }
            PropertyValue::ResourceRef { id: Some(id), .. } if id.contains_unknown() => {
                out.push(base.to_string())
            }
            _ => {}
        }
    }

    /// Plain JSON view for typed deserialisation: secrets unwrapped, unknowns
    /// as null (callers consult `unknown_paths` before judging them), resource
    /// references as their id (custom resources) or urn (components).
    pub fn to_json(&self) -> Json {
        match self {
            PropertyValue::Null | PropertyValue::Unknown => Json::Null,
            PropertyValue::Bool(b) => Json::Bool(*b),
            PropertyValue::Number(n) => number_to_json(*n),
            PropertyValue::String(s) => Json::String(s.clone()),
            PropertyValue::Array(items) => Json::Array(items.iter().map(Self::to_json).collect()),
            PropertyValue::Object(m) => {
                Json::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            PropertyValue::Secret(inner) => inner.to_json(),
            PropertyValue::ResourceRef { urn, id, .. } => match id.as_deref() {
                Some(PropertyValue::String(id)) => Json::String(id.clone()),
                Some(_) => Json::Null,
                None => Json::String(urn.clone()),
            },
        }
    }

    /// Like `to_json`, but unknowns are left out (object keys dropped, list
    /// items removed), so partially known inputs can still be type-checked.
    pub fn to_known_json(&self) -> Option<Json> {
        match self {
            PropertyValue::Unknown => None,
            PropertyValue::Secret(inner) => inner.to_known_json(),
            PropertyValue::Array(items) => Some(Json::Array(
                items.iter().filter_map(Self::to_known_json).collect(),
            )),
            PropertyValue::Object(m) => Some(Json::Object(
                m.iter()
                    .filter_map(|(k, v)| v.to_known_json().map(|j| (k.clone(), j)))
                    .collect(),
            )),
            PropertyValue::ResourceRef { id: Some(id), .. } if id.contains_unknown() => None,
            other => Some(other.to_json()),
        }
    }

    pub fn from_json(j: &Json) -> PropertyValue {
        match j {
            Json::Null => PropertyValue::Null,
            Json::Bool(b) => PropertyValue::Bool(*b),
            Json::Number(n) => PropertyValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => PropertyValue::String(s.clone()),
            Json::Array(items) => PropertyValue::Array(items.iter().map(Self::from_json).collect()),
            Json::Object(m) => PropertyValue::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Self::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Integral numbers go out as JSON integers so integer fields deserialise.
fn number_to_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

pub fn map_to_json(map: &PropertyMap) -> serde_json::Map<String, Json> {
    map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()
}

pub fn json_to_map(obj: &serde_json::Map<String, Json>) -> PropertyMap {
    obj.iter()
        .map(|(k, v)| (k.clone(), PropertyValue::from_json(v)))
        .collect()
}

pub fn unknown_paths(map: &PropertyMap) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in map {
        v.unknown_paths(&join_key("", k), &mut out);
    }
    out
}

/// True when `path` is `prefix` or lies under it.
pub fn path_within(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_containment() {
        assert_eq!(join_key("", "eks"), "eks");
        assert_eq!(join_key("eks", "clusterName"), "eks.clusterName");
        assert_eq!(join_key("tags", "a:b"), "tags[\"a:b\"]");
        assert!(path_within("eks.clusterName", "eks"));
        assert!(path_within("s3[0]", "s3"));
        assert!(!path_within("eksx", "eks"));
    }
}
