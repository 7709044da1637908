//! `secret-literal-value` (warning): a secret's value is written in the file.
//!
//! **Why.** A literal `value` is readable by anyone who can read the repository, the pipeline
//! logs or the deployment history, and it never rotates. Keep the value in Key Vault
//! (`keyVaultUrl` + `identity`) or pass it at deploy time (a `@secure()` / `securestring`
//! parameter, a pipeline secret). Expressions (`[parameters('x')]`) and pipeline placeholders
//! (`${X}`, `$(X)`, `#{X}#`, `__X__`, `{{ X }}`) are not literals. The finding names the secret
//! only: never its value, nor its length.

use super::appservice_keyvault_reference::appservice_reference;
use super::{Ctx, Rule, secret_pointer};
use crate::lint::expr::is_expression;
use crate::lint::finding::{Finding, Severity};
use crate::verdict::Remediation;

pub const RULE: Rule = Rule {
    id: "secret-literal-value",
    severity: Severity::Warning,
    summary: "a secret's value is written literally in the file: it leaks through the repository, logs and deployment history",
    help: include_str!("../../../docs/rules/secret-literal-value.md"),
    check: Some(check),
};

/// Substitution markers of common pipeline tools: the real value arrives at deploy time.
pub fn is_placeholder(s: &str) -> bool {
    let t = s.trim();
    (t.starts_with("${") && t.ends_with('}'))
        || (t.starts_with("$(") && t.ends_with(')'))
        || (t.starts_with("#{") && t.ends_with("}#"))
        || (t.starts_with("{{") && t.ends_with("}}"))
        || (t.len() > 4 && t.starts_with("__") && t.ends_with("__"))
}

fn check(ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, secret) in ctx.secrets() {
        let Some(value) = secret.get("value").and_then(|v| v.as_str()) else {
            continue;
        };
        // The App Service reference syntax is not a value either (appservice-keyvault-reference).
        if value.is_empty()
            || is_expression(value)
            || is_placeholder(value)
            || appservice_reference(value).is_some()
        {
            continue;
        }
        let label = ctx.secret_label(i, secret);
        out.push(ctx.finding(
            &RULE,
            &secret_pointer(i, "value"),
            format!("secret {label} has a literal value in this file; anyone who can read the repository, the pipeline logs or the deployment history can read it"),
        ).fix(Remediation::advice("store it in Key Vault and reference it (keyVaultUrl + identity), or pass it at deploy time from a secure parameter or pipeline secret")));
    }
    out
}
