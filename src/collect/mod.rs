//! Live collection: reads the evidence for one app or job from Azure into an evidence bundle,
//! the same bundle `collect -o` writes and `check --from` replays.
//!
//! The request plan is docs/bundle.md's. Reads go out as soon as what they depend on is known,
//! so the critical path after the token is four round trips:
//!
//! ```text
//! 1  the app (or job)
//! 2  revisions · environment · user-assigned identities · Resource Graph (vault names) ·
//!    Key Vault version lists (challenge) · activity log
//! 3  vault · secret metadata · role assignments (vault and secret scope) · deny assignments ·
//!    Log Analytics query · Key Vault version lists (with the token)
//! 4  custom role definitions
//! ```
//!
//! Nothing here decides anything; a read that fails is recorded as it failed and becomes a gap
//! in the snapshot. Only what makes the whole run pointless stops it: no credential, or an app,
//! resource group or subscription that does not exist.

mod auth;
mod endpoints;
mod guard;
mod http;
mod keyvault;
mod progress;
mod rest;
mod session;
mod target;

pub use auth::{AuthMode, Credentials};
pub use endpoints::{Cloud, Endpoints};
pub use http::MAX_BODY_BYTES;
pub use progress::Progress;
pub use session::{DEFAULT_PARALLELISM, Session};
pub use target::{is_guid, subscription, validate};

use crate::azure::ids;
use crate::azure::keyvault_url::KeyVaultRef;
use crate::azure::roles;
use crate::azure::time::display;
use crate::bundle::{BUNDLE_VERSION, Bundle, Response, Service, Target};
use crate::snapshot::{Environment, KvReference, Workload, WorkloadKind};
use futures::future::join_all;
use keyvault::KeyVault;
use rest::{Call, Rest};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// api-versions of the request plan (docs/bundle.md lists each read with its api-version; the
/// newest stable in https://github.com/Azure/azure-rest-api-specs).
pub const API_APP: &str = "2025-07-01";
pub const API_MSI: &str = "2023-01-31";
pub const API_GRAPH: &str = "2024-04-01";
pub const API_KEYVAULT_ARM: &str = "2025-05-01";
pub const API_AUTHORIZATION: &str = "2022-04-01";
pub const API_ACTIVITY: &str = "2015-04-01";

/// Why a live run stopped before a verdict (exit 2: the user has something to fix first).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{0}")]
    Credential(String),
    #[error("{0}")]
    NotFound(String),
}

/// The clients of one run.
#[derive(Debug, Clone)]
pub struct Collector {
    credentials: Arc<Credentials>,
    endpoints: Arc<Endpoints>,
    rest: Rest,
    keyvault: KeyVault,
    session: Arc<Session>,
}

/// What a run looks at: the target, the moment it decides as of, and the log/activity window.
#[derive(Debug, Clone)]
pub struct Window {
    pub now: OffsetDateTime,
    pub since: Duration,
}

impl Window {
    /// The window's first moment. The flags are bounded so that this stays in the calendar;
    /// should it not, the window starts at the calendar's first moment instead of panicking.
    fn start(&self) -> OffsetDateTime {
        time::Duration::try_from(self.since)
            .ok()
            .and_then(|since| self.now.checked_sub(since))
            .unwrap_or(time::PrimitiveDateTime::MIN.assume_utc())
    }
}

impl Collector {
    pub fn new(credentials: Arc<Credentials>, endpoints: Endpoints, session: Arc<Session>) -> Self {
        let endpoints = Arc::new(endpoints);
        let http = http::Http::new();
        credentials.end_by(session.deadline());
        Collector {
            rest: Rest::new(
                http.clone(),
                credentials.clone(),
                endpoints.clone(),
                session.clone(),
            ),
            keyvault: KeyVault::new(
                http,
                credentials.clone(),
                endpoints.clone(),
                session.clone(),
            ),
            credentials,
            endpoints,
            session,
        }
    }

    /// HTTP requests sent so far.
    pub fn requests_sent(&self) -> usize {
        self.session.sent()
    }

    /// Collects the bundle for `target` as of `window.now`.
    pub async fn collect(&self, target: &Target, window: &Window) -> Result<Bundle, CollectError> {
        let result = self.read(target, window).await;
        // Cleared on every path, so an error message never lands behind a spinner.
        self.session.progress().finish();
        result
    }

    async fn read(&self, target: &Target, window: &Window) -> Result<Bundle, CollectError> {
        let progress = self.session.progress();
        progress.step(&format!(
            "reading {} '{}'",
            kind_word(target),
            target.name()
        ));
        // The Key Vault and Log Analytics tokens are fetched while the app is read, so a slow
        // credential (`az` starts in about a second) costs one wait, not three.
        let (app, _, _) = tokio::join!(
            self.rest.send(Call::get(target.resource_id(), API_APP)),
            self.credentials.token(&self.endpoints.keyvault_scope),
            self.credentials.token(&self.endpoints.log_analytics_scope),
        );
        stop_if_pointless(target, &app)?;
        let kind = if target.is_job() {
            WorkloadKind::Job
        } else {
            WorkloadKind::App
        };
        let workload = app
            .ok()
            .then(|| app.body.as_ref().and_then(|b| Workload::parse(kind, b)))
            .flatten();
        let mut responses = vec![app];
        if let Some(w) = workload {
            progress.step("reading revisions, vaults, role assignments and logs");
            responses.extend(self.around(target, &w, window).await);
        }
        Ok(Bundle {
            kvdiag_bundle: BUNDLE_VERSION,
            description: None,
            target: target.clone(),
            collected_at: display(window.now),
            responses,
        })
    }

    /// Everything that hangs off a readable app, in parallel branches.
    async fn around(&self, target: &Target, w: &Workload, window: &Window) -> Vec<Response> {
        let app_path = target.resource_id();
        let revisions = async {
            if target.is_job() {
                Vec::new()
            } else {
                vec![
                    self.rest
                        .send(Call::get(format!("{app_path}/revisions"), API_APP))
                        .await,
                ]
            }
        };
        let refs = KvReference::all_of(w);
        let secrets = vault_secrets(&refs);
        let (revisions, environment, identities, versions, vaults, activity) = tokio::join!(
            revisions,
            self.environment_and_logs(target, w, window),
            self.identities(w),
            join_all(secrets.iter().map(|r| self.keyvault.versions(r))),
            self.vaults(target, w, &refs, &secrets, Some(window)),
            self.activity(target, window),
        );
        let mut out = revisions;
        out.extend(environment);
        out.extend(identities);
        out.extend(vaults);
        out.extend(versions);
        out.push(activity);
        out
    }

    /// The managed environment, then its workspace's system logs (both table families).
    async fn environment_and_logs(
        &self,
        target: &Target,
        w: &Workload,
        window: &Window,
    ) -> Vec<Response> {
        let Some(env_id) = w.environment_id.as_deref().and_then(environment_id) else {
            return Vec::new();
        };
        let environment = self.rest.send(Call::get(env_id, API_APP)).await;
        let workspace = environment
            .ok()
            .then(|| environment.body.as_ref().and_then(Environment::parse))
            .flatten()
            .and_then(|e| e.workspace)
            .filter(|w| is_guid(w));
        let mut out = vec![environment];
        if let Some(workspace) = workspace {
            let body = json!({
                "query": crate::kql::system_logs(target.is_job(), target.name()),
                "timespan": format!("{}/{}", display(window.start()), display(window.now)),
            });
            let path = format!("/v1/workspaces/{workspace}/query");
            out.push(
                self.rest
                    .send(Call::post(Service::LogAnalytics, path, Vec::new(), body))
                    .await,
            );
        }
        out
    }

    /// Every user-assigned identity attached or named by a secret: does it still exist?
    async fn identities(&self, w: &Workload) -> Vec<Response> {
        let wanted: Vec<String> = w
            .user_identity_ids()
            .iter()
            .filter_map(|id| {
                ids::resource_of_type(id, "Microsoft.ManagedIdentity", "userAssignedIdentities")
            })
            .collect();
        join_all(
            wanted
                .iter()
                .map(|id| self.rest.send(Call::get(id.as_str(), API_MSI))),
        )
        .await
    }

    /// Activity-log writes on the app within the window.
    async fn activity(&self, target: &Target, window: &Window) -> Response {
        let scope = format!("resourceUri eq '{}'", target.resource_id());
        self.activity_log(&target.subscription, &scope, window)
            .await
    }

    /// The activity log of one subscription within the window, narrowed by `scope` (the API
    /// takes one of `resourceUri`, `resourceGroupName`, `resourceProvider` or `correlationId`).
    async fn activity_log(&self, subscription: &str, scope: &str, window: &Window) -> Response {
        let filter = format!(
            "eventTimestamp ge '{}' and eventTimestamp le '{}' and {scope}",
            display(window.start()),
            display(window.now),
        );
        let path = format!(
            "/subscriptions/{subscription}/providers/Microsoft.Insights/eventtypes/management/values"
        );
        self.rest
            .send(Call::get(path, API_ACTIVITY).filter(filter))
            .await
    }

    /// The activity log of each vault's resource group: role assignments created or deleted at
    /// the vault, its secrets or the group, and writes to the vault. The API cannot filter on a
    /// role assignment's scope, so the group is read and the snapshot keeps what touches a vault.
    async fn vault_activity(&self, vault_ids: &[String], window: &Window) -> Vec<Response> {
        let mut groups: Vec<(String, String)> = vault_ids
            .iter()
            .filter_map(|id| {
                Some((
                    ids::segment_after(id, "subscriptions")?,
                    ids::segment_after(id, "resourceGroups")?,
                ))
            })
            .filter(|(s, rg)| is_guid(s) && ids::is_safe_path(&format!("/{rg}")))
            .collect();
        groups.sort_by_key(|(s, rg)| (s.to_ascii_lowercase(), rg.to_ascii_lowercase()));
        groups.dedup_by_key(|(s, rg)| (s.to_ascii_lowercase(), rg.to_ascii_lowercase()));
        join_all(groups.iter().map(|(subscription, group)| {
            let scope = format!("resourceGroupName eq '{group}'");
            async move { self.activity_log(subscription, &scope, window).await }
        }))
        .await
    }

    /// Vaults by name (Resource Graph, else the subscription's vault list), then per vault its
    /// ARM view, secret metadata, role and deny assignments, then custom role definitions; with
    /// a window, also the activity log of each vault's resource group.
    async fn vaults(
        &self,
        target: &Target,
        w: &Workload,
        refs: &[KvReference],
        secrets: &[KeyVaultRef],
        activity: Option<&Window>,
    ) -> Vec<Response> {
        let mut names: Vec<String> = secrets.iter().map(|r| r.vault.clone()).collect();
        names.dedup();
        if names.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let graph = self
            .rest
            .send(Call::post(
                Service::Arm,
                "/providers/Microsoft.ResourceGraph/resources",
                vec![("api-version".into(), API_GRAPH.into())],
                json!({
                    "query": crate::kql::vault_lookup(&names),
                    "options": {"$top": 1000, "$skip": 0, "resultFormat": "objectArray", "allowPartialScopes": true},
                }),
            ))
            .await;
        let mut found = vault_ids(&graph, "/data");
        out.push(graph);
        if !out[0].ok() {
            // Resource Graph refused (or is unreachable): the subscription's own vaults are the
            // next best place to look.
            let path = format!(
                "/subscriptions/{}/providers/Microsoft.KeyVault/vaults",
                target.subscription
            );
            let listing = self.rest.send(Call::get(path, API_KEYVAULT_ARM)).await;
            found = vault_ids(&listing, "/value");
            out.push(listing);
        }
        let principals: Vec<String> = w
            .identity
            .principals()
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| is_guid(p))
            .collect();
        let per_vault = names.iter().filter_map(|name| {
            let id = found
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))?
                .1
                .clone();
            let mine: Vec<&KeyVaultRef> = secrets.iter().filter(|r| &r.vault == name).collect();
            // One secret-scope listing per (secret, principal): two app secrets may read the same
            // Key Vault secret through different identities.
            let mut scoped: Vec<(String, String)> = refs
                .iter()
                .filter_map(|r| Some((r.parsed.as_ref().ok()?, r.principal.clone()?)))
                .filter(|(p, principal)| &p.vault == name && is_guid(principal))
                .map(|(p, principal)| (p.secret.clone(), principal))
                .collect();
            scoped.sort_by_key(|(secret, principal)| {
                (secret.to_ascii_lowercase(), principal.clone())
            });
            scoped.dedup_by_key(|(secret, principal)| {
                (secret.to_ascii_lowercase(), principal.clone())
            });
            Some(self.vault(id, mine, scoped, &principals))
        });
        let referenced: Vec<String> = names
            .iter()
            .filter_map(|name| found.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
            .map(|(_, id)| id.clone())
            .collect();
        let history = async {
            match activity {
                Some(window) => self.vault_activity(&referenced, window).await,
                None => Vec::new(),
            }
        };
        let (listings, activity) = tokio::join!(join_all(per_vault), history);
        let listings: Vec<Response> = listings.into_iter().flatten().collect();
        let custom = custom_roles(&listings);
        out.extend(listings);
        out.extend(activity);
        out.extend(
            join_all(
                custom
                    .iter()
                    .map(|id| self.rest.send(Call::get(id.as_str(), API_AUTHORIZATION))),
            )
            .await,
        );
        out
    }

    /// One vault's reads, all at once.
    async fn vault(
        &self,
        id: String,
        secrets: Vec<&KeyVaultRef>,
        scoped: Vec<(String, String)>,
        principals: &[String],
    ) -> Vec<Response> {
        let mut calls = vec![Call::get(id.as_str(), API_KEYVAULT_ARM)];
        for r in &secrets {
            calls.push(Call::get(
                format!("{id}/secrets/{}", r.secret),
                API_KEYVAULT_ARM,
            ));
        }
        let assigned = |scope: &str, principal: &str| {
            Call::get(
                format!("{scope}/providers/Microsoft.Authorization/roleAssignments"),
                API_AUTHORIZATION,
            )
            .filter(format!("atScope() and assignedTo('{principal}')"))
        };
        for principal in principals {
            calls.push(assigned(&id, principal));
        }
        for (secret, principal) in &scoped {
            calls.push(assigned(&format!("{id}/secrets/{secret}"), principal));
        }
        calls.push(
            Call::get(
                format!("{id}/providers/Microsoft.Authorization/denyAssignments"),
                API_AUTHORIZATION,
            )
            .filter("atScope()"),
        );
        join_all(calls.into_iter().map(|c| self.rest.send(c))).await
    }
}

/// Stops the run when there is nothing to diagnose: no credential, or a target that does not
/// exist. Anything else (403 on the app, say) is recorded and becomes an `inconclusive` verdict.
fn stop_if_pointless(target: &Target, app: &Response) -> Result<(), CollectError> {
    if let Some(error) = app.error.as_deref()
        && let Some(message) = error.strip_prefix("credential: ")
    {
        return Err(CollectError::Credential(message.to_string()));
    }
    let code = app.error_code().unwrap_or_default();
    match app.status {
        Some(401) => Err(CollectError::Credential(format!(
            "Azure Resource Manager refused the token ({code}): is the subscription in the tenant you logged in to? Try `az login --tenant <tenant>`, or --cloud for a sovereign cloud"
        ))),
        Some(404) => Err(CollectError::NotFound(match code {
            "SubscriptionNotFound" | "InvalidSubscriptionId" => format!(
                "subscription {} was not found; `az account list -o table` shows the ones you can use",
                target.subscription
            ),
            "ResourceGroupNotFound" => format!(
                "resource group '{}' was not found in subscription {}; check --rg and --subscription",
                target.resource_group, target.subscription
            ),
            _ => format!(
                "{} '{}' was not found in resource group '{}' (subscription {}); `az containerapp {}list -g {} -o table` lists them",
                kind_word(target),
                target.name(),
                target.resource_group,
                target.subscription,
                if target.is_job() { "job " } else { "" },
                target.resource_group,
            ),
        })),
        _ => Ok(()),
    }
}

fn kind_word(target: &Target) -> &'static str {
    if target.is_job() { "job" } else { "app" }
}

/// The secrets the workload's valid references name on real Key Vault hosts, one per vault and
/// secret, by vault.
fn vault_secrets(refs: &[KvReference]) -> Vec<KeyVaultRef> {
    let mut seen = BTreeSet::new();
    let mut secrets: Vec<KeyVaultRef> = refs
        .iter()
        .filter_map(|r| r.parsed.as_ref().ok())
        .filter(|p| keyvault::is_vault_host(&p.host))
        .filter(|p| seen.insert((p.vault.clone(), p.secret.to_ascii_lowercase())))
        .cloned()
        .collect();
    secrets.sort_by(|a, b| a.vault.cmp(&b.vault));
    secrets
}

/// `(name, id)` of every vault row in a Resource Graph answer or a vault list.
fn vault_ids(response: &Response, pointer: &str) -> Vec<(String, String)> {
    if !response.ok() {
        return Vec::new();
    }
    response
        .body
        .as_ref()
        .and_then(|b| b.pointer(pointer))
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .filter_map(|row| {
                    // A row is used only when its id is a vault whose name is the row's name:
                    // an answer must not make kvdiag read another resource as the vault.
                    let id = ids::resource_of_type(
                        row.get("id")?.as_str()?,
                        "Microsoft.KeyVault",
                        "vaults",
                    )?;
                    let name = row.get("name")?.as_str()?;
                    (ids::last_segment(&id) == name.to_ascii_lowercase())
                        .then(|| (name.to_string(), id))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The app's environment id, when it is one (an id from an answer becomes a path only when it
/// names a resource of the expected type).
fn environment_id(id: &str) -> Option<String> {
    ids::resource_of_type(id, "Microsoft.App", "managedEnvironments")
}

/// Role definitions the listings name that are not compiled in, by their full id.
fn custom_roles(listings: &[Response]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    listings
        .iter()
        .filter(|r| r.ok() && r.path.ends_with("/roleAssignments"))
        .filter_map(|r| r.body.as_ref()?.get("value")?.as_array().cloned())
        .flatten()
        .filter_map(|a| {
            a.pointer("/properties/roleDefinitionId")?
                .as_str()
                .map(str::to_string)
        })
        .filter_map(|id| ids::role_definition(&id))
        .filter(|id| {
            roles::builtin(&ids::last_segment(id)).is_none() && seen.insert(id.to_ascii_lowercase())
        })
        .collect()
}

/// An environment of fixed pairs, for tests of code that reads variables through a lookup.
#[cfg(test)]
pub(crate) fn test_env<'a>(
    pairs: &'a [(&'a str, &'a str)],
) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        pairs
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.to_string())
    }
}

/// What `kvdiag lint --live` read for a resource that is about to be deployed.
#[derive(Debug, Clone)]
pub struct PlannedEvidence {
    /// A bundle whose app (or job) response is the file's resource, with the principals the
    /// deploy will use filled in, followed by the real reads of its identities and vaults.
    pub bundle: Bundle,
    /// True when the app or job already exists in Azure.
    pub exists: bool,
}

impl Collector {
    /// Reads the evidence the Key Vault checkers need for a resource as a file describes it
    /// (`kvdiag lint --live`): the existing app or job (only for its identities' principals),
    /// each user-assigned identity the file names, the environment it names, and the same per-vault reads as
    /// [`Collector::collect`] (Resource Graph, vault, secret metadata, role and deny
    /// assignments, custom roles, version lists). No revisions, environment or logs: they
    /// describe what runs now, not what the file will deploy. `resource` must hold no secret
    /// values. A missing app is not an error: it will be created by the deploy.
    pub async fn collect_for_workload(
        &self,
        target: &Target,
        resource: &Value,
        window: &Window,
    ) -> Result<PlannedEvidence, CollectError> {
        let result = self.read_for_workload(target, resource, window).await;
        self.session.progress().finish();
        result
    }

    async fn read_for_workload(
        &self,
        target: &Target,
        resource: &Value,
        window: &Window,
    ) -> Result<PlannedEvidence, CollectError> {
        self.session.progress().step(&format!(
            "reading {} '{}' and its Key Vault references",
            kind_word(target),
            target.name()
        ));
        let (app, _) = tokio::join!(
            self.rest.send(Call::get(target.resource_id(), API_APP)),
            self.credentials.token(&self.endpoints.keyvault_scope),
        );
        if app.status != Some(404) {
            stop_if_pointless(target, &app)?;
        }
        let exists = app.ok();
        let kind = if target.is_job() {
            WorkloadKind::Job
        } else {
            WorkloadKind::App
        };
        let mut body = resource.clone();
        if let Some(map) = body.as_object_mut() {
            map.insert("id".into(), Value::String(target.resource_id()));
            map.insert("name".into(), Value::String(target.name().to_string()));
        }
        if exists && let Some(live) = &app.body {
            adopt_principals(&mut body, live);
        }
        let Some(planned) = Workload::parse(kind, &body) else {
            return Err(CollectError::NotFound(
                "the resource has no name to look up".into(),
            ));
        };
        let identities = self.identities(&planned).await;
        for r in identities.iter().filter(|r| r.ok()) {
            let principal = r
                .body
                .as_ref()
                .and_then(|b| b.pointer("/properties/principalId"))
                .cloned();
            if let (Some(principal), Some(map)) = (
                principal,
                body.pointer_mut("/identity/userAssignedIdentities")
                    .and_then(Value::as_object_mut),
            ) {
                for (id, entry) in map.iter_mut() {
                    if ids::same(id, &r.path)
                        && let Some(entry) = entry.as_object_mut()
                    {
                        entry.insert("principalId".into(), principal.clone());
                    }
                }
            }
        }
        let w = Workload::parse(kind, &body).unwrap_or(planned);
        let refs = KvReference::all_of(&w);
        let secrets = vault_secrets(&refs);
        // The environment the file names: the network checker needs its VNet.
        let environment = async {
            match w.environment_id.as_deref().and_then(environment_id) {
                Some(id) => vec![self.rest.send(Call::get(id, API_APP)).await],
                None => Vec::new(),
            }
        };
        let (versions, vaults, environment) = tokio::join!(
            join_all(secrets.iter().map(|r| self.keyvault.versions(r))),
            // No activity log: a file about to be deployed has no history yet.
            self.vaults(target, &w, &refs, &secrets, None),
            environment,
        );
        let mut responses = vec![Response {
            method: "GET".into(),
            service: Service::Arm,
            host: None,
            path: target.resource_id(),
            query: format!("api-version={API_APP}"),
            request_body: None,
            status: Some(200),
            body: Some(body),
            error: None,
            headers: None,
        }];
        responses.extend(environment);
        responses.extend(identities);
        responses.extend(vaults);
        responses.extend(versions);
        Ok(PlannedEvidence {
            bundle: Bundle {
                kvdiag_bundle: BUNDLE_VERSION,
                description: Some(
                    "kvdiag lint --live: the file's resource and its Key Vault reads".into(),
                ),
                target: target.clone(),
                collected_at: display(window.now),
                responses,
            },
            exists,
        })
    }
}

/// Copies the principals of the existing app's identities into the planned resource: the
/// system identity's when the file keeps it enabled, and each user-assigned identity's that
/// the file still attaches (ids compare without case).
fn adopt_principals(planned: &mut Value, live: &Value) {
    let enabled = crate::snapshot::Identity::system_enabled_in;
    if enabled(planned)
        && enabled(live)
        && let Some(principal) = live.pointer("/identity/principalId").cloned()
        && let Some(identity) = planned.get_mut("identity").and_then(Value::as_object_mut)
    {
        identity.insert("principalId".into(), principal);
    }
    let Some(live_users) = live
        .pointer("/identity/userAssignedIdentities")
        .and_then(Value::as_object)
    else {
        return;
    };
    if let Some(map) = planned
        .pointer_mut("/identity/userAssignedIdentities")
        .and_then(Value::as_object_mut)
    {
        for (id, entry) in map.iter_mut() {
            let found = live_users
                .iter()
                .find(|(k, _)| ids::same(k, id))
                .and_then(|(_, v)| v.get("principalId").cloned());
            if let (Some(p), Some(entry)) = (found, entry.as_object_mut()) {
                entry.insert("principalId".into(), p);
            }
        }
    }
}
