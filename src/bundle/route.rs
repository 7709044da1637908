//! Which request a recorded response answers, read from its path alone.
//!
//! The snapshot builder finds responses by what they are, not by exact URL: paths compare
//! without case and `api-version` is ignored, so a bundle recorded with another api-version or
//! by another tool still replays (docs/bundle.md, "How responses are found").

use super::{Response, Service};
use crate::azure::ids;
use crate::plan::{self, Kind};

/// What a response is. Ids and scopes are normalized (lower case, no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    App {
        id: String,
    },
    Job {
        id: String,
    },
    Revisions {
        app_id: String,
    },
    Environment {
        id: String,
    },
    /// The Dapr components of an environment (a listing).
    DaprComponents {
        environment_id: String,
    },
    /// An environment certificate or managed certificate (normalized full id).
    Certificate {
        id: String,
    },
    /// An environment's certificate list.
    Certificates {
        environment_id: String,
    },
    JobExecutions {
        job_id: String,
    },
    UserAssignedIdentity {
        id: String,
    },
    Vault {
        id: String,
        name: String,
    },
    /// A subscription's vaults (the fallback when Resource Graph cannot find one).
    VaultList {
        subscription: String,
    },
    VaultSecret {
        vault_id: String,
        secret: String,
    },
    SecretVersions {
        host: String,
        secret: String,
    },
    /// Every secret of a vault (ARM, `kvdiag scan`).
    VaultSecretList {
        vault_id: String,
    },
    RoleAssignments {
        scope: String,
        principal: Option<String>,
    },
    RoleDefinition {
        guid: String,
    },
    DenyAssignments {
        scope: String,
    },
    ResourceGraph,
    /// The activity log: for the app (`resourceUri eq`, `resource_group: None`) or for a
    /// vault's resource group (`resourceGroupName eq`; normalized `/subscriptions/s/resourcegroups/rg`).
    ActivityLog {
        resource_group: Option<String>,
    },
    LogQuery {
        workspace: String,
    },
    /// Anything kvdiag does not read (kept in the bundle, ignored).
    Other,
}

impl Route {
    /// True for a GET of one resource, whose 404 is itself evidence (the app, vault, secret or
    /// identity does not exist). For listings and queries a 404 is a failed read: a workspace
    /// or scope that cannot be queried says nothing about secrets.
    pub fn is_entity(&self) -> bool {
        matches!(
            self,
            Route::App { .. }
                | Route::Job { .. }
                | Route::Environment { .. }
                | Route::Certificate { .. }
                | Route::UserAssignedIdentity { .. }
                | Route::Vault { .. }
                | Route::VaultSecret { .. }
                | Route::SecretVersions { .. }
                | Route::RoleDefinition { .. }
        )
    }

    /// The plan's read this response answers (`None` for anything kvdiag does not read).
    pub fn kind(&self) -> Option<Kind> {
        Some(match self {
            Route::App { .. } => Kind::App,
            Route::Job { .. } => Kind::Job,
            Route::Revisions { .. } => Kind::Revisions,
            Route::Environment { .. } => Kind::Environment,
            Route::DaprComponents { .. } => Kind::DaprComponents,
            Route::Certificate { .. } => Kind::Certificate,
            Route::Certificates { .. } => Kind::Certificates,
            Route::JobExecutions { .. } => Kind::JobExecutions,
            Route::UserAssignedIdentity { .. } => Kind::UserAssignedIdentity,
            Route::Vault { .. } => Kind::Vault,
            Route::VaultList { .. } => Kind::VaultList,
            Route::VaultSecret { .. } => Kind::VaultSecret,
            Route::SecretVersions { .. } => Kind::SecretVersions,
            Route::VaultSecretList { .. } => Kind::VaultSecretList,
            Route::RoleAssignments { .. } => Kind::RoleAssignments,
            Route::RoleDefinition { .. } => Kind::RoleDefinition,
            Route::DenyAssignments { .. } => Kind::DenyAssignments,
            Route::ResourceGraph => Kind::VaultLookup,
            Route::ActivityLog {
                resource_group: None,
            } => Kind::AppActivity,
            Route::ActivityLog { .. } => Kind::GroupActivity,
            Route::LogQuery { .. } => Kind::SystemLogs,
            Route::Other => return None,
        })
    }
}

/// Classifies a response by service and path.
pub fn route(response: &Response) -> Route {
    let path = ids::normalize(&response.path);
    match response.service {
        Service::LogAnalytics => match segments(&path).as_slice() {
            ["v1", "workspaces", workspace, "query"] => Route::LogQuery {
                workspace: workspace.to_string(),
            },
            _ => Route::Other,
        },
        Service::Keyvault => match segments(&path).as_slice() {
            ["secrets", secret, "versions"] => Route::SecretVersions {
                host: response
                    .host
                    .clone()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                secret: secret.to_string(),
            },
            _ => Route::Other,
        },
        Service::Arm => route_arm(&path, response),
    }
}

fn route_arm(path: &str, response: &Response) -> Route {
    let piece = |p: &str| p.to_ascii_lowercase();
    if let Some(scope) = path.strip_suffix(&piece(plan::ROLE_ASSIGNMENTS)) {
        let principal = response.param("$filter").and_then(principal_in_filter);
        return Route::RoleAssignments {
            scope: ids::normalize(scope),
            principal,
        };
    }
    if let Some(scope) = path.strip_suffix(&piece(plan::DENY_ASSIGNMENTS)) {
        return Route::DenyAssignments {
            scope: ids::normalize(scope),
        };
    }
    if let Some((_, guid)) = path.split_once(&piece(plan::ROLE_DEFINITIONS)) {
        return Route::RoleDefinition {
            guid: guid.to_string(),
        };
    }
    if path == piece(plan::RESOURCE_GRAPH) {
        return Route::ResourceGraph;
    }
    if let Some((subscription, rest)) = path
        .strip_prefix("/subscriptions/")
        .and_then(|p| p.split_once('/'))
    {
        let rest = format!("/{rest}");
        if rest == piece(plan::VAULT_LIST) {
            return Route::VaultList {
                subscription: subscription.to_string(),
            };
        }
        if rest == piece(plan::ACTIVITY_LOG) {
            return Route::ActivityLog {
                resource_group: response
                    .param("$filter")
                    .and_then(|f| quoted_after(f, "resourcegroupname eq '"))
                    .map(|rg| format!("/subscriptions/{subscription}/resourcegroups/{rg}")),
            };
        }
    }
    match segments(path).as_slice() {
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            namespace,
            kind,
            name,
            rest @ ..,
        ] => {
            let id = format!("/{}", segments(path)[..8].join("/"));
            match (*namespace, *kind, rest) {
                ("microsoft.app", "containerapps", []) => Route::App { id },
                ("microsoft.app", "containerapps", ["revisions"]) => {
                    Route::Revisions { app_id: id }
                }
                ("microsoft.app", "jobs", []) => Route::Job { id },
                ("microsoft.app", "jobs", ["executions"]) => Route::JobExecutions { job_id: id },
                ("microsoft.app", "managedenvironments", []) => Route::Environment { id },
                ("microsoft.app", "managedenvironments", ["daprcomponents"]) => {
                    Route::DaprComponents { environment_id: id }
                }
                ("microsoft.app", "managedenvironments", ["certificates"]) => {
                    Route::Certificates { environment_id: id }
                }
                (
                    "microsoft.app",
                    "managedenvironments",
                    [kind @ ("certificates" | "managedcertificates"), certificate],
                ) => Route::Certificate {
                    id: format!("{id}/{kind}/{certificate}"),
                },
                ("microsoft.managedidentity", "userassignedidentities", []) => {
                    Route::UserAssignedIdentity { id }
                }
                ("microsoft.keyvault", "vaults", []) => Route::Vault {
                    id,
                    name: name.to_string(),
                },
                ("microsoft.keyvault", "vaults", ["secrets"]) => {
                    Route::VaultSecretList { vault_id: id }
                }
                ("microsoft.keyvault", "vaults", ["secrets", secret]) => Route::VaultSecret {
                    vault_id: id,
                    secret: secret.to_string(),
                },
                _ => Route::Other,
            }
        }
        _ => Route::Other,
    }
}

fn segments(path: &str) -> Vec<&str> {
    path.trim_matches('/').split('/').collect()
}

/// The principal of `assignedTo('<id>')` or `principalId eq '<id>'`, lower-cased.
fn principal_in_filter(filter: &str) -> Option<String> {
    ["assignedto('", "principalid eq '"]
        .iter()
        .find_map(|marker| quoted_after(filter, marker))
}

/// The quoted value after `marker` in an OData filter, lower-cased.
fn quoted_after(filter: &str, marker: &str) -> Option<String> {
    let lower = filter.to_ascii_lowercase();
    let start = lower.find(marker)? + marker.len();
    lower[start..].split('\'').next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(path: &str, query: &str) -> Response {
        serde_json::from_value(serde_json::json!({"method":"GET","service":"arm","path":path,"query":query,"status":200})).unwrap()
    }

    const VAULT: &str = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/KV";

    #[test]
    fn routes_every_planned_request() {
        let v = "/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv";
        let cases = [
            (arm("/subscriptions/S/resourceGroups/RG/providers/Microsoft.App/containerApps/App/", ""), Route::App { id: "/subscriptions/s/resourcegroups/rg/providers/microsoft.app/containerapps/app".into() }),
            (arm(VAULT, ""), Route::Vault { id: v.into(), name: "kv".into() }),
            (arm(&format!("{VAULT}/secrets/Db"), ""), Route::VaultSecret { vault_id: v.into(), secret: "db".into() }),
            (arm(&format!("{VAULT}/secrets"), ""), Route::VaultSecretList { vault_id: v.into() }),
            (
                arm(&format!("{VAULT}/secrets/db/providers/Microsoft.Authorization/roleAssignments"), "api-version=2022-04-01&$filter=atScope() and assignedTo('ABC')"),
                Route::RoleAssignments { scope: format!("{v}/secrets/db"), principal: Some("abc".into()) },
            ),
            (arm(&format!("{VAULT}/providers/Microsoft.Authorization/denyAssignments"), "$filter=atScope()"), Route::DenyAssignments { scope: v.into() }),
            (arm("/subscriptions/S/providers/Microsoft.Authorization/roleDefinitions/4633458B", ""), Route::RoleDefinition { guid: "4633458b".into() }),
            (arm("/subscriptions/S/providers/Microsoft.Insights/eventtypes/management/values", ""), Route::ActivityLog { resource_group: None }),
            (
                arm("/subscriptions/S/providers/Microsoft.Insights/eventtypes/management/values", "$filter=eventTimestamp ge '2026-11-19T10:30:00Z' and resourceGroupName eq 'RG-Orders'"),
                Route::ActivityLog { resource_group: Some("/subscriptions/s/resourcegroups/rg-orders".into()) },
            ),
            (arm("/providers/Microsoft.ResourceGraph/resources", ""), Route::ResourceGraph),
            (
                arm("/subscriptions/S/resourceGroups/RG/providers/Microsoft.App/managedEnvironments/Env/daprComponents", ""),
                Route::DaprComponents { environment_id: "/subscriptions/s/resourcegroups/rg/providers/microsoft.app/managedenvironments/env".into() },
            ),
            (arm("/subscriptions/S/resourceGroups/RG/providers/Microsoft.App/managedEnvironments/Env/daprComponents/statestore/listSecrets", ""), Route::Other),
            (arm("/subscriptions/S/resourceGroups/RG/providers/Microsoft.App/containerApps/a/listSecrets", ""), Route::Other),
        ];
        for (response, expected) in cases {
            assert_eq!(route(&response), expected, "{}", response.path);
        }
    }
}
