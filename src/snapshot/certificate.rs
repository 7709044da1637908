//! Environment certificates (`managedEnvironments/{env}/certificates/{name}`, and the managed
//! certificates custom domains may bind): their state, and the Key Vault object the
//! environment fetches them from (docs/azure.md#other-key-vault-consumers).

use super::json;
use crate::azure::ids;
use serde_json::Value;
use time::OffsetDateTime;

/// Where the environment fetches a certificate from: `certificateKeyVaultProperties`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVaultSource {
    /// `https://{vault}.vault.azure.net/certificates/{name}` or `/secrets/{name}`.
    pub url: String,
    /// `system` or a user-assigned identity id **of the environment**.
    pub identity: Option<String>,
}

impl KeyVaultSource {
    /// `certificateKeyVaultProperties` under `pointer`, when it names a URL.
    pub fn at(body: &Value, pointer: &str) -> Option<KeyVaultSource> {
        Some(KeyVaultSource {
            url: json::string(body, &format!("{pointer}/keyVaultUrl"))?,
            identity: json::string(body, &format!("{pointer}/identity")),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Certificate {
    pub id: String,
    pub name: String,
    /// `Succeeded|Failed|Canceled|DeleteFailed|Pending|Deleting` (managed certificates add
    /// `Pending` states of their own).
    pub provisioning_state: Option<String>,
    /// `deploymentErrors`: the platform's words when the fetch or upload failed.
    pub deployment_errors: Option<String>,
    pub valid: Option<bool>,
    pub expiration: Option<OffsetDateTime>,
    pub subject_name: Option<String>,
    /// `None` for uploaded and managed certificates.
    pub key_vault: Option<KeyVaultSource>,
}

impl Certificate {
    pub fn parse(body: &Value) -> Option<Certificate> {
        let id = json::string(body, "/id")?;
        Some(Certificate {
            name: json::string(body, "/name").unwrap_or_else(|| ids::last_segment(&id)),
            id,
            provisioning_state: json::string(body, "/properties/provisioningState"),
            deployment_errors: json::string(body, "/properties/deploymentErrors")
                .filter(|e| !e.trim().is_empty()),
            valid: json::boolean(body, "/properties/valid"),
            expiration: json::time(body, "/properties/expirationDate"),
            subject_name: json::string(body, "/properties/subjectName"),
            key_vault: KeyVaultSource::at(body, "/properties/certificateKeyVaultProperties"),
        })
    }

    /// Every certificate of a list page (`value[]`).
    pub fn parse_list(body: &Value) -> Vec<Certificate> {
        json::array(body, "/value")
            .iter()
            .filter_map(Certificate::parse)
            .collect()
    }

    /// An `expirationDate` that is present but not a usable time, for a gap.
    pub fn unusable_time(body: &Value) -> Option<String> {
        json::unusable(body, "/properties/expirationDate", false)
    }

    /// True when the last write of the certificate failed (the fetch from Key Vault included).
    pub fn failed(&self) -> bool {
        self.provisioning_state.as_deref().is_some_and(|s| {
            s.eq_ignore_ascii_case("Failed") || s.eq_ignore_ascii_case("DeleteFailed")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rest_spec_example() {
        // Certificate_CreateOrUpdate_FromKeyVault.json (Microsoft.App 2025-07-01): note the
        // capitalised `Certificates` segment in the id.
        let body = serde_json::json!({
            "id": "/subscriptions/34adfa4f-cedf-4dc0-ba29-b6d1a69ab345/resourceGroups/examplerg/providers/Microsoft.App/managedEnvironments/testcontainerenv/Certificates/certificate-firendly-name",
            "type": "Microsoft.App/ManagedEnvironments/Certificates",
            "properties": {
                "provisioningState": "Succeeded",
                "subjectName": "my-subject-name.company.country.net",
                "certificateKeyVaultProperties": {
                    "identity": "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/test-rg/providers/microsoft.managedidentity/userassignedidentities/test-user-mi",
                    "keyVaultUrl": "https://xxxxxxxx.vault.azure.net/certificates/certName"
                },
                "expirationDate": "2022-11-06T04:00:00Z",
                "valid": true
            }
        });
        let c = Certificate::parse(&body).unwrap();
        assert_eq!(c.name, "certificate-firendly-name");
        assert_eq!(c.valid, Some(true));
        assert!(!c.failed());
        assert!(c.expiration.is_some());
        let kv = c.key_vault.unwrap();
        assert!(kv.url.ends_with("/certificates/certName"));
        assert!(kv.identity.unwrap().ends_with("test-user-mi"));
    }
}
