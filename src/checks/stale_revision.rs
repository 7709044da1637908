//! `stale_revision` (H3): a serving revision still holds values from before a secret changed.
//!
//! **Azure rule.** Secrets are application-scope: changing one creates no revision and does not
//! touch running replicas. For plain secrets (env vars and secret volumes alike) a revision that
//! started before the change keeps the old value until it restarts or a new revision rolls out;
//! `systemData.lastModifiedAt` moves on *any* app-level write, so on its own it is `possible` at
//! most. Key Vault references differ: a versionless reference is re-synced about every 30 minutes
//! and the platform restarts replicas on a new value (`RevisionRestartWithNewSecrets`), so compare
//! the vault's current version with the last successful sync, not with the revision's start; a
//! pinned (`/<version>`) reference never rotates (docs/azure.md#key-vault-reference-sync,
//! #revisions-and-secret-changes; docs/design.md#h3-stale_revision). A manual revision restart may
//! reuse the platform's cached value, so for Key Vault references setting the secret again comes
//! first.
//!
//! **Evidence read.** Revisions (created time, active, traffic); the app's `lastModifiedAt`;
//! successful app writes and revision restarts in the activity log; the vault's current version
//! (ARM metadata or version list); sync events in the system log.
//!
//! **Cannot see.** Which field an app-level write changed (the activity log has no body);
//! replica start times; jobs have no revisions (each execution reads current values).

use super::{CheckerId, Tally, commands, latest_sync_of, quoted};
use crate::azure::time as t;
use crate::logs::LogEvent;
use crate::snapshot::{
    AppSecret, KvReference, Read, Revision, Snapshot, Stamp, Workload, WorkloadKind,
};
use crate::verdict::{Evidence, Hypothesis, Remediation, Status};
use time::{Duration, OffsetDateTime};

pub const ID: CheckerId = CheckerId::StaleRevision;
pub const TITLE: &str = "serving revisions run on current secret values";

/// The write that creates a revision lands just before the revision's `createdTime`.
const GRACE: Duration = Duration::minutes(2);
/// Versionless references are re-synced within about 30 minutes (plus log ingestion delay).
const SYNC_WINDOW: Duration = Duration::minutes(35);

pub fn check(snapshot: &Snapshot, workload: &Workload) -> Option<Hypothesis> {
    let mut tally = Tally::new(ID);
    match workload.kind {
        WorkloadKind::Job => {
            return Some(tally.finish(
                (
                    Status::RuledOut,
                    "jobs have no revisions: each execution starts with the current secret values",
                ),
                "",
            ));
        }
        WorkloadKind::Environment => {
            return Some(tally.finish(
                (
                    Status::RuledOut,
                    "an environment has no revisions: check each app for values older than its secrets",
                ),
                "",
            ));
        }
        WorkloadKind::App => {}
    }
    let revisions = match &snapshot.revisions {
        Read::Ok(list) => list,
        Read::Unavailable(gap) => {
            tally.gap(gap, "revisions");
            tally.item(
                Status::Inconclusive,
                "cannot tell which revisions serve traffic: the revision list could not be read",
                "revisions",
            );
            return Some(tally.finish((Status::Inconclusive, ""), ""));
        }
        Read::NotFound(_) => {
            return Some(tally.finish((Status::RuledOut, "the app has no revisions"), ""));
        }
        Read::NotRead(why) => {
            tally.item(
                Status::Inconclusive,
                format!("cannot tell which revisions serve traffic: {why}"),
                "revisions",
            );
            return Some(tally.finish((Status::Inconclusive, ""), ""));
        }
    };
    let serving: Vec<&Revision> = revisions
        .iter()
        .filter(|r| r.serving(workload.single_revision_mode()))
        .collect();
    for revision in &serving {
        let Some(created) = revision.created else {
            tally.item(
                Status::Inconclusive,
                format!("revision '{}' has no createdTime", revision.name),
                &revision.name,
            );
            continue;
        };
        let mut seen = Vec::new();
        for (secret, via) in revision.template.consumed_secrets(&workload.secrets) {
            if seen.contains(&secret) {
                continue;
            }
            seen.push(secret.clone());
            let Some(app_secret) = workload.secret(&secret) else {
                continue;
            };
            let at = Consumer::new(snapshot, workload, revision, created, app_secret, &via);
            match snapshot
                .kv_refs
                .iter()
                .find(|r| r.consumer.is_workload_secret() && r.secret == secret)
            {
                None => at.plain(&mut tally),
                Some(kv) => at.key_vault(kv, &mut tally),
            }
        }
    }
    let empty = if serving.is_empty() {
        "no revision is serving"
    } else {
        "no serving revision consumes a secret"
    };
    Some(tally.finish(
        (Status::RuledOut, empty),
        "no serving revision runs on secret values older than the current ones",
    ))
}

/// One secret consumed by one serving revision.
struct Consumer<'a> {
    snapshot: &'a Snapshot,
    workload: &'a Workload,
    revision: &'a Revision,
    created: OffsetDateTime,
    secret: &'a AppSecret,
    via: &'a str,
    concern: String,
}

impl<'a> Consumer<'a> {
    fn new(
        snapshot: &'a Snapshot,
        workload: &'a Workload,
        revision: &'a Revision,
        created: OffsetDateTime,
        secret: &'a AppSecret,
        via: &'a str,
    ) -> Self {
        let concern = format!("{} ({})", secret.name, revision.name);
        Consumer {
            snapshot,
            workload,
            revision,
            created,
            secret,
            via,
            concern,
        }
    }

    fn started(&self) -> String {
        format!(
            "revision '{}' (started {})",
            self.revision.name,
            t::display(self.created)
        )
    }

    /// Plain secrets: a successful app-level write after the revision started, not followed by a
    /// new revision or a restart, left the revision on the old values.
    fn plain(&self, tally: &mut Tally) {
        let target = &self.snapshot.target;
        let secret = quoted(&self.secret.name);
        let modified = self.workload.last_modified_at.at();
        // Present but unusable: a write before the activity-log window cannot be excluded.
        let modified_unreadable = matches!(self.workload.last_modified_at, Stamp::Unusable(_));
        let changed_after = modified.is_some_and(|m| t::elapsed(m, self.created) > GRACE);
        let restart = Remediation::run(
            format!(
                "restart revision '{}' so its replicas read the current value",
                self.revision.name
            ),
            commands::revision_restart(target, &self.revision.name),
        );
        match &self.snapshot.activity {
            Read::Ok(events) => {
                let revisions = self
                    .snapshot
                    .revisions
                    .ok()
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let made_revision = |at: OffsetDateTime| {
                    revisions.iter().any(|r| {
                        r.created.is_some_and(|c| {
                            let after = t::elapsed(c, at);
                            after >= Duration::minutes(-1) && after <= Duration::minutes(5)
                        })
                    })
                };
                let write = events
                    .iter()
                    .filter(|e| {
                        e.is_successful_app_write()
                            && t::elapsed(e.time, self.created) > GRACE
                            && !made_revision(e.time)
                    })
                    .max_by_key(|e| e.time);
                match write {
                    Some(w) => {
                        let restarted = events
                            .iter()
                            .any(|e| e.is_successful_restart() && e.time > w.time);
                        let by = w
                            .caller
                            .as_deref()
                            .map(|c| format!(" by {c}"))
                            .unwrap_or_default();
                        let observation = format!(
                            "activity log: app write at {}{by} succeeded after {} and created no revision; secrets are app-scope, so {} ({}) keeps its old value until a restart",
                            t::display(w.time),
                            self.started(),
                            secret,
                            self.via
                        );
                        if restarted {
                            tally.item(Status::RuledOut, format!("{secret}: revision '{}' was restarted after the last app write", self.revision.name), &self.concern);
                            tally.evidence(Evidence::weakens(observation, "activity_log"));
                        } else {
                            tally.item(Status::Likely, format!("{} started before the app write at {}; it still serves the previous value of {secret}", self.started(), t::display(w.time)), &self.concern);
                            tally.evidence(Evidence::supports(observation, "activity_log").reproduce(format!("az monitor activity-log list --resource-id {} --offset 1d --query {} -o table", commands::q(&self.workload.id), commands::q("[?operationName.value=='Microsoft.App/containerApps/write'].{time:eventTimestamp, status:status.value, caller:caller}"))));
                            tally.remedy(restart);
                        }
                    }
                    None if changed_after => {
                        tally.item(Status::Possible, format!("the app was modified at {} after {}, outside the activity-log window", t::display(modified.unwrap_or(self.created)), self.started()), &self.concern);
                        tally.evidence(Evidence::supports(format!("systemData.lastModifiedAt {} is after {} (any app-level write moves it)", t::display(modified.unwrap_or(self.created)), self.started()), "app").reproduce(commands::show_app(target, "systemData")));
                        tally.remedy(restart);
                    }
                    None if modified_unreadable => tally.item(
                        Status::Unlikely,
                        format!("{secret}: no app write since {} in the activity-log window; systemData.lastModifiedAt could not be read, so an older write cannot be excluded", self.started()),
                        &self.concern,
                    ),
                    None => tally.item(
                        Status::RuledOut,
                        format!("{secret}: no app write since {}", self.started()),
                        &self.concern,
                    ),
                }
            }
            Read::Unavailable(_) | Read::NotFound(_) | Read::NotRead(_) => match modified {
                Some(m) if changed_after => {
                    tally.item(Status::Possible, format!("the app was modified at {} after {}; the activity log could not be read to see what changed", t::display(m), self.started()), &self.concern);
                    tally.evidence(Evidence::supports(format!("systemData.lastModifiedAt {} is after {} (any app-level write moves it)", t::display(m), self.started()), "app").reproduce(commands::show_app(target, "systemData")));
                    tally.remedy(restart);
                }
                Some(_) => tally.item(
                    Status::RuledOut,
                    format!(
                        "{secret}: the app has not been modified since {}",
                        self.started()
                    ),
                    &self.concern,
                ),
                None => tally.item(
                    Status::Inconclusive,
                    format!("cannot tell when the app last changed {secret}"),
                    &self.concern,
                ),
            },
        }
    }

    fn key_vault(&self, kv: &KvReference, tally: &mut Tally) {
        let Ok(parsed) = &kv.parsed else { return };
        let key = (parsed.vault.clone(), parsed.secret.to_ascii_lowercase());
        if self
            .snapshot
            .vault_secrets
            .get(&key)
            .is_some_and(Read::is_not_found)
        {
            // No such secret (or vault): nothing to be stale about; keyvault_secret_state says so.
            return;
        }
        let current = current_version(self.snapshot, &key);
        let secret = quoted(&self.secret.name);
        let target = &self.snapshot.target;
        let Some((current, current_created)) = current else {
            tally.item(Status::Inconclusive, format!("cannot tell whether {secret} changed: its current Key Vault version could not be read"), &self.concern);
            return;
        };
        let versionless_url = parsed.versionless_url();
        let identity = kv.identity.clone().unwrap_or_else(|| "system".into());
        match &parsed.version {
            Some(pinned) if pinned.eq_ignore_ascii_case(&current) => {
                tally.item(
                    Status::RuledOut,
                    format!("{secret} is pinned to the vault's current version"),
                    &self.concern,
                );
            }
            Some(pinned) => {
                let rotated_after = current_created.is_some_and(|c| c > self.created);
                let when = current_created
                    .map(t::display)
                    .unwrap_or_else(|| "an unknown time".into());
                let (status, summary) = if rotated_after {
                    (
                        Status::Likely,
                        format!(
                            "{secret} is pinned to version {pinned}, but the vault rotated to {current} at {when}, after {} — a pinned reference never follows",
                            self.started()
                        ),
                    )
                } else {
                    (
                        Status::Possible,
                        format!(
                            "{secret} is pinned to version {pinned}, not the vault's current {current} (created {when})"
                        ),
                    )
                };
                tally.item(status, summary, &self.concern);
                tally.evidence(Evidence::supports(format!("{secret} ({}) references {}; the vault's current version is {current}, created {when}", self.via, kv.url), "vault_secret").reproduce(commands::secret_versions(&parsed.vault, &parsed.secret)));
                tally.remedy(Remediation::run(format!("make {secret} versionless so it follows rotation (the platform syncs at once and restarts replicas)"), commands::secret_set_keyvault(target, &self.secret.name, &versionless_url, &identity)));
            }
            None => self.versionless(kv, &current, current_created, tally),
        }
    }

    /// Versionless: stale when no successful sync happened since the current version appeared.
    fn versionless(
        &self,
        kv: &KvReference,
        current: &str,
        current_created: Option<OffsetDateTime>,
        tally: &mut Tally,
    ) {
        let secret = quoted(&self.secret.name);
        let now = self.snapshot.now;
        let Some(version_time) = current_created else {
            tally.item(
                Status::Inconclusive,
                format!("cannot tell when {secret} last changed in Key Vault"),
                &self.concern,
            );
            return;
        };
        let force_sync = Remediation::run(
            format!(
                "set {secret} again: the platform syncs immediately and restarts replicas (a revision restart alone may reuse the cached value)"
            ),
            commands::secret_set_keyvault(
                &self.snapshot.target,
                &self.secret.name,
                &kv.url,
                kv.identity.as_deref().unwrap_or("system"),
            ),
        );
        let changed = format!(
            "current version {current} was created {}",
            t::display(version_time)
        );
        if self.snapshot.system_logs.ok().is_none() {
            if version_time <= self.created {
                tally.item(
                    Status::Unlikely,
                    format!(
                        "{secret}: {changed}, before {}; sync logs could not be read",
                        self.started()
                    ),
                    &self.concern,
                );
            } else {
                tally.item(Status::Inconclusive, format!("{secret} changed after {} ({changed}); without system logs kvdiag cannot see whether it synced", self.started()), &self.concern);
            }
            return;
        }
        let synced = self
            .snapshot
            .logs()
            .iter()
            .find(|e| matches!(e.event, LogEvent::SyncSucceeded));
        let last = latest_sync_of(self.snapshot, &self.secret.name);
        match (synced, last) {
            (Some(s), _) if s.time >= version_time => {
                tally.item(
                    Status::RuledOut,
                    format!(
                        "{secret}: synced at {} after its {changed}",
                        t::display(s.time)
                    ),
                    &self.concern,
                );
                tally.evidence(Evidence::weakens(format!("{secret}: the last successful sync ({}) is after the vault's {changed}", t::display(s.time)), "system_logs").reproduce(commands::sync_logs_kql(&self.snapshot.target)));
            }
            (_, Some(e)) if matches!(e.event, LogEvent::SyncFailed(_)) => {
                tally.item(Status::Possible, format!("syncs of {secret} are failing (see the keyvault_* entries); {} keeps the last value it synced", self.started()), &self.concern);
                tally.evidence(super::log_evidence(
                    e,
                    &format!("the latest sync of {secret} failed"),
                    true,
                    self.snapshot,
                ));
            }
            _ if t::elapsed(self.created, version_time) >= SYNC_WINDOW => {
                // The version existed well before the revision started, which then read the
                // platform's synced value; the log window simply holds no success to show it.
                tally.item(Status::Unlikely, format!("{secret}: {changed}, well before {}; no successful sync in the log window confirms it", self.started()), &self.concern);
            }
            _ if t::elapsed(now, version_time) <= SYNC_WINDOW => {
                tally.item(Status::Possible, format!("{secret}: {changed} ({}); the platform picks it up within about 30 minutes", t::ago(now, version_time)), &self.concern);
                tally.remedy(force_sync);
            }
            _ if self
                .snapshot
                .logs()
                .iter()
                .any(|e| e.time >= version_time && matches!(e.event, LogEvent::SyncFailed(_))) =>
            {
                tally.item(Status::Possible, format!("{secret}: {changed}; since then the app's Key Vault syncs have failed (see the keyvault_* entries), so it may still serve the previous value"), &self.concern);
                tally.remedy(force_sync);
            }
            (synced, _) => {
                let seen = match synced {
                    Some(s) => format!("the last successful sync was {}", t::display(s.time)),
                    None => "no successful sync appears in the logs".to_string(),
                };
                tally.item(Status::Likely, format!("{secret}: {changed} ({}) and {seen}: the app still serves the previous value", t::ago(now, version_time)), &self.concern);
                tally.evidence(
                    Evidence::supports(format!("{secret}: {changed}; {seen}"), "system_logs")
                        .reproduce(commands::sync_logs_kql(&self.snapshot.target)),
                );
                tally.remedy(force_sync);
            }
        }
    }
}

/// The vault's current version of a secret and when it was created: ARM metadata first, else
/// the newest enabled version in the data-plane list.
fn current_version(
    snapshot: &Snapshot,
    key: &(String, String),
) -> Option<(String, Option<OffsetDateTime>)> {
    if let Some(Read::Ok(m)) = snapshot.vault_secrets.get(key)
        && let Some(v) = &m.current_version
    {
        let created = match snapshot.secret_versions.get(key) {
            Some(Read::Ok(list)) => list
                .iter()
                .find(|x| x.version.eq_ignore_ascii_case(v))
                .and_then(|x| x.created)
                .or(m.created),
            _ => m.created,
        };
        return Some((v.clone(), created));
    }
    match snapshot.secret_versions.get(key) {
        Some(Read::Ok(list)) => list
            .iter()
            .rev()
            .find(|v| v.enabled != Some(false))
            .map(|v| (v.version.clone(), v.created)),
        _ => None,
    }
}
