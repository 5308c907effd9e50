//! pulumi-resource-xpander: a Pulumi provider for the three-tier IAM
//! architecture of a self-hosted xpander install. See ARCHITECTURE.md.
pub mod cloud;
pub mod config;
pub mod doctor;
pub mod functions;
pub mod iam;
pub mod plan;
pub mod proto;
pub mod resources;
pub mod rpc;
pub mod schema;
