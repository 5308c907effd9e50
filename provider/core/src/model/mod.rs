//! The bottom layer: property values, failures and the declaration machinery
//! (`declare!`, property tables) every resource, function and config is made of.

pub mod failure;
pub mod spec;
pub mod value;
