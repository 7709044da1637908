//! Changes Azure refused: failed writes to the app (activity log) and failed revisions.
//!
//! A rejected PUT leaves the app showing its old, good configuration, so these are often the
//! only evidence of the failed change (docs/azure.md#refused-writes). Each refusal is classified
//! once ([`crate::refusals`]) and handed to the checker of its hypothesis, which decides whether
//! it still holds now; this module only finds them and says when they became history.

use super::commands;
use crate::azure::time as t;
use crate::logs::one_line;
use crate::refusals::Refusal;
use crate::snapshot::{ActivityEvent, Revision, Snapshot, Workload};
use crate::verdict::Evidence;
use time::OffsetDateTime;

/// Where a refusal was read.
pub(crate) enum Origin<'a> {
    Write(&'a ActivityEvent),
    Revision(&'a Revision),
}

/// One refused change.
pub(crate) struct Refused<'a> {
    pub at: OffsetDateTime,
    pub refusal: Refusal,
    pub origin: Origin<'a>,
    /// What made it history, if anything: a later successful write of the app, or a newer
    /// revision that is the latest now.
    pub superseded: Option<String>,
}

/// Every refusal, newest first: failed app writes in the activity log, then failed revisions
/// whose platform error names a secret.
pub(crate) fn all<'a>(snapshot: &'a Snapshot, workload: &'a Workload) -> Vec<Refused<'a>> {
    let writes = snapshot.app_writes();
    let mut out: Vec<Refused> = writes
        .iter()
        .filter_map(|e| Some((*e, e.refusal()?)))
        .map(|(e, refusal)| Refused {
            at: e.time,
            superseded: writes
                .iter()
                .filter(|later| later.succeeded() && later.time > e.time)
                .min_by_key(|later| later.time)
                .map(|later| {
                    format!(
                        "a later write of the app succeeded at {}{}",
                        t::display(later.time),
                        later.by_caller()
                    )
                }),
            refusal,
            origin: Origin::Write(e),
        })
        .collect();
    let revisions = snapshot.revision_list();
    for r in revisions.iter().filter(|r| r.failed()) {
        let Some(text) = r.failure_text() else {
            continue;
        };
        let refusal = crate::refusals::classify(None, text);
        if refusal == Refusal::Other {
            continue;
        }
        let current = r.active || workload.latest_revision.as_deref() == Some(r.name.as_str());
        out.push(Refused {
            at: r.created.unwrap_or(snapshot.now),
            refusal,
            superseded: (!current).then(|| {
                format!(
                    "revision '{}' is not active and '{}' is the latest now",
                    r.name,
                    workload.latest_revision.as_deref().unwrap_or("another")
                )
            }),
            origin: Origin::Revision(r),
        });
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.at));
    out
}

impl Refused<'_> {
    /// `a write at <t> by <caller> was rejected` / `revision '<r>' (created <t>) failed`.
    pub fn what(&self) -> String {
        match &self.origin {
            Origin::Write(e) => format!(
                "a write of the app at {}{} was rejected",
                t::display(e.time),
                e.by_caller()
            ),
            Origin::Revision(r) => format!(
                "revision '{}' (created {}) failed",
                r.name,
                t::display(self.at)
            ),
        }
    }

    /// The platform's own words, as evidence that references the timeline.
    pub fn evidence(&self, snapshot: &Snapshot) -> Evidence {
        match &self.origin {
            Origin::Write(e) => Evidence::supports(
                format!(
                    "activity log {}: {}{} failed with {}: \"{}\"",
                    t::display(e.time),
                    e.operation,
                    e.by_caller(),
                    e.error_code.as_deref().unwrap_or("an error"),
                    one_line(e.error_message.as_deref().unwrap_or_default(), 300)
                ),
                "activity_log",
            )
            .at(e.time)
            .reproduce(commands::activity_failures(&snapshot.target)),
            Origin::Revision(r) => Evidence::supports(
                format!(
                    "revision '{}' is {}: \"{}\"",
                    r.name,
                    r.provisioning_state.as_deref().unwrap_or("failed"),
                    one_line(r.failure_text().unwrap_or_default(), 300)
                ),
                "revisions",
            )
            .at(self.at)
            .reproduce(commands::revision_list(&snapshot.target)),
        }
    }
}
