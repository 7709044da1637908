//! What changed, and when: the incident timeline every verdict carries.
//!
//! The portal shows each of these on a different blade; the engineer paged at night wants them
//! in one list: writes to the app (succeeded or refused, and by whom), role assignments created
//! or deleted for the app's identities at the vault, its secrets or above, Key Vault writes and
//! secret versions, revisions created or failed, and the platform's Key Vault syncs. Entries are
//! newest first and bounded ([`LIMIT`]); a run of identical system-log events (the 30-minute
//! sync succeeding all day) becomes one entry with a count. Everything comes from the snapshot:
//! nothing after "now" (`--as-of`) is shown.

use crate::azure::{ids, time as t};
use crate::logs::{LogEvent, one_line};
use crate::refusals::Refusal;
use crate::snapshot::{ActivityEvent, Read, RoleChange, Snapshot, Workload};
use serde::Serialize;
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// At most this many entries: the newest ones.
pub const LIMIT: usize = 50;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// `t1` is the newest; evidence refers to entries by this id.
    pub id: String,
    /// RFC 3339, UTC, seconds.
    pub at: String,
    /// `activity_log`, `role_assignment`, `keyvault`, `revision`, `job_execution` or
    /// `system_log`.
    pub source: &'static str,
    pub event: String,
    pub detail: String,
    /// Every event time merged into this entry (a run of identical log events).
    #[serde(skip)]
    times: Vec<OffsetDateTime>,
    /// The newest event's own words, before a run's count was added.
    #[serde(skip)]
    newest: (String, String),
}

/// The timeline of a snapshot, newest first, at most [`LIMIT`] entries.
pub fn build(snapshot: &Snapshot) -> Vec<Entry> {
    let Some(workload) = snapshot.workload.ok() else {
        return Vec::new();
    };
    let mut raw: Vec<Raw> = Vec::new();
    // Read once: both the app's writes and the role changes come from the activity log.
    let events = snapshot.activity_events();
    let vaults = vault_ids(snapshot);
    activity(&events, workload, &vaults, &mut raw);
    role_assignments(snapshot, &events, workload, &vaults, &mut raw);
    keyvault(snapshot, &mut raw);
    revisions(snapshot, &mut raw);
    executions(snapshot, &mut raw);
    system_logs(snapshot, &mut raw);
    raw.retain(|r| r.at <= snapshot.now);
    // Newest first; at equal times, the order above (a write before what it caused).
    raw.sort_by_key(|r| std::cmp::Reverse(r.at));
    let mut entries: Vec<Entry> = Vec::new();
    for r in raw {
        if let Some(last) = entries.last_mut()
            && r.collapsible
            && last.source == r.source
            && last.newest.0 == r.event
        {
            last.times.push(r.at);
            let n = last.times.len();
            last.event = format!("{} ×{n}", last.newest.0);
            last.detail = format!(
                "{n} times from {} to {}; newest: {}",
                t::display(r.at),
                last.at,
                last.newest.1
            );
            continue;
        }
        entries.push(Entry {
            id: String::new(),
            at: t::display(r.at),
            source: r.source,
            newest: (r.event.clone(), r.detail.clone()),
            event: r.event,
            detail: r.detail,
            times: vec![r.at],
        });
    }
    entries.truncate(LIMIT);
    for (i, e) in entries.iter_mut().enumerate() {
        e.id = format!("t{}", i + 1);
    }
    entries
}

/// The entry an observation of `source` at `at` comes from.
pub fn find<'a>(timeline: &'a [Entry], at: OffsetDateTime, source: &str) -> Option<&'a str> {
    let wanted = match source {
        "system_logs" => "system_log",
        "revisions" => "revision",
        "role_assignments" => "role_assignment",
        "vault" | "secret_versions" => "keyvault",
        "job_executions" => "job_execution",
        other => other,
    };
    let at_time = |e: &&Entry| e.times.contains(&at);
    timeline
        .iter()
        .filter(at_time)
        .find(|e| e.source == wanted)
        .or_else(|| timeline.iter().find(at_time))
        .map(|e| e.id.as_str())
}

struct Raw {
    at: OffsetDateTime,
    source: &'static str,
    event: String,
    detail: String,
    /// Identical neighbours merge into one entry (periodic syncs).
    collapsible: bool,
}

impl Raw {
    fn new(at: OffsetDateTime, source: &'static str, event: String, detail: String) -> Raw {
        Raw {
            at,
            source,
            event,
            detail,
            collapsible: false,
        }
    }
}

/// Writes to the app, revision actions and writes to a referenced vault. A request's Begin
/// event is dropped when its End event is there.
fn activity(events: &[&ActivityEvent], workload: &Workload, vaults: &[String], out: &mut Vec<Raw>) {
    let finished: BTreeSet<&str> = events
        .iter()
        .filter(|e| !e.is_start())
        .filter_map(|e| e.correlation_id.as_deref())
        .collect();
    let app = ids::normalize(&workload.id);
    for e in events {
        if e.role_change.is_some()
            || (e.is_start()
                && e.correlation_id
                    .as_deref()
                    .is_some_and(|c| finished.contains(c)))
        {
            continue;
        }
        let resource = e
            .resource_id
            .as_deref()
            .map(ids::normalize)
            .unwrap_or_default();
        let on_app = resource.is_empty() || ids::covers(&app, &resource);
        let on_vault = vaults.iter().find(|v| ids::covers(v, &resource));
        if !on_app && on_vault.is_none() {
            continue;
        }
        let status = e.status.to_ascii_lowercase();
        let what = if e.is_app_write() {
            "app write".to_string()
        } else if let Some(v) = on_vault {
            let kind = operation_kind(&e.operation);
            format!("vault '{}' {kind}", ids::last_segment(v))
        } else {
            operation_kind(&e.operation)
        };
        let mut detail = e
            .caller
            .as_deref()
            .map(|c| format!("by {c}"))
            .unwrap_or_else(|| "caller not recorded".into());
        if let Some(code) = &e.error_code {
            detail.push_str(&format!(": {code}"));
            if let Some(secret) = e.refusal().as_ref().and_then(Refusal::secret) {
                detail.push_str(&format!(" (secret '{secret}')"));
            }
            if let Some(message) = &e.error_message {
                detail.push_str(&format!(" — {}", one_line(message, 200)));
            }
        }
        out.push(Raw::new(
            e.time,
            "activity_log",
            format!("{what} {status}"),
            detail,
        ));
    }
}

/// `Microsoft.App/containerApps/revisions/restart/action` -> `revisions/restart`.
fn operation_kind(operation: &str) -> String {
    let lower = operation.to_ascii_lowercase();
    let tail = lower
        .split_once('/')
        .map(|(_, rest)| rest)
        .unwrap_or(&lower)
        .trim_end_matches("/action");
    tail.split_once('/')
        .map(|(_, rest)| rest.to_string())
        .filter(|rest| !rest.is_empty())
        .unwrap_or_else(|| tail.to_string())
}

/// Role assignments created or deleted for one of the app's identities (or for a principal the
/// event does not record) at a scope that covers a referenced vault or one of its secrets; and
/// the creation time of every assignment the listings show, when the activity log has no
/// record of it (older than `--since`, or the log was not read).
fn role_assignments(
    snapshot: &Snapshot,
    events: &[&ActivityEvent],
    workload: &Workload,
    vaults: &[String],
    out: &mut Vec<Raw>,
) {
    let principals = workload.identity.principals();
    let label = |principal: &str| {
        principals
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(principal))
            .map(|(p, l)| format!("identity '{l}' ({p})"))
    };
    let touches = |scope: &str| {
        vaults
            .iter()
            .any(|v| ids::covers(scope, v) || ids::covers(v, scope))
    };
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for e in events {
        let Some(change) = &e.role_change else {
            continue;
        };
        if e.is_start() || !(e.succeeded() || e.failed()) || !touches(&change.scope) {
            continue;
        }
        let who = match change.principal.as_deref() {
            Some(p) => match label(p) {
                Some(l) => l,
                None => continue,
            },
            None => "a principal the event does not record".to_string(),
        };
        seen.insert(change.assignment.clone());
        out.push(Raw::new(
            e.time,
            "role_assignment",
            match (change.deleted, e.succeeded()) {
                (true, true) => "role assignment deleted",
                (false, true) => "role assignment created",
                (true, false) => "role assignment delete failed",
                (false, false) => "role assignment create failed",
            }
            .to_string(),
            format!(
                "{} for {who} at {}{}",
                role_name(snapshot, change),
                scope_text(&change.scope),
                e.by_caller()
            ),
        ));
    }
    for listing in &snapshot.role_listings {
        for a in listing.assignments.ok().into_iter().flatten() {
            let guid = ids::last_segment(&a.id);
            let Some(created) = a.created_on else {
                continue;
            };
            if !seen.insert(guid) {
                continue;
            }
            let who = label(&a.principal_id).unwrap_or_else(|| a.principal_id.clone());
            let role = snapshot.role_name(&a.role_guid);
            out.push(Raw::new(
                created,
                "role_assignment",
                "role assignment created".into(),
                format!(
                    "{role} for {who} at {} (from the assignment's createdOn)",
                    scope_text(&a.scope)
                ),
            ));
        }
    }
}

fn role_name(snapshot: &Snapshot, change: &RoleChange) -> String {
    change
        .role_guid
        .as_deref()
        .map(|guid| snapshot.role_name(guid))
        .unwrap_or_else(|| "a role the event does not record".into())
}

/// `vault 'kv'`, `secret 'kv/s'`, `resource group 'rg'`, or the scope itself.
fn scope_text(scope: &str) -> String {
    let s = ids::normalize(scope);
    let parts: Vec<&str> = s.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["subscriptions", sub] => format!("subscription {sub}"),
        ["subscriptions", _, "resourcegroups", rg] => format!("resource group '{rg}'"),
        [.., "vaults", v] => format!("vault '{v}'"),
        [.., "vaults", v, "secrets", secret] => format!("secret '{v}/{secret}'"),
        _ => scope.to_string(),
    }
}

/// Secret versions created, and versions that are disabled (at their last update).
fn keyvault(snapshot: &Snapshot, out: &mut Vec<Raw>) {
    for ((vault, secret), read) in &snapshot.secret_versions {
        let Some(versions) = read.ok() else { continue };
        let newest = versions.iter().filter_map(|v| v.created).max();
        for v in versions {
            let short_version = v.version.chars().take(8).collect::<String>();
            if let Some(created) = v.created {
                let current = if Some(created) == newest {
                    ", now the newest version"
                } else {
                    ""
                };
                out.push(Raw::new(
                    created,
                    "keyvault",
                    format!("secret '{secret}' version created"),
                    format!("vault '{vault}', version {short_version}…{current}"),
                ));
            }
            if v.enabled == Some(false)
                && let Some(updated) = v.updated.or(v.created)
            {
                out.push(Raw::new(
                    updated,
                    "keyvault",
                    format!("secret '{secret}' version disabled"),
                    format!("vault '{vault}', version {short_version}… (last updated then)"),
                ));
            }
        }
    }
}

fn revisions(snapshot: &Snapshot, out: &mut Vec<Raw>) {
    let Some(revisions) = snapshot.revisions.ok() else {
        return;
    };
    for r in revisions {
        let Some(created) = r.created else { continue };
        let state = if r.failed() {
            format!(
                "failed: {}",
                one_line(r.failure_text().unwrap_or("no error recorded"), 200)
            )
        } else if r.active {
            format!("active, {}% traffic", r.traffic_weight)
        } else {
            "inactive".into()
        };
        out.push(Raw::new(
            created,
            "revision",
            format!("revision '{}' created", r.name),
            state,
        ));
    }
}

/// A job's executions, at their start.
fn executions(snapshot: &Snapshot, out: &mut Vec<Raw>) {
    for e in snapshot
        .executions
        .ok()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(start) = e.start else { continue };
        let status = e.status.as_deref().unwrap_or("Unknown");
        let detail = match e.end {
            Some(end) => format!("ended {}", t::display(end)),
            None => "no end time".into(),
        };
        out.push(Raw::new(
            start,
            "job_execution",
            format!("execution '{}' {}", e.name, status.to_ascii_lowercase()),
            detail,
        ));
    }
}

fn system_logs(snapshot: &Snapshot, out: &mut Vec<Raw>) {
    for entry in snapshot.logs() {
        let (event, detail) = match &entry.event {
            LogEvent::SyncSucceeded => ("Key Vault sync succeeded".to_string(), "app-wide".into()),
            LogEvent::SyncFailed(f) => (
                format!(
                    "Key Vault sync failed for '{}'",
                    f.secret.as_deref().unwrap_or("?")
                ),
                f.cause.describe().to_string(),
            ),
            LogEvent::RestartWithNewSecrets => (
                "replicas restarted with new secret values".into(),
                entry.revision.clone().unwrap_or_default(),
            ),
            LogEvent::SecretRefNotFound { secret, consumer } => (
                format!("secretRef '{secret}' not found"),
                consumer.clone().unwrap_or_default(),
            ),
            LogEvent::ManagedIdentityFetchFailed { secret, identity } => (
                format!("Key Vault fetch failed for '{secret}'"),
                format!("identity {identity}"),
            ),
            LogEvent::JobFailed { reason } => (
                format!("job execution failed: {reason}"),
                one_line(&entry.log, 200),
            ),
            LogEvent::Other => continue,
        };
        out.push(Raw {
            at: entry.time,
            source: "system_log",
            event,
            detail,
            collapsible: true,
        });
    }
}

/// Normalized ids of the vaults read.
fn vault_ids(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .vaults
        .values()
        .filter_map(Read::ok)
        .map(|v| ids::normalize(&v.id))
        .collect()
}
