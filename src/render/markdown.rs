//! `-o markdown`: one message for an incident channel or a ticket.

use super::{headline, target_line, timeline_shown, worth_detail};
use crate::verdict::{Effect, Verdict};
use std::fmt::Write;

pub fn render(verdict: &Verdict) -> String {
    let mut out = String::new();
    let (label, top) = headline(verdict);
    match top {
        Some(h) => writeln!(
            out,
            "### kvdiag — {label}: `{}` ({})\n\n{}\n",
            h.id.as_str(),
            h.status,
            inline(&h.summary)
        ),
        None => writeln!(
            out,
            "### kvdiag — {label}\n\nEvery hypothesis is unlikely or ruled out.\n"
        ),
    }
    .ok();
    writeln!(out, "_{}_\n", inline(&target_line(verdict))).ok();
    if let Some(h) = top.filter(|h| h.remediation.iter().any(|r| r.command.is_some())) {
        writeln!(out, "**Fix**\n").ok();
        for r in &h.remediation {
            writeln!(out, "- {}", inline(&r.description)).ok();
            if let Some(cmd) = &r.command {
                writeln!(out, "  ```sh\n  {cmd}\n  ```").ok();
            }
        }
        out.push('\n');
    }
    writeln!(
        out,
        "| # | hypothesis | status | summary |\n|---|---|---|---|"
    )
    .ok();
    for h in &verdict.hypotheses {
        writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            h.rank,
            h.id.as_str(),
            h.status,
            cell(&h.summary)
        )
        .ok();
    }
    for h in verdict.hypotheses.iter().filter(|h| worth_detail(h)) {
        writeln!(out, "\n#### `{}` — {}\n", h.id.as_str(), h.status).ok();
        for e in &h.evidence {
            let sign = if e.effect == Effect::Supports {
                "supports"
            } else {
                "weakens"
            };
            let at = e
                .timeline
                .as_deref()
                .map(|t| format!(", {t}"))
                .unwrap_or_default();
            writeln!(
                out,
                "- ({sign}, {}{at}) {}",
                e.source,
                inline(&e.observation)
            )
            .ok();
            if let Some(cmd) = &e.reproduce {
                writeln!(out, "  - reproduce: `{}`", cmd.replace('`', "'")).ok();
            }
        }
        if top.is_none_or(|t| t.id != h.id) {
            for r in &h.remediation {
                match &r.command {
                    Some(cmd) => writeln!(
                        out,
                        "- fix: {} — `{}`",
                        inline(&r.description),
                        cmd.replace('`', "'")
                    ),
                    None => writeln!(out, "- fix: {}", inline(&r.description)),
                }
                .ok();
            }
        }
    }
    let (timeline, rest) = timeline_shown(verdict);
    if !timeline.is_empty() {
        writeln!(
            out,
            "\n#### Timeline (newest first)\n\n| | at | source | event | detail |\n|---|---|---|---|---|"
        )
        .ok();
        for e in timeline {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                e.id,
                e.at,
                e.source,
                cell(&e.event),
                cell(&e.detail)
            )
            .ok();
        }
        if let Some(rest) = rest {
            writeln!(out, "\n_{rest}_").ok();
        }
    }
    if !verdict.gaps.is_empty() {
        writeln!(out, "\n#### Evidence kvdiag could not read\n").ok();
        for g in &verdict.gaps {
            let status = g
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "—".into());
            writeln!(
                out,
                "- `{}` ({status}): {} — needs {}",
                g.request.replace('`', "'"),
                inline(&g.why),
                inline(&g.needs)
            )
            .ok();
        }
    }
    out
}

/// Text safe inside a Markdown paragraph: no stray emphasis or code markers.
fn inline(text: &str) -> String {
    text.replace('`', "'")
        .replace('*', "\\*")
        .replace('_', "\\_")
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|").replace('\n', " ")
}
