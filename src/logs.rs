//! What a Container Apps system-log line (or platform error text) says about secrets.
//!
//! The platform reports one opaque failure for many causes; the text it embeds (the Key Vault
//! error body, a DNS error) is what separates them. Every pattern here comes from a real string
//! listed in docs/azure-errors.md (sections B and S), and matching is on
//! codes and stable fragments, never on a whole message.

use serde::Serialize;

/// The system-log `Reason` of a successful Key Vault sync.
pub const SYNC_SUCCEEDED: &str = "SyncingSecretFromAzureKeyVaultForContainerAppSucceeded";
/// The system-log `Reason` of a failed Key Vault sync.
pub const SYNC_FAILED: &str = "SyncingSecretFromAzureKeyVaultForContainerAppFailed";
/// The platform restarted replicas after a sync brought new values.
pub const RESTART_WITH_NEW_SECRETS: &str = "RevisionRestartWithNewSecrets";

/// A classified log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogEvent {
    /// `Sync with secrets from Azure Key Vault was successful for container app <app>`: app-wide.
    SyncSucceeded,
    /// A Key Vault sync (or fetch) failed for one secret.
    SyncFailed(SyncFailure),
    RestartWithNewSecrets,
    /// `SecretRef '<s>' defined for container '<c>' not found.`
    SecretRefNotFound {
        secret: String,
        consumer: Option<String>,
    },
    /// `Unable to get value using Managed identity <id> for secret <s>`: the platform's opaque
    /// failure; the cause must come from configuration.
    ManagedIdentityFetchFailed {
        secret: String,
        identity: String,
    },
    /// A job execution that ended in failure: `BackoffLimitExceeded` ("Job has reached the
    /// specified backoff limit") or `DeadlineExceeded` ("Job was active longer than specified
    /// deadline").
    JobFailed {
        reason: String,
    },
    Other,
}

/// One failed Key Vault read by the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncFailure {
    pub secret: Option<String>,
    pub url: Option<String>,
    pub status: Option<u16>,
    pub cause: FailureCause,
    /// `DenyAssignmentId:` from a Key Vault RBAC 403, when not `null`.
    pub deny_assignment: Option<String>,
}

/// Why Key Vault (or the path to it) refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCause {
    /// 403 `ForbiddenByRbac`: no role grants `getSecret` (or a deny assignment blocks it).
    Rbac,
    /// 403 `AccessDenied`: access-policy vault, no `get` for this object id.
    AccessPolicy,
    /// 403 `ForbiddenByPolicy`: an access policy bound to an application (on-behalf-of only).
    OnBehalfOfPolicy,
    /// 403 `ForbiddenByFirewall`: vault firewall or network security perimeter.
    Firewall,
    /// 403 `ForbiddenByConnection`: public access disabled and no approved private link used.
    PrivateLinkOnly,
    /// 404 `SecretNotFound` (deleted, misspelled, or the version does not exist).
    SecretNotFound,
    /// The secret (version) is disabled.
    SecretDisabled,
    /// `no such host`: the environment's DNS cannot resolve the vault.
    Dns,
    /// A user-assigned identity named by the secret is not on the app (or was deleted).
    IdentityNotFound {
        identity: Option<String>,
    },
    /// 401 from Key Vault: token or tenant problem.
    Unauthorized,
    Unknown,
}

impl FailureCause {
    /// A short phrase for evidence text.
    pub fn describe(&self) -> &'static str {
        match self {
            FailureCause::Rbac => "403 ForbiddenByRbac (no role grants getSecret)",
            FailureCause::AccessPolicy => "403 AccessDenied (no access policy with secret get)",
            FailureCause::OnBehalfOfPolicy => {
                "403 ForbiddenByPolicy (access policy bound to an application)"
            }
            FailureCause::Firewall => {
                "403 ForbiddenByFirewall (vault firewall or network security perimeter)"
            }
            FailureCause::PrivateLinkOnly => {
                "403 ForbiddenByConnection (public access disabled, no private link used)"
            }
            FailureCause::SecretNotFound => "404 SecretNotFound",
            FailureCause::SecretDisabled => "the secret is disabled",
            FailureCause::Dns => "DNS cannot resolve the vault (no such host)",
            FailureCause::IdentityNotFound { .. } => "the managed identity was not found",
            FailureCause::Unauthorized => "401 Unauthorized",
            FailureCause::Unknown => "an unrecognised error",
        }
    }
}

/// System-log `Reason`s of job executions that failed.
const JOB_FAILURES: [&str; 2] = ["BackoffLimitExceeded", "DeadlineExceeded"];

/// Classifies a system-log row (`Reason` may be missing) or any platform error text.
pub fn classify(reason: Option<&str>, text: &str) -> LogEvent {
    let reason = reason.unwrap_or_default();
    if reason.eq_ignore_ascii_case(SYNC_SUCCEEDED) {
        return LogEvent::SyncSucceeded;
    }
    if reason.eq_ignore_ascii_case(RESTART_WITH_NEW_SECRETS) {
        return LogEvent::RestartWithNewSecrets;
    }
    if let Some(known) = JOB_FAILURES.iter().find(|r| reason.eq_ignore_ascii_case(r)) {
        return LogEvent::JobFailed {
            reason: known.to_string(),
        };
    }
    let lower = text.to_ascii_lowercase();
    let sync_text = lower.starts_with("error happened when syncing secret")
        || lower.starts_with("failed to sync secret")
        || lower.contains("to update secret for app");
    if reason.eq_ignore_ascii_case(SYNC_FAILED) || sync_text {
        return LogEvent::SyncFailed(sync_failure(text));
    }
    if let Some(secret) = between(text, "SecretRef '", "'")
        && lower.contains("not found")
    {
        let consumer = between(text, "defined for ", " not found").map(|c| c.replace('\'', ""));
        return LogEvent::SecretRefNotFound { secret, consumer };
    }
    if let (Some(identity), Some(secret)) = (
        between(
            text,
            "Unable to get value using Managed identity ",
            " for secret ",
        ),
        between(text, " for secret ", "."),
    ) {
        return LogEvent::ManagedIdentityFetchFailed { secret, identity };
    }
    if lower.contains("managed identity with resource id") && lower.contains("was not found") {
        return LogEvent::SyncFailed(sync_failure(text));
    }
    LogEvent::Other
}

fn sync_failure(text: &str) -> SyncFailure {
    let lower = text.to_ascii_lowercase();
    let secret = between(text, "syncing secret ", " from")
        .or_else(|| between(text, "sync secret '", "'"))
        .or_else(|| between(text, "trying to get secret [", "]"));
    let url = between(text, "from Azure Key Vault ", " for ContainerApp")
        .or_else(|| between(text, "GET request to Azure Key Vault ", " returned"))
        .or_else(|| between(text, "send GET request to Azure Key Vault ", " to update"))
        .map(|u| u.trim_matches('\'').to_string());
    let status = between(text, "returned error status: ", ".").and_then(|s| s.trim().parse().ok());
    let has = |needle: &str| lower.contains(&needle.to_ascii_lowercase());
    let cause = if has("managed identity with resource id") && has("was not found") {
        FailureCause::IdentityNotFound {
            identity: between(text, "resource Id [", "]"),
        }
    } else if has("ForbiddenByRbac") {
        FailureCause::Rbac
    } else if has("\"AccessDenied\"") || has("does not have secrets get permission") {
        FailureCause::AccessPolicy
    } else if has("ForbiddenByPolicy") {
        FailureCause::OnBehalfOfPolicy
    } else if has("ForbiddenByFirewall") || has("client address is not authorized") {
        FailureCause::Firewall
    } else if has("ForbiddenByConnection")
        || has("public network access is disabled")
        || has("not an approved private link")
    {
        FailureCause::PrivateLinkOnly
    } else if has("SecretNotFound") || has("was not found in this key vault") {
        FailureCause::SecretNotFound
    } else if has("disabled state")
        || has("SecretDisabled")
        || has("not allowed on a disabled secret")
    {
        FailureCause::SecretDisabled
    } else if has("no such host") {
        FailureCause::Dns
    } else if status == Some(401) {
        FailureCause::Unauthorized
    } else {
        FailureCause::Unknown
    };
    let deny_assignment = between(text, "DenyAssignmentId: ", "\\r")
        .or_else(|| between(text, "DenyAssignmentId: ", "\r"))
        .filter(|d| d.trim() != "null");
    SyncFailure {
        secret,
        url,
        status,
        cause,
        deny_assignment,
    }
}

/// True when a log line reports that the Dapr sidecar failed to initialise `component` or
/// shut it down (docs/azure-errors.md D3, D4): `[INIT_COMPONENT_FAILURE]` or `shutting down
/// component <name>`, naming the component (any case).
pub fn dapr_component_failed(text: &str, component: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let name = component.to_ascii_lowercase();
    let names_it = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .any(|word| word == name);
    names_it
        && (lower.contains("init_component_failure") || lower.contains("shutting down component"))
}

/// Platform text on one line, at most `max` characters (messages repeat themselves and wrap).
pub fn one_line(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > max {
        format!("{}…", joined.chars().take(max).collect::<String>())
    } else {
        joined
    }
}

/// The text between `start` and the next `end` after it.
fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let from = lower.find(&start.to_ascii_lowercase())? + start.len();
    let len = lower[from..].find(&end.to_ascii_lowercase())?;
    let found = text[from..from + len].trim();
    (!found.is_empty()).then(|| found.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dapr_component_failures_name_their_component() {
        let init = "[INIT_COMPONENT_FAILURE]: initialization error occurred for secretstore (secretstores.azure.keyvault/v1): ChainedTokenCredential authentication failed";
        assert!(dapr_component_failed(init, "secretstore"));
        assert!(!dapr_component_failed(init, "statestore"));
        let shut = "shutting down component secretstore (secretstores.azure.keyvault/v1)";
        assert!(dapr_component_failed(shut, "SecretStore"));
        assert!(!dapr_component_failed(
            "component secretstore loaded",
            "secretstore"
        ));
    }

    const RBAC_403: &str = r#"Error happened when syncing secret orders-db-password from Azure Key Vault https://kv-orders-shared.vault.azure.net/secrets/orders-db-password/7e3a91c4b05d4f2a8c6e19d3b7f40a25 for ContainerApp ca-orders-web: GET request to Azure Key Vault https://kv-orders-shared.vault.azure.net/secrets/orders-db-password/7e3a91c4b05d4f2a8c6e19d3b7f40a25 returned error status: 403. body: {"error":{"code":"Forbidden","message":"Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=e6a1d4f9;oid=9c4e2b71;iss=https://sts.windows.net/72f988bf/\r\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\nResource: '/subscriptions/s/resourcegroups/rg-orders/providers/microsoft.keyvault/vaults/kv-orders-shared/secrets/orders-db-password'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: kv-orders-shared;location=westeurope\r\n","innererror":{"code":"ForbiddenByRbac"}}}."#;

    #[test]
    fn reads_the_rbac_sync_failure() {
        let LogEvent::SyncFailed(f) = classify(Some(SYNC_FAILED), RBAC_403) else {
            panic!()
        };
        assert_eq!(f.secret.as_deref(), Some("orders-db-password"));
        assert_eq!(
            f.url.as_deref(),
            Some(
                "https://kv-orders-shared.vault.azure.net/secrets/orders-db-password/7e3a91c4b05d4f2a8c6e19d3b7f40a25"
            )
        );
        assert_eq!(f.status, Some(403));
        assert_eq!(f.cause, FailureCause::Rbac);
        assert_eq!(f.deny_assignment, None);
    }

    #[test]
    fn tells_the_real_causes_apart() {
        let cases = [
            (
                r#"... returned error status: 403. body: {"error":{"code":"Forbidden","message":"The user, group or application 'appid=a;oid=b;iss=c' does not have secrets get permission on key vault 'kv;location=x'.","innererror":{"code":"AccessDenied"}}}"#,
                FailureCause::AccessPolicy,
            ),
            (
                "... returned error status: 403. body: {\"error\":{\"code\":\"Forbidden\",\"message\":\"Public network access is disabled and request is not from a trusted service nor via an approved private link.\",\"innererror\":{\"code\":\"ForbiddenByConnection\"}}}",
                FailureCause::PrivateLinkOnly,
            ),
            (
                "... returned error status: 403. body: Client address is not authorized and caller is not a trusted service",
                FailureCause::Firewall,
            ),
            (
                "... returned error status: 404. body: {\"error\":{\"code\":\"SecretNotFound\",\"message\":\"A secret with (name/id) s was not found in this key vault.\"}}",
                FailureCause::SecretNotFound,
            ),
            (
                "Failed to sync secret 'orders-db-password' from Azure Key Vault 'https://kv.vault.azure.net/secrets/orders-db-password' for ContainerApp 'ca'. The secret is in a disabled state in Azure Key Vault. Please enable the secret in Key Vault to resolve this issue. Retries: 1.",
                FailureCause::SecretDisabled,
            ),
            (
                "failed to send GET request to Azure Key Vault https://kv.vault.azure.net/secrets/s to update secret for App ca: Get \"https://kv.vault.azure.net/secrets/s?api-version=7.3\": dial tcp: lookup kv.vault.azure.net on 10.0.0.10:53: no such host.",
                FailureCause::Dns,
            ),
        ];
        for (text, cause) in cases {
            let LogEvent::SyncFailed(f) = classify(Some(SYNC_FAILED), text) else {
                panic!("{text}")
            };
            assert_eq!(f.cause, cause, "{text}");
        }
        let LogEvent::SyncFailed(f) = classify(
            Some(SYNC_FAILED),
            "Failed to sync secret 'orders-db-password' from Azure Key Vault 'x' for ContainerApp 'ca'. The secret is in a disabled state",
        ) else {
            panic!()
        };
        assert_eq!(f.secret.as_deref(), Some("orders-db-password"));
    }

    #[test]
    fn reads_platform_errors_outside_sync() {
        assert_eq!(
            classify(
                None,
                "SecretRef 'payments-api-key' defined for container 'orders-web' not found."
            ),
            LogEvent::SecretRefNotFound {
                secret: "payments-api-key".into(),
                consumer: Some("container orders-web".into())
            }
        );
        assert_eq!(
            classify(
                None,
                "Invalid value: \"statamickey\": Unable to get value using Managed identity system for secret statamickey. Error: unable to fetch secret 'statamickey' using Managed identity 'system'';."
            ),
            LogEvent::ManagedIdentityFetchFailed {
                secret: "statamickey".into(),
                identity: "system".into()
            }
        );
        let LogEvent::SyncFailed(f) = classify(
            None,
            "Error: managed Identity with resource Id [/subscriptions/s/x/id-w] was not found when trying to get secret [db] from Azure Key Vault",
        ) else {
            panic!()
        };
        assert_eq!(
            f.cause,
            FailureCause::IdentityNotFound {
                identity: Some("/subscriptions/s/x/id-w".into())
            }
        );
        assert_eq!(f.secret.as_deref(), Some("db"));
        assert_eq!(
            classify(
                Some(SYNC_SUCCEEDED),
                "Sync with secrets from Azure Key Vault was successful"
            ),
            LogEvent::SyncSucceeded
        );
        assert_eq!(
            classify(Some("ContainerStarted"), "Started container"),
            LogEvent::Other
        );
    }
}
