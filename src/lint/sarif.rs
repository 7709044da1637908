//! SARIF 2.1.0 output, the format GitHub code scanning and the Azure DevOps SARIF SAST Scans
//! tab show inline on the file and line.
//!
//! Plain serde structs for the part of the schema kvdiag fills (`tool.driver.rules`, `results`
//! with one physical location each, `invocations` for files that could not be read); the test
//! suite validates the output against the official schema (tests/schemas/). `uri` is the path
//! as given on the command line, so a run from the repository root gives repository-relative
//! paths, which is what code scanning expects.
//!
//! Each rule carries its page, `docs/rules/<id>.md` ([`super::rules::Rule::help`]): the page is
//! `help.markdown` (relative links made absolute against [`DOCS_BASE`]), its "Azure rule"
//! section `fullDescription`, and [`DOCS_BASE`]`<id>.md` the `helpUri`. Each result carries a
//! `partialFingerprints` entry ([`FINGERPRINT`], see [`fingerprint`]) that does not move with
//! its line, so code scanning follows an alert across edits above it.

use super::finding::Finding;
use super::finding::Severity;
use super::rules::RULES;
use super::{FileReport, Report};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ops::Range;

/// Where the rule pages (`docs/rules/<id>.md`) are published: SARIF's `helpUri` must be an
/// absolute URI for code scanning to link it. The one value a fork changes (README, "kvdiag
/// lint").
pub const DOCS_BASE: &str = "https://github.com/kvdiag/kvdiag/blob/main/docs/rules/";

/// The `partialFingerprints` key of [`fingerprint`]; a new recipe gets a new version.
pub const FINGERPRINT: &str = "kvdiagFindingHash/v1";

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    rules: Vec<RuleDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor {
    id: &'static str,
    short_description: Text,
    full_description: Message,
    help: Message,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
}

/// A SARIF `multiformatMessageString`.
#[derive(Serialize)]
struct Message {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<serde_json::Value>,
    /// Set for a finding accepted inline (`inSource`), by kvdiag.toml or a baseline
    /// (`external`): SARIF 2.1.0 §3.27.23 and §3.35; viewers show it as dismissed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

fn suppression(s: &super::accept::Suppressed) -> Suppression {
    Suppression {
        kind: match s.kind {
            super::accept::Kind::Inline => "inSource",
            super::accept::Kind::Config | super::accept::Kind::Baseline => "external",
        },
        status: "accepted",
        justification: format!("{} ({}: {})", s.reason, s.kind.as_str(), s.source),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A relative or absolute path as a URI reference: `/` separators, unsafe bytes escaped.
pub fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// The finding's identity, without its line or column: the SHA-256, in hex, of the rule id, the
/// file (as its SARIF `uri`, so `\` and `/` agree), the resource name, the finding's `path`
/// (`properties.configuration.secrets[1].keyVaultUrl`) and its suggestion, each written as its
/// length (8 bytes, little-endian) then its bytes, the suggestion after a byte saying whether
/// there is one. Inserting lines above a finding leaves it unchanged; changing any of these
/// makes a new alert.
pub fn fingerprint(f: &Finding) -> String {
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    field(f.rule.as_bytes());
    field(uri(&f.file).as_bytes());
    field(f.resource.as_bytes());
    field(f.path.as_bytes());
    match &f.suggestion {
        Some(s) => {
            field(b"1");
            field(s.as_bytes());
        }
        None => field(b"0"),
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Code scanning tags: every rule is about secrets reaching an Azure Container App; `key-vault`
/// for the Key Vault rules, `live` for those only `--live` decides.
fn tags(rule: &super::rules::Rule) -> Vec<&'static str> {
    let mut tags = vec!["security", "azure-container-apps"];
    if rule.id.starts_with("keyvault-") {
        tags.push("key-vault");
    }
    if rule.check.is_none() {
        tags.push("live");
    }
    tags
}

/// A link target of a rule page made absolute: `../azure.md#x` against [`DOCS_BASE`].
fn absolute(target: &str) -> String {
    if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
        return target.to_string();
    }
    let mut base: Vec<&str> = DOCS_BASE.trim_end_matches('/').split('/').collect();
    let mut rest = target;
    loop {
        if let Some(r) = rest.strip_prefix("../") {
            base.pop();
            rest = r;
        } else if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else {
            break;
        }
    }
    format!("{}/{rest}", base.join("/"))
}

/// The inline links `[label](target)` of a rule page, as byte ranges of the whole link, its
/// label and its target; a label is on one line, a target has no space, and nothing inside a
/// code span or a fenced block is a link (`^[a-z]([-a-z]*)$` is not).
pub fn inline_links(md: &str) -> Vec<(Range<usize>, Range<usize>, Range<usize>)> {
    let mut out = Vec::new();
    let mut fenced = false;
    let mut offset = 0;
    for line in md.split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut from = 0;
        while let Some(mid) = line[from..].find("](").map(|i| from + i) {
            from = mid + 2;
            let in_code = line[..mid].matches('`').count() % 2 == 1;
            let Some(start) = line[..mid].rfind('[') else {
                continue;
            };
            let Some(end) = line[mid + 2..].find(')').map(|i| mid + 2 + i) else {
                continue;
            };
            let target = &line[mid + 2..end];
            if in_code || line[start..mid].contains(']') || target.contains(char::is_whitespace) {
                continue;
            }
            out.push((
                at + start..at + end + 1,
                at + start + 1..at + mid,
                at + mid + 2..at + end,
            ));
            from = end + 1;
        }
    }
    out
}

/// Rewrites every inline link of a rule page: `markdown` keeps the link with an absolute
/// target, plain text becomes `label (target)`.
fn links(md: &str, markdown: bool) -> String {
    let mut out = String::new();
    let mut done = 0;
    for (link, label, target) in inline_links(md) {
        out.push_str(&md[done..link.start]);
        let (label, target) = (&md[label], absolute(&md[target]));
        if markdown {
            out.push_str(&format!("[{label}]({target})"));
        } else {
            out.push_str(&format!("{label} ({target})"));
        }
        done = link.end;
    }
    out.push_str(&md[done..]);
    out
}

fn message(md: &str) -> Message {
    Message {
        text: links(md, false),
        markdown: links(md, true),
    }
}

fn file_location(file: &FileReport) -> Location {
    Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: uri(&file.file),
            },
            region: None,
        },
        logical_locations: Vec::new(),
    }
}

/// The SARIF log of a report.
pub fn render(report: &Report) -> String {
    let rules = RULES
        .iter()
        .map(|r| RuleDescriptor {
            id: r.id,
            short_description: Text {
                text: r.summary.to_string(),
            },
            full_description: message(r.help_section("Azure rule")),
            help: message(r.help),
            help_uri: format!("{DOCS_BASE}{}.md", r.id),
            default_configuration: Configuration {
                level: level(r.severity),
            },
            properties: RuleProperties { tags: tags(r) },
        })
        .collect();
    let mut results = Vec::new();
    let accepted = report.suppressions.iter().map(|s| (&s.finding, Some(s)));
    for (f, accepted) in report.findings().map(|f| (f, None)).chain(accepted) {
        // SARIF `fixes` need artifact changes; the fix text follows the message instead.
        let mut text = f.message.clone();
        for r in &f.remediation {
            match &r.command {
                Some(cmd) => text.push_str(&format!("\nFix: {}: {cmd}", r.description)),
                None => text.push_str(&format!("\nFix: {}", r.description)),
            }
        }
        results.push(SarifResult {
            rule_index: RULES.iter().position(|r| r.id == f.rule).unwrap_or(0),
            rule_id: f.rule.clone(),
            level: level(f.severity),
            message: Text { text },
            locations: vec![Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation { uri: uri(&f.file) },
                    region: Some(Region {
                        start_line: f.line.max(1),
                        start_column: f.column.max(1),
                    }),
                },
                logical_locations: vec![LogicalLocation {
                    fully_qualified_name: format!("{}/{}", f.resource, f.path),
                    kind: "member",
                }],
            }],
            partial_fingerprints: BTreeMap::from([(FINGERPRINT, fingerprint(f))]),
            properties: f
                .suggestion
                .as_ref()
                .map(|s| serde_json::json!({"suggestion": s})),
            suppressions: accepted.map(suppression).into_iter().collect(),
        });
    }
    let notifications: Vec<Notification> = report
        .files
        .iter()
        .filter_map(|f| {
            Some(Notification {
                level: "error",
                message: Text {
                    text: format!("{}: {}", f.file, f.error.as_ref()?),
                },
                locations: vec![file_location(f)],
            })
        })
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "kvdiag",
                    version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            invocations: vec![Invocation {
                execution_successful: notifications.is_empty(),
                tool_execution_notifications: notifications,
            }],
            results,
        }],
    };
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}
