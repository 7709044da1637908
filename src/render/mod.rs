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

/// How to draw the human formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours (a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// Total width for the table; with `wrap`, for every line of prose too.
    pub width: u16,
    /// Fold prose at `width` (a terminal). Off for pipes and files, where one line per fact
    /// keeps `grep` useful and the output does not depend on where it was run. Commands are
    /// never folded: they stay one line to copy, and may be wider than `width`.
    pub wrap: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: 120,
            wrap: false,
        }
    }
}

/// Terminal columns a string takes (East Asian wide characters count two).
pub fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `words` joined by `sep`, as lines no wider than `width` when `wrap` is set: the first line
/// starts with `first`, the others with `rest`. A word wider than a line on its own is split.
/// Without `wrap`, one line. Every line ends with a newline.
fn fill(words: &[&str], sep: &str, first: &str, rest: &str, width: Option<u16>) -> String {
    let Some(width) = width.map(usize::from) else {
        return format!("{first}{}\n", words.join(sep));
    };
    let mut lines: Vec<String> = vec![first.to_string()];
    let mut empty = true;
    for word in words.iter().filter(|w| !w.is_empty()) {
        let line = lines.last_mut().expect("never empty");
        let needed = if empty { 0 } else { display_width(sep) } + display_width(word);
        if display_width(line) + needed <= width {
            if !empty {
                line.push_str(sep);
            }
            line.push_str(word);
            empty = false;
            continue;
        }
        if !empty {
            lines.push(rest.to_string());
        }
        // The word starts a line; split it if it is wider than one.
        let mut current = lines.pop().expect("never empty");
        for c in word.chars() {
            let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if display_width(&current) + w > width && display_width(&current) > display_width(rest)
            {
                lines.push(std::mem::replace(&mut current, rest.to_string()));
            }
            current.push(c);
        }
        lines.push(current);
        empty = false;
    }
    let mut out = String::new();
    for line in lines {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Prose (split at spaces) with a first-line and a continuation prefix, folded as `style` says.
fn prose(text: &str, first: &str, rest: &str, style: Style) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    if !style.wrap {
        return format!("{first}{text}\n");
    }
    fill(&words, " ", first, rest, Some(style.width))
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
    target_parts(verdict).join(" · ")
}

/// The parts of [`target_line`], which a narrow terminal folds between parts.
fn target_parts(verdict: &Verdict) -> [String; 4] {
    let t = &verdict.target;
    let kind = t.kind_word();
    [
        format!("{kind} '{}'", t.name()),
        format!("resource group '{}'", t.resource_group),
        format!("subscription {}", t.subscription),
        format!("as of {}", verdict.as_of),
    ]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_folds_at_the_width_and_splits_only_what_cannot_fit() {
        let words = ["alpha", "beta", "gamma", "delta"];
        assert_eq!(
            fill(&words, " ", "> ", "  ", None),
            "> alpha beta gamma delta\n"
        );
        assert_eq!(
            fill(&words, " ", "> ", "  ", Some(13)),
            "> alpha beta\n  gamma delta\n"
        );
        let long = fill(&["abcdefghijkl"], " ", "# ", "# ", Some(8));
        assert_eq!(long, "# abcdef\n# ghijkl\n");
        for line in fill(
            &["x", "abcdefghijklmnopqrstuvwxyz", "y"],
            " ",
            "  ",
            "    ",
            Some(10),
        )
        .lines()
        {
            assert!(display_width(line) <= 10, "{line}");
        }
    }

    #[test]
    fn prose_is_unchanged_without_wrap() {
        let style = Style::default();
        let text = "two  spaces and a very long line that would fold on a terminal";
        assert_eq!(prose(text, "  ", "    ", style), format!("  {text}\n"));
        let narrow = Style {
            width: 40,
            wrap: true,
            ..style
        };
        assert!(
            prose(text, "  ", "    ", narrow)
                .lines()
                .all(|l| display_width(l) <= 40)
        );
    }
}
