//! Generated fleets for `kvdiag scan` tests and the benchmark: `n` workloads (every fifth a
//! job) across subscriptions, environments (one Log Analytics workspace each) and vaults, with
//! payloads in the shapes of the recorded fixtures. Two kinds of fault are planted so the
//! verdicts are not all alike: every 50th workload (index 7 mod 50) has no role on its vault,
//! every 50th (13 mod 50) has a secretRef that names no secret.
#![allow(dead_code)]

use super::mock_fleet::FleetData;
use serde_json::{Value, json};

/// Key Vault Secrets User.
const SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";
pub const TENANT: &str = "72f988bf-0000-4a1b-9c3d-000000000001";
/// Secrets per vault (one Key Vault list page holds 25).
pub const SECRETS_PER_VAULT: usize = 20;

pub fn guid(kind: u32, i: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{i:012x}")
}

#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub workloads: usize,
    pub subscriptions: usize,
    pub vaults: usize,
    /// Workloads per environment.
    pub per_environment: usize,
}

impl Shape {
    pub fn of(workloads: usize) -> Shape {
        Shape {
            workloads,
            subscriptions: (workloads / 500).clamp(1, 50),
            vaults: (workloads / 100).clamp(1, 100),
            per_environment: 100,
        }
    }
}

pub fn subscription(i: usize) -> String {
    guid(0x5b, i)
}

fn vault_id(shape: &Shape, v: usize) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/rg-vaults/providers/Microsoft.KeyVault/vaults/kv-fleet-{v}",
        subscription(v % shape.subscriptions)
    )
}

/// Whether workload `i` has the planted role fault, the secretRef fault, or neither.
pub fn planted(i: usize) -> Option<&'static str> {
    match i % 50 {
        7 => Some("keyvault_access"),
        13 => Some("secret_ref"),
        _ => None,
    }
}

pub fn generate(shape: Shape) -> FleetData {
    let mut data = FleetData::default();
    let get = |path: String, query: &str, body: Value| json!({"method": "GET", "service": "arm", "path": path, "query": query, "status": 200, "body": body});
    for v in 0..shape.vaults {
        let id = vault_id(&shape, v);
        let sub = subscription(v % shape.subscriptions);
        data.resources.push(json!({
            "id": id, "name": format!("kv-fleet-{v}"), "type": "microsoft.keyvault/vaults",
            "location": "westeurope", "resourceGroup": "rg-vaults", "subscriptionId": sub,
            "properties": {
                "tenantId": TENANT, "enableRbacAuthorization": true,
                "vaultUri": format!("https://kv-fleet-{v}.vault.azure.net/"),
                "publicNetworkAccess": "Enabled",
                "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []},
                "privateEndpointConnections": [], "accessPolicies": [],
                "sku": {"family": "A", "name": "standard"}
            }
        }));
        let secrets: Vec<Value> = (0..SECRETS_PER_VAULT)
            .map(|j| json!({
                "id": format!("{id}/secrets/secret-{j}"), "name": format!("secret-{j}"),
                "type": "Microsoft.KeyVault/vaults/secrets", "location": "westeurope",
                "properties": {
                    "attributes": {"enabled": true, "created": 1_760_000_000, "updated": 1_760_000_000},
                    "secretUri": format!("https://kv-fleet-{v}.vault.azure.net/secrets/secret-{j}"),
                    "secretUriWithVersion": format!("https://kv-fleet-{v}.vault.azure.net/secrets/secret-{j}/{:032x}", j + 1)
                }
            }))
            .collect();
        data.responses.push(get(
            format!("{id}/secrets"),
            "api-version=2025-05-01",
            json!({"value": secrets}),
        ));
        data.responses.push(get(
            format!("{id}/providers/Microsoft.Authorization/denyAssignments"),
            "api-version=2022-04-01&$filter=atScope()",
            json!({"value": []}),
        ));
        data.responses.push(get(
            format!(
                "/subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values"
            ),
            "api-version=2015-04-01&$filter=resourceGroupName eq 'rg-vaults'",
            json!({"value": []}),
        ));
    }
    for s in 0..shape.subscriptions {
        data.responses.push(get(
            format!(
                "/subscriptions/{}/providers/Microsoft.Insights/eventtypes/management/values",
                subscription(s)
            ),
            "api-version=2015-04-01&$filter=resourceProvider eq 'Microsoft.App'",
            json!({"value": []}),
        ));
    }
    let environments = shape.workloads.div_ceil(shape.per_environment).max(1);
    for e in 0..environments {
        let sub = subscription(e % shape.subscriptions);
        let workspace = guid(0x1a, e);
        data.resources.push(json!({
            "id": format!("/subscriptions/{sub}/resourceGroups/rg-fleet/providers/Microsoft.App/managedEnvironments/env-{e}"),
            "name": format!("env-{e}"), "type": "microsoft.app/managedenvironments", "location": "westeurope",
            "resourceGroup": "rg-fleet", "subscriptionId": sub,
            "properties": {
                "provisioningState": "Succeeded",
                "appLogsConfiguration": {"destination": "log-analytics", "logAnalyticsConfiguration": {"customerId": workspace}}
            }
        }));
        data.responses.push(json!({
            "method": "POST", "service": "log_analytics", "path": format!("/v1/workspaces/{workspace}/query"),
            "query": "", "status": 200,
            "body": {"tables": [{"name": "PrimaryResult", "columns": [
                {"name": "TimeGenerated", "type": "datetime"}, {"name": "ContainerAppName_s", "type": "string"},
                {"name": "JobName_s", "type": "string"}, {"name": "RevisionName_s", "type": "string"},
                {"name": "Reason_s", "type": "string"}, {"name": "Log_s", "type": "string"}], "rows": []}]}
        }));
    }
    for i in 0..shape.workloads {
        let sub_index = (i / shape.per_environment) % shape.subscriptions;
        let sub = subscription(sub_index);
        let e = i / shape.per_environment;
        let env_sub = subscription(e % shape.subscriptions);
        let v = i % shape.vaults;
        let job = i % 5 == 4;
        let (kind, segment) = if job {
            ("microsoft.app/jobs", "jobs")
        } else {
            ("microsoft.app/containerapps", "containerApps")
        };
        let name = format!("{}-{i}", if job { "job" } else { "ca" });
        let id = format!(
            "/subscriptions/{sub}/resourceGroups/rg-fleet/providers/Microsoft.App/{segment}/{name}"
        );
        let principal = guid(0x9e, i);
        let (a, b) = (i % SECRETS_PER_VAULT, (i + 1) % SECRETS_PER_VAULT);
        let url = |j: usize| format!("https://kv-fleet-{v}.vault.azure.net/secrets/secret-{j}");
        let missing = planted(i) == Some("secret_ref");
        let env = json!([
            {"name": "DB", "secretRef": "db"},
            {"name": "API", "secretRef": if missing { "api-key" } else { "api" }}
        ]);
        let mut properties = json!({
            "provisioningState": "Succeeded",
            "environmentId": format!("/subscriptions/{env_sub}/resourceGroups/rg-fleet/providers/Microsoft.App/managedEnvironments/env-{e}"),
            "configuration": {
                "activeRevisionsMode": "Single",
                "secrets": [
                    {"name": "db", "keyVaultUrl": url(a), "identity": "system"},
                    {"name": "api", "keyVaultUrl": url(b), "identity": "system"}
                ]
            },
            "template": {"containers": [{"name": "main", "image": "mcr.microsoft.com/k8se/quickstart:latest", "env": env}]}
        });
        if job {
            properties["configuration"]["triggerType"] = json!("Manual");
        } else {
            properties["latestRevisionName"] = json!(format!("{name}--r1"));
        }
        data.resources.push(json!({
            "id": id, "name": name, "type": kind, "location": "westeurope",
            "resourceGroup": "rg-fleet", "subscriptionId": sub,
            "identity": {"type": "SystemAssigned", "principalId": principal, "tenantId": TENANT},
            "properties": properties
        }));
        let vault = vault_id(&shape, v);
        if planted(i) == Some("keyvault_access") {
            // Resource Graph shows no grant: the scan asks ARM, which has none either.
            for scope in [
                vault.clone(),
                format!("{vault}/secrets/secret-{a}"),
                format!("{vault}/secrets/secret-{b}"),
            ] {
                data.responses.push(get(
                    format!("{scope}/providers/Microsoft.Authorization/roleAssignments"),
                    &format!(
                        "api-version=2022-04-01&$filter=atScope() and assignedTo('{principal}')"
                    ),
                    json!({"value": []}),
                ));
            }
        } else {
            let vault_sub = subscription(v % shape.subscriptions);
            data.authorization.push(json!({
                "id": format!("{vault}/providers/Microsoft.Authorization/roleAssignments/{}", guid(0xa5, i)),
                "name": guid(0xa5, i),
                "type": "microsoft.authorization/roleassignments",
                "properties": {
                    "scope": vault,
                    "roleDefinitionId": format!("/subscriptions/{vault_sub}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER}"),
                    "principalId": principal, "principalType": "ServicePrincipal",
                    "createdOn": "2026-01-05T09:00:00Z", "updatedOn": "2026-01-05T09:00:00Z"
                }
            }));
        }
    }
    data
}
