//! `kvdiag scan` outputs: a table (one row per workload with a cause), the `kvdiag/scan/v1`
//! JSON, a markdown report, and SARIF (one result per cause, the workload's ARM id as its
//! location). Nothing here decides: statuses, order and exit code come from the report.

use super::{Style, display_width};
use crate::scan::{Entry, Report};
use crate::verdict::{Hypothesis, Status};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

/// `kvdiag scan -o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    /// One row per workload with a cause, then counts.
    Table,
    /// The stable `kvdiag/scan/v1` document.
    Json,
    /// A report to paste into an issue or a CI step summary.
    Markdown,
    /// SARIF 2.1.0 for code scanning: one result per cause.
    Sarif,
}

pub fn render(report: &Report, format: ScanFormat, style: Style) -> String {
    match format {
        ScanFormat::Table => table(report, style),
        ScanFormat::Json => report.to_json(),
        ScanFormat::Markdown => markdown(report),
        ScanFormat::Sarif => sarif(report),
    }
}

/// A workload's top entry when it is a cause (`possible` or stronger).
fn cause(w: &Entry) -> Option<&Hypothesis> {
    w.verdict
        .hypotheses
        .first()
        .filter(|h| h.status <= Status::Possible)
}

/// Every workload with a cause, with it, in the report's order.
fn causes(report: &Report) -> Vec<(&Entry, &Hypothesis)> {
    report
        .workloads
        .iter()
        .filter_map(|w| Some((w, cause(w)?)))
        .collect()
}

fn fix(h: &Hypothesis) -> Option<&str> {
    h.remediation.iter().find_map(|r| r.command.as_deref())
}

/// `app rg/name`.
fn label(w: &Entry) -> String {
    format!("{} {}/{}", w.kind, w.resource_group, w.name)
}

/// Workloads whose top entry is `inconclusive`, counted by that entry's hypothesis.
fn undecided(report: &Report) -> BTreeMap<&'static str, usize> {
    let mut by = BTreeMap::new();
    for w in &report.workloads {
        if let Some(h) = w
            .verdict
            .hypotheses
            .first()
            .filter(|h| h.status == Status::Inconclusive)
        {
            *by.entry(h.id.as_str()).or_default() += 1;
        }
    }
    by
}

fn counts_line(report: &Report) -> String {
    let s = &report.summary;
    let parts: Vec<String> = s
        .by_top_status
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    format!(
        "{} workloads ({}); {} requests ({} Resource Graph, {} ARM, {} Log Analytics, {} Key Vault)",
        s.workloads,
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        },
        s.requests.total,
        s.requests.resource_graph,
        s.requests.arm,
        s.requests.log_analytics,
        s.requests.keyvault
    )
}

fn clip(text: &str, width: usize) -> String {
    if display_width(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if display_width(&out) + 2 > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

fn table(report: &Report, style: Style) -> String {
    let mut out = String::new();
    let causes = causes(report);
    if causes.is_empty() {
        out.push_str("No cause found in any workload.\n");
    } else {
        let width = usize::from(style.width).max(60);
        let name_w = causes
            .iter()
            .map(|(w, _)| display_width(&label(w)))
            .max()
            .unwrap_or(8)
            .clamp(8, width / 3);
        let summary_w = width.saturating_sub(name_w + 40).max(20);
        writeln!(
            out,
            "{:<name_w$}  {:<21}  {:<12}  SUMMARY",
            "WORKLOAD", "TOP HYPOTHESIS", "STATUS"
        )
        .ok();
        for (w, h) in &causes {
            writeln!(
                out,
                "{:<name_w$}  {:<21}  {:<12}  {}",
                clip(&label(w), name_w),
                h.id.as_str(),
                h.status.as_str(),
                clip(&h.summary, summary_w)
            )
            .ok();
            if let Some(cmd) = fix(h) {
                writeln!(out, "{:<name_w$}  fix: {cmd}", "").ok();
            }
        }
    }
    out.push('\n');
    for (id, n) in undecided(report) {
        writeln!(
            out,
            "{n} workloads undecided: {id} could not be decided (-o json lists the gaps{})",
            if id == "stale_revision" {
                "; --deep reads revisions"
            } else {
                ""
            }
        )
        .ok();
    }
    let healthy = report
        .workloads
        .iter()
        .filter(|w| w.top_status() > Status::Inconclusive)
        .count();
    writeln!(out, "{healthy} workloads with no cause").ok();
    for g in &report.gaps {
        writeln!(out, "not read: {} — {} ({})", g.covers, g.why, g.needs).ok();
    }
    writeln!(out, "{}", counts_line(report)).ok();
    out
}

/// Markdown table cells: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let scope = &report.scope;
    let what = match (&scope.management_group, scope.subscriptions.is_empty()) {
        (Some(g), _) => format!("management group `{g}`"),
        (None, true) => "every readable subscription".to_string(),
        (None, false) => format!("{} subscription(s)", scope.subscriptions.len()),
    };
    writeln!(out, "### kvdiag scan — {what}, as of {}\n", report.as_of).ok();
    writeln!(out, "{}\n", counts_line(report)).ok();
    let causes = causes(report);
    if causes.is_empty() {
        writeln!(out, "No cause found in any workload.\n").ok();
    } else {
        writeln!(
            out,
            "| workload | hypothesis | status | summary | fix |\n|---|---|---|---|---|"
        )
        .ok();
        for (w, h) in causes {
            writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} |",
                cell(&label(w)),
                h.id.as_str(),
                h.status,
                cell(&h.summary),
                fix(h).map(|c| format!("`{}`", cell(c))).unwrap_or_default()
            )
            .ok();
        }
        out.push('\n');
    }
    for (id, n) in undecided(report) {
        writeln!(out, "- {n} workloads undecided on `{id}`").ok();
    }
    for g in &report.gaps {
        writeln!(
            out,
            "- **not read**: {} — {} ({})",
            cell(&g.covers),
            cell(&g.why),
            cell(&g.needs)
        )
        .ok();
    }
    out
}

fn sarif(report: &Report) -> String {
    let rules: Vec<serde_json::Value> = crate::checks::CHECKERS
        .iter()
        .map(|c| {
            json!({
                "id": c.id.as_str(),
                "shortDescription": {"text": c.title},
                "helpUri": "https://github.com/kvdiag/kvdiag#checks",
            })
        })
        .collect();
    let mut results = Vec::new();
    for w in &report.workloads {
        for h in w
            .verdict
            .hypotheses
            .iter()
            .filter(|h| h.status <= Status::Possible)
        {
            let mut text = format!("{} {}: {} ({})", w.kind, w.name, h.summary, h.status);
            for r in &h.remediation {
                match &r.command {
                    Some(cmd) => write!(text, "\nFix: {}: {cmd}", r.description).ok(),
                    None => write!(text, "\nFix: {}", r.description).ok(),
                };
            }
            results.push(json!({
                "ruleId": h.id.as_str(),
                "ruleIndex": crate::checks::CHECKERS.iter().position(|c| c.id == h.id).unwrap_or(0),
                "level": if h.status <= Status::Likely { "error" } else { "warning" },
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": w.id.trim_start_matches('/')}},
                    "logicalLocations": [{"fullyQualifiedName": w.id, "kind": "resource"}],
                }],
                "partialFingerprints": {"kvdiagScan/v1": format!("{}:{}", w.id.to_ascii_lowercase(), h.id.as_str())},
            }));
        }
    }
    let notifications: Vec<serde_json::Value> = report
        .gaps
        .iter()
        .map(|g| json!({"level": "warning", "message": {"text": format!("not read: {} — {}", g.covers, g.why)}}))
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "kvdiag", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}
