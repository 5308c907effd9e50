//! IAM policy documents: model, canonical form, seed templates, limits, ARNs,
//! and the policy the deployer itself needs.
pub mod arn;
pub mod deployer;
pub mod eval;
pub mod limits;
pub mod policy;
pub mod templates;
