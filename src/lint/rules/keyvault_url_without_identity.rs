//! `keyvault-url-without-identity` (error): a Key Vault reference that names no identity.
//!
//! **Azure rule.** The platform fetches a Key Vault reference with the managed identity the
//! secret names in `identity` (`system` or a user-assigned identity's resource id); without one
//! the write fails with `ContainerAppSecretInvalid` ("value or keyVaultUrl and identity should
//! be provided", docs/azure-errors.md A6; docs/azure.md#secrets-of-an-app-or-job).

use super::{Ctx, Rule, secret_pointer};
use crate::lint::finding::{Finding, Severity};
use crate::verdict::Remediation;

pub const RULE: Rule = Rule {
    id: "keyvault-url-without-identity",
    severity: Severity::Error,
    summary: "a secret has a keyVaultUrl but no identity to read it with: Azure rejects it with ContainerAppSecretInvalid",
    help: include_str!("../../../docs/rules/keyvault-url-without-identity.md"),
    check: Some(check),
};

fn check(ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, secret) in ctx.secrets() {
        let has_url = secret.get("keyVaultUrl").is_some_and(|v| !v.is_null());
        let identity = secret.get("identity").filter(|v| !v.is_null());
        let empty = identity.is_none_or(|v| v.as_str().is_some_and(|s| s.trim().is_empty()));
        if has_url && empty {
            let label = ctx.secret_label(i, secret);
            out.push(ctx.finding(
                &RULE,
                &secret_pointer(i, "keyVaultUrl"),
                format!("secret {label} has a keyVaultUrl but no identity; the platform reads Key Vault with the managed identity the secret names. Azure rejects it: \"value or keyVaultUrl and identity should be provided\" (ContainerAppSecretInvalid)"),
            ).fix(Remediation::advice("add `identity: system` or the resource id of a user-assigned identity that holds Key Vault Secrets User on the vault")));
        }
    }
    out
}
