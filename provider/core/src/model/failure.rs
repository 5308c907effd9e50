//! A problem with an input, named by its property path (`redshift.databaseName`,
//! `policies["Custom"]`), as Check, Invoke and config parsing report it.

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub property: String,
    pub reason: String,
}

impl Failure {
    pub fn new(property: impl Into<String>, reason: impl Into<String>) -> Self {
        Failure {
            property: property.into(),
            reason: reason.into(),
        }
    }
}
