//! Inline suppression comments: `# kvdiag: ignore[rule-id, ...] reason` in YAML,
//! `// kvdiag: ignore[rule-id, ...] reason` in JSON (ARM templates allow `//` comments).
//!
//! **Which line.** A comment after code on a line applies to that line; a comment alone on its
//! line applies to the next line that holds code (blank and comment-only lines between are
//! skipped, so several suppressions can be stacked above one line). A finding is on the line
//! its `line` says (a member's key, an element's start, or for an absent field the object that
//! should hold it).
//!
//! **What is checked.** Ids are comma-separated and must be kvdiag rules; the reason (the
//! rest of the comment) is required. A comment starting with `kvdiag:` that breaks any of that
//! is a `suppression-invalid` warning, and one without a reason is not applied. An id that
//! suppressed nothing is a `suppression-unused` note (ruff's `RUF100`). These two are never
//! suppressed inline; `kvdiag.toml` can change them.
//!
//! Comments are found with a small scanner rather than the parsers: `saphyr` drops YAML
//! comments, and for JSON the scanner skips strings and block comments exactly. In YAML a `#`
//! starts a comment at the start of a line or after whitespace; a `#` inside a quoted or block
//! scalar followed by `kvdiag:` would be read as a comment (rare enough not to need the
//! parser).

use super::FileReport;
use super::accept::{Kind, Suppressed};
use super::finding::Finding;
use super::rules::{self, suppression_invalid, suppression_unused};

/// One `kvdiag:` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Where the comment starts (1-based; the column counts characters).
    pub line: usize,
    pub column: usize,
    /// The line it applies to (0: none, the comment is at the end of the file).
    pub target: usize,
    pub parsed: Result<Ignore, String>,
}

/// `ignore[ids] reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub ids: Vec<String>,
    pub reason: String,
}

/// A comment found in the text: its line, column, the text after the marker, and whether code
/// precedes it on its line.
struct Comment<'a> {
    line: usize,
    column: usize,
    body: &'a str,
    trailing: bool,
}

/// True when the file is read as JSON (the same test as [`super::load`]).
fn is_json(file: &str, text: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    lower.ends_with(".json")
        || lower.ends_with(".jsonc")
        || text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{')
}

/// Every `kvdiag:` comment in a file's text.
pub fn directives(file: &str, text: &str) -> Vec<Directive> {
    let json = is_json(file, text);
    let comments = if json {
        json_comments(text)
    } else {
        yaml_comments(text)
    };
    let lines: Vec<&str> = text.lines().collect();
    let code_line = |n: usize| {
        let t = lines.get(n - 1).map(|l| l.trim()).unwrap_or("");
        !t.is_empty()
            && !(if json {
                t.starts_with("//")
            } else {
                t.starts_with('#')
            })
    };
    comments
        .into_iter()
        .filter_map(|c| {
            let rest = c.body.trim_start().strip_prefix("kvdiag:")?;
            let target = if c.trailing {
                c.line
            } else {
                (c.line + 1..=lines.len())
                    .find(|n| code_line(*n))
                    .unwrap_or(0)
            };
            Some(Directive {
                line: c.line,
                column: c.column,
                target,
                parsed: parse(rest, json),
            })
        })
        .collect()
}

fn parse(rest: &str, json: bool) -> Result<Ignore, String> {
    let marker = if json { "//" } else { "#" };
    let shape = format!("expected `{marker} kvdiag: ignore[rule-id, ...] reason`");
    let rest = rest.trim_start();
    let Some(rest) = rest.strip_prefix("ignore") else {
        return Err(format!("not a kvdiag directive: {shape}"));
    };
    let Some(rest) = rest.trim_start().strip_prefix('[') else {
        return Err(format!("`ignore` takes its rule ids in brackets: {shape}"));
    };
    let Some((ids, reason)) = rest.split_once(']') else {
        return Err(format!("the rule id list has no closing `]`: {shape}"));
    };
    let ids: Vec<String> = ids
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return Err(format!(
            "no rule id (kvdiag has no ignore-everything form): {shape}"
        ));
    }
    Ok(Ignore {
        ids,
        reason: reason.trim().to_string(),
    })
}

fn yaml_comments(text: &str) -> Vec<Comment<'_>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut prev_space = true;
        for (at, ch) in line.char_indices() {
            if ch == '#' && prev_space {
                let before = &line[..at];
                out.push(Comment {
                    line: i + 1,
                    column: before.chars().count() + 1,
                    body: &line[at + 1..],
                    trailing: !before.trim().trim_start_matches('\u{feff}').is_empty(),
                });
                break;
            }
            prev_space = ch.is_whitespace();
        }
    }
    out
}

/// `//` comments outside strings; block comments are skipped.
fn json_comments(text: &str) -> Vec<Comment<'_>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let (mut i, mut line, mut line_start) = (0, 1, 0);
    let mut code_on_line = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                code_on_line = false;
                i += 1;
            }
            b'"' => {
                code_on_line = true;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                out.push(Comment {
                    line,
                    column: text[line_start..i].chars().count() + 1,
                    body: &text[i + 2..end],
                    trailing: code_on_line,
                });
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(text.len(), |n| i + 2 + n + 2);
                line += text[i..end].matches('\n').count();
                if let Some(n) = text[i..end].rfind('\n') {
                    line_start = i + n + 1;
                }
                i = end;
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                code_on_line = true;
                i += 1;
            }
        }
    }
    out
}

/// Applies a file's suppression comments to its findings: removes the ones they accept
/// (returned) and adds `suppression-invalid` and `suppression-unused` findings.
pub fn apply(report: &mut FileReport, text: &str) -> Vec<Suppressed> {
    let directives = directives(&report.file, text);
    if directives.is_empty() {
        return Vec::new();
    }
    let known: Vec<&str> = rules::RULES.iter().map(|r| r.id).collect();
    let mut suppressed = Vec::new();
    let mut meta = Vec::new();
    let meta_finding = |rule: &rules::Rule, d: &Directive, message: String| Finding {
        rule: rule.id.to_string(),
        severity: rule.severity,
        message,
        file: report.file.clone(),
        line: d.line,
        column: d.column,
        path: String::new(),
        resource: String::new(),
        suggestion: None,
        remediation: Vec::new(),
    };
    let mut findings = std::mem::take(&mut report.findings);
    for d in &directives {
        let ignore = match &d.parsed {
            Ok(ignore) => ignore,
            Err(e) => {
                meta.push(meta_finding(&suppression_invalid::RULE, d, e.clone()));
                continue;
            }
        };
        let mut valid = Vec::new();
        for id in &ignore.ids {
            if known.contains(&id.as_str()) {
                valid.push(id.as_str());
            } else {
                let close = crate::checks::did_you_mean(id, &known).map(|x| x.0);
                let hint = close
                    .as_ref()
                    .map(|n| format!(" (did you mean '{n}'?)"))
                    .unwrap_or_default();
                let mut f = meta_finding(
                    &suppression_invalid::RULE,
                    d,
                    format!("'{id}' is not a kvdiag rule{hint}; it suppresses nothing"),
                );
                f.suggestion = close;
                meta.push(f);
            }
        }
        if ignore.reason.is_empty() {
            meta.push(meta_finding(
                &suppression_invalid::RULE,
                d,
                format!(
                    "the suppression of {} gives no reason, so it is not applied; write why the finding is acceptable after the `]`",
                    ignore.ids.join(", ")
                ),
            ));
            continue;
        }
        let source = format!("{}:{}", report.file, d.line);
        for id in valid {
            let before = findings.len();
            let (hit, kept): (Vec<Finding>, Vec<Finding>) = findings
                .into_iter()
                .partition(|f| d.target != 0 && f.line == d.target && f.rule == id);
            findings = kept;
            if findings.len() == before {
                let on = if d.target == 0 {
                    "it applies to no line (nothing follows it)".to_string()
                } else {
                    format!("no {id} finding is on line {}", d.target)
                };
                meta.push(meta_finding(
                    &suppression_unused::RULE,
                    d,
                    format!("the suppression of {id} is unused: {on}; remove it"),
                ));
            }
            suppressed.extend(
                hit.into_iter()
                    .map(|f| Suppressed::new(f, Kind::Inline, &ignore.reason, source.clone())),
            );
        }
    }
    findings.extend(meta);
    report.findings = findings;
    suppressed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_trailing_and_own_line() {
        let text = "a: 1 # kvdiag: ignore[secret-literal-value] demo\n# kvdiag: ignore[x, y]   why not\n\n# other\nb: '#x'\n";
        let d = directives("f.yaml", text);
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].line, d[0].column, d[0].target), (1, 6, 1));
        assert_eq!(
            d[0].parsed,
            Ok(Ignore {
                ids: vec!["secret-literal-value".into()],
                reason: "demo".into()
            })
        );
        assert_eq!((d[1].line, d[1].target), (2, 5));
        assert_eq!(d[1].parsed.as_ref().unwrap().ids, ["x", "y"]);
        assert_eq!(d[1].parsed.as_ref().unwrap().reason, "why not");
    }

    #[test]
    fn json_skips_strings_and_block_comments() {
        let text = "{\n  \"u\": \"https://x // kvdiag: ignore[a] no\", // kvdiag: ignore[a] yes\n  /* // kvdiag: ignore[b] no\n */\n  // kvdiag: ignore[c]\n  \"v\": 1\n}";
        let d = directives("t.json", text);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!((d[0].line, d[0].target), (2, 2));
        assert_eq!(d[0].parsed.as_ref().unwrap().reason, "yes");
        assert_eq!((d[1].line, d[1].target), (5, 6));
        assert_eq!(d[1].parsed.as_ref().unwrap().reason, "");
    }

    #[test]
    fn malformed_directives_say_what_is_expected() {
        for bad in [
            "kvdiag: ignore x",
            "kvdiag: ignore[x",
            "kvdiag: ignore[] r",
            "kvdiag: skip",
        ] {
            let d = directives("f.yaml", &format!("# {bad}\na: 1\n"));
            assert!(d[0].parsed.is_err(), "{bad}");
        }
    }
}
