//! `kvdiag.toml`: per-repository lint settings, each with a mandatory `reason`.
//!
//! ```toml
//! [rules.keyvault-url-pinned]
//! severity = "warning"          # error | warning | note | off
//! reason = "we pin on purpose in prod"
//!
//! [[ignore]]
//! rules = ["secret-literal-value"]   # any of these rules (absent: every rule)
//! paths = ["test/**/*.yaml"]         # and a file matching one of these globs
//! resources = ["ca-demo-*"]          # and an app or job whose name matches one of these
//! reason = "demo apps use literal secrets"
//! ```
//!
//! **Which file.** `--config FILE` uses that file for every linted file and searches nothing.
//! Otherwise each linted file gets the nearest `kvdiag.toml` in its directory or a parent; the
//! search stops after the directory that holds `.git` (the repository root; a directory, or
//! the file a worktree or submodule has) and at the filesystem root.
//!
//! **Matching.** `paths` globs are matched against the linted file's path relative to the
//! config file's directory (`/`-separated; `*` stays within a directory, `**` as a whole
//! segment crosses any), or against the path as given when the file is outside that directory.
//! `resources` globs match the app or job name as the file gives it. Every selector given must
//! match; a finding a rule's `severity = "off"` or an `[[ignore]]` entry removes is listed as
//! suppressed (kind `config`), never dropped.
//!
//! **Errors** are one line naming the file and the key (exit 2): unknown keys, unknown rule
//! ids (a typo must not silently disable nothing), a missing or empty `reason`, a bad glob.

use super::FileReport;
use super::accept::{Kind, Suppressed, absolute, normalize};
use super::finding::Severity;
use super::rules;
use glob::{MatchOptions, Pattern};
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The file name searched for.
pub const FILE_NAME: &str = "kvdiag.toml";

/// A loaded `kvdiag.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file as shown in messages and `source`.
    shown: String,
    /// Its directory (absolute): `paths` are relative to it.
    dir: PathBuf,
    rules: Vec<RuleSetting>,
    ignores: Vec<IgnoreEntry>,
}

#[derive(Debug, Clone)]
struct RuleSetting {
    id: String,
    /// `None`: off.
    severity: Option<Severity>,
    reason: String,
}

#[derive(Debug, Clone)]
struct IgnoreEntry {
    rules: Option<Vec<String>>,
    paths: Option<Globs>,
    resources: Option<Globs>,
    reason: String,
}

impl Config {
    /// The nearest `kvdiag.toml` for a linted file (see the module doc for where it stops).
    pub fn find(file: &Path) -> Option<PathBuf> {
        let abs = absolute(file);
        let mut dir = abs.parent();
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                // Shown relative to the current directory when it is below it.
                let cwd = absolute(Path::new("."));
                return Some(
                    candidate
                        .strip_prefix(&cwd)
                        .map(Path::to_path_buf)
                        .unwrap_or(candidate),
                );
            }
            if d.join(".git").exists() {
                return None;
            }
            dir = d.parent();
        }
        None
    }

    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Config, String> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let dir = absolute(path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Config::parse(&shown, dir, &text)
    }

    /// Parses a config's text; `shown` names it in errors.
    pub fn parse(shown: &str, dir: PathBuf, text: &str) -> Result<Config, String> {
        let table: Table = text.parse().map_err(|e: toml::de::Error| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            format!(
                "{shown}: invalid TOML{at}: {}",
                e.message().lines().next().unwrap_or("").trim()
            )
        })?;
        let err = |key: &str, what: String| format!("{shown}: {key}: {what}");
        let mut config = Config {
            shown: shown.to_string(),
            dir,
            rules: Vec::new(),
            ignores: Vec::new(),
        };
        for (key, value) in &table {
            match key.as_str() {
                "rules" => {
                    let Some(rules) = value.as_table() else {
                        return Err(err(
                            "rules",
                            "must be a table of `[rules.<rule-id>]`".into(),
                        ));
                    };
                    for (id, setting) in rules {
                        let at = format!("rules.{id}");
                        known_rule(id).map_err(|e| err(&at, e))?;
                        let Some(setting) = setting.as_table() else {
                            return Err(err(
                                &at,
                                "must be a table with `severity` and `reason`".into(),
                            ));
                        };
                        only(setting, &["severity", "reason"]).map_err(|k| {
                            err(
                                &format!("{at}.{k}"),
                                "unknown key (expected severity, reason)".into(),
                            )
                        })?;
                        let severity = match setting.get("severity") {
                            Some(Value::String(s)) => match s.as_str() {
                                "error" => Some(Severity::Error),
                                "warning" => Some(Severity::Warning),
                                "note" => Some(Severity::Note),
                                "off" => None,
                                other => {
                                    return Err(err(
                                        &format!("{at}.severity"),
                                        format!(
                                            "'{other}' is not one of error, warning, note, off"
                                        ),
                                    ));
                                }
                            },
                            Some(_) => {
                                return Err(err(
                                    &format!("{at}.severity"),
                                    "must be a string".into(),
                                ));
                            }
                            None => {
                                return Err(err(
                                    &format!("{at}.severity"),
                                    "is missing (error, warning, note or off)".into(),
                                ));
                            }
                        };
                        config.rules.push(RuleSetting {
                            id: id.clone(),
                            severity,
                            reason: reason(setting).map_err(|e| err(&format!("{at}.reason"), e))?,
                        });
                    }
                }
                "ignore" => {
                    let Some(entries) = value.as_array() else {
                        return Err(err(
                            "ignore",
                            "must be an array of tables (`[[ignore]]`)".into(),
                        ));
                    };
                    for (i, entry) in entries.iter().enumerate() {
                        let at = format!("ignore[{i}]");
                        let Some(entry) = entry.as_table() else {
                            return Err(err(&at, "must be a table (`[[ignore]]`)".into()));
                        };
                        config
                            .ignores
                            .push(ignore_entry(entry, &at).map_err(|(k, e)| err(&k, e))?);
                    }
                }
                other => {
                    return Err(err(
                        other,
                        "unknown key (expected [rules.<rule-id>] or [[ignore]])".into(),
                    ));
                }
            }
        }
        Ok(config)
    }

    /// Applies severities and ignores to one file's findings; returns what they removed.
    pub fn apply(&self, report: &mut FileReport) -> Vec<Suppressed> {
        let relative = self.relative(&report.file);
        let mut out = Vec::new();
        let mut kept = Vec::new();
        for mut f in std::mem::take(&mut report.findings) {
            if let Some(setting) = self.rules.iter().find(|r| r.id == f.rule) {
                match setting.severity {
                    Some(s) => f.severity = s,
                    None => {
                        out.push(Suppressed::new(
                            f,
                            Kind::Config,
                            &setting.reason,
                            format!("{} [rules.{}]", self.shown, setting.id),
                        ));
                        continue;
                    }
                }
            }
            let hit = self.ignores.iter().enumerate().find(|(_, e)| {
                e.rules.as_ref().is_none_or(|r| r.contains(&f.rule))
                    && e.paths.as_ref().is_none_or(|g| g.is_match(&relative))
                    && e.resources.as_ref().is_none_or(|g| g.is_match(&f.resource))
            });
            match hit {
                Some((i, e)) => out.push(Suppressed::new(
                    f,
                    Kind::Config,
                    &e.reason,
                    format!("{} ignore[{i}]", self.shown),
                )),
                None => kept.push(f),
            }
        }
        report.findings = kept;
        out
    }

    /// The linted file's path for `paths` globs.
    fn relative(&self, file: &str) -> String {
        let abs = absolute(Path::new(file));
        match abs.strip_prefix(&self.dir) {
            Ok(rel) => normalize(&rel.to_string_lossy()),
            Err(_) => normalize(file),
        }
    }
}

fn known_rule(id: &str) -> Result<(), String> {
    if rules::rule(id).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = rules::RULES.iter().map(|r| r.id).collect();
    let hint = crate::checks::did_you_mean(id, &known)
        .map(|(n, _)| format!(" (did you mean '{n}'?)"))
        .unwrap_or_default();
    Err(format!("'{id}' is not a kvdiag rule{hint}"))
}

/// The first key not in `allowed`.
fn only<'t>(table: &'t Table, allowed: &[&str]) -> Result<(), &'t str> {
    match table.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(k),
        None => Ok(()),
    }
}

fn reason(table: &Table) -> Result<String, String> {
    match table.get("reason") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::String(_)) => Err("is empty; say why this is acceptable".into()),
        Some(_) => Err("must be a string".into()),
        None => Err("is missing; every setting says why it is acceptable".into()),
    }
}

fn strings(table: &Table, key: &str, at: &str) -> Result<Option<Vec<String>>, (String, String)> {
    let Some(value) = table.get(key) else {
        return Ok(None);
    };
    let bad = || {
        (
            format!("{at}.{key}"),
            "must be a list of strings".to_string(),
        )
    };
    let list = value.as_array().ok_or_else(bad)?;
    let out: Vec<String> = list
        .iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
        .collect::<Result<_, _>>()?;
    if out.is_empty() {
        return Err((
            format!("{at}.{key}"),
            "is empty (leave it out to match any)".into(),
        ));
    }
    Ok(Some(out))
}

/// Globs of one selector: a value matches when any of them does.
#[derive(Debug, Clone)]
struct Globs(Vec<Pattern>);

impl Globs {
    /// `*`, `?` and `[...]` stay within a path segment; `**` as a whole segment crosses any.
    const OPTIONS: MatchOptions = MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };

    fn is_match(&self, value: &str) -> bool {
        self.0.iter().any(|p| p.matches_with(value, Self::OPTIONS))
    }
}

fn globs(patterns: Option<Vec<String>>, key: &str) -> Result<Option<Globs>, (String, String)> {
    let Some(patterns) = patterns else {
        return Ok(None);
    };
    patterns
        .iter()
        .map(|p| {
            Pattern::new(p).map_err(|e| {
                (
                    key.to_string(),
                    format!("bad glob '{p}': {} (character {})", e.msg, e.pos + 1),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|set| Some(Globs(set)))
}

fn ignore_entry(entry: &Table, at: &str) -> Result<IgnoreEntry, (String, String)> {
    only(entry, &["rules", "paths", "resources", "reason"]).map_err(|k| {
        (
            format!("{at}.{k}"),
            "unknown key (expected rules, paths, resources, reason)".to_string(),
        )
    })?;
    let rules = strings(entry, "rules", at)?;
    for id in rules.iter().flatten() {
        known_rule(id).map_err(|e| (format!("{at}.rules"), e))?;
    }
    let paths = strings(entry, "paths", at)?;
    let resources = strings(entry, "resources", at)?;
    if rules.is_none() && paths.is_none() && resources.is_none() {
        return Err((
            at.to_string(),
            "needs at least one of rules, paths, resources (an entry that ignores everything is not allowed)".into(),
        ));
    }
    Ok(IgnoreEntry {
        rules,
        paths: globs(paths, &format!("{at}.paths"))?,
        resources: globs(resources, &format!("{at}.resources"))?,
        reason: reason(entry).map_err(|e| (format!("{at}.reason"), e))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse("kvdiag.toml", PathBuf::from("/repo"), text)
    }

    #[test]
    fn errors_name_the_file_and_key() {
        let cases = [
            (
                "[rules.keyvault-url-pined]\nseverity='off'\nreason='x'",
                "kvdiag.toml: rules.keyvault-url-pined: 'keyvault-url-pined' is not a kvdiag rule (did you mean 'keyvault-url-pinned'?)",
            ),
            (
                "[rules.keyvault-url-pinned]\nseverity='warn'\nreason='x'",
                "kvdiag.toml: rules.keyvault-url-pinned.severity: 'warn' is not one of error, warning, note, off",
            ),
            (
                "[rules.keyvault-url-pinned]\nseverity='off'",
                "kvdiag.toml: rules.keyvault-url-pinned.reason: is missing; every setting says why it is acceptable",
            ),
            (
                "[[ignore]]\nrules=['secret-literal-value']\nreason=' '",
                "kvdiag.toml: ignore[0].reason: is empty; say why this is acceptable",
            ),
            (
                "[[ignore]]\npath=['x']\nreason='r'",
                "kvdiag.toml: ignore[0].path: unknown key (expected rules, paths, resources, reason)",
            ),
            (
                "[[ignore]]\nreason='r'",
                "kvdiag.toml: ignore[0]: needs at least one of rules, paths, resources (an entry that ignores everything is not allowed)",
            ),
            (
                "[[ignore]]\npaths=['a/[b']\nreason='r'",
                "kvdiag.toml: ignore[0].paths: bad glob 'a/[b': invalid range pattern (character 3)",
            ),
            (
                "[rule]\n",
                "kvdiag.toml: rule: unknown key (expected [rules.<rule-id>] or [[ignore]])",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap_err(), want);
        }
        let e = parse("[rules\nx=1").unwrap_err();
        assert!(e.starts_with("kvdiag.toml: invalid TOML (line 1): "), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn globs_respect_directories() {
        let c = parse("[[ignore]]\npaths=['test/**/*.yaml']\nreason='r'").unwrap();
        let set = c.ignores[0].paths.as_ref().unwrap();
        assert!(set.is_match("test/a.yaml"));
        assert!(set.is_match("test/x/y/a.yaml"));
        assert!(!set.is_match("prod/test/a.yaml"));
        let c = parse(
            "[[ignore]]\npaths=['*.yaml', '**/dev/*.json']\nresources=['ca-demo-*']\nreason='r'",
        )
        .unwrap();
        let (paths, names) = (
            c.ignores[0].paths.as_ref().unwrap(),
            c.ignores[0].resources.as_ref().unwrap(),
        );
        assert!(paths.is_match("a.yaml"));
        assert!(!paths.is_match("x/a.yaml"), "* stays within a directory");
        assert!(paths.is_match("dev/a.json") && paths.is_match("x/y/dev/a.json"));
        assert!(!paths.is_match("dev/x/a.json"));
        assert!(names.is_match("ca-demo-1") && !names.is_match("ca-prod-1"));
        assert_eq!(
            parse("[[ignore]]\npaths=['**a']\nreason='r'").unwrap_err(),
            "kvdiag.toml: ignore[0].paths: bad glob '**a': recursive wildcards must form a single path component (character 3)"
        );
        assert_eq!(c.relative("/repo/test/a.yaml"), "test/a.yaml");
        assert_eq!(c.relative("/elsewhere/a.yaml"), "/elsewhere/a.yaml");
    }
}
