//! `secret-name-invalid` (error; warning for a legacy `.`): a secret name Azure refuses.
//!
//! **Azure rule.** Container Apps secret names must match `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` and
//! be at most 253 characters: "(ContainerAppInvalidSecretName) … A value must consist of lower
//! case alphanumeric characters, '-', and must start and end with an alphanumeric character.
//! The length must not be more than 253 characters." An older rule also allowed `.`; existing
//! apps may still carry such names, so a `.` is a warning, anything else an error
//! (docs/azure.md#secret-names).

use super::{Ctx, Rule, secret_pointer};
use crate::lint::finding::{Finding, Severity};
use crate::verdict::Remediation;

pub const RULE: Rule = Rule {
    id: "secret-name-invalid",
    severity: Severity::Error,
    summary: "a secret name is not lower-case letters, digits and '-' (≤ 253, alphanumeric at both ends): Azure rejects it (ContainerAppInvalidSecretName); a legacy '.' is a warning",
    help: include_str!("../../../docs/rules/secret-name-invalid.md"),
    check: Some(check),
};

const AZURE_TEXT: &str = "Azure: \"A value must consist of lower case alphanumeric characters, '-', and must start and end with an alphanumeric character. The length must not be more than 253 characters.\"";

/// Whether a name passes, passes only the legacy rule (with `.`), or fails.
pub fn classify(name: &str) -> Option<(Severity, String)> {
    let edges_ok = |n: &str| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && n.chars()
                .last()
                .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    let chars_ok = |extra: char| {
        name.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == extra)
    };
    if name.is_empty() {
        return Some((Severity::Error, "is empty".into()));
    }
    if name.chars().count() > 253 {
        return Some((Severity::Error, "is longer than 253 characters".into()));
    }
    if chars_ok('-') && edges_ok(name) {
        return None;
    }
    if chars_ok('.') && edges_ok(name) {
        return Some((Severity::Warning, "contains '.', which only the older rule allowed: existing apps keep working, but new apps and some tools reject it".into()));
    }
    let why = if name.chars().any(|c| c.is_ascii_uppercase()) {
        "has upper-case letters"
    } else if !edges_ok(name) && chars_ok('.') {
        "does not start and end with a letter or digit"
    } else {
        "has characters other than a-z, 0-9 and '-'"
    };
    Some((Severity::Error, why.into()))
}

/// The closest valid name (lower case, other characters as '-', trimmed).
pub fn suggest(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches('-');
    trimmed
        .chars()
        .take(253)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

fn check(ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, secret) in ctx.secrets() {
        if ctx.unresolved(&secret_pointer(i, "name")) {
            continue;
        }
        let Some(name) = secret.get("name").and_then(|n| n.as_str()) else {
            out.push(
                ctx.finding(
                    &RULE,
                    &secret_pointer(i, ""),
                    format!("secret #{i} has no name; every secret needs one (it is what secretRef points at)"),
                )
                .fix(Remediation::advice("add `name`")),
            );
            continue;
        };
        if let Some((severity, why)) = classify(name) {
            let fixed = suggest(name);
            let mut f = ctx
                .finding(
                    &RULE,
                    &secret_pointer(i, "name"),
                    format!("secret name '{name}' {why}. {AZURE_TEXT}"),
                )
                .fix(Remediation::advice(format!(
                    "rename it{} and update every secretRef to it",
                    if fixed.is_empty() {
                        String::new()
                    } else {
                        format!(" to '{fixed}'")
                    }
                )));
            f.severity = severity;
            f.suggestion = (!fixed.is_empty()).then_some(fixed);
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_current_rule() {
        assert_eq!(classify("orders-db-password"), None);
        assert_eq!(classify("a"), None);
        assert_eq!(classify("db.password").unwrap().0, Severity::Warning);
        assert_eq!(classify("MySecretName1").unwrap().0, Severity::Error);
        assert_eq!(classify("db_password").unwrap().0, Severity::Error);
        assert_eq!(classify("-db").unwrap().0, Severity::Error);
        assert_eq!(classify(&"a".repeat(254)).unwrap().0, Severity::Error);
        assert_eq!(suggest("Orders_DB.Password"), "orders-db-password");
    }
}
