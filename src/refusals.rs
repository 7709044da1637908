//! What Azure refused when a write to the app failed, or a revision failed to provision.
//!
//! A Container Apps PUT that names a missing secret or a Key Vault reference its identity cannot
//! read is usually rejected, so the app still shows the old, good configuration; the failed write
//! in the activity log (`properties.statusMessage`) or the failed revision's `provisioningError` is
//! then the only trace (docs/azure.md#refused-writes). Every pattern here is a real ARM error
//! listed in docs/azure-errors.md, section A (A1–A9, A12); the message text is matched on stable
//! fragments through [`crate::logs::classify`], so the system-log classifier and this one cannot
//! drift apart.

use crate::checks::CheckerId;
use crate::logs::{self, FailureCause, LogEvent};

/// One classified refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `ContainerAppSecretRefNotFound`: `SecretRef '<s>' defined for container '<c>' not found.`
    /// (A8, A9). `consumer` is `container 'c'`, `volume 'v'`, ... as the platform wrote it.
    SecretRefNotFound {
        secret: String,
        consumer: Option<String>,
    },
    /// `InvalidParameterValueInContainerTemplate` / `ContainerAppOperationError` with `Unable to
    /// get value using Managed identity <id|system> for secret <s>` (A1–A5): the platform could
    /// not read a Key Vault reference. One string covers no role, firewall, private-only, a
    /// missing secret and identity timing; the cause comes from configuration.
    KeyVaultUnreadable { secret: String, identity: String },
    /// `managed Identity with resource Id [<id>] was not found when trying to get secret [<s>]`
    /// (docs/azure-errors.md, A12): the user-assigned identity is not attached.
    IdentityNotFound {
        secret: Option<String>,
        identity: Option<String>,
    },
    /// `ContainerAppSecretInvalid`: `Container app secret(s) with name(s) '<s>' are invalid:
    /// value or keyVaultUrl and identity should be provided.` (A6)
    SecretInvalid { secrets: Vec<String> },
    /// `ContainerAppSecretKeyVaultUrlInvalid` (A7): the message body was never captured.
    KeyVaultUrlInvalid,
    /// Any other failure: shown on the timeline, linked to no hypothesis.
    Other,
}

impl Refusal {
    /// The secret the refusal names, if any.
    pub fn secret(&self) -> Option<&str> {
        match self {
            Refusal::SecretRefNotFound { secret, .. }
            | Refusal::KeyVaultUnreadable { secret, .. } => Some(secret),
            Refusal::IdentityNotFound { secret, .. } => secret.as_deref(),
            Refusal::SecretInvalid { secrets } => secrets.first().map(String::as_str),
            Refusal::KeyVaultUrlInvalid | Refusal::Other => None,
        }
    }

    /// The hypothesis this refusal is evidence for.
    pub fn hypothesis(&self) -> Option<CheckerId> {
        match self {
            Refusal::SecretRefNotFound { .. } | Refusal::SecretInvalid { .. } => {
                Some(CheckerId::SecretRef)
            }
            Refusal::KeyVaultUnreadable { .. }
            | Refusal::IdentityNotFound { .. }
            | Refusal::KeyVaultUrlInvalid => Some(CheckerId::KeyvaultAccess),
            Refusal::Other => None,
        }
    }
}

/// Classifies an ARM error (`code` may be absent, as in a revision's `provisioningError`).
pub fn classify(code: Option<&str>, message: &str) -> Refusal {
    let code = code.unwrap_or_default();
    // Terraform and some CLIs wrap the message with a `│ ` gutter (A3); one line reads the same.
    let text = message
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if code.eq_ignore_ascii_case("ContainerAppSecretKeyVaultUrlInvalid") {
        return Refusal::KeyVaultUrlInvalid;
    }
    if code.eq_ignore_ascii_case("ContainerAppSecretInvalid")
        || text.contains("value or keyVaultUrl and identity should be provided")
    {
        let secrets = between(&text, "with name(s) '", "'")
            .map(|names| {
                names
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        return Refusal::SecretInvalid { secrets };
    }
    match logs::classify(None, &text) {
        LogEvent::SecretRefNotFound { secret, consumer } => {
            Refusal::SecretRefNotFound { secret, consumer }
        }
        LogEvent::ManagedIdentityFetchFailed { secret, identity } => {
            Refusal::KeyVaultUnreadable { secret, identity }
        }
        LogEvent::SyncFailed(f) => match f.cause {
            FailureCause::IdentityNotFound { identity } => Refusal::IdentityNotFound {
                secret: f.secret,
                identity,
            },
            _ => Refusal::Other,
        },
        _ => Refusal::Other,
    }
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(text[from..from + len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verbatim strings of docs/azure-errors.md, section A.
    #[test]
    fn classifies_every_captured_refusal() {
        let a1 = "The following field(s) are either invalid or missing. Field 'configuration.secrets' is invalid with details: 'Invalid value: \"statamickey\": Unable to get value using Managed identity system for secret statamickey. Error: unable to fetch secret 'statamickey' using Managed identity 'system'';.";
        assert_eq!(
            classify(Some("InvalidParameterValueInContainerTemplate"), a1),
            Refusal::KeyVaultUnreadable {
                secret: "statamickey".into(),
                identity: "system".into()
            }
        );
        let a2 = "Failed to update secrets: The following field(s) are either invalid or missing.\nField 'configuration.secrets' is invalid with details: 'Invalid value: \"test\": Unable to get value using Managed identity /subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-w for secret test.\nError: unable to fetch secret 'test' using Managed identity '/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-w'';.";
        assert_eq!(
            classify(None, a2),
            Refusal::KeyVaultUnreadable {
                secret: "test".into(),
                identity: "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-w".into()
            }
        );
        let a3 = "InvalidParameterValueInContainerTemplate: The following field(s) are either\n│ invalid or missing. Field 'configuration.secrets' is invalid with details:\n│ 'Invalid value: \"postgres-password\": Unable to get value using Managed\n│ identity\n│ /subscriptions/xxxx/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai\n│ for secret postgres-password. Error: unable to fetch secret\n│ 'postgres-password' using Managed identity";
        assert_eq!(
            classify(None, a3).secret(),
            Some("postgres-password"),
            "the Terraform gutter is read across lines"
        );
        let a4 = "Failed to provision revision for container app 'quiz-perf'. Field 'configuration.secrets' is invalid: Invalid value: \"pg-password\": Unable to get value using Managed identity .../id-zava for secret pg-password.";
        assert_eq!(
            classify(Some("ContainerAppOperationError"), a4).hypothesis(),
            Some(CheckerId::KeyvaultAccess)
        );
        assert_eq!(
            classify(
                Some("ContainerAppSecretInvalid"),
                "Invalid Request: Container app secret(s) with name(s) 'test-secret' are invalid: value or keyVaultUrl and identity should be provided."
            ),
            Refusal::SecretInvalid {
                secrets: vec!["test-secret".into()]
            }
        );
        assert_eq!(
            classify(Some("ContainerAppSecretKeyVaultUrlInvalid"), ""),
            Refusal::KeyVaultUrlInvalid
        );
        assert_eq!(
            classify(
                Some("ContainerAppSecretRefNotFound"),
                "SecretRef 'azureopenaikey' defined for container 'ai-weather-application' not found."
            ),
            Refusal::SecretRefNotFound {
                secret: "azureopenaikey".into(),
                consumer: Some("container ai-weather-application".into())
            }
        );
        assert_eq!(
            classify(
                None,
                "Failed to deploy new revision: SecretRef 'vector-container-appeb3e8f21-azure-storage-account-key-base64' defined for container 'vector' not found."
            )
            .secret(),
            Some("vector-container-appeb3e8f21-azure-storage-account-key-base64")
        );
        assert_eq!(
            classify(
                None,
                "Error: managed Identity with resource Id [/subscriptions/s/x/id-w] was not found when trying to get secret [db] from Azure Key Vault"
            ),
            Refusal::IdentityNotFound {
                secret: Some("db".into()),
                identity: Some("/subscriptions/s/x/id-w".into())
            }
        );
        assert_eq!(
            classify(
                Some("RequestDisallowedByPolicy"),
                "Resource 'ca' was disallowed by policy."
            ),
            Refusal::Other
        );
    }
}
