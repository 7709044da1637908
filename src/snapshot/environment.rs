//! The managed environment: network placement and where system logs go.

use super::json;
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
        })
    }
}
