//! The request plan: every read kvdiag can make, written once.
//!
//! Each read is one [`Kind`] with one [`Spec`] (service, method, path template, api-version,
//! filter, the permission it needs, why kvdiag reads it) and one constructor of a concrete
//! [`Request`]. Live collection sends `Request`s; the bundle router ([`crate::bundle::route`])
//! classifies recorded responses with the path pieces below and maps them back to a `Kind`; the
//! snapshot builder describes a read it expected and did not find with the same `Request`, and
//! a gap's "needs" text is the `Spec`'s permission. The request-plan table in docs/bundle.md is
//! [`markdown_table`]'s output, checked by a test.
//!
//! Nothing here sends or decides anything: it is the vocabulary the other modules share.

use crate::bundle::Service;
use serde_json::{Value, json};

/// api-versions: the newest stable of each API in <https://github.com/Azure/azure-rest-api-specs>
/// that has every field kvdiag reads.
pub mod api {
    /// Microsoft.App (apps, jobs, revisions, managed environments).
    pub const APP: &str = "2025-07-01";
    /// Microsoft.ManagedIdentity.
    pub const MSI: &str = "2023-01-31";
    /// Microsoft.ResourceGraph.
    pub const GRAPH: &str = "2024-04-01";
    /// Microsoft.KeyVault (the ARM view of vaults and secret metadata).
    pub const KEYVAULT_ARM: &str = "2025-05-01";
    /// The Key Vault data plane (`https://{vault}.vault.azure.net`).
    pub const KEYVAULT_DATA: &str = "2025-07-01";
    /// Microsoft.Authorization (role and deny assignments, role definitions).
    pub const AUTHORIZATION: &str = "2022-04-01";
    /// Microsoft.Insights activity log.
    pub const ACTIVITY: &str = "2015-04-01";
}

/// Path pieces the router matches (lower-cased there) and the constructors join.
pub const ROLE_ASSIGNMENTS: &str = "/providers/Microsoft.Authorization/roleAssignments";
pub const DENY_ASSIGNMENTS: &str = "/providers/Microsoft.Authorization/denyAssignments";
pub const ROLE_DEFINITIONS: &str = "/providers/Microsoft.Authorization/roleDefinitions/";
pub const RESOURCE_GRAPH: &str = "/providers/Microsoft.ResourceGraph/resources";
/// After `/subscriptions/{s}`.
pub const ACTIVITY_LOG: &str = "/providers/Microsoft.Insights/eventtypes/management/values";
/// After `/subscriptions/{s}`.
pub const VAULT_LIST: &str = "/providers/Microsoft.KeyVault/vaults";

/// Every read kvdiag can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    App,
    Job,
    Revisions,
    Environment,
    DaprComponents,
    Certificate,
    Certificates,
    JobExecutions,
    UserAssignedIdentity,
    VaultLookup,
    VaultList,
    Vault,
    VaultSecret,
    SecretVersions,
    RoleAssignments,
    RoleDefinition,
    DenyAssignments,
    SystemLogs,
    AppActivity,
    GroupActivity,
    // `kvdiag scan` (docs/scan.md): reads whose cost grows with pages, vaults, workspaces and
    // subscriptions, never with workloads.
    FleetResources,
    FleetRoleAssignments,
    VaultSecretList,
    WorkspaceLogs,
    FleetActivity,
}

/// What one kind of read is, for people and for the guard.
#[derive(Debug)]
pub struct Spec {
    pub kind: Kind,
    pub service: Service,
    pub method: &'static str,
    /// The path, with `{placeholders}`.
    pub path: &'static str,
    /// `None` where the path carries the version (Log Analytics `v1`).
    pub api_version: Option<&'static str>,
    /// The `$filter`, with `{placeholders}`.
    pub filter: Option<&'static str>,
    /// The permission (and the role that carries it) a gap asks for when the read fails.
    pub needs: &'static str,
    /// Why kvdiag reads it.
    pub why: &'static str,
}

/// The whole plan, in the order live collection reaches each read.
pub static PLAN: &[Spec] = &[
    Spec {
        kind: Kind::App,
        service: Service::Arm,
        method: "GET",
        path: "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.App/containerApps/{name}",
        api_version: Some(api::APP),
        filter: None,
        needs: "Microsoft.App/containerApps/read (Reader on the app)",
        why: "secrets, identities, template, every secretRef site",
    },
    Spec {
        kind: Kind::Job,
        service: Service::Arm,
        method: "GET",
        path: "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.App/jobs/{name}",
        api_version: Some(api::APP),
        filter: None,
        needs: "Microsoft.App/jobs/read (Reader on the job)",
        why: "the same, for a Container Apps job",
    },
    Spec {
        kind: Kind::Revisions,
        service: Service::Arm,
        method: "GET",
        path: "{app}/revisions",
        api_version: Some(api::APP),
        filter: None,
        needs: "Microsoft.App/containerApps/revisions/read (Reader on the app)",
        why: "apps only: revision templates, created time, traffic, health, provisioning errors",
    },
    Spec {
        kind: Kind::Environment,
        service: Service::Arm,
        method: "GET",
        path: "{environmentId}",
        api_version: Some(api::APP),
        filter: None,
        needs: "Microsoft.App/managedEnvironments/read (Reader on the environment)",
        why: "VNet integration, Log Analytics workspace",
    },
    Spec {
        kind: Kind::DaprComponents,
        service: Service::Arm,
        method: "GET",
        path: "{environmentId}/daprComponents",
        api_version: Some(api::APP),
        filter: None,
        needs: "Microsoft.App/managedEnvironments/daprComponents/read (Reader on the environment)",
        why: "apps with Dapr enabled only: the components scoped to the app — their secrets (Key Vault references, never values), metadata secretRefs, secret store, provisioning state",
    },
    Spec {
        kind: Kind::Certificate,
        service: Service::Arm,
        method: "GET",
        path: "{environmentId}/certificates/{name} (or managedCertificates/{name})",
        api_version: Some(api::APP),
        filter: None,
        needs: "Microsoft.App/managedEnvironments/certificates/read (Reader on the environment)",
        why: "apps with custom domains: each bound certificate's state, expiry and Key Vault source",
    },
    Spec {
        kind: Kind::Certificates,
        service: Service::Arm,
        method: "GET",
        path: "{environmentId}/certificates",
        api_version: Some(api::APP),
        filter: None,
        needs: "Microsoft.App/managedEnvironments/certificates/read (Reader on the environment)",
        why: "`--environment`: every certificate of the environment",
    },
    Spec {
        kind: Kind::JobExecutions,
        service: Service::Arm,
        method: "GET",
        path: "{job}/executions",
        api_version: Some(api::APP),
        filter: None,
        needs: "Microsoft.App/jobs/executions/read (Reader on the job)",
        why: "jobs only: the latest executions, their status and times",
    },
    Spec {
        kind: Kind::UserAssignedIdentity,
        service: Service::Arm,
        method: "GET",
        path: "{userAssignedIdentityId}",
        api_version: Some(api::MSI),
        filter: None,
        needs: "Microsoft.ManagedIdentity/userAssignedIdentities/read (Reader on the identity)",
        why: "every user-assigned identity attached or named by a secret: does it still exist",
    },
    Spec {
        kind: Kind::VaultLookup,
        service: Service::Arm,
        method: "POST",
        path: RESOURCE_GRAPH,
        api_version: Some(api::GRAPH),
        filter: None,
        needs: "Reader on the vault's subscription (Resource Graph returns only what you can read)",
        why: "vault name → resource id across subscriptions; the body names the vaults of every `keyVaultUrl`",
    },
    Spec {
        kind: Kind::VaultList,
        service: Service::Arm,
        method: "GET",
        path: "/subscriptions/{s}/providers/Microsoft.KeyVault/vaults",
        api_version: Some(api::KEYVAULT_ARM),
        filter: None,
        needs: "Microsoft.KeyVault/vaults/read (Reader on the subscription)",
        why: "only when Resource Graph fails: the app's subscription's vaults by name",
    },
    Spec {
        kind: Kind::Vault,
        service: Service::Arm,
        method: "GET",
        path: "{vault}",
        api_version: Some(api::KEYVAULT_ARM),
        filter: None,
        needs: "Microsoft.KeyVault/vaults/read (Reader on the vault)",
        why: "RBAC or access policies, network rules, private endpoints",
    },
    Spec {
        kind: Kind::VaultSecret,
        service: Service::Arm,
        method: "GET",
        path: "{vault}/secrets/{secret}",
        api_version: Some(api::KEYVAULT_ARM),
        filter: None,
        needs: "Microsoft.KeyVault/vaults/secrets/read (Reader on the vault)",
        why: "per Key Vault reference: metadata of the current version (never a value)",
    },
    Spec {
        kind: Kind::SecretVersions,
        service: Service::Keyvault,
        method: "GET",
        path: "https://{vault host}/secrets/{secret}/versions",
        api_version: Some(api::KEYVAULT_DATA),
        filter: None,
        needs: "Microsoft.KeyVault/vaults/secrets/readMetadata/action (Key Vault Reader on the vault) and a network path to the vault",
        why: "every version's attributes (never a value)",
    },
    Spec {
        kind: Kind::RoleAssignments,
        service: Service::Arm,
        method: "GET",
        path: "{vault}[/secrets/{secret}]/providers/Microsoft.Authorization/roleAssignments",
        api_version: Some(api::AUTHORIZATION),
        filter: Some("atScope() and assignedTo('{principalId}')"),
        needs: "Microsoft.Authorization/roleAssignments/read on the vault (Reader on the vault)",
        why: "at the vault for every identity of the app, at the secret for the identity it names: assignments at that scope and above, groups included",
    },
    Spec {
        kind: Kind::RoleDefinition,
        service: Service::Arm,
        method: "GET",
        path: "/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        api_version: Some(api::AUTHORIZATION),
        filter: None,
        needs: "Microsoft.Authorization/roleDefinitions/read (Reader on the subscription)",
        why: "roles not compiled in: a custom role's permissions",
    },
    Spec {
        kind: Kind::DenyAssignments,
        service: Service::Arm,
        method: "GET",
        path: "{vault}/providers/Microsoft.Authorization/denyAssignments",
        api_version: Some(api::AUTHORIZATION),
        filter: Some("atScope()"),
        needs: "Microsoft.Authorization/denyAssignments/read on the vault (Reader on the vault)",
        why: "deny assignments override grants",
    },
    Spec {
        kind: Kind::SystemLogs,
        service: Service::LogAnalytics,
        method: "POST",
        path: "/v1/workspaces/{customerId}/query",
        api_version: None,
        filter: None,
        needs: "Microsoft.OperationalInsights/workspaces/query/read (Log Analytics Reader on the workspace)",
        why: "system logs of both table families within the window",
    },
    Spec {
        kind: Kind::AppActivity,
        service: Service::Arm,
        method: "GET",
        path: "/subscriptions/{s}/providers/Microsoft.Insights/eventtypes/management/values",
        api_version: Some(api::ACTIVITY),
        filter: Some(
            "eventTimestamp ge '{start}' and eventTimestamp le '{now}' and resourceUri eq '{app}'",
        ),
        needs: "Microsoft.Insights/eventtypes/values/read (Reader or Monitoring Reader on the resource group)",
        why: "writes on the app and their failures (`properties.statusMessage`)",
    },
    Spec {
        kind: Kind::GroupActivity,
        service: Service::Arm,
        method: "GET",
        path: "/subscriptions/{s}/providers/Microsoft.Insights/eventtypes/management/values",
        api_version: Some(api::ACTIVITY),
        filter: Some(
            "eventTimestamp ge '{start}' and eventTimestamp le '{now}' and resourceGroupName eq '{vault's group}'",
        ),
        needs: "Microsoft.Insights/eventtypes/values/read (Reader or Monitoring Reader on the resource group)",
        why: "once per resource group holding a referenced vault: role assignments created or deleted at the vault, its secrets or the group, and Key Vault writes (the API cannot filter by a role assignment's scope)",
    },
    Spec {
        kind: Kind::FleetResources,
        service: Service::Arm,
        method: "POST",
        path: RESOURCE_GRAPH,
        api_version: Some(api::GRAPH),
        filter: None,
        needs: "Reader on the subscriptions or management group scanned (Resource Graph returns only what you can read)",
        why: "scan: every app and job in scope, then by batches of ids or names their environments, user-assigned identities and vaults (`$skipToken` pages of 1,000)",
    },
    Spec {
        kind: Kind::FleetRoleAssignments,
        service: Service::Arm,
        method: "POST",
        path: RESOURCE_GRAPH,
        api_version: Some(api::GRAPH),
        filter: None,
        needs: "Microsoft.Authorization/roleAssignments/read at the vaults' scopes (Reader)",
        why: "scan: role assignments at the referenced vaults, their secrets, groups and subscriptions (`authorizationresources`; no group expansion)",
    },
    Spec {
        kind: Kind::VaultSecretList,
        service: Service::Arm,
        method: "GET",
        path: "{vault}/secrets",
        api_version: Some(api::KEYVAULT_ARM),
        filter: None,
        needs: "Microsoft.KeyVault/vaults/secrets/read (Reader on the vault)",
        why: "scan: once per vault, every secret's current-version metadata (never a value; ARM, so no network path to the vault is needed)",
    },
    Spec {
        kind: Kind::WorkspaceLogs,
        service: Service::LogAnalytics,
        method: "POST",
        path: "/v1/workspaces/{customerId}/query",
        api_version: None,
        filter: None,
        needs: "Microsoft.OperationalInsights/workspaces/query/read (Log Analytics Reader on the workspace)",
        why: "scan: once per workspace, the latest occurrence of each system-log line of every app and job it serves",
    },
    Spec {
        kind: Kind::FleetActivity,
        service: Service::Arm,
        method: "GET",
        path: "/subscriptions/{s}/providers/Microsoft.Insights/eventtypes/management/values",
        api_version: Some(api::ACTIVITY),
        filter: Some(
            "eventTimestamp ge '{start}' and eventTimestamp le '{now}' and resourceProvider eq 'Microsoft.App'",
        ),
        needs: "Microsoft.Insights/eventtypes/values/read (Reader or Monitoring Reader on the subscription)",
        why: "scan: once per subscription, writes on Container Apps resources and their failures",
    },
];

impl Kind {
    /// This kind's entry in [`PLAN`].
    pub fn spec(self) -> &'static Spec {
        PLAN.iter()
            .find(|s| s.kind == self)
            .expect("every kind has a spec in PLAN")
    }
}

/// One concrete read.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub kind: Kind,
    /// The vault host, for the Key Vault data plane only.
    pub host: Option<String>,
    /// Below the service's base, starting with `/`.
    pub path: String,
    pub filter: Option<String>,
    pub body: Option<Value>,
    /// Said after the request line when the read is missing (`(system logs)`).
    pub note: Option<String>,
}

/// Where a Resource Graph query looks: the subscriptions given, one management group, or every
/// subscription the caller can read (no scope in the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphScope {
    Subscriptions(Vec<String>),
    ManagementGroup(String),
    Tenant,
}

/// A window of time, as RFC 3339 strings: `(start, now)`.
pub type Span<'a> = (&'a str, &'a str);

impl Request {
    fn new(kind: Kind, path: impl Into<String>) -> Request {
        Request {
            kind,
            host: None,
            path: path.into(),
            filter: None,
            body: None,
            note: None,
        }
    }

    fn filtered(mut self, filter: String) -> Request {
        self.filter = Some(filter);
        self
    }

    fn noted(mut self, note: String) -> Request {
        self.note = Some(note);
        self
    }

    /// The app or job itself, by resource id.
    pub fn workload(id: impl Into<String>, is_job: bool) -> Request {
        Request::new(if is_job { Kind::Job } else { Kind::App }, id)
    }

    pub fn revisions(app_id: &str) -> Request {
        Request::new(Kind::Revisions, format!("{app_id}/revisions"))
    }

    pub fn environment(id: impl Into<String>) -> Request {
        Request::new(Kind::Environment, id)
    }

    /// The Dapr components of an environment (by the environment's resource id).
    pub fn dapr_components(environment_id: &str) -> Request {
        Request::new(
            Kind::DaprComponents,
            format!("{environment_id}/daprComponents"),
        )
    }

    /// One certificate of an environment (or a managed certificate), by resource id.
    pub fn certificate(id: impl Into<String>) -> Request {
        Request::new(Kind::Certificate, id)
    }

    /// Every certificate of an environment.
    pub fn certificates(environment_id: &str) -> Request {
        Request::new(Kind::Certificates, format!("{environment_id}/certificates"))
    }

    /// A job's executions (the newest first, as the API returns them).
    pub fn job_executions(job_id: &str) -> Request {
        Request::new(Kind::JobExecutions, format!("{job_id}/executions"))
    }

    pub fn identity(id: impl Into<String>) -> Request {
        Request::new(Kind::UserAssignedIdentity, id)
    }

    /// Resource Graph: the vaults with these names, in every subscription the caller can read.
    pub fn vault_lookup(names: &[String]) -> Request {
        let mut r = Request::new(Kind::VaultLookup, RESOURCE_GRAPH);
        r.body = Some(json!({
            "query": crate::kql::vault_lookup(names),
            "options": {"$top": 1000, "$skip": 0, "resultFormat": "objectArray", "allowPartialScopes": true},
        }));
        r
    }

    /// How a missing Resource Graph lookup of one vault reads in a gap.
    pub fn vault_lookup_of(name: &str) -> Request {
        Request::new(Kind::VaultLookup, RESOURCE_GRAPH).noted(format!("find vault '{name}'"))
    }

    pub fn vault_list(subscription: &str) -> Request {
        Request::new(
            Kind::VaultList,
            format!("/subscriptions/{subscription}{VAULT_LIST}"),
        )
    }

    pub fn vault(id: impl Into<String>) -> Request {
        Request::new(Kind::Vault, id)
    }

    pub fn vault_secret(vault_id: &str, secret: &str) -> Request {
        Request::new(Kind::VaultSecret, format!("{vault_id}/secrets/{secret}"))
    }

    /// The data-plane version list of one secret on its vault's host.
    pub fn secret_versions(host: &str, secret: &str) -> Request {
        let mut r = Request::new(Kind::SecretVersions, format!("/secrets/{secret}/versions"));
        r.host = Some(host.to_string());
        r
    }

    /// Role assignments of `principal` at `scope` and above (a vault, or one of its secrets).
    pub fn role_assignments(scope: &str, principal: &str) -> Request {
        Request::new(Kind::RoleAssignments, format!("{scope}{ROLE_ASSIGNMENTS}"))
            .filtered(format!("atScope() and assignedTo('{principal}')"))
    }

    /// A role definition by its full id (`/subscriptions/{s}/providers/…/roleDefinitions/{guid}`).
    pub fn role_definition(id: impl Into<String>) -> Request {
        Request::new(Kind::RoleDefinition, id)
    }

    /// A role definition by GUID, at the subscription.
    pub fn role_definition_in(subscription: &str, guid: &str) -> Request {
        Request::role_definition(format!(
            "/subscriptions/{subscription}{ROLE_DEFINITIONS}{guid}"
        ))
    }

    pub fn deny_assignments(scope: &str) -> Request {
        Request::new(Kind::DenyAssignments, format!("{scope}{DENY_ASSIGNMENTS}"))
            .filtered("atScope()".into())
    }

    /// The system-log query of one app or job; without a span only the read's shape (a gap).
    pub fn system_logs(
        workspace: &str,
        is_job: bool,
        name: &str,
        span: Option<Span<'_>>,
    ) -> Request {
        let mut r = Request::new(
            Kind::SystemLogs,
            format!("/v1/workspaces/{workspace}/query"),
        )
        .noted("system logs".into());
        if let Some((start, now)) = span {
            r.body = Some(json!({
                "query": crate::kql::system_logs(is_job, name),
                "timespan": format!("{start}/{now}"),
            }));
        }
        r
    }

    /// Writes on the app within the span; without a span, the filter names only the app (how
    /// a snapshot, which does not know the window, describes the read).
    pub fn app_activity(subscription: &str, app_id: &str, span: Option<Span<'_>>) -> Request {
        Request::activity(
            Kind::AppActivity,
            subscription,
            format!("resourceUri eq '{app_id}'"),
            span,
        )
    }

    /// The activity log of one resource group within the span (see [`Request::app_activity`]).
    pub fn group_activity(subscription: &str, group: &str, span: Option<Span<'_>>) -> Request {
        Request::activity(
            Kind::GroupActivity,
            subscription,
            format!("resourceGroupName eq '{group}'"),
            span,
        )
    }

    /// The activity-log API takes one of `resourceUri`, `resourceGroupName`,
    /// `resourceProvider` or `correlationId` next to the time range.
    fn activity(kind: Kind, subscription: &str, scope: String, span: Option<Span<'_>>) -> Request {
        let filter = match span {
            Some((start, now)) => {
                format!("eventTimestamp ge '{start}' and eventTimestamp le '{now}' and {scope}")
            }
            None => scope,
        };
        Request::new(kind, format!("/subscriptions/{subscription}{ACTIVITY_LOG}")).filtered(filter)
    }

    pub fn spec(&self) -> &'static Spec {
        self.kind.spec()
    }

    /// A Resource Graph query (`kind` is [`Kind::FleetResources`] or
    /// [`Kind::FleetRoleAssignments`]) over `scope`, one page: `skip_token` continues a list.
    /// Every page is at most 1,000 rows, ordered by `id`, in `objectArray` form.
    pub fn graph(
        kind: Kind,
        query: String,
        scope: &GraphScope,
        skip_token: Option<&str>,
    ) -> Request {
        let mut options = json!({"$top": 1000, "resultFormat": "objectArray"});
        if let Some(token) = skip_token {
            options["$skipToken"] = json!(token);
        }
        let mut body = json!({"query": query});
        match scope {
            GraphScope::Subscriptions(subscriptions) => {
                body["subscriptions"] = json!(subscriptions);
            }
            GraphScope::ManagementGroup(group) => {
                body["managementGroups"] = json!([group]);
                options["allowPartialScopes"] = json!(true);
            }
            GraphScope::Tenant => {
                options["allowPartialScopes"] = json!(true);
            }
        }
        if kind == Kind::FleetRoleAssignments {
            options["authorizationScopeFilter"] = json!("AtScopeAboveAndBelow");
        }
        body["options"] = options;
        let mut r = Request::new(kind, RESOURCE_GRAPH);
        r.body = Some(body);
        r
    }

    /// Every secret of a vault (ARM, metadata of each current version).
    pub fn vault_secret_list(vault_id: &str) -> Request {
        Request::new(Kind::VaultSecretList, format!("{vault_id}/secrets"))
    }

    /// One system-log query for every named app and job of a workspace.
    pub fn workspace_logs(
        workspace: &str,
        apps: &[String],
        jobs: &[String],
        span: Span<'_>,
    ) -> Request {
        let mut r = Request::new(
            Kind::WorkspaceLogs,
            format!("/v1/workspaces/{workspace}/query"),
        )
        .noted("system logs of the workspace's apps and jobs".into());
        let (start, now) = span;
        r.body = Some(json!({
            "query": crate::kql::fleet_system_logs(apps, jobs),
            "timespan": format!("{start}/{now}"),
        }));
        r
    }

    /// Writes on every Microsoft.App resource of a subscription within the span.
    pub fn fleet_activity(subscription: &str, span: Span<'_>) -> Request {
        let mut r = Request::activity(
            Kind::FleetActivity,
            subscription,
            "resourceProvider eq 'Microsoft.App'".into(),
            Some(span),
        );
        r.kind = Kind::FleetActivity;
        r
    }

    pub fn service(&self) -> Service {
        self.spec().service
    }

    pub fn method(&self) -> &'static str {
        self.spec().method
    }

    /// Query pairs, unencoded: `api-version` first, then `$filter`.
    pub fn query(&self) -> Vec<(String, String)> {
        let version = self
            .spec()
            .api_version
            .map(|v| ("api-version".to_string(), v.to_string()));
        let filter = self.filter.clone().map(|f| ("$filter".to_string(), f));
        version.into_iter().chain(filter).collect()
    }

    /// The decoded `k=v&k=v` form bundles record.
    pub fn query_string(&self) -> String {
        self.query()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The read as a bundle records it before any answer (no status, body or error).
    pub fn recorded(&self) -> crate::bundle::Response {
        crate::bundle::Response {
            method: self.method().into(),
            service: self.service(),
            host: self.host.clone(),
            path: self.path.clone(),
            query: self.query_string(),
            request_body: self.body.clone(),
            status: None,
            body: None,
            error: None,
            headers: None,
        }
    }

    /// The read as a gap names it: method, host (Key Vault), path, `$filter`, note; no
    /// api-version (a bundle recorded with another one still answers it).
    pub fn describe(&self) -> String {
        let host = self
            .host
            .as_deref()
            .map(|h| format!("https://{h}"))
            .unwrap_or_default();
        let filter = self
            .filter
            .as_deref()
            .map(|f| format!("?$filter={f}"))
            .unwrap_or_default();
        let note = self
            .note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        format!("{} {host}{}{filter}{note}", self.method(), self.path)
    }
}

/// The request-plan table of docs/bundle.md.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| # | service | request | api-version | why | a gap asks for |\n|---|---|---|---|---|---|\n",
    );
    for (i, spec) in PLAN.iter().enumerate() {
        let filter = spec
            .filter
            .map(|f| format!(", `$filter={f}`"))
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | {} | `{} {}`{filter} | {} | {} | {} |\n",
            i + 1,
            spec.service.as_str(),
            spec.method,
            spec.path,
            spec.api_version.unwrap_or("(in the path)"),
            spec.why,
            spec.needs,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_spec() {
        for spec in PLAN {
            assert_eq!(
                PLAN.iter().filter(|s| s.kind == spec.kind).count(),
                1,
                "{:?}",
                spec.kind
            );
            assert!(std::ptr::eq(spec.kind.spec(), spec));
        }
    }

    #[test]
    fn docs_table_is_the_plan() {
        let docs = include_str!("../docs/bundle.md");
        let table = markdown_table();
        assert!(
            docs.contains(&table),
            "docs/bundle.md's request-plan table is not the plan's; replace it with:\n\n{table}"
        );
    }

    #[test]
    fn requests_describe_like_gaps_name_them() {
        let vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";
        assert_eq!(
            Request::role_assignments(vault, "p").describe(),
            format!(
                "GET {vault}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope() and assignedTo('p')"
            )
        );
        assert_eq!(
            Request::secret_versions("kv.vault.azure.net", "db").describe(),
            "GET https://kv.vault.azure.net/secrets/db/versions"
        );
        assert_eq!(
            Request::vault_lookup_of("kv").describe(),
            "POST /providers/Microsoft.ResourceGraph/resources (find vault 'kv')"
        );
        assert_eq!(
            Request::app_activity("s", "/app", Some(("a", "b"))).query(),
            vec![
                ("api-version".to_string(), api::ACTIVITY.to_string()),
                (
                    "$filter".to_string(),
                    "eventTimestamp ge 'a' and eventTimestamp le 'b' and resourceUri eq '/app'"
                        .to_string()
                )
            ]
        );
        assert!(
            Request::system_logs("w", false, "a", None)
                .query()
                .is_empty()
        );
    }
}
