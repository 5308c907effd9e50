//! Resource properties described once, as data: the schema, unknown-key
//! checks, secretness and preview unknowns are all derived from these tables.

use crate::model::value::PropertyValue;
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
        let sub = crate::model::value::join_key(path, key);
        match props.iter().find(|p| p.name == key) {
            Some(p) => check_type(p.ty, types, v, &sub, out),
            None if !path.is_empty() => {
                out.push((sub.clone(), format!("{sub} is not a known field")))
            }
            None => {}
        }
    }
    if path.is_empty() {
        // Top-level presence is the resource's Check (it knows about unknowns).
        return;
    }
    for p in props.iter().filter(|p| p.required_input) {
        if value.get(p.name).is_none_or(Json::is_null) {
            let sub = crate::model::value::join_key(path, p.name);
            out.push((sub.clone(), format!("{sub} is required")));
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
                    let p = crate::model::value::join_index(path, i);
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
                    let p = crate::model::value::join_key(path, k);
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
                    let p = crate::model::value::join_key(path, k);
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
                    &crate::model::value::join_index(path, i),
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

/// The schema type of a Rust type used in a declared input: the one place
/// where a field's Rust type and its schema type meet.
pub trait SchemaType {
    const TY: Ty;
    /// Object types reachable from this type, for the schema's `types`.
    fn object_types(_out: &mut Vec<TypeSpec>) {}
}

impl SchemaType for String {
    const TY: Ty = Ty::String;
}
impl SchemaType for i64 {
    const TY: Ty = Ty::Integer;
}
impl SchemaType for f64 {
    const TY: Ty = Ty::Number;
}
impl SchemaType for bool {
    const TY: Ty = Ty::Boolean;
}
impl SchemaType for Vec<String> {
    const TY: Ty = Ty::StringList;
}
impl SchemaType for std::collections::BTreeMap<String, String> {
    const TY: Ty = Ty::StringMap;
}
impl SchemaType for Json {
    const TY: Ty = Ty::Document;
}
impl SchemaType for std::collections::BTreeMap<String, Json> {
    const TY: Ty = Ty::DocumentMap;
}

/// A declared set of inputs: its properties (flattened members first) and
/// the object types they use.
pub trait Declared {
    fn input_props() -> Vec<Prop>;
    fn object_types(out: &mut Vec<TypeSpec>);
}

/// Adds an object type once, then the types its fields use.
pub fn register_type(
    out: &mut Vec<TypeSpec>,
    spec: TypeSpec,
    nested: impl FnOnce(&mut Vec<TypeSpec>),
) {
    if !out.iter().any(|t| t.name == spec.name) {
        out.push(spec);
        nested(out);
    }
}

/// Declares a set of inputs once: the serde struct that decodes them (every
/// field optional; presence is checked from the table) and the property
/// table the schema, type checks and secret wiring are made from. A field's
/// wire name, schema type, description and flags sit on one line, so the
/// decoder and the schema cannot disagree.
///
/// `as "Token", "description"` makes the struct an object type of the schema;
/// `flatten` members contribute their own declared inputs first.
macro_rules! declare {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident $(as $token:literal, $tdesc:literal)? {
            $(flatten $flat:ident: $flat_ty:ty,)*
            $($key:literal $field:ident: $ty:ty $([$($m:ident $(= $arg:literal)?),*])? => $desc:expr,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
        $vis struct $name {
            $(#[serde(flatten)] pub $flat: $flat_ty,)*
            $(#[serde(rename = $key)] pub $field: Option<$ty>,)*
        }

        impl $name {
            /// This declaration's own inputs, without flattened members.
            pub const OWN_PROPS: &'static [$crate::model::spec::Prop] = &[$(
                $crate::model::spec::Prop::input(
                    $key,
                    <$ty as $crate::model::spec::SchemaType>::TY,
                    $desc,
                )$($(.$m($($arg)?))*)?,
            )*];
        }

        impl $crate::model::spec::Declared for $name {
            fn input_props() -> Vec<$crate::model::spec::Prop> {
                #[allow(unused_mut)]
                let mut props = Vec::new();
                $(props.extend(<$flat_ty as $crate::model::spec::Declared>::input_props());)*
                props.extend_from_slice(Self::OWN_PROPS);
                props
            }
            fn object_types(_out: &mut Vec<$crate::model::spec::TypeSpec>) {
                $(<$flat_ty as $crate::model::spec::Declared>::object_types(_out);)*
                $(<$ty as $crate::model::spec::SchemaType>::object_types(_out);)*
            }
        }

        $(
            impl $crate::model::spec::SchemaType for $name {
                const TY: $crate::model::spec::Ty = $crate::model::spec::Ty::Object($token);
                fn object_types(out: &mut Vec<$crate::model::spec::TypeSpec>) {
                    $crate::model::spec::register_type(
                        out,
                        $crate::model::spec::TypeSpec {
                            name: $token,
                            description: $tdesc,
                            props: Self::OWN_PROPS,
                        },
                        <Self as $crate::model::spec::Declared>::object_types,
                    );
                }
            }
        )?
    };
}
pub(crate) use declare;

impl ResourceSpec {
    /// A resource's table: its declared inputs, then its outputs. Built once
    /// per process (the tables are `'static` for the schema and the checks).
    pub fn assemble<T: Declared>(
        token: &'static str,
        description: &'static str,
        outputs: &[Prop],
    ) -> ResourceSpec {
        let mut props = T::input_props();
        props.extend_from_slice(outputs);
        let mut types = Vec::new();
        T::object_types(&mut types);
        ResourceSpec {
            token,
            description,
            props: Box::leak(props.into_boxed_slice()),
            types: Box::leak(types.into_boxed_slice()),
        }
    }

    /// Replaces one property's description (a shared input that says more
    /// on this resource).
    pub fn describe(mut self, name: &str, description: &'static str) -> ResourceSpec {
        let mut props = self.props.to_vec();
        for p in props.iter_mut().filter(|p| p.name == name && p.input) {
            p.description = description;
        }
        self.props = Box::leak(props.into_boxed_slice());
        self
    }
}
