//! `keyvault-url-pinned` (note): a Key Vault reference pinned to one version.
//!
//! **Azure rule.** A versioned URL (`.../secrets/<name>/<version>`) is pinned: Container Apps never
//! refreshes it, so rotating the secret in Key Vault does not reach the app. A versionless URL
//! follows the latest enabled version, synced within about 30 minutes, and restarts the revisions
//! that use it (docs/azure.md#key-vault-references; docs/design.md#h3-stale_revision). Pinning can
//! be deliberate, so this is a note.

use super::{Ctx, Rule, secret_pointer};
use crate::lint::finding::{Finding, Severity};
use crate::verdict::Remediation;

pub const RULE: Rule = Rule {
    id: "keyvault-url-pinned",
    severity: Severity::Note,
    summary: "a keyVaultUrl pins a secret version: rotating the secret in Key Vault never reaches the app",
    help: include_str!("../../../docs/rules/keyvault-url-pinned.md"),
    check: Some(check),
};

fn check(ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, secret, parsed) in ctx.key_vault_refs() {
        if let Some(version) = &parsed.version {
            let label = ctx.secret_label(i, secret);
            let mut f = ctx.finding(
                &RULE,
                &secret_pointer(i, "keyVaultUrl"),
                format!("secret {label} is pinned to version {version}; Container Apps never refreshes a pinned reference, so a rotation in Key Vault does not reach the app until this file changes"),
            ).fix(Remediation::advice(format!("unless the pin is deliberate, use the versionless URL {}, which is synced within about 30 minutes", parsed.versionless_url())));
            f.suggestion = Some(parsed.versionless_url());
            out.push(f);
        }
    }
    out
}
