//! Dapr components of the app's environment (`managedEnvironments/{env}/daprComponents`): which
//! apps each one serves, the secrets it holds or borrows, and whether it was provisioned
//! (docs/azure.md#dapr-components).
//!
//! Values never enter this model: a component's `secrets[]` keeps `name`, `keyVaultUrl` and
//! `identity` (like an app's), and of `metadata[]` only each item's `name` and `secretRef`,
//! plus the value of the few items that are configuration and that kvdiag needs to judge a Key
//! Vault secret store ([`CONFIGURATION`]): which vault, which identity, which cloud. Any other
//! metadata value may be a credential (`connectionString`, `accountKey`, …) and is dropped.

use super::json;
use super::workload::AppSecret;
use serde_json::Value;

/// The metadata items whose plain value is kept: configuration of the Key Vault secret store
/// (dapr/components-contrib `secretstores/azure/keyvault`), never a credential.
pub const CONFIGURATION: &[&str] = &["vaultName", "azureClientId", "azureEnvironment"];

/// The component type of the Azure Key Vault secret store.
pub const KEYVAULT_STORE: &str = "secretstores.azure.keyvault";

/// One Dapr component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaprComponent {
    pub id: String,
    pub name: String,
    /// `componentType`, e.g. `state.azure.cosmosdb`, `secretstores.azure.keyvault`.
    pub component_type: String,
    pub version: Option<String>,
    /// `ignoreErrors`: a component that fails to initialise does not stop the sidecar.
    pub ignore_errors: bool,
    /// `secrets[]`, without values (the same shape as an app's secrets).
    pub secrets: Vec<AppSecret>,
    /// `secretStoreComponent`: the component that serves this one's `secretRef`s.
    pub secret_store: Option<String>,
    pub metadata: Vec<DaprMetadata>,
    /// Dapr app ids (`configuration.dapr.appId`) the component is loaded by; empty = every
    /// Dapr-enabled app of the environment.
    pub scopes: Vec<String>,
    pub provisioning_state: Option<String>,
    pub deployment_errors: Option<String>,
}

/// One `metadata[]` item, without its value unless it is configuration ([`CONFIGURATION`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaprMetadata {
    pub name: String,
    pub secret_ref: Option<String>,
    /// The plain value, only for the names in [`CONFIGURATION`].
    pub value: Option<String>,
}

impl DaprComponent {
    /// Parses a `daprComponents` list (`{"value": [...]}`); `None` when it is not one.
    pub fn parse_list(body: &Value) -> Option<Vec<DaprComponent>> {
        let items = body.get("value")?.as_array()?;
        Some(items.iter().filter_map(DaprComponent::parse).collect())
    }

    pub fn parse(item: &Value) -> Option<DaprComponent> {
        let name = json::string(item, "/name")?;
        let props = item.get("properties").cloned().unwrap_or(Value::Null);
        let secrets = AppSecret::parse_list(&props, "/secrets");
        let metadata = json::array(&props, "/metadata")
            .iter()
            .filter_map(|m| {
                let name = json::string(m, "/name")?;
                let value = CONFIGURATION
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(&name))
                    .then(|| json::string(m, "/value"))
                    .flatten();
                Some(DaprMetadata {
                    secret_ref: json::string(m, "/secretRef").filter(|s| !s.is_empty()),
                    value,
                    name,
                })
            })
            .collect();
        Some(DaprComponent {
            id: json::string(item, "/id").unwrap_or_default(),
            name,
            component_type: json::string(&props, "/componentType").unwrap_or_default(),
            version: json::string(&props, "/version"),
            ignore_errors: props.get("ignoreErrors").and_then(Value::as_bool) == Some(true),
            secrets,
            secret_store: json::string(&props, "/secretStoreComponent").filter(|s| !s.is_empty()),
            metadata,
            scopes: json::strings(&props, "/scopes"),
            provisioning_state: json::string(&props, "/provisioningState"),
            deployment_errors: json::string(&props, "/deploymentErrors").filter(|s| !s.is_empty()),
        })
    }

    /// True when an app with this Dapr app id loads the component (unscoped components are
    /// loaded by every Dapr-enabled app; app ids compare without case).
    pub fn serves(&self, app_id: &str) -> bool {
        self.scopes.is_empty() || self.scopes.iter().any(|s| s.eq_ignore_ascii_case(app_id))
    }

    /// True for the Azure Key Vault secret store (`secretstores.azure.keyvault`).
    pub fn is_keyvault_store(&self) -> bool {
        self.component_type.eq_ignore_ascii_case(KEYVAULT_STORE)
    }

    /// The value of a configuration metadata item ([`CONFIGURATION`]), names without case.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
            .and_then(|m| m.value.as_deref())
    }

    /// True when provisioning failed (`provisioningState: Failed`).
    pub fn failed(&self) -> bool {
        self.provisioning_state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("Failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_names_and_references_never_credential_values() {
        let list = json!({"value": [
            {"id": "/x/daprcomponents/statestore", "name": "statestore", "properties": {
                "componentType": "state.azure.cosmosdb", "version": "v1", "ignoreErrors": false,
                "secrets": [{"name": "masterkey", "value": "canary-secret-value"},
                            {"name": "kv", "keyVaultUrl": "https://kv-orders.vault.azure.net/secrets/db", "identity": "system"}],
                "metadata": [{"name": "url", "value": "https://cosmos.example"},
                             {"name": "masterkey", "secretRef": "masterkey"},
                             {"name": "connectionString", "value": "canary-connection-string"}],
                "scopes": ["ca-orders-web"], "provisioningState": "Succeeded"}},
            {"name": "secretstore", "properties": {
                "componentType": "secretstores.azure.keyvault",
                "metadata": [{"name": "vaultName", "value": "kv-orders"}, {"name": "AZUREClientId", "value": "d2c7"}]}},
            {"properties": {"componentType": "nameless"}}
        ]});
        let parsed = DaprComponent::parse_list(&list).unwrap();
        assert_eq!(parsed.len(), 2);
        let debug = format!("{parsed:?}");
        assert!(!debug.contains("canary"), "{debug}");
        assert!(!debug.contains("cosmos.example"), "{debug}");
        let store = &parsed[0];
        assert_eq!(
            store.secrets[1].key_vault_url.as_deref(),
            Some("https://kv-orders.vault.azure.net/secrets/db")
        );
        assert_eq!(store.metadata[1].secret_ref.as_deref(), Some("masterkey"));
        assert!(store.serves("CA-Orders-Web") && !store.serves("other"));
        let kv = &parsed[1];
        assert!(kv.is_keyvault_store() && kv.serves("anything"));
        assert_eq!(kv.setting("vaultName"), Some("kv-orders"));
        assert_eq!(kv.setting("azureClientId"), Some("d2c7"));
        assert!(DaprComponent::parse_list(&json!({"error": {}})).is_none());
    }
}
