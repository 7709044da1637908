//! The scan's answer: `kvdiag/scan/v1` (docs/schema/scan-v1.schema.json). Fields may be added,
//! never renamed or removed.

use super::Scope;
use super::fleet::Row;
use crate::bundle::Response;
use crate::collect::Collector;
use crate::plan::Kind;
use crate::snapshot::WorkloadKind;
use crate::verdict::{Status, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The JSON schema id of [`Report`].
pub const SCHEMA: &str = "kvdiag/scan/v1";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub as_of: String,
    pub scope: ScopeOut,
    pub summary: Summary,
    /// Strongest top status first, then by id.
    pub workloads: Vec<Entry>,
    /// Pages and rows that could not be read: what each covers is not in `workloads`.
    pub gaps: Vec<ScopeGap>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScopeOut {
    pub subscriptions: Vec<String>,
    pub management_group: Option<String>,
    pub resource_group: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub workloads: usize,
    /// Workloads by the status of their top entry (every status key, zero included).
    pub by_top_status: BTreeMap<&'static str, usize>,
    pub requests: Requests,
}

/// HTTP requests of the run: `total` counts every attempt (retries, Key Vault challenges and
/// `--deep` included); the rest count the scan's planned reads by service, pages included.
#[derive(Debug, Clone, Serialize)]
pub struct Requests {
    pub total: usize,
    pub resource_graph: usize,
    pub arm: usize,
    pub log_analytics: usize,
    pub keyvault: usize,
}

/// One workload's verdict. In JSON: `id`, `kind`, `name`, `resource_group`, `subscription`,
/// `read`, then the verdict's `hypotheses` (v1 entries, ranked) and `gaps`.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub kind: &'static str,
    pub name: String,
    pub resource_group: String,
    pub subscription: String,
    /// `scan` (from the fleet's reads) or `deep` (read as `check` reads it).
    pub read: &'static str,
    pub verdict: Verdict,
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Entry", 8)?;
        s.serialize_field("id", &self.id)?;
        s.serialize_field("kind", self.kind)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("resource_group", &self.resource_group)?;
        s.serialize_field("subscription", &self.subscription)?;
        s.serialize_field("read", self.read)?;
        s.serialize_field("hypotheses", &self.verdict.hypotheses)?;
        s.serialize_field("gaps", &self.verdict.gaps)?;
        s.end()
    }
}

impl Entry {
    pub fn new(row: &Row, mut verdict: Verdict, deep: bool) -> Entry {
        // The scan carries no timeline, so evidence points at none.
        for e in verdict
            .hypotheses
            .iter_mut()
            .flat_map(|h| h.evidence.iter_mut())
        {
            e.timeline = None;
        }
        Entry {
            id: row.id.clone(),
            kind: match row.kind {
                WorkloadKind::Job => "job",
                WorkloadKind::App | WorkloadKind::Environment => "app",
            },
            name: row.name.clone(),
            resource_group: row.resource_group.clone(),
            subscription: row.subscription.clone(),
            read: if deep { "deep" } else { "scan" },
            verdict,
        }
    }

    /// The top entry's status (`inconclusive` when there is none).
    pub fn top_status(&self) -> Status {
        self.verdict
            .top()
            .map(|h| h.status)
            .unwrap_or(Status::Inconclusive)
    }
}

/// A page or row of the scope that could not be read, and what it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeGap {
    pub request: String,
    pub status: Option<u16>,
    pub why: String,
    pub needs: String,
    /// What is missing from the report because of it.
    pub covers: String,
}

impl ScopeGap {
    /// A Resource Graph page that failed.
    pub fn page(failed: &Response, kind: Kind, covers: String) -> ScopeGap {
        let why = match (&failed.error, failed.status) {
            (Some(e), _) => e.clone(),
            (None, Some(s)) => format!(
                "{s}{}",
                failed
                    .error_code()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default()
            ),
            (None, None) => "no answer".into(),
        };
        ScopeGap {
            request: format!("POST {} (apps and jobs)", crate::plan::RESOURCE_GRAPH),
            status: failed.status,
            needs: match failed.status {
                Some(429) => {
                    "retry later, or a longer --timeout (Resource Graph throttled the scan)".into()
                }
                _ => kind.spec().needs.to_string(),
            },
            why,
            covers,
        }
    }

    /// A row that is not a Container App or job kvdiag can name.
    pub fn row(why: String) -> ScopeGap {
        ScopeGap {
            request: format!("POST {} (apps and jobs)", crate::plan::RESOURCE_GRAPH),
            status: Some(200),
            why,
            needs: "nothing kvdiag can ask for: Resource Graph returned a row it will not use as a resource id".into(),
            covers: "that row: it is not diagnosed".into(),
        }
    }
}

impl Report {
    pub fn new(
        scope: &Scope,
        now: OffsetDateTime,
        mut workloads: Vec<Entry>,
        gaps: Vec<ScopeGap>,
        collector: &Collector,
    ) -> Report {
        workloads.sort_by(|a, b| {
            a.top_status()
                .cmp(&b.top_status())
                .then_with(|| a.id.to_ascii_lowercase().cmp(&b.id.to_ascii_lowercase()))
        });
        let mut by_top_status: BTreeMap<&'static str, usize> =
            Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        for w in &workloads {
            *by_top_status.entry(w.top_status().as_str()).or_default() += 1;
        }
        let (resource_graph, arm, log_analytics, keyvault) = collector.counts().get();
        Report {
            schema: SCHEMA,
            as_of: crate::azure::time::display(now),
            scope: ScopeOut {
                subscriptions: scope.subscriptions.clone(),
                management_group: scope.management_group.clone(),
                resource_group: scope.resource_group.clone(),
            },
            summary: Summary {
                workloads: workloads.len(),
                by_top_status,
                requests: Requests {
                    total: collector.requests_sent(),
                    resource_graph,
                    arm,
                    log_analytics,
                    keyvault,
                },
            },
            workloads,
            gaps,
        }
    }

    /// Exit code as `check`'s, over every workload: 1 when any has an entry at or above
    /// `fail_on`; else 3 when any could not be decided or part of the scope could not be read;
    /// else 0.
    pub fn exit_code(&self, fail_on: Status) -> i32 {
        let codes: Vec<i32> = self
            .workloads
            .iter()
            .map(|w| w.verdict.exit_code(fail_on))
            .collect();
        if codes.contains(&1) {
            1
        } else if codes.contains(&3) || !self.gaps.is_empty() {
            3
        } else {
            0
        }
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a report serializes");
        text.push('\n');
        text
    }

    /// The JSON document written as it is serialized (a large fleet's report is never held as
    /// one string).
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }
}
