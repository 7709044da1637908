//! Accepting findings: inline comments ([`super::suppress`]), `kvdiag.toml`
//! ([`super::config`]) and a baseline file ([`super::baseline`]), applied in that order after
//! every rule (static and `--live`) has run.
//!
//! Nothing is dropped silently: every finding one of them accepts becomes a [`Suppressed`]
//! (the finding, which mechanism, the reason, where the acceptance is written), listed in the
//! JSON report, counted in the table and emitted in SARIF with a `suppressions` entry. A
//! suppressed finding does not count toward `--fail-on`.

use super::FileReport;
use super::baseline::Baseline;
use super::config::Config;
use super::finding::Finding;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which mechanism accepted a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A `kvdiag: ignore[...]` comment in the linted file.
    Inline,
    /// A `[rules.<id>] severity = "off"` or an `[[ignore]]` entry in `kvdiag.toml`.
    Config,
    /// An entry of the `--baseline` file.
    Baseline,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Inline => "inline",
            Kind::Config => "config",
            Kind::Baseline => "baseline",
        }
    }
}

/// A finding that was accepted, and by what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    pub kind: Kind,
    /// Why it is acceptable, as the comment or config entry says (for a baseline, which file).
    pub reason: String,
    /// Where the acceptance is written: `file:line` of the comment, the config or baseline file.
    pub source: String,
}

impl Suppressed {
    pub fn new(finding: Finding, kind: Kind, reason: &str, source: String) -> Suppressed {
        Suppressed {
            finding,
            kind,
            reason: reason.to_string(),
            source,
        }
    }
}

/// What `kvdiag lint` was told about acceptance.
#[derive(Debug, Default)]
pub struct Options {
    /// `--config FILE`: this file for every linted file, no search.
    pub config: Option<PathBuf>,
    /// `--baseline FILE`.
    pub baseline: Option<PathBuf>,
    /// `--write-baseline FILE`.
    pub write_baseline: Option<PathBuf>,
}

/// The config and baseline, loaded before any file is linted so a bad one fails fast.
#[derive(Debug)]
pub struct Acceptance {
    config: Option<Config>,
    baseline: Option<(Baseline, String)>,
    write_baseline: Option<PathBuf>,
    /// Configs found by searching, by their path (each read once).
    found: BTreeMap<PathBuf, Config>,
}

/// What applying acceptance produced besides the reports' changes.
#[derive(Debug, Default)]
pub struct Outcome {
    pub suppressions: Vec<Suppressed>,
    /// One-line notes for stderr (a baseline written, stale baseline entries).
    pub notes: Vec<String>,
}

impl Acceptance {
    /// Reads `--config` and `--baseline`. The error is one line naming the file (exit 2).
    pub fn load(options: &Options) -> Result<Acceptance, String> {
        let config = match &options.config {
            Some(path) => Some(Config::load(path)?),
            None => None,
        };
        let baseline = match &options.baseline {
            Some(path) => Some((Baseline::load(path)?, path.display().to_string())),
            None => None,
        };
        Ok(Acceptance {
            config,
            baseline,
            write_baseline: options.write_baseline.clone(),
            found: BTreeMap::new(),
        })
    }

    /// Applies inline comments, the config and the baseline to every linted file, in that
    /// order; writes the baseline first when asked (it then serves as `--baseline`). `read`
    /// gives a linted file's text (for its comments). Files that could not be linted are left
    /// alone.
    pub fn apply(
        &mut self,
        files: &mut [FileReport],
        read: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Outcome, String> {
        let mut out = Outcome::default();
        for report in files.iter_mut().filter(|f| f.error.is_none()) {
            if let Some(text) = read(&report.file) {
                out.suppressions
                    .extend(super::suppress::apply(report, &text));
            }
            let config = match &self.config {
                Some(config) => Some(config),
                None => match Config::find(Path::new(&report.file)) {
                    Some(path) => {
                        if !self.found.contains_key(&path) {
                            let config = Config::load(&path)?;
                            self.found.insert(path.clone(), config);
                        }
                        self.found.get(&path)
                    }
                    None => None,
                },
            };
            if let Some(config) = config {
                out.suppressions.extend(config.apply(report));
            }
            super::sort(&mut report.findings);
        }
        if let Some(path) = &self.write_baseline {
            let baseline = Baseline::from_findings(files.iter().flat_map(|f| &f.findings));
            baseline.write(path)?;
            out.notes.push(format!(
                "wrote {} ({} finding(s) accepted); use it with `--baseline {}`",
                path.display(),
                baseline.len(),
                path.display()
            ));
            self.baseline = Some((baseline, path.display().to_string()));
        }
        if let Some((baseline, shown)) = &mut self.baseline {
            for report in files.iter_mut().filter(|f| f.error.is_none()) {
                out.suppressions.extend(baseline.apply(report, shown));
            }
            let stale = baseline.unmatched();
            if stale > 0 {
                out.notes.push(format!(
                    "{stale} entr{} of baseline {shown} matched no finding (fixed, or changed); `--write-baseline {shown}` drops them",
                    if stale == 1 { "y" } else { "ies" }
                ));
            }
        }
        out.suppressions.sort_by(|a, b| {
            (
                &a.finding.file,
                a.finding.line,
                a.finding.column,
                &a.finding.rule,
            )
                .cmp(&(
                    &b.finding.file,
                    b.finding.line,
                    b.finding.column,
                    &b.finding.rule,
                ))
        });
        Ok(out)
    }
}

/// The table's count line, and with `list` one line per suppressed finding.
pub fn summary(suppressions: &[Suppressed], list: bool) -> Option<String> {
    if suppressions.is_empty() {
        return None;
    }
    let mut by_kind: BTreeMap<Kind, usize> = BTreeMap::new();
    for s in suppressions {
        *by_kind.entry(s.kind).or_default() += 1;
    }
    let kinds: Vec<String> = by_kind
        .iter()
        .map(|(k, n)| format!("{n} {}", k.as_str()))
        .collect();
    let mut out = format!(
        "{} suppressed ({}){}\n",
        suppressions.len(),
        kinds.join(", "),
        if list { ":" } else { "; -v lists them" }
    );
    if list {
        for s in suppressions {
            let f = &s.finding;
            out.push_str(&format!(
                "  {}:{}:{} {} {} [{}: {}] {}\n",
                f.file,
                f.line,
                f.column,
                f.severity,
                f.rule,
                s.kind.as_str(),
                s.source,
                s.reason
            ));
        }
    }
    Some(out)
}

/// A path for matching: `/` separators, no leading `./`, `.` and `..` resolved lexically.
pub fn normalize(path: &str) -> String {
    let path = path.replace('\\', "/");
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// The absolute form of `path` (against the current directory), normalized lexically.
pub fn absolute(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize("./a/./b/../c.yaml"), "a/c.yaml");
        assert_eq!(normalize("a\\b.json"), "a/b.json");
        assert_eq!(normalize("../x.yaml"), "../x.yaml");
        assert_eq!(normalize("/tmp/../a"), "/a");
    }
}
