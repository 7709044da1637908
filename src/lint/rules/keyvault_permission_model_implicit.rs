//! `keyvault-permission-model-implicit` (warning): a Key Vault this template declares leaves its
//! permission model to the api-version default, and a secret of the app reads from it.
//!
//! **Azure rule.** A vault authorizes the data plane with Azure RBAC when
//! `enableRbacAuthorization` is `true`, and with access policies otherwise. Vaults created with
//! api-version 2026-02-01 or later default to RBAC; with an older api-version an absent property
//! means access policies (docs/azure.md#key-vault-permission-models). The same template
//! therefore gets a different model when someone bumps the vault's api-version, and the grant
//! the app's identity holds (a role assignment, or an access policy) stops counting: the
//! platform's reads fail with `ForbiddenByRbac` or `AccessDenied`.
//!
//! **Why lint.** Only the template shows the api-version the vault is deployed with; a
//! `--live` check sees the vault as it is today, not as this deploy will make it.

use super::{Ctx, Rule, secret_pointer};
use crate::lint::finding::{Finding, Severity};
use crate::verdict::Remediation;

pub const RULE: Rule = Rule {
    id: "keyvault-permission-model-implicit",
    severity: Severity::Warning,
    summary: "a vault declared in the template leaves enableRbacAuthorization to its api-version default (RBAC from 2026-02-01, access policies before): a version bump silently switches the model the app's grant relies on",
    help: include_str!("../../../docs/rules/keyvault-permission-model-implicit.md"),
    check: Some(check),
};

/// The first api-version whose vaults default to RBAC.
const RBAC_DEFAULT_FROM: &str = "2026-02-01";

/// True when vaults created with `api_version` default to RBAC (`2026-02-01`, and any later
/// date, preview or not).
pub fn defaults_to_rbac(api_version: &str) -> bool {
    api_version.get(..10).is_some_and(|date| {
        date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        }) && date >= RBAC_DEFAULT_FROM
    })
}

fn check(ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, secret, parsed) in ctx.key_vault_refs() {
        let Some(vault) = ctx
            .resource
            .declared_vaults
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(&parsed.vault) && v.rbac.is_none())
        else {
            continue;
        };
        let (model, grant) = if defaults_to_rbac(&vault.api_version) {
            (
                "Azure RBAC",
                "a role assignment such as 'Key Vault Secrets User'",
            )
        } else {
            ("access policies", "an access policy with secret get")
        };
        let label = ctx.secret_label(i, secret);
        out.push(ctx.finding(
            &RULE,
            &secret_pointer(i, "keyVaultUrl"),
            format!("secret {label} reads from vault '{}', which this template declares with apiVersion {} and no enableRbacAuthorization: it gets {model} by default, so the app's identity needs {grant}; an api-version bump across {RBAC_DEFAULT_FROM} switches the model silently", vault.name, vault.api_version),
        ).fix(Remediation::advice(format!(
            "set properties.enableRbacAuthorization explicitly on vault '{}' (true is recommended)",
            vault.name
        ))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_turns_at_2026_02_01() {
        assert!(!defaults_to_rbac("2025-05-01"));
        assert!(!defaults_to_rbac("2026-01-31-preview"));
        assert!(defaults_to_rbac("2026-02-01"));
        assert!(defaults_to_rbac("2026-04-01-preview"));
        assert!(!defaults_to_rbac("[variables('v')]"), "not a date");
        assert!(!defaults_to_rbac(""));
    }
}
