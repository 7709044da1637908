//! `system-identity-not-created` (`--live`, error): a Key Vault reference uses the system
//! identity of an app (or job) that does not exist yet, or does not have one yet.
//!
//! **Azure rule.** A system-assigned identity is created with the app, so no role can be granted to
//! it before the first deploy, and the first deploy then fails to read the secret
//! (docs/azure.md#system-assigned-identity-timing; docs/azure-errors.md A7). The CLI refuses
//! `identityref:system` on `az containerapp create` for the same reason
//! (docs/azure.md#key-vault-references). Fix: a user-assigned identity granted Key Vault Secrets
//! User before the deploy, or deploy without the reference first, grant the role, then add it.

use super::Rule;
use crate::lint::finding::Severity;

pub const RULE: Rule = Rule {
    id: "system-identity-not-created",
    severity: Severity::Error,
    summary: "--live: a Key Vault reference uses a system-assigned identity that does not exist until the first deploy, so no role can be granted to it yet",
    help: include_str!("../../../docs/rules/system-identity-not-created.md"),
    check: None,
};
