//! `secret-source-invalid` (error): a secret with both a `value` and a `keyVaultUrl`, or neither.
//!
//! **Azure rule.** A secret is either inline (`name` + `value`) or a Key Vault reference (`name` +
//! `keyVaultUrl` + `identity`) (docs/azure.md#secrets-of-an-app-or-job). Otherwise the write fails
//! with `ContainerAppSecretInvalid`: "Invalid Request: Container app secret(s) with name(s) 'x' are
//! invalid: value or keyVaultUrl and identity should be provided." (docs/azure-errors.md, A6). A
//! file exported with `az containerapp show` has no values at all: GET never returns them.

use super::{Ctx, Rule, secret_pointer};
use crate::lint::finding::{Finding, Severity};
use crate::verdict::Remediation;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "secret-source-invalid",
    severity: Severity::Error,
    summary: "a secret has both a value and a keyVaultUrl, or neither: Azure rejects it with ContainerAppSecretInvalid",
    help: include_str!("../../../docs/rules/secret-source-invalid.md"),
    check: Some(check),
};

fn check(ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, secret) in ctx.secrets() {
        let present = |k: &str| secret.get(k).is_some_and(|v| !v.is_null());
        let label = ctx.secret_label(i, secret);
        let azure = format!(
            "Azure rejects it: \"Container app secret(s) with name(s) {label} are invalid: value or keyVaultUrl and identity should be provided.\" (ContainerAppSecretInvalid)"
        );
        match (present("value"), present("keyVaultUrl")) {
            (true, true) => out.push(ctx.finding(
                &RULE,
                &secret_pointer(i, "value"),
                format!("secret {label} has both a value and a keyVaultUrl; a secret is either inline or a Key Vault reference. {azure}"),
            ).fix(Remediation::advice("keep keyVaultUrl + identity and delete value (or the reverse)"))),
            (false, false) => {
                let exported = secret.len() == 1 && secret.get("name").is_some_and(Value::is_string);
                out.push(ctx.finding(
                    &RULE,
                    &secret_pointer(i, ""),
                    format!(
                        "secret {label} has neither a value nor a keyVaultUrl. {azure}{}",
                        if exported { "; a file exported with `az containerapp show` never holds secret values" } else { "" }
                    ),
                ).fix(Remediation::advice("add keyVaultUrl + identity (or a value from a secure parameter)")))
            }
            _ => {}
        }
    }
    out
}
