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

/// The known name a mistyped one most likely meant: the nearest by edit
/// distance (case aside), when it is near enough to be a typo.
pub fn closest<'a>(given: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let given = given.to_lowercase();
    known
        .map(|k| (edit_distance(&given, &k.to_lowercase()), k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}
