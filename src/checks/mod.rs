//! The checkers: one hypothesis each, pure functions of the snapshot.
//!
//! Each file states the Azure rule it encodes, the evidence it reads and what it cannot see.
//! `secret_ref`, `keyvault_access` and `stale_revision` always answer; the `keyvault_*`
//! refinements answer when the workload has a Key Vault reference
//! (docs/design.md#verdict-semantics).

mod certificates;
pub mod commands;
mod id;
mod keyvault_access;
mod keyvault_network;
mod keyvault_secret_state;
mod refused;
mod secret_ref;
mod stale_revision;

pub use id::CheckerId;
pub use secret_ref::did_you_mean;

use crate::logs::LogEvent;
use crate::snapshot::{Gap, KvReference, Read, Snapshot, SystemLogEntry, Workload};
use crate::verdict::{Evidence, Hypothesis, Remediation, Status, Verdict};

/// A registered checker.
pub struct Checker {
    pub id: CheckerId,
    /// One line for the README's table of checks.
    pub title: &'static str,
    /// `None` when the check does not apply to this workload.
    pub run: fn(&Snapshot, &Workload) -> Option<Hypothesis>,
}

/// Every checker, in tie-break order.
pub const CHECKERS: &[Checker] = &[
    Checker {
        id: secret_ref::ID,
        title: secret_ref::TITLE,
        run: secret_ref::check,
    },
    Checker {
        id: keyvault_access::ID,
        title: keyvault_access::TITLE,
        run: keyvault_access::check,
    },
    Checker {
        id: keyvault_secret_state::ID,
        title: keyvault_secret_state::TITLE,
        run: keyvault_secret_state::check,
    },
    Checker {
        id: keyvault_network::ID,
        title: keyvault_network::TITLE,
        run: keyvault_network::check,
    },
    Checker {
        id: stale_revision::ID,
        title: stale_revision::TITLE,
        run: stale_revision::check,
    },
];

/// Runs every checker and ranks the results.
pub fn diagnose(snapshot: &Snapshot) -> Verdict {
    let as_of = crate::azure::time::display(snapshot.now);
    let hypotheses = match &snapshot.workload {
        Read::Ok(workload) => {
            let mut found: Vec<Hypothesis> = CHECKERS
                .iter()
                .filter_map(|c| (c.run)(snapshot, workload))
                .collect();
            job_outcome(snapshot, &mut found);
            found
        }
        unread => CheckerId::ALL
            .into_iter()
            .filter(|id| id.always_answers())
            .map(|id| unreadable_workload(snapshot, id, unread))
            .collect(),
    };
    Verdict::new(
        snapshot.target.clone(),
        as_of,
        hypotheses,
        snapshot.gaps.clone(),
        snapshot.workload.ok().is_some(),
    )
    .with_timeline(crate::timeline::build(snapshot))
}

/// For a job, what its latest runs did is the symptom every cause explains: the latest failed
/// execution and the newest failure the system log gives a reason for (`BackoffLimitExceeded`,
/// `DeadlineExceeded`) go to every entry strong enough to act on.
fn job_outcome(snapshot: &Snapshot, hypotheses: &mut [Hypothesis]) {
    let mut seen = Vec::new();
    if let Some(e) = snapshot
        .executions
        .ok()
        .and_then(|all| all.first())
        .filter(|e| e.failed())
    {
        let mut evidence = Evidence::supports(
            format!(
                "the latest execution '{}' is {}{}",
                e.name,
                e.status.as_deref().unwrap_or("Failed"),
                e.start
                    .map(|s| format!(", started {}", crate::azure::time::display(s)))
                    .unwrap_or_default()
            ),
            "job_executions",
        )
        .reproduce(commands::job_executions(&snapshot.target));
        if let Some(start) = e.start {
            evidence = evidence.at(start);
        }
        seen.push(evidence);
    }
    if let Some(entry) = snapshot
        .logs()
        .iter()
        .find(|e| matches!(e.event, LogEvent::JobFailed { .. }))
    {
        seen.push(log_evidence(
            entry,
            "a job execution failed",
            true,
            snapshot,
        ));
    }
    for h in hypotheses
        .iter_mut()
        .filter(|h| h.status <= Status::Possible)
    {
        h.evidence.extend(seen.iter().cloned());
    }
}

fn unreadable_workload(snapshot: &Snapshot, id: CheckerId, read: &Read<Workload>) -> Hypothesis {
    let what = snapshot.target.kind_word();
    let summary = match read {
        Read::NotFound(_) => format!(
            "cannot decide: {what} '{}' was not found in resource group '{}'",
            snapshot.target.name(),
            snapshot.target.resource_group
        ),
        _ => format!(
            "cannot decide: the {what} '{}' could not be read",
            snapshot.target.name()
        ),
    };
    let mut h = Hypothesis::new(id, Status::Inconclusive, summary);
    if let Some(gap) = read.gap() {
        h.evidence.push(Evidence::supports(
            format!("{} -> {}", gap.request, gap.why),
            "app",
        ));
    }
    h.remediation.push(Remediation::run(
        format!("check the {what}'s name, resource group and subscription"),
        commands::show_app(&snapshot.target, "id"),
    ));
    h
}

/// Collects per-item findings (one secret, one revision, one vault) into one hypothesis entry
/// whose status is the strongest of its items.
pub(crate) struct Tally {
    id: CheckerId,
    items: Vec<(Status, String)>,
    concerns: Vec<String>,
    evidence: Vec<Evidence>,
    remediation: Vec<Remediation>,
    gaps: Vec<Gap>,
}

impl Tally {
    pub fn new(id: CheckerId) -> Tally {
        Tally {
            id,
            items: Vec::new(),
            concerns: Vec::new(),
            evidence: Vec::new(),
            remediation: Vec::new(),
            gaps: Vec::new(),
        }
    }

    /// Records one item's status and one-line summary; `concern` names the secret or revision.
    pub fn item(&mut self, status: Status, summary: impl Into<String>, concern: &str) {
        self.items.push((status, summary.into()));
        if status <= Status::Inconclusive && !self.concerns.iter().any(|c| c == concern) {
            self.concerns.push(concern.to_string());
        }
    }

    pub fn evidence(&mut self, evidence: Evidence) {
        if !self.evidence.contains(&evidence) {
            self.evidence.push(evidence);
        }
    }

    /// A read this entry needed and did not get: shown as evidence, listed in the verdict.
    pub fn gap(&mut self, gap: &Gap, source: &str) {
        // Short here; the verdict's gap list carries the full request and error.
        let why = gap.why.split(':').next().unwrap_or(&gap.why);
        self.evidence(Evidence::supports(
            format!("not read ({why}): {}", gap.short_request()),
            source,
        ));
        if !self.gaps.contains(gap) {
            self.gaps.push(gap.clone());
        }
    }

    pub fn remedy(&mut self, remediation: Remediation) {
        if !self.remediation.contains(&remediation) {
            self.remediation.push(remediation);
        }
    }

    /// The entry: the strongest status of its items. The summary is the strongest item's (with
    /// a count of the others), `all_clear` when every item is ruled out, or `when_empty` when
    /// there was nothing to check.
    pub fn finish(self, when_empty: (Status, &str), all_clear: &str) -> Hypothesis {
        let Some(status) = self.items.iter().map(|(s, _)| *s).min() else {
            let mut h = Hypothesis::new(self.id, when_empty.0, when_empty.1);
            h.evidence = self.evidence;
            h.gaps = self.gaps;
            return h;
        };
        let top: Vec<&String> = self
            .items
            .iter()
            .filter(|(s, _)| *s == status)
            .map(|(_, text)| text)
            .collect();
        let summary = match top.len() {
            _ if status == Status::RuledOut && !all_clear.is_empty() => all_clear.to_string(),
            1 => top[0].clone(),
            n => format!("{} (and {} more)", top[0], n - 1),
        };
        let mut h = Hypothesis::new(self.id, status, summary);
        h.concerns = self.concerns;
        h.evidence = self.evidence;
        // What supports the status first; the order within each group is the checker's.
        h.evidence
            .sort_by_key(|e| e.effect != crate::verdict::Effect::Supports);
        h.gaps = self.gaps;
        // Remediation only makes sense for a cause that may be real.
        if status <= Status::Inconclusive {
            h.remediation = self.remediation;
        }
        h
    }

    /// Takes another tally's items (none stronger than `cap`), evidence, gaps and remedies:
    /// for references whose deciding fact is an assumption (docs/design.md#verdict-semantics).
    pub fn merge_capped(&mut self, other: Tally, cap: Status) {
        for (status, summary) in other.items {
            let capped = status.max(cap);
            self.items.push((capped, summary));
        }
        for concern in other.concerns {
            if !self.concerns.contains(&concern) {
                self.concerns.push(concern);
            }
        }
        for e in other.evidence {
            self.evidence(e);
        }
        for gap in other.gaps {
            if !self.gaps.contains(&gap) {
                self.gaps.push(gap);
            }
        }
        for r in other.remediation {
            self.remedy(r);
        }
    }

    /// True when an item about `concern` was already recorded.
    pub fn has(&self, concern: &str) -> bool {
        self.concerns.iter().any(|c| c == concern)
    }
}

/// The newest system-log event that tells whether a reference synced: an app-wide success, or
/// a failure naming this secret. Only the workload's own secrets sync through the platform's
/// secret sync; certificates and Dapr components log no such line (`None`).
pub(crate) fn latest_sync<'a>(
    snapshot: &'a Snapshot,
    r: &KvReference,
) -> Option<&'a SystemLogEntry> {
    if !r.consumer.is_workload_secret() {
        return None;
    }
    latest_sync_of(snapshot, &r.secret)
}

/// [`latest_sync`] by app secret name.
pub(crate) fn latest_sync_of<'a>(
    snapshot: &'a Snapshot,
    secret: &str,
) -> Option<&'a SystemLogEntry> {
    snapshot.logs().iter().find(|e| match &e.event {
        LogEvent::SyncSucceeded => true,
        LogEvent::SyncFailed(f) => f
            .secret
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(secret)),
        _ => false,
    })
}

/// One log row as evidence, quoting the platform's words (trimmed).
pub(crate) fn log_evidence(
    entry: &SystemLogEntry,
    what: &str,
    effect_supports: bool,
    snapshot: &Snapshot,
) -> Evidence {
    let when = crate::azure::time::display(entry.time);
    let text = entry.log.split_whitespace().collect::<Vec<_>>().join(" ");
    // Keep the head (which secret, which vault) and the tail (the Key Vault error code).
    let chars: Vec<char> = text.chars().collect();
    let text = if chars.len() > 260 {
        format!(
            "{} … {}",
            chars[..150].iter().collect::<String>(),
            chars[chars.len() - 100..].iter().collect::<String>()
        )
    } else {
        text
    };
    let observation = format!(
        "system log {when} ({}): {what} — \"{text}\"",
        entry.reason.as_deref().unwrap_or("no reason")
    );
    let e = if effect_supports {
        Evidence::supports(observation, "system_logs")
    } else {
        Evidence::weakens(observation, "system_logs")
    };
    e.at(entry.time)
        .reproduce(commands::sync_logs_kql(&snapshot.target))
}

/// `orders-db-password` -> `'orders-db-password'` for summaries.
pub(crate) fn quoted(name: &str) -> String {
    format!("'{name}'")
}
