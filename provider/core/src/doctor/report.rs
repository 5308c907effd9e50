//! The doctor's human report.

use std::fmt::Write;

use super::{Finding, Severity};

pub fn counts(findings: &[Finding]) -> (usize, usize) {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    (errors, warnings)
}

pub fn human(findings: &[Finding], header: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{header}\n");
    if findings.is_empty() {
        let _ = writeln!(out, "✓ no problems found");
    }
    for f in findings {
        let mark = match f.severity {
            Severity::Error => "✗ error  ",
            Severity::Warning => "! warning",
            Severity::Info => "· info   ",
        };
        let _ = writeln!(out, "{mark} {:<32} {}", f.code, f.role);
        let _ = writeln!(out, "          {}", f.summary);
        if let Some(e) = &f.evidence {
            let _ = writeln!(out, "          evidence: {e}");
        }
        let _ = writeln!(out, "          fix: {}\n", f.fix);
    }
    let (errors, warnings) = counts(findings);
    let _ = writeln!(out, "{errors} error(s), {warnings} warning(s)");
    out
}
