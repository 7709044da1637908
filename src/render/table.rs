//! The default terminal view: the first lines give the top cause and the command that fixes
//! it, for the engineer paged at night; the table and evidence follow.
//!
//! On a terminal (`Style::wrap`) every line fits `Style::width` columns — the header, the top
//! cause, the fix, the hypotheses table, evidence, timeline and gaps — except a command (`az …`,
//! KQL), which stays whole on its own line to be copied and may be wider. Pipes and files get
//! one line per fact, unfolded.

use super::{Style, fill, headline, prose, target_parts, timeline_shown, worth_detail};
use crate::verdict::{Effect, Status, Verdict};
use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use std::fmt::Write;

/// The lines above the table: the target, the top cause (or why none), and the commands that
/// fix it. It is also the text a `kvdiag_check` tool result carries.
pub fn summary(verdict: &Verdict, style: Style) -> String {
    let mut out = String::new();
    let (label, top) = headline(verdict);
    let header = target_parts(verdict);
    let mut words = vec!["kvdiag"];
    words.extend(header.iter().map(String::as_str));
    out.push_str(&fill(
        &words,
        " · ",
        "",
        "  ",
        style.wrap.then_some(style.width),
    ));
    writeln!(out).ok();
    match top {
        Some(h) => {
            writeln!(
                out,
                "{}: {} ({})",
                label.to_uppercase(),
                h.id.as_str(),
                h.status
            )
            .ok();
            out.push_str(&prose(&h.summary, "  ", "  ", style));
            if h.status == crate::verdict::Status::Inconclusive {
                let mut needs: Vec<&str> = Vec::new();
                for gap in &verdict.gaps {
                    if !needs.contains(&gap.needs.as_str()) {
                        needs.push(&gap.needs);
                    }
                }
                writeln!(out, "TO DECIDE, kvdiag needs:").ok();
                for need in needs {
                    out.push_str(&prose(need, "  - ", "    ", style));
                }
            }
            let fixes: Vec<_> = h.remediation.iter().collect();
            if !fixes.is_empty() {
                writeln!(out, "FIX:").ok();
                for r in fixes {
                    // Folded lines stay comments, so the block can be pasted into a shell.
                    out.push_str(&prose(&r.description, "  # ", "  # ", style));
                    if let Some(cmd) = &r.command {
                        // Never folded: one command, one line to copy, however wide.
                        writeln!(out, "  {cmd}").ok();
                    }
                }
            }
        }
        None => {
            let line = format!(
                "{}: every hypothesis is unlikely or ruled out",
                label.to_uppercase()
            );
            out.push_str(&prose(&line, "", "  ", style));
        }
    }
    out
}

pub fn render(verdict: &Verdict, style: Style) -> String {
    let mut out = summary(verdict, style);
    let (_, top) = headline(verdict);
    writeln!(out).ok();

    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width);
    if !style.color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    table.set_header(vec!["#", "hypothesis", "status", "summary"]);
    for h in &verdict.hypotheses {
        let status = Cell::new(h.status.as_str());
        let status = if style.color {
            status.fg(color_of(h.status))
        } else {
            status
        };
        table.add_row(vec![
            Cell::new(h.rank),
            Cell::new(h.id.as_str()),
            status,
            Cell::new(&h.summary),
        ]);
    }
    writeln!(out, "{table}").ok();

    for h in verdict.hypotheses.iter().filter(|h| worth_detail(h)) {
        if h.evidence.is_empty() && h.remediation.is_empty() {
            continue;
        }
        writeln!(out).ok();
        let title = format!("{} ({}) — evidence:", h.id.as_str(), h.status);
        out.push_str(&prose(&title, "", "  ", style));
        for e in &h.evidence {
            let sign = if e.effect == Effect::Supports {
                "+"
            } else {
                "-"
            };
            let at = e
                .timeline
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            let line = format!("{} [{}{at}]", e.observation, e.source);
            out.push_str(&prose(&line, &format!("  {sign} "), "    ", style));
            if let Some(cmd) = &e.reproduce {
                writeln!(out, "      $ {cmd}").ok();
            }
        }
        if top.is_none_or(|t| t.id != h.id) && !h.remediation.is_empty() {
            writeln!(out, "  fix:").ok();
            for r in &h.remediation {
                out.push_str(&prose(&r.description, "    # ", "    # ", style));
                if let Some(cmd) = &r.command {
                    writeln!(out, "    {cmd}").ok();
                }
            }
        }
    }
    let (timeline, rest) = timeline_shown(verdict);
    if !timeline.is_empty() {
        writeln!(out, "\nTimeline (newest first):").ok();
        for e in timeline {
            let first = format!("  {:<4}{}  {:<15} ", e.id, e.at, e.source);
            let line = format!("{} — {}", e.event, e.detail);
            out.push_str(&prose(&line, &first, "      ", style));
        }
        if let Some(rest) = rest {
            out.push_str(&prose(&rest, "  … ", "    ", style));
        }
    }
    if !verdict.gaps.is_empty() {
        writeln!(out, "\nNot read ({} gap(s)):", verdict.gaps.len()).ok();
        for g in &verdict.gaps {
            let status = g.status.map(|s| format!(" [{s}]")).unwrap_or_default();
            out.push_str(&prose(
                &format!("{}{status}", g.request),
                "  ! ",
                "      ",
                style,
            ));
            out.push_str(&prose(&g.why, "      ", "      ", style));
            out.push_str(&prose(&g.needs, "      needs: ", "        ", style));
        }
    }
    out
}

fn color_of(status: Status) -> Color {
    match status {
        Status::Confirmed => Color::Red,
        Status::Likely => Color::DarkYellow,
        Status::Possible => Color::Yellow,
        Status::Inconclusive => Color::Magenta,
        Status::Unlikely | Status::RuledOut => Color::Green,
    }
}
