//! SARIF 2.1.0 output, the format GitHub code scanning and the Azure DevOps SARIF SAST Scans
//! tab show inline on the file and line.
//!
//! Plain serde structs for the part of the schema kvdiag fills (`tool.driver.rules`, `results`
//! with one physical location each, `invocations` for files that could not be read); the test
//! suite validates the output against the official schema (tests/schemas/). `uri` is the path
//! as given on the command line, so a run from the repository root gives repository-relative
//! paths, which is what code scanning expects.

use super::finding::Severity;
use super::rules::RULES;
use super::{FileReport, Report};
use serde::Serialize;

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
    default_configuration: Configuration,
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
            default_configuration: Configuration {
                level: level(r.severity),
            },
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
