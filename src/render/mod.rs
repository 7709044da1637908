//! Renderers print a verdict; they never decide anything (docs/design.md#shape-of-the-code).

mod json;
mod markdown;
mod table;

use crate::verdict::{Hypothesis, Status, Verdict};

/// Output formats (`-o`, like `az -o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A terminal view: the top cause and its fix first, then every hypothesis.
    Table,
    /// The stable `kvdiag/verdict/v1` document, for `jq` and pipelines.
    Json,
    /// For pasting into an incident channel or ticket.
    Markdown,
}

/// How to draw a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours (a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// Total width for the table.
    pub width: u16,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: 120,
        }
    }
}

/// Renders a verdict in a format.
pub fn render(verdict: &Verdict, format: Format, style: Style) -> String {
    match format {
        Format::Table => table::render(verdict, style),
        Format::Json => json::render(verdict),
        Format::Markdown => markdown::render(verdict),
    }
}

/// What the first line of every human format says.
fn headline(verdict: &Verdict) -> (&'static str, Option<&Hypothesis>) {
    match verdict.top() {
        Some(top) if top.status <= Status::Possible => ("Top cause", Some(top)),
        Some(top) if top.status == Status::Inconclusive => ("Cannot decide", Some(top)),
        _ => ("No cause found", None),
    }
}

/// The target in words: `app 'ca-orders-web' in rg-orders (subscription …)`.
fn target_line(verdict: &Verdict) -> String {
    let t = &verdict.target;
    let kind = if t.is_job() { "job" } else { "app" };
    format!(
        "{kind} '{}' · resource group '{}' · subscription {} · as of {}",
        t.name(),
        t.resource_group,
        t.subscription,
        verdict.as_of
    )
}

/// Entries whose evidence is worth printing in the human formats.
fn worth_detail(h: &Hypothesis) -> bool {
    h.status <= Status::Inconclusive
}

/// Timeline entries the human formats print; `-o json` carries all of them.
const TIMELINE_SHOWN: usize = 15;

/// The timeline entries to print, and a note on the ones left out.
fn timeline_shown(verdict: &Verdict) -> (&[crate::timeline::Entry], Option<String>) {
    let all = &verdict.timeline;
    let shown = &all[..all.len().min(TIMELINE_SHOWN)];
    let rest = (all.len() > shown.len())
        .then(|| format!("{} older entries in -o json", all.len() - shown.len()));
    (shown, rest)
}
