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

/// An input's wire name, as a value the compiler checks: `declare!` makes one
/// per field (`TrustArgs::external_id`), so a renamed field breaks the build
/// instead of a table that still names the old key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub &'static str);

impl Key {
    pub const fn name(self) -> &'static str {
        self.0
    }
}

/// A schema default, typed as the schema writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    Str(&'static str),
    Bool(bool),
    Number(f64),
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
    pub default: Option<DefaultValue>,
    /// Inputs this output is computed from (secret if any of them is, unknown
    /// in preview if any of them is), in up to two groups of fields. Empty
    /// for AWS-assigned values.
    pub derived_from: [&'static [Key]; 2],
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
            derived_from: [&[], &[]],
            assigned: false,
        }
    }
    /// An output computed from inputs, always present.
    pub const fn output(name: &'static str, ty: Ty, description: &'static str) -> Prop {
        Prop {
            input: false,
            always: true,
            ..Prop::input(name, ty, description)
        }
    }
    /// Assigned by AWS (an id, an ARN): known once the step that makes it ran.
    pub const fn assigned(self) -> Prop {
        Prop {
            assigned: true,
            ..self
        }
    }
    pub const fn derived_from(self, keys: &'static [Key]) -> Prop {
        Prop {
            derived_from: [keys, self.derived_from[1]],
            ..self
        }
    }
    /// A second group of sources: fields of another declaration.
    pub const fn derived_also_from(self, keys: &'static [Key]) -> Prop {
        Prop {
            derived_from: [self.derived_from[0], keys],
            ..self
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
    pub const fn optional(self) -> Prop {
        Prop {
            always: false,
            ..self
        }
    }
    pub const fn default_str(self, value: &'static str) -> Prop {
        Prop {
            default: Some(DefaultValue::Str(value)),
            ..self
        }
    }
    pub const fn default_bool(self, value: bool) -> Prop {
        Prop {
            default: Some(DefaultValue::Bool(value)),
            ..self
        }
    }
    /// The inputs this output is computed from.
    pub fn sources(&self) -> impl Iterator<Item = &'static str> + use<'_> {
        self.derived_from.iter().flat_map(|g| g.iter().map(|k| k.0))
    }
    /// The schema default as a value of the property's type.
    pub fn default_value(&self) -> Option<PropertyValue> {
        Some(match self.default? {
            DefaultValue::Bool(b) => PropertyValue::Bool(b),
            DefaultValue::Number(n) => PropertyValue::Number(n),
            DefaultValue::Str(s) => PropertyValue::String(s.into()),
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
                let hint = crate::model::failure::closest(key, props.iter().map(|p| p.name))
                    .map(|name| format!("; did you mean {name:?}?"))
                    .unwrap_or_default();
                out.push((sub.clone(), format!("{sub} is not a known field{hint}")))
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
    /// An `Option` field of a record: absent allowed.
    const OPTIONAL: bool = false;
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

impl<T: SchemaType> SchemaType for Option<T> {
    const TY: Ty = T::TY;
    const OPTIONAL: bool = true;
    fn object_types(out: &mut Vec<TypeSpec>) {
        T::object_types(out)
    }
}

/// An object type of the schema (declared with `as "Token"` or a record).
pub trait ObjectType: SchemaType {}

impl<T: ObjectType> SchemaType for Vec<T> {
    const TY: Ty = match T::TY {
        Ty::Object(name) => Ty::ObjectList(name),
        other => other,
    };
    fn object_types(out: &mut Vec<TypeSpec>) {
        T::object_types(out)
    }
}

/// A declared set of properties: inputs (flattened members first) and the
/// object types they use, or the outputs of a resource's state.
pub trait Declared {
    fn props() -> Vec<Prop>;
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
/// field optional; presence is checked from the table), the property table
/// the schema, type checks and secret wiring are made from, and a `Key` per
/// field (`Self::field_name`) for tables that refer to it. A field's wire
/// name, schema type, description and flags sit on one line, so the
/// decoder, the encoder and the schema cannot disagree.
///
/// `as "Token", "description"` makes the struct an object type of the schema;
/// `flatten` members contribute their own declared properties first.
/// `declare! { outputs struct ... }` declares a resource's state the same
/// way: its fields are outputs (`Prop::output`).
macro_rules! declare {
    (
        $(#[$meta:meta])*
        $vis:vis outputs struct $name:ident { $($body:tt)* }
    ) => {
        $crate::model::spec::declare!(@struct [$(#[$meta])*] $vis $name
            [$crate::model::spec::Prop::output] { $($body)* });
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident $(as $token:literal, $tdesc:literal)? { $($body:tt)* }
    ) => {
        $crate::model::spec::declare!(@struct [$(#[$meta])*] $vis $name
            [$crate::model::spec::Prop::input] $(as $token, $tdesc)? { $($body)* });
    };
    (
        @struct [$(#[$meta:meta])*] $vis:vis $name:ident [$ctor:path] $(as $token:literal, $tdesc:literal)? {
            $(flatten $flat:ident: $flat_ty:ty,)*
            $($key:literal $field:ident: $ty:ty $([$($m:ident $(= $arg:expr)?),*])? => $desc:expr,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
        $vis struct $name {
            $(#[serde(flatten)] pub $flat: $flat_ty,)*
            $(#[serde(rename = $key, skip_serializing_if = "Option::is_none")] pub $field: Option<$ty>,)*
        }

        #[allow(non_upper_case_globals)]
        impl $name {
            $(pub const $field: $crate::model::spec::Key = $crate::model::spec::Key($key);)*

            /// This declaration's own properties, without flattened members.
            pub const OWN_PROPS: &'static [$crate::model::spec::Prop] = &[$(
                $ctor(
                    $key,
                    <$ty as $crate::model::spec::SchemaType>::TY,
                    $desc,
                )$($(.$m($($arg)?))*)?,
            )*];
        }

        impl $crate::model::spec::Declared for $name {
            fn props() -> Vec<$crate::model::spec::Prop> {
                #[allow(unused_mut)]
                let mut props = Vec::new();
                $(props.extend(<$flat_ty as $crate::model::spec::Declared>::props());)*
                props.extend_from_slice(Self::OWN_PROPS);
                props
            }
            fn object_types(_out: &mut Vec<$crate::model::spec::TypeSpec>) {
                $(<$flat_ty as $crate::model::spec::Declared>::object_types(_out);)*
                $(<$ty as $crate::model::spec::SchemaType>::object_types(_out);)*
            }
        }

        $(
            impl $crate::model::spec::ObjectType for $name {}

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

/// Declares an object type whose fields are typed as written (`Option<T>`
/// for the optional ones): what the provider returns rather than decodes
/// from a user (the doctor's findings). The schema type comes from the same
/// lines.
macro_rules! record {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident as $token:literal, $tdesc:literal {
            $($key:literal $field:ident: $ty:ty => $desc:expr,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        $vis struct $name {
            $(#[serde(rename = $key)] pub $field: $ty,)*
        }

        impl $name {
            pub const PROPS: &'static [$crate::model::spec::Prop] = &[$({
                let p = $crate::model::spec::Prop::output(
                    $key,
                    <$ty as $crate::model::spec::SchemaType>::TY,
                    $desc,
                );
                if <$ty as $crate::model::spec::SchemaType>::OPTIONAL {
                    p.optional()
                } else {
                    p
                }
            },)*];
        }

        impl $crate::model::spec::ObjectType for $name {}

        impl $crate::model::spec::SchemaType for $name {
            const TY: $crate::model::spec::Ty = $crate::model::spec::Ty::Object($token);
            fn object_types(out: &mut Vec<$crate::model::spec::TypeSpec>) {
                $crate::model::spec::register_type(
                    out,
                    $crate::model::spec::TypeSpec {
                        name: $token,
                        description: $tdesc,
                        props: Self::PROPS,
                    },
                    |_| {},
                );
            }
        }
    };
}
pub(crate) use record;

/// A resource's table while it is put together: its declared inputs, then
/// its declared state, with what this resource says differently about a
/// shared property. `build` leaks it once per process (the schema and the
/// checks need `'static` tables).
pub struct SpecBuilder {
    token: &'static str,
    description: &'static str,
    props: Vec<Prop>,
    types: Vec<TypeSpec>,
}

impl SpecBuilder {
    fn edit(mut self, key: Key, output_only: bool, f: impl Fn(&mut Prop)) -> SpecBuilder {
        let mut found = false;
        for p in self
            .props
            .iter_mut()
            .filter(|p| p.name == key.0 && p.input != output_only)
        {
            f(p);
            found = true;
        }
        assert!(found, "{}: no property {:?} to adjust", self.token, key.0);
        self
    }

    /// A shared input that says more on this resource.
    pub fn describe_input(self, key: Key, description: &'static str) -> SpecBuilder {
        self.edit(key, false, |p| p.description = description)
    }

    /// A shared output that says more on this resource.
    pub fn describe_output(self, key: Key, description: &'static str) -> SpecBuilder {
        self.edit(key, true, |p| p.description = description)
    }

    /// What a shared output is computed from on this resource.
    pub fn derive(self, key: Key, groups: [&'static [Key]; 2]) -> SpecBuilder {
        self.edit(key, true, |p| p.derived_from = groups)
    }

    /// A shared output that is always secret on this resource.
    pub fn secret_output(self, key: Key) -> SpecBuilder {
        self.edit(key, true, |p| p.secret = true)
    }

    pub fn build(self) -> ResourceSpec {
        ResourceSpec {
            token: self.token,
            description: self.description,
            props: Box::leak(self.props.into_boxed_slice()),
            types: Box::leak(self.types.into_boxed_slice()),
        }
    }
}

impl ResourceSpec {
    pub fn assemble<A: Declared, S: Declared>(
        token: &'static str,
        description: &'static str,
    ) -> SpecBuilder {
        let mut props = A::props();
        props.extend(S::props());
        let mut types = Vec::new();
        A::object_types(&mut types);
        S::object_types(&mut types);
        SpecBuilder {
            token,
            description,
            props,
            types,
        }
    }
}
