//! The evidence snapshot: typed facts built from a bundle's raw responses, plus every gap.
//!
//! The builder knows the request plan (`docs/bundle.md`): from the app it derives which reads
//! should exist (its environment, each vault, each role-assignment listing, ...), finds them by
//! path pattern, and records a [`Gap`] for each one that failed or is absent. Checkers then
//! read [`Read`] values and never have to guess whether "nothing" means "none" or "unknown".

mod environment;
mod events;
mod gap;
mod json;
mod rbac;
mod revision;
mod vault;
mod workload;

pub use environment::Environment;
pub use events::{ActivityEvent, LogTable, RoleChange, SystemLogEntry};
pub use gap::Gap;
pub use json::Stamp;
pub use rbac::{DenyAssignment, EVERYONE, RoleAssignment};
pub use revision::Revision;
pub use vault::{AccessPolicy, NetworkAcls, PrivateEndpoint, SecretVersion, Vault, VaultSecret};
pub use workload::{
    AppSecret, Container, EnvVar, Identity, Registry, ScaleRule, SecretRefSite, SiteKind, Template,
    UserAssigned, Volume, Workload, WorkloadKind,
};

use crate::azure::ids;
use crate::azure::keyvault_url::KeyVaultRef;
use crate::azure::roles::{self, RoleDefinition};
use crate::bundle::{Bundle, Response, Route, Target, route};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// The outcome of one read.
#[derive(Debug, Clone)]
pub enum Read<T> {
    Ok(T),
    /// A 404: itself evidence (a deleted identity, a secret that does not exist).
    NotFound(String),
    /// Failed, malformed or not collected; the gap says which and what would fix it.
    Unavailable(Gap),
}

impl<T> Read<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Read::Ok(value) => Some(value),
            _ => None,
        }
    }

    pub fn gap(&self) -> Option<&Gap> {
        match self {
            Read::Unavailable(gap) => Some(gap),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Read::NotFound(_))
    }
}

/// A Key Vault reference of the workload, resolved as far as the evidence allows.
#[derive(Debug, Clone)]
pub struct KvReference {
    /// The app secret's name.
    pub secret: String,
    pub url: String,
    /// The parsed URL, or why it is malformed.
    pub parsed: Result<KeyVaultRef, String>,
    /// `system` or a user-assigned identity id, as the secret names it.
    pub identity: Option<String>,
    /// The principal that identity resolves to on this workload, if attached.
    pub principal: Option<String>,
}

impl KvReference {
    /// Every Key Vault reference of a workload, with the principal its identity resolves to.
    /// Live collection plans its reads from the same list the snapshot judges.
    pub fn all_of(w: &Workload) -> Vec<KvReference> {
        w.secrets
            .iter()
            .filter_map(|secret| {
                let url = secret.key_vault_url.clone()?;
                let principal = w.identity.principal_of(secret.identity.as_deref());
                Some(KvReference {
                    secret: secret.name.clone(),
                    parsed: KeyVaultRef::parse(&url),
                    url,
                    identity: secret.identity.clone(),
                    principal,
                })
            })
            .collect()
    }

    pub fn is_system(&self) -> bool {
        self.identity
            .as_deref()
            .is_some_and(|i| i.eq_ignore_ascii_case("system"))
    }

    /// `system` or the identity's resource name, for people.
    pub fn identity_label(&self) -> String {
        match &self.identity {
            None => "(none)".into(),
            Some(_) if self.is_system() => "system".into(),
            Some(id) => ids::last_segment(id),
        }
    }
}

/// One role-assignment listing (`atScope() and assignedTo(principal)` at `scope`).
#[derive(Debug, Clone)]
pub struct RoleListing {
    pub scope: String,
    pub principal: String,
    pub assignments: Read<Vec<RoleAssignment>>,
}

/// One deny-assignment listing (`atScope()` at `scope`).
#[derive(Debug, Clone)]
pub struct DenyListing {
    pub scope: String,
    pub assignments: Read<Vec<DenyAssignment>>,
}

/// Everything the checkers may look at.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub target: Target,
    /// "Now" for every time-based rule: `collected_at`, or `--as-of`.
    pub now: OffsetDateTime,
    pub workload: Read<Workload>,
    /// Revisions (apps only; jobs have none).
    pub revisions: Read<Vec<Revision>>,
    pub environment: Read<Environment>,
    /// User-assigned identities by normalized id: does each still exist.
    pub identities: BTreeMap<String, Read<Value>>,
    pub kv_refs: Vec<KvReference>,
    /// Vaults by lower-cased name.
    pub vaults: BTreeMap<String, Read<Vault>>,
    /// ARM secret metadata by (vault, secret), both lower-cased.
    pub vault_secrets: BTreeMap<(String, String), Read<VaultSecret>>,
    /// Data-plane version lists by (vault, secret), both lower-cased.
    pub secret_versions: BTreeMap<(String, String), Read<Vec<SecretVersion>>>,
    pub role_listings: Vec<RoleListing>,
    /// Role definitions by GUID: built-ins, or read from the bundle.
    pub role_definitions: BTreeMap<String, Read<RoleDefinition>>,
    pub deny_listings: Vec<DenyListing>,
    pub system_logs: Read<Vec<SystemLogEntry>>,
    /// Activity-log events on the app (`resourceUri eq` the app), newest first.
    pub activity: Read<Vec<ActivityEvent>>,
    /// Activity-log events in each referenced vault's resource group (role assignments and Key
    /// Vault writes), by normalized `/subscriptions/s/resourcegroups/rg`.
    pub vault_activity: BTreeMap<String, Read<Vec<ActivityEvent>>>,
    /// Every read that failed or is missing, once each, in plan order.
    pub gaps: Vec<Gap>,
}

impl Snapshot {
    /// Builds the snapshot of a bundle; `as_of` replaces `collected_at` as "now".
    pub fn build(bundle: &Bundle, as_of: Option<OffsetDateTime>) -> Snapshot {
        Builder::new(bundle).build(as_of)
    }

    /// The vault read for a vault name (absent when no reference names it).
    pub fn vault(&self, name: &str) -> Option<&Read<Vault>> {
        self.vaults.get(&name.to_ascii_lowercase())
    }

    /// Role listings for a principal whose scope covers `resource`.
    pub fn listings_for<'a>(
        &'a self,
        principal: &'a str,
        resource: &'a str,
    ) -> impl Iterator<Item = &'a RoleListing> + 'a {
        self.role_listings.iter().filter(move |l| {
            l.principal.eq_ignore_ascii_case(principal) && ids::covers(&l.scope, resource)
        })
    }

    /// The role definition for a GUID (built-in or read), if known.
    pub fn role(&self, guid: &str) -> Option<&RoleDefinition> {
        self.role_definitions
            .get(&guid.to_ascii_lowercase())
            .and_then(Read::ok)
    }

    /// `'Key Vault Secrets User'`, or `role <guid>` when the definition is neither read nor
    /// built in (a deleted assignment's role need not be in any listing).
    pub fn role_name(&self, guid: &str) -> String {
        self.role(guid)
            .map(|d| format!("'{}'", d.name))
            .or_else(|| roles::builtin(guid).map(|d| format!("'{}'", d.name)))
            .unwrap_or_else(|| format!("role {guid}"))
    }

    /// Role assignments of `principal` created or deleted (activity log, succeeded) at a scope
    /// covering `resource`, newest first.
    pub fn role_changes<'a>(
        &'a self,
        principal: &'a str,
        resource: &'a str,
    ) -> Vec<&'a ActivityEvent> {
        self.activity_events()
            .into_iter()
            .filter(|e| e.succeeded())
            .filter(|e| {
                e.role_change.as_ref().is_some_and(|c| {
                    c.principal
                        .as_deref()
                        .is_some_and(|p| p.eq_ignore_ascii_case(principal))
                        && ids::covers(&c.scope, resource)
                })
            })
            .collect()
    }

    /// The revisions read (empty when they could not be read, and for jobs).
    pub fn revision_list(&self) -> &[Revision] {
        self.revisions.ok().map(Vec::as_slice).unwrap_or_default()
    }

    /// System-log entries, newest first (empty when logs could not be read).
    pub fn logs(&self) -> &[SystemLogEntry] {
        self.system_logs.ok().map(Vec::as_slice).unwrap_or_default()
    }

    /// Every activity-log event read (the app's and the vaults' resource groups), each once,
    /// newest first, none after "now" (`--as-of` replays see the past only).
    pub fn activity_events(&self) -> Vec<&ActivityEvent> {
        let mut seen = BTreeSet::new();
        let mut events: Vec<&ActivityEvent> = self
            .activity
            .ok()
            .into_iter()
            .chain(self.vault_activity.values().filter_map(Read::ok))
            .flatten()
            .filter(|e| e.time <= self.now)
            .filter(|e| {
                e.event_data_id
                    .as_ref()
                    .is_none_or(|id| seen.insert(id.to_ascii_lowercase()))
            })
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse(e.time));
        events
    }

    /// Writes to the app itself (its resource id, any case), newest first.
    pub fn app_writes(&self) -> Vec<&ActivityEvent> {
        let app = self.target.resource_id();
        self.activity_events()
            .into_iter()
            .filter(|e| e.is_app_write())
            .filter(|e| {
                e.resource_id
                    .as_deref()
                    .is_none_or(|id| ids::same(id, &app))
            })
            .collect()
    }
}

/// The resource groups of the vaults read, normalized (`/subscriptions/s/resourcegroups/rg`):
/// their activity log holds the role assignments and Key Vault writes that touch the vaults.
pub fn vault_groups(s: &Snapshot) -> BTreeSet<String> {
    s.vaults
        .values()
        .filter_map(Read::ok)
        .filter_map(|v| resource_group_of(&v.id))
        .collect()
}

/// `/subscriptions/s/resourcegroups/rg` of a resource id, normalized.
pub fn resource_group_of(id: &str) -> Option<String> {
    let subscription = ids::segment_after(id, "subscriptions")?;
    let group = ids::segment_after(id, "resourceGroups")?;
    Some(ids::normalize(&format!(
        "/subscriptions/{subscription}/resourceGroups/{group}"
    )))
}

/// The placeholder for a read that depends on a workload that could not be read (checkers do
/// not run then; the workload's own gap explains why).
fn not_read<T>(what: &str) -> Read<T> {
    Read::NotFound(format!(
        "{what} not read: the app or job itself could not be read"
    ))
}

/// How a read treats a time it needs that is present but unusable (garbled, or outside the
/// calendar): either way a gap names the response and the field, so a verdict that cannot
/// decide says why.
#[derive(Clone, Copy)]
enum Times {
    /// The response holds no time the snapshot reads.
    None,
    /// The time only refines the evidence, and the checkers already treat a missing one as
    /// unknown (a revision without `createdTime` is inconclusive): the model keeps it as
    /// unknown and everything else is used.
    Refine(fn(&Value) -> Option<String>),
    /// The evidence rests on its times (which event came first, whether a grant is old enough,
    /// which version is newest, what lies inside the log window): a record dropped or misdated
    /// could turn "not seen" into "ruled out", so nothing in the response is used.
    Decide(fn(&Value) -> Option<String>),
}

struct Builder<'a> {
    bundle: &'a Bundle,
    routed: Vec<(Route, &'a Response)>,
    gaps: Vec<Gap>,
}

impl<'a> Builder<'a> {
    fn new(bundle: &'a Bundle) -> Self {
        let routed = bundle.responses.iter().map(|r| (route(r), r)).collect();
        Builder {
            bundle,
            routed,
            gaps: Vec::new(),
        }
    }

    /// The best response for a route: the last success, else the last attempt (retries are
    /// recorded in order).
    fn find(&self, wanted: impl Fn(&Route) -> bool) -> Option<(&Route, &'a Response)> {
        let matching: Vec<_> = self.routed.iter().filter(|(r, _)| wanted(r)).collect();
        matching
            .iter()
            .rev()
            .find(|(_, resp)| resp.ok())
            .or(matching.last())
            .map(|(r, resp)| (r, *resp))
    }

    /// Reads one planned request: parses a success, keeps a 404, records a gap otherwise.
    fn read<T>(
        &mut self,
        wanted: Route,
        describe: impl FnOnce() -> String,
        what: &str,
        parse: impl FnOnce(&Value) -> Option<T>,
    ) -> Read<T> {
        self.read_timed(wanted, describe, what, Times::None, parse)
    }

    /// [`Builder::read`] for a response holding times the evidence needs.
    fn read_timed<T>(
        &mut self,
        wanted: Route,
        describe: impl FnOnce() -> String,
        what: &str,
        times: Times,
        parse: impl FnOnce(&Value) -> Option<T>,
    ) -> Read<T> {
        let found = self
            .find(|r| *r == wanted)
            .map(|(r, resp)| (r.clone(), resp));
        match found {
            None => self.gap(Gap::missing(describe(), &wanted)),
            Some((route, response)) => self.interpret(&route, response, what, times, parse),
        }
    }

    fn interpret<T>(
        &mut self,
        route: &Route,
        response: &Response,
        what: &str,
        times: Times,
        parse: impl FnOnce(&Value) -> Option<T>,
    ) -> Read<T> {
        if response.status == Some(404) && route.is_entity() {
            let detail = match (response.error_code(), response.error_message()) {
                (Some(code), Some(message)) => format!("404 {code}: {message}"),
                (code, message) => format!("404 {}", code.or(message).unwrap_or("Not Found")),
            };
            return Read::NotFound(detail);
        }
        if !response.ok() {
            return self.gap(Gap::from_response(response, route));
        }
        // Every Azure answer kvdiag reads is a JSON object; text (a proxy's HTML page, a
        // truncated body kept as a string) is malformed, never an empty result.
        let body = response.body.as_ref().filter(|b| b.is_object());
        if let (Times::Decide(unusable), Some(b)) = (times, body)
            && let Some(field) = unusable(b)
        {
            return self.gap(Gap::out_of_range(response, &field, true));
        }
        match body.and_then(parse) {
            Some(value) => {
                if let (Times::Refine(unusable), Some(b)) = (times, body)
                    && let Some(field) = unusable(b)
                {
                    self.gap::<()>(Gap::out_of_range(response, &field, false));
                }
                Read::Ok(value)
            }
            None => self.gap(Gap::malformed(response, route, what)),
        }
    }

    fn gap<T>(&mut self, gap: Gap) -> Read<T> {
        if !self.gaps.contains(&gap) {
            self.gaps.push(gap.clone());
        }
        Read::Unavailable(gap)
    }

    fn build(mut self, as_of: Option<OffsetDateTime>) -> Snapshot {
        let target = self.bundle.target.clone();
        // Validated at load; `now` falls back to the epoch only for hand-built bundles.
        let now = as_of
            .or_else(|| self.bundle.collected_at().ok())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let id = ids::normalize(&target.resource_id());
        let (kind, wanted) = if target.is_job() {
            (WorkloadKind::Job, Route::Job { id: id.clone() })
        } else {
            (WorkloadKind::App, Route::App { id: id.clone() })
        };
        let what = if target.is_job() {
            "Container Apps job"
        } else {
            "container app"
        };
        let workload = self.read_timed(
            wanted.clone(),
            || format!("GET {}", target.resource_id()),
            what,
            Times::Refine(Workload::unusable_time),
            |b| Workload::parse(kind, b),
        );
        if let Read::NotFound(detail) = &workload {
            let gap = Gap {
                request: format!("GET {}", target.resource_id()),
                status: Some(404),
                why: detail.clone(),
                needs: format!(
                    "the right --subscription, --rg and --{}",
                    if target.is_job() { "job" } else { "app" }
                ),
            };
            self.gaps.push(gap);
        }
        let mut snapshot = Snapshot {
            target,
            now,
            workload,
            // Jobs have no revisions; everything else is replaced by `read_around` once the
            // workload itself could be read.
            revisions: if self.bundle.target.is_job() {
                Read::Ok(Vec::new())
            } else {
                not_read("revisions")
            },
            environment: not_read("environment"),
            identities: BTreeMap::new(),
            kv_refs: Vec::new(),
            vaults: BTreeMap::new(),
            vault_secrets: BTreeMap::new(),
            secret_versions: BTreeMap::new(),
            role_listings: Vec::new(),
            role_definitions: BTreeMap::new(),
            deny_listings: Vec::new(),
            system_logs: not_read("system logs"),
            activity: not_read("activity log"),
            vault_activity: BTreeMap::new(),
            gaps: Vec::new(),
        };
        if let Some(w) = snapshot.workload.ok().cloned() {
            self.read_around(&mut snapshot, &w);
        }
        snapshot.gaps = self.gaps;
        snapshot
    }

    /// Everything that hangs off a readable workload.
    fn read_around(&mut self, s: &mut Snapshot, w: &Workload) {
        let app_id = ids::normalize(&s.target.resource_id());
        if w.kind == WorkloadKind::App {
            s.revisions = self.read_timed(
                Route::Revisions {
                    app_id: app_id.clone(),
                },
                || format!("GET {}/revisions", s.target.resource_id()),
                "revision list",
                Times::Refine(Revision::unusable_time),
                |b| Some(Revision::parse_list(b)),
            );
        }
        s.environment = match &w.environment_id {
            Some(env) => self.read(
                Route::Environment {
                    id: ids::normalize(env),
                },
                || format!("GET {env}"),
                "managed environment",
                Environment::parse,
            ),
            None => Read::NotFound("the app names no environment".into()),
        };
        self.read_identities(s, w);
        self.read_vaults(s, w);
        self.read_rbac(s, w);
        self.read_logs(s);
        let resource_id = s.target.resource_id();
        s.activity = self.read_timed(Route::ActivityLog { resource_group: None }, || format!("GET /subscriptions/{}/providers/Microsoft.Insights/eventtypes/management/values?$filter=resourceUri eq '{resource_id}'", s.target.subscription), "activity log page", Times::Decide(ActivityEvent::unusable_time), |b| Some(ActivityEvent::parse_list(b)));
        for group in vault_groups(s) {
            let read = self.read_timed(
                Route::ActivityLog { resource_group: Some(group.clone()) },
                || format!("GET /subscriptions/{}/providers/Microsoft.Insights/eventtypes/management/values?$filter=resourceGroupName eq '{}'", ids::segment_after(&group, "subscriptions").unwrap_or_default(), ids::last_segment(&group)),
                "activity log page",
                Times::Decide(ActivityEvent::unusable_time),
                |b| Some(ActivityEvent::parse_list(b)),
            );
            s.vault_activity.insert(group, read);
        }
    }

    fn read_identities(&mut self, s: &mut Snapshot, w: &Workload) {
        for id in w.user_identity_ids() {
            let key = ids::normalize(&id);
            let read = self.read(
                Route::UserAssignedIdentity { id: key.clone() },
                || format!("GET {id}"),
                "managed identity",
                |b| Some(b.clone()),
            );
            s.identities.insert(key, read);
        }
    }

    fn read_vaults(&mut self, s: &mut Snapshot, w: &Workload) {
        s.kv_refs = KvReference::all_of(w);
        let names: BTreeSet<String> = s
            .kv_refs
            .iter()
            .filter_map(|r| r.parsed.as_ref().ok())
            .map(|p| p.vault.clone())
            .collect();
        if names.is_empty() {
            return;
        }
        let graph = self.find(|r| *r == Route::ResourceGraph).map(|(_, r)| r);
        for name in &names {
            let read = self.read_vault(name, graph);
            s.vaults.insert(name.clone(), read);
        }
        for r in s.kv_refs.clone() {
            let Ok(parsed) = &r.parsed else { continue };
            let key = (parsed.vault.clone(), parsed.secret.to_ascii_lowercase());
            if s.vault_secrets.contains_key(&key) {
                continue;
            }
            let (metadata, versions) = match s.vaults.get(&parsed.vault) {
                Some(Read::Ok(vault)) => {
                    let vault_id = ids::normalize(&vault.id);
                    let secret_path = format!("{}/secrets/{}", vault.id, parsed.secret);
                    let metadata = self.read_timed(
                        Route::VaultSecret {
                            vault_id,
                            secret: key.1.clone(),
                        },
                        || format!("GET {secret_path}"),
                        "Key Vault secret",
                        Times::Decide(VaultSecret::unusable_time),
                        VaultSecret::parse,
                    );
                    let host = parsed.host.clone();
                    let versions = self.read_timed(
                        Route::SecretVersions {
                            host: host.clone(),
                            secret: key.1.clone(),
                        },
                        || format!("GET https://{host}/secrets/{}/versions", parsed.secret),
                        "secret version list",
                        Times::Decide(SecretVersion::unusable_time),
                        |b| b.get("value").map(|_| SecretVersion::parse_list(b)),
                    );
                    (metadata, versions)
                }
                Some(Read::NotFound(detail)) => (
                    Read::NotFound(detail.clone()),
                    Read::NotFound(detail.clone()),
                ),
                Some(Read::Unavailable(gap)) => (
                    Read::Unavailable(gap.clone()),
                    Read::Unavailable(gap.clone()),
                ),
                None => continue,
            };
            s.vault_secrets.insert(key.clone(), metadata);
            s.secret_versions.insert(key, versions);
        }
    }

    /// Resolves a vault name to its id (Resource Graph, else any recorded vault GET by name) and
    /// reads the vault.
    fn read_vault(&mut self, name: &str, graph: Option<&'a Response>) -> Read<Vault> {
        let from_graph = graph.filter(|g| g.ok()).and_then(|g| {
            g.body.as_ref().map(|b| {
                json::array(b, "/data")
                    .iter()
                    .filter(|row| {
                        json::string(row, "/name").is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                    .filter_map(|row| json::string(row, "/id"))
                    .collect::<Vec<_>>()
            })
        });
        let recorded = self
            .find(|r| matches!(r, Route::Vault { name: n, .. } if n == name))
            .map(|(r, _)| r.clone());
        let vault_id = match (&from_graph, recorded) {
            (Some(ids_found), _) if !ids_found.is_empty() => ids::normalize(&ids_found[0]),
            (_, Some(Route::Vault { id, .. })) => id,
            (Some(_), _) => {
                return Read::NotFound(format!(
                    "no vault named '{name}' in the subscriptions Resource Graph searched"
                ));
            }
            (None, _) => {
                return match graph {
                    Some(g) => self.gap(Gap::from_response(g, &Route::ResourceGraph)),
                    None => self.gap(Gap::missing(format!("POST /providers/Microsoft.ResourceGraph/resources (find vault '{name}')"), &Route::ResourceGraph)),
                };
            }
        };
        let display_id = vault_id.clone();
        self.read(
            Route::Vault {
                id: vault_id,
                name: name.to_string(),
            },
            || format!("GET {display_id}"),
            "Key Vault",
            Vault::parse,
        )
    }

    fn read_rbac(&mut self, s: &mut Snapshot, w: &Workload) {
        let principals = w.identity.principals();
        let vaults: Vec<(String, String)> = s
            .vaults
            .values()
            .filter_map(Read::ok)
            .map(|v| (v.id.clone(), ids::normalize(&v.id)))
            .collect();
        let mut planned: Vec<(String, String, String)> = Vec::new(); // (display scope, normalized scope, principal)
        for (display, scope) in &vaults {
            for (principal, _) in &principals {
                planned.push((display.clone(), scope.clone(), principal.clone()));
            }
        }
        for r in &s.kv_refs {
            let (Ok(parsed), Some(principal)) = (&r.parsed, &r.principal) else {
                continue;
            };
            if let Some(Read::Ok(vault)) = s.vaults.get(&parsed.vault) {
                let display = format!("{}/secrets/{}", vault.id, parsed.secret);
                planned.push((display.clone(), ids::normalize(&display), principal.clone()));
            }
        }
        planned.dedup();
        for (display, scope, principal) in planned {
            if s.role_listings
                .iter()
                .any(|l| l.scope == scope && l.principal == principal)
            {
                continue;
            }
            let assignments = self.read_timed(
                Route::RoleAssignments { scope: scope.clone(), principal: Some(principal.clone()) },
                || format!("GET {display}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope() and assignedTo('{principal}')"),
                "role assignment list",
                Times::Decide(RoleAssignment::unusable_time),
                |b| b.get("value").map(|_| RoleAssignment::parse_list(b)),
            );
            s.role_listings.push(RoleListing {
                scope,
                principal,
                assignments,
            });
        }
        let guids: BTreeSet<String> = s
            .role_listings
            .iter()
            .filter_map(|l| l.assignments.ok())
            .flatten()
            .map(|a| a.role_guid.clone())
            .collect();
        for guid in guids {
            let recorded = self
                .find(|r| *r == Route::RoleDefinition { guid: guid.clone() })
                .map(|(r, resp)| (r.clone(), resp));
            let read = match (recorded, roles::builtin(&guid)) {
                (Some((route, response)), _) if response.ok() => self.interpret(&route, response, "role definition", Times::None, rbac::parse_role_definition),
                (_, Some(builtin)) => Read::Ok(builtin),
                (Some((route, response)), None) => self.interpret(&route, response, "role definition", Times::None, rbac::parse_role_definition),
                (None, None) => self.gap(Gap::missing(
                    format!("GET /subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{guid}", s.target.subscription),
                    &Route::RoleDefinition { guid: guid.clone() },
                )),
            };
            s.role_definitions.insert(guid, read);
        }
        for (display, scope) in vaults {
            let assignments = self.read(
                Route::DenyAssignments { scope: scope.clone() },
                || format!("GET {display}/providers/Microsoft.Authorization/denyAssignments?$filter=atScope()"),
                "deny assignment list",
                |b| b.get("value").map(|_| DenyAssignment::parse_list(b)),
            );
            s.deny_listings.push(DenyListing { scope, assignments });
        }
    }

    /// System logs: the environment's workspace when it names one, else any recorded query
    /// (the workspace may come from diagnostic settings, `destination: azure-monitor`).
    fn read_logs(&mut self, s: &mut Snapshot) {
        let workspace = s
            .environment
            .ok()
            .and_then(|e| e.workspace.clone())
            .map(|w| w.to_ascii_lowercase());
        let destination = s.environment.ok().and_then(|e| e.logs_destination.clone());
        let recorded = self
            .find(
                |r| matches!(r, Route::LogQuery { workspace: w } if Some(w) == workspace.as_ref()),
            )
            .or_else(|| self.find(|r| matches!(r, Route::LogQuery { .. })))
            .map(|(r, resp)| (r.clone(), resp));
        s.system_logs = match recorded {
            Some((route, response)) => {
                // Rows after "now" do not exist for an `--as-of` replay.
                let now = s.now;
                let times = Times::Decide(SystemLogEntry::unusable_time);
                let read =
                    self.interpret(&route, response, "Log Analytics query result", times, |b| {
                        b.get("tables").map(|_| {
                            let mut rows = SystemLogEntry::parse_query(b);
                            rows.retain(|r| r.time <= now);
                            rows
                        })
                    });
                if let (Read::Ok(_), Some(code)) = (&read, response.error_code()) {
                    // 200 with a top-level error (PartialError): rows may be missing.
                    let mut gap = Gap::from_response(response, &route);
                    gap.why = format!(
                        "partial result ({code}): {}",
                        response
                            .error_message()
                            .unwrap_or("some rows may be missing")
                    );
                    self.gap::<()>(gap);
                }
                read
            }
            None => {
                let route = Route::LogQuery {
                    workspace: workspace.clone().unwrap_or_default(),
                };
                let request = match (&workspace, destination.as_deref()) {
                    (Some(w), _) => format!("POST /v1/workspaces/{w}/query (system logs)"),
                    (None, Some(d)) if d.eq_ignore_ascii_case("none") => "system logs: the environment's log destination is 'none'; only the live log stream has them".into(),
                    (None, _) => "POST /v1/workspaces/<workspace>/query (system logs; the environment names no Log Analytics workspace)".into(),
                };
                self.gap(Gap::missing(request, &route))
            }
        };
    }
}
