//! Key Vault as ARM sees it (the vault, a secret's current-version metadata) and the data-plane
//! version list. Never a value: ARM's secret GET does not return one, and the version list is
//! metadata only.

use super::json;
use crate::azure::keyvault_url;
use serde_json::Value;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct Vault {
    pub id: String,
    pub name: String,
    pub tenant_id: Option<String>,
    /// `enableRbacAuthorization`; absent means access policies for vaults created before
    /// api-version 2026-02-01 (README, lint rule `keyvault-permission-model-implicit`;
    /// https://learn.microsoft.com/azure/key-vault/general/rbac-access-policy).
    pub rbac: Option<bool>,
    pub access_policies: Vec<AccessPolicy>,
    /// `Enabled` / `Disabled` (compare without case); absent means enabled.
    pub public_network_access: Option<String>,
    pub network_acls: Option<NetworkAcls>,
    pub private_endpoints: Vec<PrivateEndpoint>,
}

#[derive(Debug, Clone)]
pub struct AccessPolicy {
    pub tenant_id: Option<String>,
    pub object_id: String,
    /// Set for a compound identity, which only matches on-behalf-of tokens.
    pub application_id: Option<String>,
    pub secret_permissions: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct NetworkAcls {
    pub bypass: Option<String>,
    pub default_action: Option<String>,
    pub ip_rules: Vec<String>,
    pub virtual_network_rules: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PrivateEndpoint {
    pub id: Option<String>,
    /// `Pending|Approved|Rejected|Disconnected`.
    pub status: Option<String>,
}

impl Vault {
    pub fn parse(body: &Value) -> Option<Vault> {
        let props = body.get("properties")?;
        Some(Vault {
            id: json::string(body, "/id")?,
            name: json::string(body, "/name").unwrap_or_default(),
            tenant_id: json::string(props, "/tenantId"),
            rbac: json::boolean(props, "/enableRbacAuthorization"),
            access_policies: json::array(props, "/accessPolicies")
                .iter()
                .filter_map(|p| {
                    Some(AccessPolicy {
                        tenant_id: json::string(p, "/tenantId"),
                        object_id: json::string(p, "/objectId")?,
                        application_id: json::string(p, "/applicationId"),
                        secret_permissions: json::strings(p, "/permissions/secrets"),
                    })
                })
                .collect(),
            public_network_access: json::string(props, "/publicNetworkAccess"),
            network_acls: props
                .get("networkAcls")
                .filter(|v| v.is_object())
                .map(|acl| NetworkAcls {
                    bypass: json::string(acl, "/bypass"),
                    default_action: json::string(acl, "/defaultAction"),
                    ip_rules: json::array(acl, "/ipRules")
                        .iter()
                        .filter_map(|r| json::string(r, "/value"))
                        .collect(),
                    virtual_network_rules: json::array(acl, "/virtualNetworkRules")
                        .iter()
                        .filter_map(|r| json::string(r, "/id"))
                        .collect(),
                }),
            private_endpoints: json::array(props, "/privateEndpointConnections")
                .iter()
                .map(|pe| PrivateEndpoint {
                    id: json::string(pe, "/properties/privateEndpoint/id"),
                    status: json::string(
                        pe,
                        "/properties/privateLinkServiceConnectionState/status",
                    ),
                })
                .collect(),
        })
    }

    /// True when the data plane is authorized by Azure RBAC rather than access policies.
    pub fn uses_rbac(&self) -> bool {
        self.rbac == Some(true)
    }

    pub fn public_access_disabled(&self) -> bool {
        self.public_network_access
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("Disabled"))
    }

    /// True when the firewall is on (`networkAcls.defaultAction: Deny`).
    pub fn firewall_on(&self) -> bool {
        self.network_acls
            .as_ref()
            .and_then(|a| a.default_action.as_deref())
            .is_some_and(|d| d.eq_ignore_ascii_case("Deny"))
    }

    pub fn approved_private_endpoints(&self) -> usize {
        self.private_endpoints
            .iter()
            .filter(|p| {
                p.status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Approved"))
            })
            .count()
    }
}

/// ARM metadata of a Key Vault secret's current version (`.../vaults/{v}/secrets/{s}`).
#[derive(Debug, Clone)]
pub struct VaultSecret {
    pub enabled: Option<bool>,
    pub not_before: Option<OffsetDateTime>,
    pub expires: Option<OffsetDateTime>,
    pub created: Option<OffsetDateTime>,
    pub updated: Option<OffsetDateTime>,
    pub current_version: Option<String>,
}

impl VaultSecret {
    pub fn parse(body: &Value) -> Option<VaultSecret> {
        let attrs = body.pointer("/properties/attributes")?;
        Some(VaultSecret {
            enabled: json::boolean(attrs, "/enabled"),
            not_before: json::unix_time(attrs, "/nbf"),
            expires: json::unix_time(attrs, "/exp"),
            created: json::unix_time(attrs, "/created"),
            updated: json::unix_time(attrs, "/updated"),
            current_version: json::string(body, "/properties/secretUriWithVersion")
                .and_then(|u| keyvault_url::version_of(&u)),
        })
    }

    /// The first attribute time that is present but unusable, for a gap.
    pub fn unusable_time(body: &Value) -> Option<String> {
        UNIX_ATTRIBUTES
            .iter()
            .find_map(|a| json::unusable(body, &format!("/properties/attributes/{a}"), true))
    }
}

/// Key Vault's attribute times, in unix seconds.
const UNIX_ATTRIBUTES: [&str; 4] = ["nbf", "exp", "created", "updated"];

/// One version from the data-plane list (`GET /secrets/{name}/versions`).
#[derive(Debug, Clone)]
pub struct SecretVersion {
    pub version: String,
    pub enabled: Option<bool>,
    pub not_before: Option<OffsetDateTime>,
    pub expires: Option<OffsetDateTime>,
    pub created: Option<OffsetDateTime>,
    pub updated: Option<OffsetDateTime>,
}

impl SecretVersion {
    /// Parses one page (`{value: [...], nextLink}`); items are ordered by creation, never by
    /// position (the service's order is not documented).
    pub fn parse_list(body: &Value) -> Vec<SecretVersion> {
        let mut versions: Vec<SecretVersion> = json::array(body, "/value")
            .iter()
            .filter_map(|item| {
                Some(SecretVersion {
                    version: json::string(item, "/id")
                        .and_then(|id| keyvault_url::version_of(&id))?,
                    enabled: json::boolean(item, "/attributes/enabled"),
                    not_before: json::unix_time(item, "/attributes/nbf"),
                    expires: json::unix_time(item, "/attributes/exp"),
                    created: json::unix_time(item, "/attributes/created"),
                    updated: json::unix_time(item, "/attributes/updated"),
                })
            })
            .collect();
        versions.sort_by_key(|v| v.created);
        versions
    }

    /// The first attribute time of a page that is present but unusable, for a gap.
    pub fn unusable_time(body: &Value) -> Option<String> {
        (0..json::array(body, "/value").len()).find_map(|i| {
            UNIX_ATTRIBUTES
                .iter()
                .find_map(|a| json::unusable(body, &format!("/value/{i}/attributes/{a}"), true))
        })
    }
}
