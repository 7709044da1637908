//! Table and JSON output for `kvdiag lint` (SARIF is in [`super::sarif`]). Renderers only
//! print; the findings are decided by the rules.

use super::finding::Severity;
use super::{FileReport, Report};
use crate::render::Style;
use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use std::fmt::Write;

/// Output formats of `kvdiag lint -o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// One table per file, worst first within a line.
    Table,
    /// The stable `kvdiag/lint/v1` document.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning and Azure DevOps.
    Sarif,
}

pub fn render(report: &Report, format: LintFormat, style: Style) -> String {
    render_listing(report, format, style, false)
}

/// [`render`], and with `list_suppressed` (`-v`) the table lists suppressed findings.
pub fn render_listing(
    report: &Report,
    format: LintFormat,
    style: Style,
    list_suppressed: bool,
) -> String {
    match format {
        LintFormat::Table => {
            let mut out = table(report, style);
            out.extend(super::accept::summary(
                &report.suppressions,
                list_suppressed,
            ));
            out
        }
        LintFormat::Json => {
            let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
            text.push('\n');
            text
        }
        LintFormat::Sarif => super::sarif::render(report),
    }
}

fn table(report: &Report, style: Style) -> String {
    let mut out = String::new();
    for file in &report.files {
        file_table(&mut out, file, style);
    }
    let count = |s: Severity| report.findings().filter(|f| f.severity == s).count();
    let failed = report.files.iter().filter(|f| f.error.is_some()).count();
    writeln!(
        out,
        "{} error(s), {} warning(s), {} note(s) in {} file(s){}{}",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Note),
        report.files.len(),
        if failed > 0 {
            format!("; {failed} file(s) could not be linted")
        } else {
            String::new()
        },
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; {} file(s) skipped (not a Container App)",
                report.skipped.len()
            )
        }
    )
    .ok();
    out
}

fn file_table(out: &mut String, file: &FileReport, style: Style) {
    let what: Vec<String> = file
        .resources
        .iter()
        .map(|r| {
            let kind = r.kind.word();
            format!("{kind} '{}' (line {})", r.name, r.line)
        })
        .collect();
    writeln!(out, "kvdiag lint · {}", file.file).ok();
    if let Some(error) = &file.error {
        writeln!(out, "  ERROR: {error}").ok();
        writeln!(out).ok();
        return;
    }
    writeln!(out, "  {}", what.join(", ")).ok();
    if file.findings.is_empty() {
        writeln!(out, "  no findings").ok();
        writeln!(out).ok();
        return;
    }
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(["line:col", "severity", "rule", "finding"]);
    for f in &file.findings {
        let color = match f.severity {
            Severity::Error => Color::Red,
            Severity::Warning => Color::Yellow,
            Severity::Note => Color::Blue,
        };
        let mut text = if f.path.is_empty() {
            f.message.clone() // a suppression comment's own finding: its line says where
        } else {
            format!("{}\n  at {}", f.message, f.path)
        };
        for r in &f.remediation {
            match &r.command {
                Some(cmd) => write!(text, "\n  fix: {}\n  {cmd}", r.description).ok(),
                None => write!(text, "\n  fix: {}", r.description).ok(),
            };
        }
        let severity = if style.color {
            Cell::new(f.severity).fg(color)
        } else {
            Cell::new(f.severity)
        };
        table.add_row(vec![
            Cell::new(format!("{}:{}", f.line, f.column)),
            severity,
            Cell::new(&f.rule),
            Cell::new(text),
        ]);
    }
    writeln!(out, "{table}").ok();
    writeln!(out).ok();
}
