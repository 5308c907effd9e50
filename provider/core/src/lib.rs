//! pulumi-xpander's library: what the provider decides and does, with no
//! knowledge of the Pulumi wire protocol (the plugin crate above it speaks
//! gRPC). Layers, each using only those above it in this list:
//! model → iam → config → cloud → plan → context → resources → doctor →
//! functions → schema. See ARCHITECTURE.md.
pub mod cloud;
pub mod config;
pub mod context;
pub mod doctor;
pub mod functions;
pub mod iam;
pub mod model;
pub mod plan;
pub mod resources;
pub mod schema;
