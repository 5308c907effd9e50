//! IAM policy documents: model, canonical form, seed templates, limits, ARNs.
pub mod arn;
pub mod eval;
pub mod limits;
pub mod policy;
pub mod templates;
