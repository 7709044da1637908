//! `kvdiag scan`: every Container App and job in subscriptions, a management group or the
//! tenant, diagnosed by the same checkers as `check` (docs/scan.md has the query plan;
//! docs/azure.md#resource-graph-and-fleet-reads the Azure facts it relies on).
//!
//! The cost grows with Resource Graph pages, vaults, workspaces and subscriptions, never with
//! workloads: apps, jobs, environments, identities, vaults and role assignments come from
//! Resource Graph in pages of 1,000 and batches of 100 ids; deny assignments, secret lists and
//! the activity log of each vault's resource group are read once per vault, system logs once per
//! workspace, the activity log once per subscription. What Resource Graph cannot settle is asked
//! of ARM the way `check` asks it: a principal with no direct grant (Resource Graph does not
//! expand groups), an identity or environment it did not return, a custom role, a pinned
//! version. Each workload's bundle is then assembled from those reads ([`assemble`]) and goes
//! through `Snapshot::build` and `checks::diagnose` like any other. Revisions are not in
//! Resource Graph: `stale_revision` says so, unless `--deep` reads the workload as `check` does.
//!
//! Nothing here prints; [`scan`] returns the [`Report`] and the CLI renders it.

pub mod assemble;
pub mod fleet;
pub mod report;

use crate::azure::ids;
use crate::azure::keyvault_url::KeyVaultRef;
use crate::azure::roles;
use crate::bundle::Response;
use crate::collect::{Collector, GraphList, Window};
use crate::kql;
use crate::plan::{GraphScope, Kind, Request};
use crate::snapshot::{Environment, KvReference, Snapshot, WorkloadKind, parse_role_definition};
use crate::verdict::Status;
use fleet::{Fleet, Row};
use futures::StreamExt;
use futures::future::join_all;
pub use report::{Entry, Report, ScopeGap};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// Ids or names in one Resource Graph `in~` list.
pub const BATCH: usize = 100;
/// Vaults per role-assignment query (each brings its group and subscription scopes).
pub const VAULT_BATCH: usize = 30;
/// Subscriptions per Resource Graph query (the documented guidance is fewer than 300).
pub const SUBSCRIPTION_BATCH: usize = 250;
/// Workloads `--deep` reads at once (each read is itself parallel under `--parallel`).
pub const DEEP_PARALLEL: usize = 4;

/// What to scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub subscriptions: Vec<String>,
    pub management_group: Option<String>,
    pub resource_group: Option<String>,
}

impl Scope {
    /// The Resource Graph scopes of the workload query: subscriptions in batches, one
    /// management group, or the tenant.
    fn graph_scopes(&self) -> Vec<GraphScope> {
        match (&self.management_group, self.subscriptions.is_empty()) {
            (Some(group), _) => vec![GraphScope::ManagementGroup(group.clone())],
            (None, true) => vec![GraphScope::Tenant],
            (None, false) => self
                .subscriptions
                .chunks(SUBSCRIPTION_BATCH)
                .map(|c| GraphScope::Subscriptions(c.to_vec()))
                .collect(),
        }
    }

    /// Words for a gap: what a query over this scope covers.
    fn describe(&self, scope: &GraphScope) -> String {
        let base = match scope {
            GraphScope::Subscriptions(s) if s.len() == 1 => format!("subscription {}", s[0]),
            GraphScope::Subscriptions(s) => format!("subscriptions {}", s.join(", ")),
            GraphScope::ManagementGroup(g) => format!("management group {g}"),
            GraphScope::Tenant => "every subscription the credential can read".into(),
        };
        match &self.resource_group {
            Some(rg) => format!("{base}, resource group '{rg}'"),
            None => base,
        }
    }
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct Options {
    pub scope: Scope,
    /// "Now" and the log and activity window.
    pub window: Window,
    /// Read every workload the scan could not clear as `check` does.
    pub deep: bool,
}

/// Scans the scope and diagnoses every workload in it.
pub async fn scan(collector: &Collector, options: &Options) -> Report {
    let mut gaps = Vec::new();
    let mut fleet = Fleet::new(options.window.now, options.window.since);
    let mut rows = workloads(collector, &options.scope, &mut gaps).await;
    gather(collector, &rows, &mut fleet).await;
    collector.step(&format!("diagnosing {} workloads", rows.len()));
    let mut entries: Vec<Entry> = Vec::with_capacity(rows.len());
    let mut as_check: Vec<usize> = Vec::new();
    for (i, row) in rows.iter_mut().enumerate() {
        if row
            .workload
            .as_ref()
            .is_some_and(assemble::beyond_shared_reads)
        {
            as_check.push(i);
        }
        let snapshot = assemble::snapshot_for(row, &fleet);
        entries.push(Entry::new(row, crate::checks::diagnose(&snapshot), false));
        // A row is only needed once: what `--deep` needs (id, name, group) stays.
        row.body = Value::Null;
        row.workload = None;
    }
    drop(fleet);
    if options.deep {
        as_check.extend(undecided(&entries));
        as_check.sort_unstable();
        as_check.dedup();
    }
    if !as_check.is_empty() {
        read_as_check(collector, &mut entries, &rows, &as_check, &options.window).await;
    }
    collector.finish_progress();
    Report::new(&options.scope, options.window.now, entries, gaps, collector)
}

/// Every app and job in scope, each once; rows that are not one become scope gaps.
async fn workloads(collector: &Collector, scope: &Scope, gaps: &mut Vec<ScopeGap>) -> Vec<Row> {
    collector.step("Resource Graph: apps and jobs");
    let query = kql::fleet_workloads(scope.resource_group.as_deref());
    let scopes = scope.graph_scopes();
    let lists = join_all(
        scopes
            .iter()
            .map(|s| collector.graph(Kind::FleetResources, &query, s)),
    )
    .await;
    let mut seen = BTreeSet::new();
    let mut rows = Vec::new();
    for (graph_scope, list) in scopes.iter().zip(lists) {
        if let Some(failed) = &list.failed {
            gaps.push(ScopeGap::page(
                failed,
                Kind::FleetResources,
                format!(
                    "the apps and jobs of {} after the first {} rows ({} pages) read: they are not in this report",
                    scope.describe(graph_scope),
                    list.rows.len(),
                    list.pages
                ),
            ));
        }
        for value in &list.rows {
            match Row::parse(value) {
                Ok(row) => {
                    if seen.insert(ids::normalize(&row.id)) {
                        rows.push(row);
                    }
                }
                Err(why) => gaps.push(ScopeGap::row(why)),
            }
        }
    }
    rows.sort_by_key(|r| ids::normalize(&r.id));
    rows
}

/// Reads a Resource Graph lookup in batches (at tenant scope, as `check`'s vault lookup does):
/// each batch's rows, or its failure for every key it held.
async fn lookup(
    collector: &Collector,
    keys: &[String],
    query: impl Fn(&[String]) -> String,
) -> Vec<(Vec<String>, GraphList)> {
    let batches: Vec<Vec<String>> = keys.chunks(BATCH).map(<[String]>::to_vec).collect();
    let lists = join_all(batches.iter().map(|b| {
        let q = query(b);
        async move {
            collector
                .graph(Kind::FleetResources, &q, &GraphScope::Tenant)
                .await
        }
    }))
    .await;
    batches.into_iter().zip(lists).collect()
}

/// Files each lookup row under its normalized id (rows whose id is not of `type` are dropped),
/// and each failed batch's keys under the failure.
fn file_by_id(
    found: Vec<(Vec<String>, GraphList)>,
    namespace: &str,
    kind: &str,
    into: &mut BTreeMap<String, Result<Value, Box<Response>>>,
) {
    for (keys, list) in found {
        for row in list.rows {
            if let Some(id) = row
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| ids::resource_of_type(id, namespace, kind))
            {
                into.insert(ids::normalize(&id), Ok(row));
            }
        }
        if let Some(failed) = list.failed {
            for key in keys {
                into.entry(key)
                    .or_insert_with(|| Err(Box::new(failed.clone())));
            }
        }
    }
}

/// The shared reads, stage by stage: each stage needs what the one before found.
async fn gather(collector: &Collector, rows: &[Row], fleet: &mut Fleet) {
    let parsed: Vec<(&Row, &crate::snapshot::Workload)> = rows
        .iter()
        .filter_map(|r| Some((r, r.workload.as_ref()?)))
        .collect();
    let env_ids: BTreeSet<String> = parsed
        .iter()
        .filter_map(|(_, w)| w.environment_id.as_deref())
        .filter_map(crate::collect::environment_id)
        .map(|id| ids::normalize(&id))
        .collect();
    let identity_ids: BTreeSet<String> = parsed
        .iter()
        .flat_map(|(_, w)| w.user_identity_ids())
        .filter_map(|id| {
            ids::resource_of_type(&id, "Microsoft.ManagedIdentity", "userAssignedIdentities")
        })
        .map(|id| ids::normalize(&id))
        .collect();
    let refs: Vec<(&Row, KvReference)> = parsed
        .iter()
        .flat_map(|(r, w)| KvReference::all_of(w).into_iter().map(move |k| (*r, k)))
        .collect();
    let vault_names: BTreeSet<String> = refs
        .iter()
        .filter_map(|(_, r)| r.parsed.as_ref().ok())
        .filter(|p| crate::collect::is_vault_host(&p.host))
        .map(|p| p.vault.clone())
        .collect();
    let subscriptions: BTreeSet<String> = rows
        .iter()
        .map(|r| r.subscription.to_ascii_lowercase())
        .collect();

    collector.step(&format!(
        "Resource Graph: {} environments, {} identities, {} vaults",
        env_ids.len(),
        identity_ids.len(),
        vault_names.len()
    ));
    let env_keys: Vec<String> = env_ids.iter().cloned().collect();
    let identity_keys: Vec<String> = identity_ids.iter().cloned().collect();
    let vault_keys: Vec<String> = vault_names.iter().cloned().collect();
    let (start, now) = fleet.span();
    let (envs, identities, vaults, activity) = tokio::join!(
        lookup(collector, &env_keys, |b| kql::resources_by_id(
            "microsoft.app/managedenvironments",
            b
        )),
        lookup(collector, &identity_keys, |b| kql::resources_by_id(
            "microsoft.managedidentity/userassignedidentities",
            b
        )),
        lookup(collector, &vault_keys, kql::vaults_by_name),
        join_all(
            subscriptions
                .iter()
                .filter(|s| ids::is_guid(s))
                .map(|s| collector.read_planned(Request::fleet_activity(s, (&start, &now))))
        ),
    );
    for (subscription, read) in subscriptions
        .iter()
        .filter(|s| ids::is_guid(s))
        .zip(activity)
    {
        fleet.activity.insert(subscription.clone(), read);
    }
    file_by_id(
        envs,
        "Microsoft.App",
        "managedEnvironments",
        &mut fleet.environments,
    );
    file_by_id(
        identities,
        "Microsoft.ManagedIdentity",
        "userAssignedIdentities",
        &mut fleet.identities,
    );
    for (names, list) in vaults {
        for row in list.rows {
            let (Some(id), Some(name)) = (
                row.get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| ids::resource_of_type(id, "Microsoft.KeyVault", "vaults")),
                row.get("name").and_then(Value::as_str),
            ) else {
                continue;
            };
            // A row is a vault only when its id names a vault of the row's name.
            if ids::last_segment(&id) == name.to_ascii_lowercase() {
                fleet.vaults.insert(name.to_ascii_lowercase(), row);
            }
        }
        if let Some(failed) = list.failed {
            for name in names {
                fleet.vault_lookup_failed.insert(name, failed.clone());
            }
        }
    }

    // Stage 3: per vault, per workspace, and ARM for what Resource Graph did not return.
    let vault_ids: Vec<String> = fleet
        .vaults
        .values()
        .filter_map(|v| v.get("id").and_then(Value::as_str))
        .filter_map(|id| ids::resource_of_type(id, "Microsoft.KeyVault", "vaults"))
        .collect();
    let mut workspaces: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (row, w) in &parsed {
        let Some(env) = w
            .environment_id
            .as_deref()
            .and_then(crate::collect::environment_id)
        else {
            continue;
        };
        let Some(Ok(body)) = fleet.environments.get(&ids::normalize(&env)) else {
            continue;
        };
        let Some(workspace) = Environment::parse(body)
            .and_then(|e| e.workspace)
            .filter(|w| ids::is_guid(w))
        else {
            continue;
        };
        let entry = workspaces
            .entry(workspace.to_ascii_lowercase())
            .or_default();
        // Fleet rows are apps and jobs only (fleet.rs).
        match row.kind {
            WorkloadKind::Job => entry.1.insert(row.name.clone()),
            WorkloadKind::App | WorkloadKind::Environment => entry.0.insert(row.name.clone()),
        };
    }
    let missing_envs: Vec<String> = env_ids
        .iter()
        .filter(|id| !fleet.environments.contains_key(*id))
        .cloned()
        .collect();
    let missing_identities: Vec<String> = identity_ids
        .iter()
        .filter(|id| !fleet.identities.contains_key(*id))
        .cloned()
        .collect();
    let groups = crate::collect::vault_groups(&vault_ids);
    collector.step(&format!(
        "{} vaults, {} workspaces, role assignments",
        vault_ids.len(),
        workspaces.len()
    ));
    let mut requests: Vec<Request> = Vec::new();
    for id in &vault_ids {
        requests.push(Request::vault_secret_list(id));
        requests.push(Request::deny_assignments(id));
    }
    for id in missing_envs {
        requests.push(Request::environment(id));
    }
    for id in missing_identities {
        requests.push(Request::identity(id));
    }
    for (s, rg) in &groups {
        requests.push(Request::group_activity(s, rg, Some((&start, &now))));
    }
    for (workspace, (apps, jobs)) in &workspaces {
        let apps: Vec<String> = apps.iter().cloned().collect();
        let jobs: Vec<String> = jobs.iter().cloned().collect();
        // Large workspaces are asked in parts, so that one query's text stays small.
        for part in 0..apps.len().max(jobs.len()).div_ceil(500).max(1) {
            let slice = |v: &Vec<String>| {
                v.iter()
                    .skip(part * 500)
                    .take(500)
                    .cloned()
                    .collect::<Vec<_>>()
            };
            requests.push(Request::workspace_logs(
                workspace,
                &slice(&apps),
                &slice(&jobs),
                (&start, &now),
            ));
        }
    }
    let (answers, assignments) = tokio::join!(
        join_all(requests.into_iter().map(|r| collector.read_planned(r))),
        role_assignments(collector, &vault_ids),
    );
    for answer in answers {
        if answer.service == crate::bundle::Service::LogAnalytics {
            merge_logs(fleet, answer);
        } else {
            fleet.keep(answer);
        }
    }
    for (batch, list) in assignments {
        fleet.add_assignments(list.rows);
        if let Some(failed) = list.failed {
            for id in batch {
                fleet
                    .assignments_failed
                    .insert(ids::normalize(&id), failed.clone());
            }
        }
    }

    // Stage 4: custom roles, then ARM for every principal without a direct grant, and the
    // version lists of pinned references the secret list cannot settle.
    let custom = custom_roles(fleet.assignments.values().flatten(), &BTreeSet::new());
    fleet.role_definitions = read_roles(collector, &custom).await;
    let confirm = confirmations(&refs, rows, fleet);
    let pinned = pinned_versions(&refs, fleet);
    collector.step(&format!(
        "confirming {} principals without a direct grant with ARM",
        confirm.len()
    ));
    let (confirmed, versions) = tokio::join!(
        join_all(confirm.into_iter().map(|r| collector.read_planned(r))),
        join_all(pinned.iter().map(|r| collector.read_versions(r))),
    );
    // ARM's answers may name custom roles Resource Graph did not (a group's role, say).
    let known: BTreeSet<String> = custom.iter().map(|id| ids::last_segment(id)).collect();
    let more = custom_roles(
        confirmed
            .iter()
            .filter(|r| r.ok())
            .filter_map(|r| r.body.as_ref()?.get("value")?.as_array())
            .flatten(),
        &known,
    );
    fleet
        .role_definitions
        .extend(read_roles(collector, &more).await);
    for answer in confirmed.into_iter().chain(versions) {
        // A confirmation answers the role listings whatever else held.
        fleet.keep(answer);
    }
}

/// The role definitions assignments name that are not compiled in (nor in `known`, by GUID),
/// once per GUID, by full id.
fn custom_roles<'a>(
    assignments: impl Iterator<Item = &'a Value>,
    known: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut seen = known.clone();
    assignments
        .filter_map(|a| {
            a.pointer("/properties/roleDefinitionId")
                .and_then(Value::as_str)
        })
        .filter_map(ids::role_definition)
        .filter(|id| {
            let guid = ids::last_segment(id);
            roles::builtin(&guid).is_none() && seen.insert(guid)
        })
        .collect()
}

async fn read_roles(collector: &Collector, ids: &BTreeSet<String>) -> Vec<Response> {
    join_all(
        ids.iter()
            .map(|id| collector.read_planned(Request::role_definition(id.as_str()))),
    )
    .await
}

/// Role assignments at the vaults' scopes, in batches of vaults.
async fn role_assignments(
    collector: &Collector,
    vault_ids: &[String],
) -> Vec<(Vec<String>, GraphList)> {
    let batches: Vec<Vec<String>> = vault_ids
        .chunks(VAULT_BATCH)
        .map(<[String]>::to_vec)
        .collect();
    let lists = join_all(batches.iter().map(|batch| {
        let mut scopes = BTreeSet::from(["/".to_string()]);
        for id in batch {
            scopes.insert(ids::normalize(id));
            if let Some(group) = crate::snapshot::resource_group_of(id) {
                scopes.insert(group);
            }
            if let Some(s) = ids::segment_after(id, "subscriptions") {
                scopes.insert(format!("/subscriptions/{}", s.to_ascii_lowercase()));
            }
        }
        let scopes: Vec<String> = scopes.into_iter().collect();
        let vaults: Vec<String> = batch.iter().map(|v| ids::normalize(v)).collect();
        let query = kql::role_assignments_at(&scopes, &vaults);
        async move {
            collector
                .graph(Kind::FleetRoleAssignments, &query, &GraphScope::Tenant)
                .await
        }
    }))
    .await;
    batches.into_iter().zip(lists).collect()
}

/// Several answers of one workspace (a large one is asked in parts) become one.
fn merge_logs(fleet: &mut Fleet, answer: Response) {
    let workspace = ids::segment_after(&answer.path, "workspaces")
        .unwrap_or_default()
        .to_ascii_lowercase();
    match fleet.logs.get_mut(&workspace) {
        None => {
            fleet.logs.insert(workspace, answer);
        }
        Some(kept) if kept.ok() && answer.ok() => {
            // Same query shape, so the columns agree: append the rows.
            let more = answer
                .body
                .as_ref()
                .and_then(|b| b.pointer("/tables/0/rows"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if let Some(Value::Array(rows)) = kept
                .body
                .as_mut()
                .and_then(|b| b.pointer_mut("/tables/0/rows"))
            {
                rows.extend(more);
            }
        }
        Some(kept) => {
            if kept.ok() {
                *kept = answer;
            }
        }
    }
}

/// True when a role grants `getSecret` with no condition attached: a grant Resource Graph
/// shows directly, so ARM need not be asked.
fn grants(assignment: &Value, fleet: &Fleet) -> bool {
    let unconditional = assignment
        .pointer("/properties/condition")
        .is_none_or(|c| c.is_null() || c.as_str().is_some_and(|s| s.trim().is_empty()));
    let Some(guid) = assignment
        .pointer("/properties/roleDefinitionId")
        .and_then(Value::as_str)
        .map(ids::last_segment)
    else {
        return false;
    };
    let definition = roles::builtin(&guid).or_else(|| {
        fleet
            .role_definitions
            .iter()
            .filter(|r| r.ok() && ids::last_segment(&r.path) == guid)
            .find_map(|r| r.body.as_ref().and_then(parse_role_definition))
    });
    unconditional
        && definition.is_some_and(|d| d.grants(roles::GET_SECRET) && !d.excludes(roles::GET_SECRET))
}

/// ARM `atScope() and assignedTo(p)` for every principal that Resource Graph shows with no
/// direct grant on an RBAC vault it reads from, or whose assignment page failed: groups,
/// management-group grants and a lost page are only seen there. At the vault; at a secret only
/// when a group is assigned at that secret (or the page was lost): otherwise the secret's
/// listing is the vault's ARM answer plus Resource Graph's rows at the secret
/// ([`assemble`]). Each listing once.
fn confirmations(refs: &[(&Row, KvReference)], rows: &[Row], fleet: &Fleet) -> Vec<Request> {
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    let principals_of: BTreeMap<String, Vec<String>> = rows
        .iter()
        .filter_map(|r| {
            let w = r.workload.as_ref()?;
            Some((
                ids::normalize(&r.id),
                w.identity
                    .principals()
                    .into_iter()
                    .map(|(p, _)| p)
                    .collect(),
            ))
        })
        .collect();
    for (row, r) in refs {
        let Ok(parsed) = &r.parsed else { continue };
        let Some(vault) = fleet.vaults.get(&parsed.vault) else {
            continue;
        };
        let Some(vault_id) = vault.get("id").and_then(Value::as_str) else {
            continue;
        };
        let rbac = vault
            .pointer("/properties/enableRbacAuthorization")
            .and_then(Value::as_bool)
            == Some(true);
        if !rbac {
            continue;
        }
        let vault_key = ids::normalize(vault_id);
        let page_failed = fleet.assignments_failed.contains_key(&vault_key);
        let secret_scope = format!("{vault_id}/secrets/{}", parsed.secret);
        let secret_key = ids::normalize(&secret_scope);
        let granted = |principal: &str, scope: &str| {
            !page_failed
                && fleet
                    .assignments_of(principal, scope)
                    .any(|a| grants(a, fleet))
        };
        for principal in principals_of
            .get(&ids::normalize(&row.id))
            .into_iter()
            .flatten()
        {
            if !granted(principal, &vault_key) && ids::is_guid(principal) {
                wanted.insert((vault_id.to_string(), principal.clone()));
            }
        }
        if let Some(principal) = &r.principal
            && ids::is_guid(principal)
            && !granted(principal, &secret_key)
        {
            // ARM's answer at the vault holds everything above the secret, groups and
            // management groups included; Resource Graph holds every assignment at the secret
            // itself. Only a group's assignment there needs the secret's own listing.
            wanted.insert((vault_id.to_string(), principal.clone()));
            if page_failed || fleet.group_scopes.contains(&secret_key) {
                wanted.insert((secret_scope, principal.clone()));
            }
        }
    }
    wanted
        .into_iter()
        .map(|(scope, principal)| Request::role_assignments(&scope, &principal))
        .collect()
}

/// Pinned references whose version is not the current one in the vault's secret list: their
/// version list, read as `check` reads it.
fn pinned_versions(refs: &[(&Row, KvReference)], fleet: &Fleet) -> Vec<KeyVaultRef> {
    let mut seen = BTreeSet::new();
    refs.iter()
        .filter_map(|(_, r)| r.parsed.as_ref().ok())
        .filter(|p| p.version.is_some() && crate::collect::is_vault_host(&p.host))
        .filter(|p| {
            let pinned = p.version.as_deref().unwrap_or_default();
            let current = fleet
                .vaults
                .get(&p.vault)
                .and_then(|v| v.get("id").and_then(Value::as_str))
                .and_then(|id| {
                    fleet.direct(&crate::bundle::Route::VaultSecretList {
                        vault_id: ids::normalize(id),
                    })
                })
                .and_then(|list| list.body.as_ref()?.get("value")?.as_array().cloned())
                .and_then(|items| {
                    items.into_iter().find(|i| {
                        i.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.eq_ignore_ascii_case(&p.secret))
                    })
                })
                .and_then(|i| {
                    i.pointer("/properties/secretUriWithVersion")
                        .and_then(Value::as_str)
                        .map(ids::last_segment)
                });
            fleet.vaults.contains_key(&p.vault)
                && current.is_none_or(|c| !c.eq_ignore_ascii_case(pinned))
        })
        .filter(|p| seen.insert((p.host.clone(), p.secret.to_ascii_lowercase())))
        .cloned()
        .collect()
}

/// `--deep`: every workload whose top entry is not cleared (`unlikely` or `ruled_out`).
fn undecided(entries: &[Entry]) -> Vec<usize> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.verdict
                .top()
                .is_none_or(|h| h.status <= Status::Inconclusive)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Reads these workloads as `check` reads them, a few at a time, and diagnoses each from that
/// bundle; its verdict is then `check`'s. A workload that can no longer be read keeps its scan
/// verdict with a gap.
async fn read_as_check(
    collector: &Collector,
    entries: &mut [Entry],
    rows: &[Row],
    flagged: &[usize],
    window: &Window,
) {
    let flagged = flagged.to_vec();
    collector.step(&format!(
        "reading {} workloads as check does",
        flagged.len()
    ));
    let by_id: BTreeMap<String, &Row> = rows.iter().map(|r| (ids::normalize(&r.id), r)).collect();
    let reads = futures::stream::iter(flagged.into_iter().filter_map(|i| {
        let row = by_id.get(&ids::normalize(&entries[i].id))?;
        let target = assemble::target_of(row);
        Some(async move { (i, collector.collect(&target, window).await) })
    }))
    .buffer_unordered(DEEP_PARALLEL)
    .collect::<Vec<_>>()
    .await;
    for (i, read) in reads {
        match read {
            Ok(mut bundle) => {
                crate::bundle::redact(&mut bundle);
                let verdict = crate::checks::diagnose(&Snapshot::build(&bundle, Some(window.now)));
                if let Some(row) = by_id.get(&ids::normalize(&entries[i].id)) {
                    entries[i] = Entry::new(row, verdict, true);
                }
            }
            Err(e) => entries[i].verdict.gaps.push(crate::snapshot::Gap {
                request: format!("--deep: GET {}", entries[i].id),
                status: None,
                why: e.to_string(),
                needs: "the workload as `check` reads it".into(),
            }),
        }
    }
}

/// `OffsetDateTime` for reports.
pub fn display(now: OffsetDateTime) -> String {
    crate::azure::time::display(now)
}
