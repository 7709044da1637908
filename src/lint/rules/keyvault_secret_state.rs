//! `keyvault-secret-state` (`--live`; error when confirmed or likely, warning when possible,
//! note when the evidence is incomplete): the referenced vault or secret does not exist, is
//! disabled, or (informational) expired.
//!
//! **Azure rule.** The engine's `keyvault_secret_state` checker: the platform reads the latest
//! enabled version of a versionless reference, or exactly the pinned version. A missing secret
//! can even be accepted silently (microsoft/azure-container-apps#1306, docs/azure-errors.md A11),
//! so only a read of the vault tells. Key Vault still serves an expired secret, so expiry is a
//! warning at most (docs/azure.md#key-vault-secret-state).

use super::Rule;
use crate::lint::finding::Severity;

pub const RULE: Rule = Rule {
    id: "keyvault-secret-state",
    severity: Severity::Error,
    summary: "--live: the referenced vault or secret does not exist, or the secret (or pinned version) is disabled",
    help: include_str!("../../../docs/rules/keyvault-secret-state.md"),
    check: None,
};
