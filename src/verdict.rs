//! The verdict: one entry per hypothesis, ranked, with evidence, remediation and gaps.
//!
//! Semantics are normative in docs/design.md#verdict-semantics. The JSON shape is the public
//! contract `kvdiag/verdict/v1`: fields may be added, never renamed or removed.

use crate::bundle::Target;
use crate::checks::CheckerId;
use crate::snapshot::Gap;
use crate::timeline::Entry;
use serde::Serialize;
use time::OffsetDateTime;

/// The JSON schema id of [`Verdict`].
pub const SCHEMA: &str = "kvdiag/verdict/v1";

/// How strongly the evidence says a hypothesis is the cause. Declared strongest first: the
/// derived order is the ranking order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The deciding evidence was read completely and agrees, or a log line / failed write
    /// names this cause for this secret.
    Confirmed,
    /// The configuration implies the cause but a corroborating read is missing, or the
    /// evidence is young.
    Likely,
    /// A weak or heuristic signal only.
    Possible,
    /// A read needed to decide failed; the gap names it.
    Inconclusive,
    /// Evidence points against it, incompletely.
    Unlikely,
    /// Complete evidence shows it is not the cause.
    RuledOut,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Likely => "likely",
            Status::Possible => "possible",
            Status::Inconclusive => "inconclusive",
            Status::Unlikely => "unlikely",
            Status::RuledOut => "ruled_out",
        }
    }

    /// True when this status is at least as strong as `threshold` (for `--fail-on`).
    pub fn at_least(self, threshold: Status) -> bool {
        self <= threshold
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an observation makes the hypothesis more or less likely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Supports,
    Weakens,
}

/// One observation behind a status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub observation: String,
    pub effect: Effect,
    /// Where it was read: `app`, `revisions`, `vault`, `role_assignments`, `system_logs`, ...
    pub source: String,
    /// A command that shows the same thing by hand (`az ...` or KQL); never one that prints a
    /// secret value. `null` in JSON when there is none.
    pub reproduce: Option<String>,
    /// The id of the timeline entry this observation comes from (`t3`), when it has a time;
    /// `null` in JSON otherwise.
    pub timeline: Option<String>,
    /// When the observed event happened; links it to its timeline entry.
    #[serde(skip)]
    pub at: Option<OffsetDateTime>,
}

impl Evidence {
    pub fn supports(observation: impl Into<String>, source: &str) -> Evidence {
        Evidence {
            observation: observation.into(),
            effect: Effect::Supports,
            source: source.into(),
            reproduce: None,
            timeline: None,
            at: None,
        }
    }

    pub fn weakens(observation: impl Into<String>, source: &str) -> Evidence {
        Evidence {
            observation: observation.into(),
            effect: Effect::Weakens,
            source: source.into(),
            reproduce: None,
            timeline: None,
            at: None,
        }
    }

    pub fn reproduce(mut self, command: impl Into<String>) -> Evidence {
        self.reproduce = Some(command.into());
        self
    }

    /// The time of the event observed, so the verdict can point at its timeline entry.
    pub fn at(mut self, time: OffsetDateTime) -> Evidence {
        self.at = Some(time);
        self
    }
}

/// A step that fixes the cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remediation {
    pub description: String,
    /// The command that performs the step; `null` in JSON for advice without one.
    pub command: Option<String>,
}

impl Remediation {
    pub fn run(description: impl Into<String>, command: impl Into<String>) -> Remediation {
        Remediation {
            description: description.into(),
            command: Some(command.into()),
        }
    }

    pub fn advice(description: impl Into<String>) -> Remediation {
        Remediation {
            description: description.into(),
            command: None,
        }
    }
}

/// The result of one checker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hypothesis {
    pub id: CheckerId,
    pub status: Status,
    /// 1..n, unique, assigned by [`Verdict::new`].
    pub rank: usize,
    pub summary: String,
    /// The app secrets (and revisions) this entry is about; `[]` in JSON when none.
    pub concerns: Vec<String>,
    pub evidence: Vec<Evidence>,
    pub remediation: Vec<Remediation>,
    /// Reads this entry needed and did not get; merged into [`Verdict::gaps`].
    #[serde(skip)]
    pub gaps: Vec<Gap>,
}

impl Hypothesis {
    pub fn new(id: CheckerId, status: Status, summary: impl Into<String>) -> Hypothesis {
        Hypothesis {
            id,
            status,
            rank: 0,
            summary: summary.into(),
            concerns: Vec::new(),
            evidence: Vec::new(),
            remediation: Vec::new(),
            gaps: Vec::new(),
        }
    }

    /// Order among equal statuses: configuration faults before timing effects (docs/design.md#verdict-semantics).
    fn tie_break(&self) -> (u8, &str) {
        self.id.tie_order()
    }
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub schema: &'static str,
    /// Always all four keys in JSON (`app` or `job` is `null`); the bundle file keeps its own
    /// shape, which omits the absent one.
    #[serde(serialize_with = "target_with_nulls")]
    pub target: Target,
    /// "Now" for every rule (RFC 3339).
    pub as_of: String,
    pub hypotheses: Vec<Hypothesis>,
    pub gaps: Vec<Gap>,
    /// False when the app or job itself could not be read.
    pub workload_read: bool,
    /// What changed and when, newest first, at most [`crate::timeline::LIMIT`] entries.
    pub timeline: Vec<Entry>,
}

/// `target` in `kvdiag/verdict/v1`: every field present, `null` when absent
/// (docs/schema/verdict-v1.schema.json).
fn target_with_nulls<S: serde::Serializer>(
    target: &Target,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut s = serializer.serialize_struct("Target", 5)?;
    s.serialize_field("subscription", &target.subscription)?;
    s.serialize_field("resource_group", &target.resource_group)?;
    s.serialize_field("app", &target.app)?;
    s.serialize_field("job", &target.job)?;
    s.serialize_field("environment", &target.environment)?;
    s.end()
}

impl Verdict {
    /// Ranks the hypotheses: by status, then by the fixed id order.
    pub fn new(
        target: Target,
        as_of: String,
        mut hypotheses: Vec<Hypothesis>,
        mut gaps: Vec<Gap>,
        workload_read: bool,
    ) -> Verdict {
        // Gaps only a checker knew about join the snapshot's, so that every `inconclusive`
        // names its missing read in the verdict.
        for gap in hypotheses.iter().flat_map(|h| h.gaps.iter()) {
            if !gaps.contains(gap) {
                gaps.push(gap.clone());
            }
        }
        hypotheses.sort_by(|a, b| {
            a.status
                .cmp(&b.status)
                .then_with(|| a.tie_break().cmp(&b.tie_break()))
        });
        for (i, h) in hypotheses.iter_mut().enumerate() {
            h.rank = i + 1;
        }
        Verdict {
            schema: SCHEMA,
            target,
            as_of,
            hypotheses,
            gaps,
            workload_read,
            timeline: Vec::new(),
        }
    }

    /// Attaches the timeline and points every timed observation at its entry.
    pub fn with_timeline(mut self, timeline: Vec<Entry>) -> Verdict {
        for e in self
            .hypotheses
            .iter_mut()
            .flat_map(|h| h.evidence.iter_mut())
        {
            if let Some(at) = e.at {
                e.timeline = crate::timeline::find(&timeline, at, &e.source).map(str::to_string);
            }
        }
        self.timeline = timeline;
        self
    }

    /// The top-ranked entry.
    pub fn top(&self) -> Option<&Hypothesis> {
        self.hypotheses.first()
    }

    /// The exit code (docs/design.md#verdict-semantics): 1 when an entry is at or above `fail_on`; else 3 when the app
    /// could not be read or the top entry is inconclusive; else 0. (2 is decided before a
    /// verdict exists: usage, input and credential errors.)
    pub fn exit_code(&self, fail_on: Status) -> i32 {
        if self.hypotheses.iter().any(|h| h.status.at_least(fail_on)) {
            1
        } else if !self.workload_read
            || self.top().is_some_and(|h| h.status == Status::Inconclusive)
        {
            3
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(entries: &[(CheckerId, Status)], workload_read: bool) -> Verdict {
        let target = Target {
            subscription: "s".into(),
            resource_group: "rg".into(),
            app: Some("a".into()),
            job: None,
            environment: None,
        };
        let hypotheses = entries
            .iter()
            .map(|(id, s)| Hypothesis::new(*id, *s, ""))
            .collect();
        Verdict::new(target, String::new(), hypotheses, Vec::new(), workload_read)
    }

    #[test]
    fn ranks_by_status_then_configuration_before_timing() {
        let v = verdict(
            &[
                (CheckerId::StaleRevision, Status::Likely),
                (CheckerId::KeyvaultNetwork, Status::Likely),
                (CheckerId::SecretRef, Status::RuledOut),
                (CheckerId::KeyvaultAccess, Status::Likely),
                (CheckerId::KeyvaultSecretState, Status::Confirmed),
            ],
            true,
        );
        let order: Vec<(CheckerId, usize)> = v.hypotheses.iter().map(|h| (h.id, h.rank)).collect();
        assert_eq!(
            order,
            [
                (CheckerId::KeyvaultSecretState, 1),
                (CheckerId::KeyvaultAccess, 2),
                (CheckerId::KeyvaultNetwork, 3),
                (CheckerId::StaleRevision, 4),
                (CheckerId::SecretRef, 5)
            ]
        );
    }

    #[test]
    fn exit_codes_follow_the_design() {
        assert_eq!(
            verdict(&[(CheckerId::SecretRef, Status::Likely)], true).exit_code(Status::Likely),
            1
        );
        assert_eq!(
            verdict(&[(CheckerId::SecretRef, Status::Possible)], true).exit_code(Status::Likely),
            0
        );
        assert_eq!(
            verdict(&[(CheckerId::SecretRef, Status::Possible)], true).exit_code(Status::Possible),
            1
        );
        assert_eq!(
            verdict(&[(CheckerId::SecretRef, Status::Likely)], true).exit_code(Status::Confirmed),
            0
        );
        assert_eq!(
            verdict(
                &[
                    (CheckerId::SecretRef, Status::Inconclusive),
                    (CheckerId::StaleRevision, Status::RuledOut)
                ],
                true
            )
            .exit_code(Status::Likely),
            3
        );
        assert_eq!(
            verdict(&[(CheckerId::SecretRef, Status::Inconclusive)], false)
                .exit_code(Status::Likely),
            3
        );
        assert_eq!(
            verdict(&[(CheckerId::SecretRef, Status::Confirmed)], false).exit_code(Status::Likely),
            1,
            "a cause beats missing evidence"
        );
        assert_eq!(
            verdict(&[(CheckerId::SecretRef, Status::RuledOut)], true).exit_code(Status::Likely),
            0
        );
    }
}
