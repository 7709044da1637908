//! The managed environment: network placement, where system logs go, its own managed
//! identity and its DNS-suffix certificate (both fetched from Key Vault by the environment).

use super::certificate::KeyVaultSource;
use super::json;
use super::workload::Identity;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Environment {
    pub id: String,
    pub name: String,
    /// `vnetConfiguration.infrastructureSubnetId`: set when the environment is VNet-integrated,
    /// the only way Key Vault private endpoints are reachable from the platform.
    pub infrastructure_subnet: Option<String>,
    /// `appLogsConfiguration.destination`: `log-analytics`, `azure-monitor`, `none` or absent.
    pub logs_destination: Option<String>,
    /// The Log Analytics workspace GUID (`customerId`) when the destination is `log-analytics`.
    pub workspace: Option<String>,
    /// The environment's own managed identity: the one that fetches certificates.
    pub identity: Identity,
    /// `customDomainConfiguration.dnsSuffix`.
    pub dns_suffix: Option<String>,
    /// `customDomainConfiguration.certificateKeyVaultProperties`: the DNS-suffix certificate
    /// from Key Vault.
    pub dns_suffix_certificate: Option<KeyVaultSource>,
}

impl Environment {
    pub fn parse(body: &Value) -> Option<Environment> {
        Some(Environment {
            id: json::string(body, "/id")?,
            name: json::string(body, "/name").unwrap_or_default(),
            infrastructure_subnet: json::string(
                body,
                "/properties/vnetConfiguration/infrastructureSubnetId",
            ),
            logs_destination: json::string(body, "/properties/appLogsConfiguration/destination"),
            workspace: json::string(
                body,
                "/properties/appLogsConfiguration/logAnalyticsConfiguration/customerId",
            ),
            identity: Identity::parse(body),
            dns_suffix: json::string(body, "/properties/customDomainConfiguration/dnsSuffix"),
            dns_suffix_certificate: KeyVaultSource::at(
                body,
                "/properties/customDomainConfiguration/certificateKeyVaultProperties",
            ),
        })
    }
}
