//! ARM JSON templates (hand-written or compiled from Bicep) and their parameters files.
//!
//! Finds every `Microsoft.App/containerApps` and `Microsoft.App/jobs` resource: in `resources`
//! as an array, as languageVersion 2.0 symbolic names (an object), as child `resources`, and in
//! nested deployments (`Microsoft.Resources/deployments`, which is what Bicep modules compile
//! to, with `inner` or `outer` expression scope). Expressions are evaluated as far as the
//! template and the parameters decide them ([`super::expr`]); every one left is recorded as
//! [`Unresolved`] so rules skip it and say so instead of guessing. A secret's `value` is never
//! evaluated: no rule needs it, so a secure parameter's value never enters kvdiag.

use super::ResourceKind;
use super::expr::{self, Context};
use super::source::escape;
use crate::snapshot::WorkloadKind;
use serde_json::{Map, Value};
use std::cell::Cell;
use std::collections::BTreeMap;

/// A value in the file that only the deployment decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// JSON pointer within the resource.
    pub pointer: String,
    /// The expression as written (template code, never a parameter's value).
    pub expression: String,
    pub reason: String,
}

/// A resource lint reads found in a template: a Container App or job, or an environment and
/// its Dapr components and certificates (the other Key Vault consumers).
#[derive(Debug, Clone)]
pub struct Found {
    /// JSON pointer of the resource within the file.
    pub pointer: String,
    pub kind: ResourceKind,
    /// For a child of an environment declared as a nested `resources` entry, the parent's
    /// name (a top-level child carries it in its own `env/child` name).
    pub parent: Option<String>,
    /// The resource with every expression the file decides evaluated.
    pub body: Value,
    pub unresolved: Vec<Unresolved>,
}

/// A Key Vault declared in the same template: which data-plane permission model it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredVault {
    /// The vault's name, when the template decides it.
    pub name: String,
    pub api_version: String,
    /// `properties.enableRbacAuthorization` as written; `None` when absent (the default
    /// depends on the api-version) or left to the deployment.
    pub rbac: Option<bool>,
}

/// What a template declares: its apps and jobs, the types of everything else, and its vaults.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub found: Vec<Found>,
    pub others: Vec<String>,
    pub vaults: Vec<DeclaredVault>,
}

/// Values from a deployment parameters file (`{"parameters": {"x": {"value": ...}}}`), by
/// lower-cased name (ARM parameter names compare without case).
#[derive(Debug, Clone, Default)]
pub struct Parameters {
    values: BTreeMap<String, Result<Value, String>>,
}

impl Parameters {
    /// Reads a parsed parameters file; the error says what shape was expected.
    pub fn from_doc(doc: &Value) -> Result<Parameters, String> {
        let Some(map) = doc.get("parameters").and_then(Value::as_object) else {
            return Err("is not an ARM deployment parameters file: expected {\"$schema\": \".../deploymentParameters.json#\", \"parameters\": {\"name\": {\"value\": ...}}}".into());
        };
        let mut values = BTreeMap::new();
        for (name, entry) in map {
            let v = match (entry.get("value"), entry.get("reference")) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(_)) => Err(format!(
                    "parameter '{name}' is a Key Vault reference in the parameters file, read at deployment time"
                )),
                (None, None) => Err(format!(
                    "parameter '{name}' in the parameters file has neither 'value' nor 'reference'"
                )),
            };
            values.insert(name.to_ascii_lowercase(), v);
        }
        Ok(Parameters { values })
    }
}

/// True for a template (as opposed to a single resource or a parameters file).
pub fn is_template(doc: &Value) -> bool {
    doc.get("resources")
        .is_some_and(|r| r.is_array() || r.is_object())
}

/// True for a deployment parameters file.
pub fn is_parameters_file(doc: &Value) -> bool {
    doc.get("$schema")
        .and_then(Value::as_str)
        .is_some_and(|s| s.to_ascii_lowercase().contains("deploymentparameters"))
}

/// The workload kind of an ARM resource type.
pub fn workload_kind(resource_type: &str) -> Option<WorkloadKind> {
    if resource_type.eq_ignore_ascii_case("Microsoft.App/containerApps") {
        Some(WorkloadKind::App)
    } else if resource_type.eq_ignore_ascii_case("Microsoft.App/jobs") {
        Some(WorkloadKind::Job)
    } else {
        None
    }
}

/// The kind of resource lint reads, from an ARM `type` (any case), or `None`.
pub fn resource_kind(resource_type: &str) -> Option<ResourceKind> {
    if let Some(kind) = workload_kind(resource_type) {
        return Some(match kind {
            WorkloadKind::App => ResourceKind::App,
            WorkloadKind::Job => ResourceKind::Job,
            WorkloadKind::Environment => ResourceKind::Environment,
        });
    }
    let t = resource_type.to_ascii_lowercase();
    match t.as_str() {
        "microsoft.app/managedenvironments" => Some(ResourceKind::Environment),
        "microsoft.app/managedenvironments/daprcomponents" => Some(ResourceKind::DaprComponent),
        "microsoft.app/managedenvironments/certificates" => Some(ResourceKind::Certificate),
        _ => None,
    }
}

/// Every app, job, environment, Dapr component and environment certificate in a template, the
/// types of the other resources (for the message when there is none), and the Key Vaults it
/// declares.
pub fn workloads(template: &Value, params: Option<&Parameters>) -> Scan {
    let scope = Scope::new(
        template,
        params.map(|p| p.values.clone()).unwrap_or_default(),
    );
    let mut scan = Scan::default();
    walk(template, "", &scope, &mut scan, 0);
    scan
}

fn walk(template: &Value, base: &str, scope: &Scope, scan: &mut Scan, depth: usize) {
    if depth > 16 {
        return;
    }
    let resources: Vec<(String, &Value)> = match template.get("resources") {
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("{base}/resources/{i}"), r))
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, r)| (format!("{base}/resources/{}", escape(name)), r))
            .collect(),
        _ => Vec::new(),
    };
    // A nested child's `type` may be written relative to its parent (`daprComponents`).
    let parent_type = template.get("type").and_then(Value::as_str);
    let parent_name = template
        .get("name")
        .and_then(Value::as_str)
        .and_then(|n| expr::evaluate_string(n, scope).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    for (pointer, r) in resources {
        let written = r.get("type").and_then(Value::as_str).unwrap_or_default();
        let qualified = match parent_type {
            Some(parent) if !written.contains('/') && !written.is_empty() => {
                format!("{parent}/{written}")
            }
            _ => written.to_string(),
        };
        let rtype = qualified.as_str();
        let existing = r.get("existing").and_then(Value::as_bool) == Some(true);
        if let Some(kind) = resource_kind(rtype) {
            if existing {
                continue;
            }
            let mut unresolved = Vec::new();
            let body = resolve_tree(r, "", scope, &mut unresolved, 0);
            scan.found.push(Found {
                pointer: pointer.clone(),
                kind,
                parent: (qualified != written)
                    .then(|| parent_name.clone())
                    .flatten(),
                body,
                unresolved,
            });
            if kind == ResourceKind::Environment && r.get("resources").is_some() {
                walk(r, &pointer, scope, scan, depth + 1);
            }
            continue;
        }
        scan.others.push(rtype.to_string());
        if rtype.eq_ignore_ascii_case("Microsoft.KeyVault/vaults") && !existing {
            let mut unresolved = Vec::new();
            let body = resolve_tree(r, "", scope, &mut unresolved, 0);
            let decided = |p: &str| !unresolved.iter().any(|u: &Unresolved| u.pointer == p);
            if let (Some(name), Some(api)) = (
                body.get("name")
                    .and_then(Value::as_str)
                    .filter(|_| decided("/name")),
                body.get("apiVersion").and_then(Value::as_str),
            ) {
                scan.vaults.push(DeclaredVault {
                    name: name.to_string(),
                    api_version: api.to_string(),
                    rbac: body
                        .pointer("/properties/enableRbacAuthorization")
                        .and_then(Value::as_bool),
                });
            }
        }
        if rtype.eq_ignore_ascii_case("Microsoft.Resources/deployments")
            && let Some(inner) = r.pointer("/properties/template").filter(|t| t.is_object())
        {
            let inner_scope = r
                .pointer("/properties/expressionEvaluationOptions/scope")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
            let child_pointer = format!("{pointer}/properties/template");
            if inner_scope {
                let supplied = r
                    .pointer("/properties/parameters")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                let value = match (v.get("value"), v.get("reference")) {
                                    (Some(v), _) => resolve_fully(v, scope),
                                    _ => Err(format!(
                                        "parameter '{k}' of the nested deployment is a Key Vault reference"
                                    )),
                                };
                                (k.to_ascii_lowercase(), value)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let s = Scope::new(inner, supplied);
                walk(inner, &child_pointer, &s, scan, depth + 1);
            } else {
                walk(inner, &child_pointer, scope, scan, depth + 1);
            }
        }
        if r.get("resources").is_some() {
            walk(r, &pointer, scope, scan, depth + 1);
        }
    }
}

/// One template's parameters and variables.
struct Scope<'a> {
    supplied: BTreeMap<String, Result<Value, String>>,
    definitions: BTreeMap<String, &'a Value>,
    variables: BTreeMap<String, &'a Value>,
    /// Guards variables and defaults that refer to each other.
    depth: Cell<usize>,
}

impl<'a> Scope<'a> {
    fn new(template: &'a Value, supplied: BTreeMap<String, Result<Value, String>>) -> Self {
        let by_name = |key: &str| {
            template
                .get(key)
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect())
                .unwrap_or_default()
        };
        Scope {
            supplied,
            definitions: by_name("parameters"),
            variables: by_name("variables"),
            depth: Cell::new(0),
        }
    }

    fn nested<T>(&self, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        if self.depth.get() > 32 {
            return Err("parameters or variables refer to each other too deeply".into());
        }
        self.depth.set(self.depth.get() + 1);
        let out = f();
        self.depth.set(self.depth.get() - 1);
        out
    }
}

impl Context for Scope<'_> {
    fn parameter(&self, name: &str) -> Result<Value, String> {
        let key = name.to_ascii_lowercase();
        if let Some(v) = self.supplied.get(&key) {
            return v.clone();
        }
        let Some(def) = self.definitions.get(&key) else {
            return Err(format!(
                "parameter '{name}' is not declared in the template"
            ));
        };
        match def.get("defaultValue") {
            Some(d) => self.nested(|| resolve_fully(d, self)),
            None => Err(format!(
                "parameter '{name}' has no value: pass it with --parameters FILE or give it a defaultValue"
            )),
        }
    }

    fn variable(&self, name: &str) -> Result<Value, String> {
        let Some(v) = self.variables.get(&name.to_ascii_lowercase()) else {
            return Err(format!("variable '{name}' is not defined"));
        };
        self.nested(|| resolve_fully(v, self))
    }
}

/// A value with every expression evaluated, or the first reason one could not be.
fn resolve_fully(v: &Value, ctx: &dyn Context) -> Result<Value, String> {
    let mut unresolved = Vec::new();
    let out = resolve_tree(v, "", ctx, &mut unresolved, 0);
    match unresolved.into_iter().next() {
        None => Ok(out),
        Some(u) => Err(u.reason),
    }
}

/// True for `/properties/configuration/secrets/<n>/value`: never evaluated.
fn is_secret_value(pointer: &str) -> bool {
    pointer
        .strip_prefix("/properties/configuration/secrets/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(i, field)| i.chars().all(|c| c.is_ascii_digit()) && field == "value")
}

fn resolve_tree(
    v: &Value,
    at: &str,
    ctx: &dyn Context,
    out: &mut Vec<Unresolved>,
    depth: usize,
) -> Value {
    if depth > 128 {
        return v.clone();
    }
    match v {
        Value::String(s) if is_secret_value(at) => Value::String(s.clone()),
        Value::String(s) => match expr::evaluate_string(s, ctx) {
            Ok(value) => value,
            Err(reason) => {
                out.push(Unresolved {
                    pointer: at.to_string(),
                    expression: s.clone(),
                    reason,
                });
                v.clone()
            }
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| resolve_tree(item, &format!("{at}/{i}"), ctx, out, depth + 1))
                .collect(),
        ),
        Value::Object(map) => {
            let mut result = Map::new();
            for (k, item) in map {
                if k == "copy"
                    && let Some(loops) = item.as_array()
                    && loops.iter().all(|l| l.get("input").is_some())
                {
                    // A property copy loop (Bicep `for`): the list is built at deployment.
                    for l in loops {
                        let name = l.get("name").and_then(Value::as_str).unwrap_or("?");
                        out.push(Unresolved {
                            pointer: format!("{at}/{}", escape(name)),
                            expression: format!("copy loop '{name}'"),
                            reason: "a copy loop (Bicep `for`) builds this list at deployment time"
                                .into(),
                        });
                    }
                    continue;
                }
                let key = if expr::is_expression(k) {
                    match expr::evaluate_string(k, ctx) {
                        Ok(Value::String(resolved)) => resolved,
                        Ok(_) | Err(_) => {
                            out.push(Unresolved {
                                pointer: format!("{at}/{}", escape(k)),
                                expression: k.clone(),
                                reason: expr::evaluate_string(k, ctx).err().unwrap_or_else(|| {
                                    "the key does not evaluate to a string".into()
                                }),
                            });
                            k.clone()
                        }
                    }
                } else {
                    k.clone()
                };
                let child = format!("{at}/{}", escape(&key));
                result.insert(key, resolve_tree(item, &child, ctx, out, depth + 1));
            }
            Value::Object(result)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_apps_in_arrays_symbolic_names_and_modules() {
        let t = json!({
            "languageVersion": "2.0",
            "parameters": {"appName": {"type": "string", "defaultValue": "ca-a"}},
            "resources": {
                "app": {"type": "Microsoft.App/containerApps", "name": "[parameters('appName')]", "properties": {}},
                "old": {"type": "Microsoft.App/containerApps", "existing": true, "name": "x"},
                "mod": {"type": "Microsoft.Resources/deployments", "properties": {
                    "expressionEvaluationOptions": {"scope": "inner"},
                    "parameters": {"n": {"value": "[concat(parameters('appName'), '-job')]"}},
                    "template": {"parameters": {"n": {"type": "string"}}, "resources": [
                        {"type": "Microsoft.App/jobs", "name": "[parameters('n')]", "properties": {}}
                    ]}
                }}
            }
        });
        let Scan { found, others, .. } = workloads(&t, None);
        let names: Vec<&str> = found
            .iter()
            .map(|f| f.body["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ca-a", "ca-a-job"]);
        assert_eq!(
            found[1].pointer,
            "/resources/mod/properties/template/resources/0"
        );
        assert_eq!(others, ["Microsoft.Resources/deployments"]);
    }

    #[test]
    fn parameters_file_wins_and_secret_values_are_never_evaluated() {
        let t = json!({"parameters": {"pw": {"type": "securestring"}, "kv": {"type": "string", "defaultValue": "a"}},
        "resources": [{"type": "Microsoft.App/containerApps", "name": "x", "properties": {"configuration": {"secrets": [
            {"name": "db", "value": "[parameters('pw')]"},
            {"name": "kv", "keyVaultUrl": "[format('https://{0}.vault.azure.net/secrets/db', parameters('kv'))]", "identity": "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id')]"}
        ]}}}]});
        let params = Parameters::from_doc(&json!({"parameters": {"KV": {"value": "kv-orders-shared"}, "pw": {"value": "canary"}}})).unwrap();
        let found = workloads(&t, Some(&params)).found;
        let secrets = &found[0].body["properties"]["configuration"]["secrets"];
        assert_eq!(secrets[0]["value"], "[parameters('pw')]");
        assert_eq!(
            secrets[1]["keyVaultUrl"],
            "https://kv-orders-shared.vault.azure.net/secrets/db"
        );
        assert_eq!(found[0].unresolved.len(), 1);
        assert_eq!(
            found[0].unresolved[0].pointer,
            "/properties/configuration/secrets/1/identity"
        );
    }

    #[test]
    fn copy_loops_are_unresolved_lists() {
        let t = json!({"resources": [{"type": "Microsoft.App/containerApps", "name": "x", "properties": {"configuration": {
            "copy": [{"name": "secrets", "count": "[length(parameters('s'))]", "input": {"name": "[parameters('s')[copyIndex('secrets')]]"}}]
        }}}]});
        let found = workloads(&t, None).found;
        assert_eq!(
            found[0].unresolved[0].pointer,
            "/properties/configuration/secrets"
        );
        assert!(
            found[0].body["properties"]["configuration"]
                .get("copy")
                .is_none()
        );
    }
}
