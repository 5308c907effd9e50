//! Resource properties described once, as data: the schema, unknown-key
//! checks, secretness and preview unknowns are all derived from these tables.

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
