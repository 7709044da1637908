//! `keyvault-access` (`--live`; error when confirmed or likely, warning when possible, note
//! when the evidence is incomplete): the identity a Key Vault reference will use cannot read
//! the secret.
//!
//! **Azure rule.** The engine's `keyvault_access` checker, unchanged: the named identity must
//! exist on the app, and its principal needs `Microsoft.KeyVault/vaults/secrets/getSecret/action`
//! on the secret through RBAC (any scope up to the subscription, wildcards, `notDataActions`,
//! deny assignments) or an access policy with secret `get` when the vault uses access policies
//! (docs/azure.md#key-vault-permission-models, #evaluating-role-assignments). Otherwise the
//! deploy fails with "Unable to get value using Managed identity … for secret …"
//! (docs/azure-errors.md, A1–A3). Lint runs it against the file's secrets,
//! with the principals of the existing app and of the user-assigned identities it names.

use super::Rule;
use crate::lint::finding::Severity;

pub const RULE: Rule = Rule {
    id: "keyvault-access",
    severity: Severity::Error,
    summary: "--live: the identity a Key Vault reference will use may not read the secret (no role or access policy, deny assignment, identity missing)",
    help: include_str!("../../../docs/rules/keyvault-access.md"),
    check: None,
};
