//! Builds a [`Snapshot`] from a bundle: knows the request plan ([`crate::plan`]), derives from
//! the app which reads should exist (its environment, each vault, each role-assignment
//! listing, ...), finds them with the bundle router, and records a [`Gap`] for each one that
//! failed or is absent.

use super::{
    ActivityEvent, Certificate, DaprComponent, DenyAssignment, DenyListing, Environment, Gap,
    JobExecution, KvReference, Read, Revision, RoleAssignment, RoleListing, SecretVersion,
    Snapshot, SystemLogEntry, Vault, VaultSecret, Workload, WorkloadKind, json, rbac, vault_groups,
};
use crate::azure::ids;
use crate::azure::roles;
use crate::bundle::{Bundle, Response, Route, route};
use crate::plan::Request;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// Builds the snapshot of a bundle; `as_of` replaces `collected_at` as "now".
pub(super) fn build(bundle: &Bundle, as_of: Option<OffsetDateTime>) -> Snapshot {
    Builder::new(bundle).build(as_of)
}

/// The placeholder for a read that depends on a workload that could not be read (checkers do
/// not run then; the workload's own gap explains why).
fn not_read<T>(what: &str) -> Read<T> {
    Read::NotRead(format!(
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

    /// Reads one planned request (found by its route; `expected` names it when it is missing):
    /// parses a success, keeps a 404, records a gap otherwise.
    fn read<T>(
        &mut self,
        wanted: Route,
        expected: Request,
        what: &str,
        parse: impl FnOnce(&Value) -> Option<T>,
    ) -> Read<T> {
        self.read_timed(wanted, expected, what, Times::None, parse)
    }

    /// [`Builder::read`] for a response holding times the evidence needs.
    fn read_timed<T>(
        &mut self,
        wanted: Route,
        expected: Request,
        what: &str,
        times: Times,
        parse: impl FnOnce(&Value) -> Option<T>,
    ) -> Read<T> {
        let found = self
            .find(|r| *r == wanted)
            .map(|(r, resp)| (r.clone(), resp));
        match found {
            None => self.gap(Gap::missing(expected.describe(), &wanted)),
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
        let workload = if target.is_environment() {
            self.read(
                Route::Environment { id: id.clone() },
                Request::environment(target.resource_id()),
                "managed environment",
                |b| Environment::parse(b).map(|e| Workload::of_environment(&e)),
            )
        } else {
            let (kind, wanted, what) = if target.is_job() {
                (
                    WorkloadKind::Job,
                    Route::Job { id: id.clone() },
                    "Container Apps job",
                )
            } else {
                (
                    WorkloadKind::App,
                    Route::App { id: id.clone() },
                    "container app",
                )
            };
            self.read_timed(
                wanted,
                Request::workload(target.resource_id(), target.is_job()),
                what,
                Times::Refine(Workload::unusable_time),
                |b| Workload::parse(kind, b),
            )
        };
        if let Read::NotFound(detail) = &workload {
            let gap = Gap {
                request: if target.is_environment() {
                    Request::environment(target.resource_id()).describe()
                } else {
                    Request::workload(target.resource_id(), target.is_job()).describe()
                },
                status: Some(404),
                why: detail.clone(),
                needs: format!(
                    "the right --subscription, --rg and --{}",
                    target.kind_word()
                ),
            };
            self.gaps.push(gap);
        }
        let mut snapshot = Snapshot {
            target,
            now,
            workload,
            // Only apps have revisions; everything else is replaced by `read_around` once the
            // workload itself could be read.
            revisions: if self.bundle.target.is_job() || self.bundle.target.is_environment() {
                Read::Ok(Vec::new())
            } else {
                not_read("revisions")
            },
            executions: if self.bundle.target.is_job() {
                not_read("job executions")
            } else {
                Read::Ok(Vec::new())
            },
            environment: not_read("environment"),
            dapr_components: None,
            identities: BTreeMap::new(),
            certificates: BTreeMap::new(),
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
        if w.kind == WorkloadKind::Job {
            s.executions = self.read_timed(
                Route::JobExecutions {
                    job_id: app_id.clone(),
                },
                Request::job_executions(&s.target.resource_id()),
                "job execution list",
                Times::Refine(JobExecution::unusable_time),
                |b| b.get("value").map(|_| JobExecution::parse_list(b)),
            );
        }
        if w.kind == WorkloadKind::App {
            s.revisions = self.read_timed(
                Route::Revisions {
                    app_id: app_id.clone(),
                },
                Request::revisions(&s.target.resource_id()),
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
                Request::environment(env),
                "managed environment",
                Environment::parse,
            ),
            None => Read::NotFound("the app names no environment".into()),
        };
        let reads_dapr = w.dapr.enabled || w.kind == WorkloadKind::Environment;
        if let (true, Some(env)) = (reads_dapr, &w.environment_id) {
            s.dapr_components = Some(self.read(
                Route::DaprComponents {
                    environment_id: ids::normalize(env),
                },
                Request::dapr_components(env),
                "Dapr component list",
                DaprComponent::parse_list,
            ));
        }
        if w.kind == WorkloadKind::Environment {
            self.read_certificate_list(s, w);
        }
        for id in w.certificate_ids() {
            let key = ids::normalize(&id);
            let read = self.read_timed(
                Route::Certificate { id: key.clone() },
                Request::certificate(id.as_str()),
                "environment certificate",
                Times::Refine(Certificate::unusable_time),
                Certificate::parse,
            );
            s.certificates.insert(key, read);
        }
        self.read_identities(s, w);
        self.read_vaults(s, w);
        self.read_rbac(s, w);
        if w.kind == WorkloadKind::Environment {
            // An environment's own Key Vault fetches (certificates) log no system-log line.
            s.system_logs = Read::NotRead("environments have no system-log query".into());
        } else {
            self.read_logs(s);
        }
        s.activity = self.read_timed(
            Route::ActivityLog {
                resource_group: None,
            },
            Request::app_activity(&s.target.subscription, &s.target.resource_id(), None),
            "activity log page",
            Times::Decide(ActivityEvent::unusable_time),
            |b| Some(ActivityEvent::parse_list(b)),
        );
        for group in vault_groups(s) {
            let read = self.read_timed(
                Route::ActivityLog {
                    resource_group: Some(group.clone()),
                },
                Request::group_activity(
                    &ids::segment_after(&group, "subscriptions").unwrap_or_default(),
                    &ids::last_segment(&group),
                    None,
                ),
                "activity log page",
                Times::Decide(ActivityEvent::unusable_time),
                |b| Some(ActivityEvent::parse_list(b)),
            );
            s.vault_activity.insert(group, read);
        }
    }

    /// `check --environment`: every certificate of the environment, from its list.
    fn read_certificate_list(&mut self, s: &mut Snapshot, w: &Workload) {
        let list = self.read(
            Route::Certificates {
                environment_id: ids::normalize(&w.id),
            },
            Request::certificates(&w.id),
            "certificate list",
            |b| b.get("value").map(|_| Certificate::parse_list(b)),
        );
        match list {
            Read::Ok(all) => {
                for c in all {
                    s.certificates.insert(ids::normalize(&c.id), Read::Ok(c));
                }
            }
            other => {
                // One entry stands for the unread list, so checkers say what they could not see.
                if let Some(unread) = other.without_value() {
                    let key = ids::normalize(&format!("{}/certificates", w.id));
                    s.certificates.insert(key, unread);
                }
            }
        }
    }

    fn read_identities(&mut self, s: &mut Snapshot, w: &Workload) {
        for id in w.user_identity_ids() {
            let key = ids::normalize(&id);
            let read = self.read(
                Route::UserAssignedIdentity { id: key.clone() },
                Request::identity(id.as_str()),
                "managed identity",
                |b| Some(b.clone()),
            );
            s.identities.insert(key, read);
        }
    }

    fn read_vaults(&mut self, s: &mut Snapshot, w: &Workload) {
        let bound: Vec<Certificate> = s
            .certificates
            .values()
            .filter_map(Read::ok)
            .cloned()
            .collect();
        s.kv_refs = KvReference::around(w, s.environment.ok(), &bound);
        // A component's Key Vault reads run in each scoped app's sidecar with that app's
        // identity: an environment target checks its components' secretRefs, not their reads.
        if w.kind != WorkloadKind::Environment {
            let dapr = KvReference::dapr_of(w, &s.dapr_components_of(w));
            s.kv_refs.extend(dapr);
        }
        let names = KvReference::vault_names(&s.kv_refs);
        if names.is_empty() {
            return;
        }
        for name in &names {
            let graph = self.graph_for(name);
            let read = self.read_vault(name, graph);
            s.vaults.insert(name.clone(), read);
        }
        for r in s.kv_refs.clone() {
            let Ok(parsed) = &r.parsed else { continue };
            if r.is_vault_wide() {
                continue;
            }
            let key = (parsed.vault.clone(), parsed.secret.to_ascii_lowercase());
            if s.vault_secrets.contains_key(&key) {
                continue;
            }
            let (metadata, versions) = match s.vaults.get(&parsed.vault) {
                Some(Read::Ok(vault)) => {
                    let vault_id = ids::normalize(&vault.id);
                    let metadata = self.read_timed(
                        Route::VaultSecret {
                            vault_id,
                            secret: key.1.clone(),
                        },
                        Request::vault_secret(&vault.id, &parsed.secret),
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
                        Request::secret_versions(&host, &parsed.secret),
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
                Some(Read::NotRead(_)) | None => continue,
            };
            s.vault_secrets.insert(key.clone(), metadata);
            s.secret_versions.insert(key, versions);
        }
    }

    /// The Resource Graph answer that looked for vault `name`: one whose rows hold it, else a
    /// successful one whose query named it (or the only one, for bundles that do not record
    /// the query), else the last attempt. Collection may look vaults up more than once (the
    /// environment's certificates are found after the app's own secrets).
    fn graph_for(&self, name: &str) -> Option<&'a Response> {
        let answers: Vec<&'a Response> = self
            .routed
            .iter()
            .filter(|(r, _)| *r == Route::ResourceGraph)
            .map(|(_, resp)| *resp)
            .collect();
        let holds = |g: &&&Response| {
            g.ok()
                && g.body.as_ref().is_some_and(|b| {
                    json::array(b, "/data").iter().any(|row| {
                        json::string(row, "/name").is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                })
        };
        let literal = crate::kql::string_literal(&name.to_ascii_lowercase());
        let searched = |g: &&&Response| {
            g.ok()
                && (answers.len() == 1
                    || g.request_body
                        .as_ref()
                        .and_then(|b| b.get("query"))
                        .and_then(Value::as_str)
                        .is_none_or(|q| q.to_ascii_lowercase().contains(&literal)))
        };
        answers
            .iter()
            .find(holds)
            .or_else(|| answers.iter().find(searched))
            .or(answers.last())
            .copied()
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
                    None => self.gap(Gap::missing(
                        Request::vault_lookup_of(name).describe(),
                        &Route::ResourceGraph,
                    )),
                };
            }
        };
        let display_id = vault_id.clone();
        self.read(
            Route::Vault {
                id: vault_id,
                name: name.to_string(),
            },
            Request::vault(display_id),
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
        for r in s.kv_refs.iter().filter(|r| !r.is_vault_wide()) {
            let (Ok(parsed), Some(principal)) = (&r.parsed, &r.principal) else {
                continue;
            };
            if let Some(Read::Ok(vault)) = s.vaults.get(&parsed.vault) {
                // The reference's own principal at its vault (the environment's, for a
                // certificate; the workload's are planned above already).
                planned.push((
                    vault.id.clone(),
                    ids::normalize(&vault.id),
                    principal.clone(),
                ));
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
                Route::RoleAssignments {
                    scope: scope.clone(),
                    principal: Some(principal.clone()),
                },
                Request::role_assignments(&display, &principal),
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
                (Some((route, response)), _) if response.ok() => self.interpret(
                    &route,
                    response,
                    "role definition",
                    Times::None,
                    rbac::parse_role_definition,
                ),
                (_, Some(builtin)) => Read::Ok(builtin),
                (Some((route, response)), None) => self.interpret(
                    &route,
                    response,
                    "role definition",
                    Times::None,
                    rbac::parse_role_definition,
                ),
                (None, None) => self.gap(Gap::missing(
                    Request::role_definition_in(&s.target.subscription, &guid).describe(),
                    &Route::RoleDefinition { guid: guid.clone() },
                )),
            };
            s.role_definitions.insert(guid, read);
        }
        for (display, scope) in vaults {
            let assignments = self.read(
                Route::DenyAssignments {
                    scope: scope.clone(),
                },
                Request::deny_assignments(&display),
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
                    (Some(w), _) => {
                        Request::system_logs(w, s.target.is_job(), s.target.name(), None)
                            .describe()
                    }
                    (None, Some(d)) if d.eq_ignore_ascii_case("none") => "system logs: the environment's log destination is 'none'; only the live log stream has them".into(),
                    (None, _) => "POST /v1/workspaces/<workspace>/query (system logs; the environment names no Log Analytics workspace)".into(),
                };
                self.gap(Gap::missing(request, &route))
            }
        };
    }
}
