//! `keyvault-network` (`--live`; error when confirmed or likely, warning when possible, note
//! when the evidence is incomplete): the vault's network rules leave the app no path.
//!
//! **Azure rule.** The engine's `keyvault_network` checker: Container Apps is not a trusted
//! Microsoft service for the Key Vault firewall, so with public access disabled or a `Deny`
//! default action the app needs a private endpoint with private DNS, or an allowed VNet/IP
//! (docs/azure.md#key-vault-network-rules; docs/azure-errors.md, A4, A5, B1).

use super::Rule;
use crate::lint::finding::Severity;

pub const RULE: Rule = Rule {
    id: "keyvault-network",
    severity: Severity::Error,
    summary: "--live: the vault's firewall or public-access setting leaves Container Apps no network path",
    help: include_str!("../../../docs/rules/keyvault-network.md"),
    check: None,
};
