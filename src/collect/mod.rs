//! Live collection: reads the evidence for one app or job from Azure into an evidence bundle,
//! the same bundle `collect -o` writes and `check --from` replays.
//!
//! Every read is a [`crate::plan::Request`]. Two jobs share the clients and the per-vault
//! reads kept here: `deployed` reads what runs now (`check`, `collect`), `planned` reads
//! what a file is about to deploy (`lint --live`). Reads go out as soon as what they depend on
//! is known, so the critical path of `check` after the token is four round trips:
//!
//! ```text
//! 1  the app (or job)
//! 2  revisions · environment · Dapr components (Dapr apps only) · user-assigned identities ·
//!    Resource Graph (vault names) · Key Vault version lists (challenge) · activity log
//! 3  vault · secret metadata · role assignments (vault and secret scope) · deny assignments ·
//!    Log Analytics query · Key Vault version lists (with the token)
//! 4  custom role definitions
//! ```
//!
//! Nothing here decides anything; a read that fails is recorded as it failed and becomes a gap
//! in the snapshot. Only what makes the whole run pointless stops it: no credential, or an app,
//! resource group or subscription that does not exist.

mod auth;
mod deployed;
mod endpoints;
mod fleet;
mod guard;
mod http;
mod keyvault;
mod planned;
mod progress;
mod rest;
mod session;
mod target;
pub mod tls;
pub mod token_cache;

pub use auth::{AuthMode, Credentials, RunCredentials};
pub use endpoints::{Cloud, Endpoints};
pub use fleet::{Counts, GraphList};
pub use http::MAX_BODY_BYTES;
pub use keyvault::is_vault_host;
pub use planned::PlannedEvidence;
pub use progress::Progress;
pub use session::{DEFAULT_PARALLELISM, Session};
pub use target::{is_guid, subscription, validate};
pub use token_cache::TokenCache;

use crate::azure::ids;
use crate::azure::keyvault_url::KeyVaultRef;
use crate::azure::roles;
use crate::bundle::{Response, Target};
use crate::plan::Request;
use crate::snapshot::{DaprComponent, KvReference, Workload};
use futures::future::join_all;
use keyvault::KeyVault;
use rest::{Call, Rest};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

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
    credentials: Arc<RunCredentials>,
    endpoints: Arc<Endpoints>,
    rest: Rest,
    keyvault: KeyVault,
    session: Arc<Session>,
    /// `kvdiag scan`: the Resource Graph quota and the requests sent, by service.
    pacer: Arc<fleet::Pacer>,
    counts: Arc<fleet::Counts>,
}

/// What a run looks at: the target, the moment it decides as of, and the log/activity window.
#[derive(Debug, Clone)]
pub struct Window {
    pub now: OffsetDateTime,
    pub since: Duration,
}

impl Window {
    /// The window as the plan's requests take it: `(start, now)` in RFC 3339.
    fn span(&self) -> (String, String) {
        let display = crate::azure::time::display;
        (display(self.start()), display(self.now))
    }

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
    /// The clients of one run on the process's credential: its token fetches end by the
    /// session's deadline.
    pub fn new(
        credentials: &Arc<Credentials>,
        endpoints: Endpoints,
        session: Arc<Session>,
    ) -> Self {
        let endpoints = Arc::new(endpoints);
        let http = http::Http::new();
        let credentials = credentials.for_run(session.deadline());
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
            pacer: Arc::default(),
            counts: Arc::default(),
        }
    }

    /// The run's session (deadline, concurrency, stderr lines).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// HTTP requests sent so far.
    pub fn requests_sent(&self) -> usize {
        self.session.sent()
    }
}

impl Collector {
    /// Sends one planned read and records its answer.
    async fn send(&self, request: Request) -> Response {
        self.rest.send(Call::new(request)).await
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
                .map(|id| self.send(Request::identity(id.as_str()))),
        )
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
        // Every vault a reference names: the secrets' and the vault-wide ones' (Dapr secret
        // stores, which read no one secret).
        let mut names: Vec<String> = refs
            .iter()
            .filter_map(|r| r.parsed.as_ref().ok())
            .filter(|p| keyvault::is_vault_host(&p.host))
            .map(|p| p.vault.clone())
            .chain(secrets.iter().map(|r| r.vault.clone()))
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let graph = self.send(Request::vault_lookup(&names)).await;
        let mut found = vault_ids(&graph, "/data");
        out.push(graph);
        if !out[0].ok() {
            // Resource Graph refused (or is unreachable): the subscription's own vaults are the
            // next best place to look.
            let listing = self.send(Request::vault_list(&target.subscription)).await;
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
            // The workload's principals at every vault, and the principal of each reference
            // on this vault (the environment's, for certificates).
            let mut readers = principals.clone();
            readers.extend(
                refs.iter()
                    .filter(|r| r.parsed.as_ref().is_ok_and(|p| &p.vault == name))
                    .filter_map(|r| r.principal.clone())
                    .filter(|p| is_guid(p)),
            );
            let mut seen = BTreeSet::new();
            readers.retain(|p| seen.insert(p.clone()));
            // One secret-scope listing per (secret, principal): two app secrets may read the same
            // Key Vault secret through different identities.
            let mut scoped: Vec<(String, String)> = refs
                .iter()
                .filter(|r| !r.is_vault_wide())
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
            Some(self.vault(id, mine, scoped, readers))
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
                    .map(|id| self.send(Request::role_definition(id.as_str()))),
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
        principals: Vec<String>,
    ) -> Vec<Response> {
        let mut requests = vec![Request::vault(id.as_str())];
        for r in &secrets {
            requests.push(Request::vault_secret(&id, &r.secret));
        }
        for principal in &principals {
            requests.push(Request::role_assignments(&id, principal));
        }
        for (secret, principal) in &scoped {
            requests.push(Request::role_assignments(
                &format!("{id}/secrets/{secret}"),
                principal,
            ));
        }
        requests.push(Request::deny_assignments(&id));
        join_all(requests.into_iter().map(|r| self.send(r))).await
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
                match target.kind_word() {
                    "job" => "job ",
                    "environment" => "env ",
                    _ => "",
                },
                target.resource_group,
            ),
        })),
        _ => Ok(()),
    }
}

fn kind_word(target: &Target) -> &'static str {
    target.kind_word()
}

/// The secrets the workload's valid references name on real Key Vault hosts, one per vault and
/// secret, by vault.
fn vault_secrets(refs: &[KvReference]) -> Vec<KeyVaultRef> {
    let mut seen = BTreeSet::new();
    let mut secrets: Vec<KeyVaultRef> = refs
        .iter()
        .filter(|r| !r.is_vault_wide())
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

/// `(subscription, resource group)` of each vault, once each (compared without case, spelled as
/// first seen): the groups whose activity log holds the vaults' role and Key Vault changes. A
/// group becomes a path only when the subscription is a GUID and the name a plain segment.
pub fn vault_groups(vault_ids: &[String]) -> Vec<(String, String)> {
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
    groups
}

/// The app's environment id, when it is one (an id from an answer becomes a path only when it
/// names a resource of the expected type).
pub fn environment_id(id: &str) -> Option<String> {
    ids::resource_of_type(id, "Microsoft.App", "managedEnvironments")
}

/// Role definitions the listings name that are not compiled in, by their full id.
fn custom_roles(listings: &[Response]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    listings
        .iter()
        .filter(|r| r.ok() && r.path.ends_with(crate::plan::ROLE_ASSIGNMENTS))
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

/// The Key Vault references of the Dapr components an app loads, from the components read.
pub(super) fn dapr_references(w: &Workload, read: Option<&Response>) -> Vec<KvReference> {
    let Some(components) = read
        .filter(|r| r.ok())
        .and_then(|r| r.body.as_ref())
        .and_then(DaprComponent::parse_list)
    else {
        return Vec::new();
    };
    let app_id = w.dapr.active_app_id().unwrap_or_default();
    let loaded: Vec<&DaprComponent> = components.iter().filter(|c| c.serves(app_id)).collect();
    KvReference::dapr_of(w, &loaded)
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
