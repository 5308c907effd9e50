//! Pulumi property values: the engine's `google.protobuf.Struct` encoding
//! (signature objects for secrets and resource references, sentinel strings
//! for unknowns) decoded into a typed tree, and back.

use std::collections::BTreeMap;

use prost_types::{value::Kind, ListValue, Struct, Value};
use xpander::model::value::{join_index, join_key, PropertyMap, PropertyValue};

/// Key whose presence marks an object as a special value rather than a map.
pub const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
pub const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";
pub const RESOURCE_REF_SIG: &str = "5cf8f73096256a8f31e491e813e4eb8e";
pub const ASSET_SIG: &str = "c44067f5952c0a294b673a41bacd8c17";
pub const ARCHIVE_SIG: &str = "0def7320c3a5731c473e5ecbe6d01bc7";
pub const OUTPUT_VALUE_SIG: &str = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
pub const BYTE_STRING_SIG: &str = "803fd3297a5875dc03ca845dda5d2a98";

/// The untyped unknown; the one we emit.
pub const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/// Every sentinel the engine may send for "not known until apply".
pub const UNKNOWN_SENTINELS: [&str; 7] = [
    UNKNOWN,
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct CodecError {
    pub path: String,
    pub reason: String,
}

pub fn decode_struct(s: &Struct) -> Result<PropertyMap, CodecError> {
    decode_fields(&s.fields, "")
}

fn decode_fields(fields: &BTreeMap<String, Value>, path: &str) -> Result<PropertyMap, CodecError> {
    fields
        .iter()
        .map(|(k, v)| Ok((k.clone(), decode_value(v, &join_key(path, k))?)))
        .collect()
}

pub fn decode_value(v: &Value, path: &str) -> Result<PropertyValue, CodecError> {
    Ok(match &v.kind {
        None | Some(Kind::NullValue(_)) => PropertyValue::Null,
        Some(Kind::BoolValue(b)) => PropertyValue::Bool(*b),
        Some(Kind::NumberValue(n)) => PropertyValue::Number(*n),
        Some(Kind::StringValue(s)) if UNKNOWN_SENTINELS.contains(&s.as_str()) => {
            PropertyValue::Unknown
        }
        Some(Kind::StringValue(s)) => PropertyValue::String(s.clone()),
        Some(Kind::ListValue(l)) => PropertyValue::Array(
            l.values
                .iter()
                .enumerate()
                .map(|(i, x)| decode_value(x, &join_index(path, i)))
                .collect::<Result<_, _>>()?,
        ),
        Some(Kind::StructValue(s)) => decode_object(s, path)?,
    })
}

fn decode_object(s: &Struct, path: &str) -> Result<PropertyValue, CodecError> {
    let sig = match s.fields.get(SIG_KEY).and_then(|v| v.kind.as_ref()) {
        None => return Ok(PropertyValue::Object(decode_fields(&s.fields, path)?)),
        Some(Kind::StringValue(sig)) => sig.as_str(),
        Some(_) => return Err(err(path, "signature key must hold a string")),
    };
    let field = |name: &str| s.fields.get(name);
    let string_field = |name: &str| match field(name).and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(x)) => Some(x.clone()),
        _ => None,
    };
    match sig {
        SECRET_SIG => {
            let inner = field("value")
                .map(|v| decode_value(v, path))
                .transpose()?
                .unwrap_or(PropertyValue::Null);
            Ok(PropertyValue::secret(inner))
        }
        RESOURCE_REF_SIG => {
            let urn =
                string_field("urn").ok_or_else(|| err(path, "resource reference without urn"))?;
            let id = field("id")
                .map(|v| decode_value(v, path))
                .transpose()?
                .map(Box::new);
            Ok(PropertyValue::ResourceRef {
                urn,
                id,
                package_version: string_field("packageVersion").unwrap_or_default(),
            })
        }
        OUTPUT_VALUE_SIG => {
            let inner = match field("value") {
                Some(v) => decode_value(v, path)?,
                None => PropertyValue::Unknown,
            };
            let secret = matches!(
                field("secret").and_then(|v| v.kind.as_ref()),
                Some(Kind::BoolValue(true))
            );
            Ok(if secret {
                PropertyValue::secret(inner)
            } else {
                inner
            })
        }
        ASSET_SIG | ARCHIVE_SIG => Err(err(
            path,
            "assets and archives are not accepted by this provider",
        )),
        BYTE_STRING_SIG => Err(err(path, "byte strings are not accepted by this provider")),
        other => Err(err(
            path,
            &format!("unrecognised special value signature {other:?}"),
        )),
    }
}

fn err(path: &str, reason: &str) -> CodecError {
    CodecError {
        path: if path.is_empty() {
            "<root>".into()
        } else {
            path.into()
        },
        reason: reason.into(),
    }
}

pub fn encode_struct(map: &PropertyMap) -> Struct {
    Struct {
        fields: map
            .iter()
            .map(|(k, v)| (k.clone(), encode_value(v)))
            .collect(),
    }
}

pub fn encode_value(v: &PropertyValue) -> Value {
    let kind = match v {
        PropertyValue::Null => Kind::NullValue(0),
        PropertyValue::Bool(b) => Kind::BoolValue(*b),
        PropertyValue::Number(n) => Kind::NumberValue(*n),
        PropertyValue::String(s) => Kind::StringValue(s.clone()),
        PropertyValue::Unknown => Kind::StringValue(UNKNOWN.into()),
        PropertyValue::Array(items) => Kind::ListValue(ListValue {
            values: items.iter().map(encode_value).collect(),
        }),
        PropertyValue::Object(m) => Kind::StructValue(encode_struct(m)),
        PropertyValue::Secret(inner) => Kind::StructValue(special(
            SECRET_SIG,
            [("value".to_string(), encode_value(inner))],
        )),
        PropertyValue::ResourceRef {
            urn,
            id,
            package_version,
        } => {
            let mut fields = vec![("urn".to_string(), string_value(urn))];
            if let Some(id) = id {
                fields.push(("id".to_string(), encode_value(id)));
            }
            if !package_version.is_empty() {
                fields.push(("packageVersion".to_string(), string_value(package_version)));
            }
            Kind::StructValue(special(RESOURCE_REF_SIG, fields))
        }
    };
    Value { kind: Some(kind) }
}

fn string_value(s: &str) -> Value {
    Value {
        kind: Some(Kind::StringValue(s.to_string())),
    }
}

fn special(sig: &str, fields: impl IntoIterator<Item = (String, Value)>) -> Struct {
    let mut s = Struct {
        fields: fields.into_iter().collect(),
    };
    s.fields.insert(SIG_KEY.to_string(), string_value(sig));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_value() -> impl Strategy<Value = PropertyValue> {
        let leaf = prop_oneof![
            Just(PropertyValue::Null),
            any::<bool>().prop_map(PropertyValue::Bool),
            (-1.0e12f64..1.0e12).prop_map(PropertyValue::Number),
            "[a-zA-Z0-9 :/_.-]{0,12}".prop_map(PropertyValue::String),
            Just(PropertyValue::Unknown),
            (
                "urn:pulumi:[a-z]{1,5}",
                proptest::option::of("[a-z0-9]{1,8}")
            )
                .prop_map(|(urn, id)| {
                    PropertyValue::ResourceRef {
                        urn,
                        id: id.map(|i| Box::new(PropertyValue::String(i))),
                        package_version: String::new(),
                    }
                }),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(PropertyValue::Array),
                proptest::collection::btree_map("[a-zA-Z.]{1,6}", inner.clone(), 0..5)
                    .prop_map(PropertyValue::Object),
                inner.prop_map(PropertyValue::secret),
            ]
        })
    }

    proptest! {
        #[test]
        fn struct_round_trip(map in proptest::collection::btree_map("[a-zA-Z]{1,8}", arb_value(), 0..6)) {
            let decoded = decode_struct(&encode_struct(&map)).unwrap();
            prop_assert_eq!(decoded, map);
        }

        #[test]
        fn secrets_never_nest(v in arb_value()) {
            let once = PropertyValue::secret(v);
            let twice = PropertyValue::secret(once.clone());
            prop_assert_eq!(once, twice);
        }
    }

    #[test]
    fn every_unknown_sentinel_decodes_as_unknown() {
        for s in UNKNOWN_SENTINELS {
            let v = Value {
                kind: Some(Kind::StringValue(s.into())),
            };
            assert_eq!(decode_value(&v, "x").unwrap(), PropertyValue::Unknown);
        }
    }

    #[test]
    fn assets_are_rejected_with_their_path() {
        let asset = special(ASSET_SIG, [("text".to_string(), string_value("hi"))]);
        let s = Struct {
            fields: [(
                "policies".to_string(),
                Value {
                    kind: Some(Kind::StructValue(Struct {
                        fields: [(
                            "a.b".to_string(),
                            Value {
                                kind: Some(Kind::StructValue(asset)),
                            },
                        )]
                        .into(),
                    })),
                },
            )]
            .into(),
        };
        let e = decode_struct(&s).unwrap_err();
        assert_eq!(e.path, "policies[\"a.b\"]");
    }

    #[test]
    fn output_values_flatten_to_secret_or_unknown() {
        let out = special(
            OUTPUT_VALUE_SIG,
            [(
                "secret".to_string(),
                Value {
                    kind: Some(Kind::BoolValue(true)),
                },
            )],
        );
        let v = Value {
            kind: Some(Kind::StructValue(out)),
        };
        assert_eq!(
            decode_value(&v, "x").unwrap(),
            PropertyValue::Secret(Box::new(PropertyValue::Unknown))
        );
    }
}
