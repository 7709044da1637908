//! `kvdiag lint`: a pre-deploy gate for Container Apps secrets.
//!
//! ```text
//! file (YAML | ARM JSON | compiled Bicep) -> resources (normalized, with spans) -> Workload::parse
//!        -> rules (static) [+ live: Collector -> Snapshot -> keyvault_* checkers] -> findings -> report
//! ```
//!
//! * [`yaml`] and [`json`] parse with positions; [`arm`] finds apps and jobs in templates and
//!   evaluates what the file decides ([`expr`]); the CLI YAML short form is normalized to the
//!   resource shape, so the engine's `Workload::parse` reads every input.
//! * [`rules`] holds one rule per file; they reuse the engine's model and helpers rather than
//!   copying its rules.
//! * [`live`] runs the engine's collectors and Key Vault checkers for `--live`.
//! * [`accept`] applies inline comments ([`suppress`]), `kvdiag.toml` ([`config`]) and
//!   `--baseline` ([`baseline`]); what they accept is listed, never dropped.
//! * [`report`] prints table and JSON, [`sarif`] SARIF 2.1.0. Nothing prints a secret value.

pub mod accept;
pub mod arm;
pub mod baseline;
pub mod config;
pub mod expr;
pub mod finding;
pub mod inputs;
mod json;
pub mod live;
pub mod report;
pub mod rules;
pub mod sarif;
pub mod source;
pub mod suppress;
mod yaml;

pub use arm::{Parameters, Unresolved};
pub use finding::{Finding, Pos, Severity};

use crate::snapshot::{Workload, WorkloadKind};
use serde::Serialize;
use serde_json::Value;
use source::Spans;
use std::path::Path;

/// The JSON schema id of [`Report`].
pub const SCHEMA: &str = "kvdiag/lint/v1";

/// Which shape a resource was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    /// `az containerapp create --yaml`, full resource shape (`properties:`).
    CliYaml,
    /// The same YAML with `configuration`/`template` at the top level.
    CliYamlShort,
    /// A resource in an ARM template (or compiled Bicep).
    ArmTemplate,
    /// A single resource as JSON (`az containerapp show` output, a REST body).
    ResourceJson,
}

/// What a linted resource is: a workload, or one of the environment's own Key Vault consumers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// `Microsoft.App/containerApps`.
    App,
    /// `Microsoft.App/jobs`.
    Job,
    /// `Microsoft.App/managedEnvironments` (its DNS-suffix certificate, its identities).
    Environment,
    /// `Microsoft.App/managedEnvironments/daprComponents`, or the YAML of
    /// `az containerapp env dapr-component set`.
    DaprComponent,
    /// `Microsoft.App/managedEnvironments/certificates`.
    Certificate,
}

impl ResourceKind {
    /// The workload kind, for apps and jobs.
    pub fn workload(self) -> Option<WorkloadKind> {
        match self {
            ResourceKind::App => Some(WorkloadKind::App),
            ResourceKind::Job => Some(WorkloadKind::Job),
            _ => None,
        }
    }

    /// For people: `app`, `job`, `environment`, `Dapr component`, `certificate`.
    pub fn word(self) -> &'static str {
        match self {
            ResourceKind::App => "app",
            ResourceKind::Job => "job",
            ResourceKind::Environment => "environment",
            ResourceKind::DaprComponent => "Dapr component",
            ResourceKind::Certificate => "certificate",
        }
    }
}

/// One resource from a file (a Container App or job, or an environment, Dapr component or
/// environment certificate), normalized to the ARM resource shape.
#[derive(Debug, Clone)]
pub struct Resource {
    pub kind: ResourceKind,
    /// The name as the file gives it (an unresolved expression stays as written).
    pub name: String,
    pub form: Form,
    pub body: Value,
    /// Positions by JSON pointer within `body`.
    pub spans: Spans,
    pub unresolved: Vec<Unresolved>,
    /// Key Vaults the same template declares (their permission model may depend on it).
    pub declared_vaults: Vec<arm::DeclaredVault>,
    /// For an environment's child declared nested in it, the environment's name.
    pub parent: Option<String>,
}

impl Resource {
    /// The engine's model of this resource (a missing name reads as `(unnamed)`: the CLI takes
    /// it from `--name`).
    pub fn workload(&self) -> Option<Workload> {
        let kind = self.kind.workload()?;
        let mut body = self.body.clone();
        if let Some(map) = body.as_object_mut()
            && !map.get("name").is_some_and(Value::is_string)
        {
            map.insert("name".into(), Value::String(self.name.clone()));
        }
        Workload::parse(kind, &body)
    }

    /// For a child of an environment (Dapr component, certificate): the environment's name
    /// and the child's own, from `env/child` or the nesting; `None` for the environment when
    /// the file does not say (the CLI YAML of one component).
    pub fn environment_and_name(&self) -> (Option<&str>, &str) {
        match (&self.parent, self.name.split_once('/')) {
            (Some(parent), _) => (Some(parent.as_str()), self.name.as_str()),
            (None, Some((env, child))) => (Some(env), child),
            (None, None) => (None, self.name.as_str()),
        }
    }
}

/// The result for one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: String,
    /// The apps and jobs found (name, kind, form).
    pub resources: Vec<ResourceSummary>,
    pub findings: Vec<Finding>,
    /// Why the file could not be linted (unreadable, malformed, not a Container App); `null`
    /// in JSON when it was linted.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceSummary {
    pub name: String,
    pub kind: ResourceKind,
    pub form: Form,
    pub line: usize,
}

/// A file a directory search found and left out: it is not a Container App.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub file: String,
    /// Why it is not one (lint's message for it).
    pub reason: String,
}

/// Everything one run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub files: Vec<FileReport>,
    /// Files a directory search found that are not Container Apps (see [`inputs`]).
    pub skipped: Vec<Skipped>,
    /// Findings accepted inline, by `kvdiag.toml` or by `--baseline` ([`accept`]); they do not
    /// count toward the exit code.
    pub suppressions: Vec<accept::Suppressed>,
}

impl Report {
    pub fn new(files: Vec<FileReport>) -> Report {
        Report {
            schema: SCHEMA,
            files,
            skipped: Vec::new(),
            suppressions: Vec::new(),
        }
    }

    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.files.iter().flat_map(|f| &f.findings)
    }

    /// 2 when a file could not be linted; else 1 when a finding is at or above `fail_on`;
    /// else 3 when `--live` could not decide a reference (a `keyvault-*` note); else 0.
    pub fn exit_code(&self, fail_on: Severity) -> i32 {
        if self.files.iter().any(|f| f.error.is_some()) {
            2
        } else if self.findings().any(|f| f.severity.at_least(fail_on)) {
            1
        } else if self
            .findings()
            .any(|f| f.severity == Severity::Note && live::is_live_rule(&f.rule))
        {
            3
        } else {
            0
        }
    }
}

/// Reads a `--parameters` file.
pub fn load_parameters(path: &Path) -> Result<Parameters, String> {
    let shown = path.display();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("bicepparam"))
    {
        return Err(format!(
            "{shown}: .bicepparam files are not supported; compile it with `az bicep build-params --file {shown}` and pass the JSON"
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let (doc, _) = json::parse(&text).map_err(|e| format!("{shown}: {e}"))?;
    Parameters::from_doc(&doc).map_err(|e| format!("{shown} {e}"))
}

/// Lints one file's text statically. Never panics; a file that cannot be linted gets `error`.
pub fn lint_text(file: &str, text: &str, params: Option<&Parameters>) -> FileReport {
    let mut report = FileReport {
        file: file.to_string(),
        resources: Vec::new(),
        findings: Vec::new(),
        error: None,
    };
    let resources = match load(file, text, params) {
        Ok(r) => r,
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    for resource in &resources {
        report.resources.push(ResourceSummary {
            name: resource.name.clone(),
            kind: resource.kind,
            form: resource.form,
            line: resource.spans.locate("").line,
        });
        let workload = resource.workload();
        if resource.kind.workload().is_some() && workload.is_none() {
            continue;
        }
        let ctx = rules::Ctx {
            file,
            resource,
            workload: workload.as_ref(),
            siblings: &resources,
        };
        report.findings.extend(rules::run(&ctx));
    }
    sort(&mut report.findings);
    report
}

/// Findings in file order.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.line, a.column, a.severity, &a.rule).cmp(&(b.line, b.column, b.severity, &b.rule))
    });
}

/// Reads the Container Apps and jobs in a file (YAML, ARM JSON, a resource JSON).
pub fn load(file: &str, text: &str, params: Option<&Parameters>) -> Result<Vec<Resource>, String> {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".bicep") {
        return Err(format!(
            "Bicep source is not read directly; compile it with `az bicep build --file {file}` and lint the JSON"
        ));
    }
    // Standard input ([`inputs::STDIN`]) and any name that does not end in `.json` are read
    // by content: JSON when the text starts with `{`, else YAML.
    let looks_json = lower.ends_with(".json")
        || lower.ends_with(".jsonc")
        || text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{');
    let text = text.trim_start_matches('\u{feff}');
    if looks_json {
        let (doc, spans) = json::parse(text)?;
        from_json(doc, spans, params)
    } else {
        let (doc, spans) = yaml::parse(text)?;
        from_yaml(doc, spans)
    }
}

const NOT_AN_APP: &str = "not a Container App";

fn from_yaml(doc: Value, spans: Spans) -> Result<Vec<Resource>, String> {
    let Some(map) = doc.as_object() else {
        return Err(format!(
            "{NOT_AN_APP}: the YAML is {}, not a mapping; expected the YAML of `az containerapp create --yaml` (https://learn.microsoft.com/azure/container-apps/azure-resource-manager-api-spec)",
            kind_of(&doc)
        ));
    };
    if let (Some(api), Some(kind)) = (map.get("apiVersion"), map.get("kind")) {
        return Err(format!(
            "{NOT_AN_APP}: this looks like a Kubernetes manifest (apiVersion {api}, kind {kind}); kvdiag lint reads the YAML of `az containerapp create --yaml`"
        ));
    }
    if arm::is_template(&doc) {
        return from_json(doc, spans, None);
    }
    if is_dapr_component_yaml(map) {
        return Ok(vec![dapr_component_yaml(doc, spans)]);
    }
    let kind = resource_kind(map)?;
    single(doc, spans, kind, Form::CliYaml)
}

/// The YAML of `az containerapp env dapr-component set --yaml` (`componentType`, `metadata`,
/// `secrets`, `scopes` at the top level), or a Dapr component resource with `properties`.
fn is_dapr_component_yaml(map: &serde_json::Map<String, Value>) -> bool {
    map.contains_key("componentType")
        || map
            .get("properties")
            .is_some_and(|p| p.get("componentType").is_some())
        || map
            .get("type")
            .and_then(Value::as_str)
            .and_then(arm::resource_kind)
            == Some(ResourceKind::DaprComponent)
}

/// A Dapr component's YAML normalized to the resource shape: every top-level member but
/// `name`, `type`, `id` and `properties` moves under `properties` (the CLI takes the component's
/// name from `--dapr-component-name`).
fn dapr_component_yaml(mut doc: Value, mut spans: Spans) -> Resource {
    let mut short = false;
    if let Some(map) = doc.as_object_mut() {
        if !map.get("properties").is_some_and(Value::is_object) {
            map.insert("properties".into(), Value::Object(serde_json::Map::new()));
        }
        let keys: Vec<String> = map
            .keys()
            .filter(|k| !["name", "type", "id", "properties"].contains(&k.as_str()))
            .cloned()
            .collect();
        for key in keys {
            short = true;
            if let Some(v) = map.remove(&key)
                && let Some(Value::Object(props)) = map.get_mut("properties")
            {
                props.insert(key.clone(), v);
            }
            let escaped = source::escape(&key);
            spans.rename(&format!("/{escaped}"), &format!("/properties/{escaped}"));
        }
    }
    let form = if short {
        Form::CliYamlShort
    } else {
        Form::CliYaml
    };
    resource(doc, spans, ResourceKind::DaprComponent, form, Vec::new())
}

/// One resource written on its own (CLI YAML or a resource JSON), normalized from the CLI's
/// short form when it uses it.
fn single(
    mut doc: Value,
    mut spans: Spans,
    kind: ResourceKind,
    long_form: Form,
) -> Result<Vec<Resource>, String> {
    let short = yaml::normalize(&mut doc, &mut spans);
    require_app_shape(&doc)?;
    let form = if short { Form::CliYamlShort } else { long_form };
    Ok(vec![resource(doc, spans, kind, form, Vec::new())])
}

fn from_json(
    doc: Value,
    spans: Spans,
    params: Option<&Parameters>,
) -> Result<Vec<Resource>, String> {
    if !doc.is_object() {
        return Err(format!(
            "{NOT_AN_APP}: the JSON is {}; expected an ARM template or a Container Apps resource",
            kind_of(&doc)
        ));
    }
    if arm::is_parameters_file(&doc) {
        return Err(format!(
            "{NOT_AN_APP}: this is an ARM parameters file; lint the template and pass this file with --parameters"
        ));
    }
    if arm::is_template(&doc) {
        let arm::Scan {
            found,
            others,
            vaults,
        } = arm::workloads(&doc, params);
        if found.is_empty() {
            let mut types = others;
            types.sort();
            types.dedup();
            return Err(format!(
                "{NOT_AN_APP}: the template declares no Microsoft.App/containerApps, Microsoft.App/jobs or Microsoft.App/managedEnvironments (nor its daprComponents or certificates) resource (it declares: {})",
                if types.is_empty() {
                    "nothing".to_string()
                } else {
                    types.join(", ")
                }
            ));
        }
        return Ok(found
            .into_iter()
            .map(|f| {
                let sub = spans.subtree(&f.pointer);
                let mut r = resource(f.body, sub, f.kind, Form::ArmTemplate, f.unresolved);
                r.declared_vaults = vaults.clone();
                r.parent = f.parent;
                r
            })
            .collect());
    }
    let kind = match doc.as_object() {
        Some(map) if is_dapr_component_yaml(map) => {
            return Ok(vec![dapr_component_yaml(doc, spans)]);
        }
        Some(map) => resource_kind(map)?,
        None => return Err(format!("{NOT_AN_APP}: the JSON is not an object")),
    };
    single(doc, spans, kind, Form::ResourceJson)
}

/// App or job from `type`, or from job-only fields when `type` is absent.
fn resource_kind(map: &serde_json::Map<String, Value>) -> Result<ResourceKind, String> {
    if let Some(t) = map.get("type").and_then(Value::as_str) {
        return arm::resource_kind(t)
            .filter(|k| k.workload().is_some())
            .ok_or_else(|| {
                format!("{NOT_AN_APP}: its type is '{t}', not Microsoft.App/containerApps or Microsoft.App/jobs")
            });
    }
    let config = map
        .get("properties")
        .and_then(|p| p.get("configuration"))
        .or_else(|| map.get("configuration"));
    let job = config.is_some_and(|c| {
        [
            "triggerType",
            "eventTriggerConfig",
            "manualTriggerConfig",
            "scheduleTriggerConfig",
        ]
        .iter()
        .any(|k| c.get(k).is_some())
    });
    Ok(if job {
        ResourceKind::Job
    } else {
        ResourceKind::App
    })
}

fn require_app_shape(doc: &Value) -> Result<(), String> {
    let props = doc.get("properties");
    let has = |k: &str| props.and_then(|p| p.get(k)).is_some_and(|v| !v.is_null());
    if has("template") || has("configuration") {
        Ok(())
    } else {
        Err(format!(
            "{NOT_AN_APP}: found no `properties.template` or `properties.configuration` (nor their short form at the top level); expected the YAML of `az containerapp create --yaml`, an ARM template, or a Container Apps resource"
        ))
    }
}

fn resource(
    body: Value,
    spans: Spans,
    kind: ResourceKind,
    form: Form,
    unresolved: Vec<Unresolved>,
) -> Resource {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_string();
    Resource {
        kind,
        name,
        form,
        body,
        spans,
        unresolved,
        declared_vaults: Vec::new(),
        parent: None,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a plain string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
