//! Lint rules, one per file (like ruff): each file's doc comment states the Azure rule it
//! encodes and why it matters; its `RULE` gives the stable id, default severity and a one-line
//! summary (the README's rule table and SARIF's `tool.driver.rules` come from these).
//!
//! Ids are descriptive kebab-case (`secretref-undefined`), like cargo-deny's diagnostic codes:
//! they read well in a SARIF viewer and never change once released. Static rules read the
//! file only, through the engine's own model (`Workload::parse`, `Workload::secret_refs`,
//! `did_you_mean`, `KeyVaultRef::parse`, `Template::literal_secretrefs`); the `--live` rules
//! (`check: None`) turn the `keyvault_*` checkers' hypotheses into findings (see
//! [`super::live`]).

pub mod appservice_keyvault_reference;
pub mod certificate_identity_undeclared;
pub mod dapr_secret_store_misspelled;
pub mod dapr_secret_store_undeclared;
pub mod dapr_secretref_undefined;
pub mod env_literal_secretref;
pub mod expression_unresolved;
pub mod keyvault_access;
pub mod keyvault_network;
pub mod keyvault_permission_model_implicit;
pub mod keyvault_secret_state;
pub mod keyvault_url_malformed;
pub mod keyvault_url_pinned;
pub mod keyvault_url_without_identity;
pub mod secret_identity_undeclared;
pub mod secret_literal_value;
pub mod secret_name_invalid;
pub mod secret_source_invalid;
pub mod secretref_undefined;
pub mod suppression_invalid;
pub mod suppression_unused;
pub mod system_identity_not_created;

use super::finding::{Finding, Severity};
use super::source::pointer_to_dotted;
use super::{Resource, ResourceKind};
use crate::azure::keyvault_url::KeyVaultRef;
use crate::snapshot::{DaprComponent, Workload};
use serde_json::{Map, Value};

/// A lint rule.
pub struct Rule {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// The default severity (a finding may lower it, e.g. a legacy name is only a warning).
    pub severity: Severity,
    /// One line: what it catches and why it matters.
    pub summary: &'static str,
    /// The rule's page, `docs/rules/<id>.md` (what it catches, the Azure rule, an example and
    /// its fix, how to fix): the one text the docs and SARIF's rule help share.
    pub help: &'static str,
    /// Static rules; `None` for rules only `--live` can decide, and for the suppression
    /// comments' own findings ([`crate::lint::suppress`]).
    pub check: Option<fn(&Ctx) -> Vec<Finding>>,
}

/// Every rule, static first, in the README's order.
pub const RULES: &[&Rule] = &[
    &secretref_undefined::RULE,
    &secret_name_invalid::RULE,
    &secret_source_invalid::RULE,
    &keyvault_url_without_identity::RULE,
    &keyvault_url_malformed::RULE,
    &keyvault_url_pinned::RULE,
    &keyvault_permission_model_implicit::RULE,
    &secret_identity_undeclared::RULE,
    &secret_literal_value::RULE,
    &env_literal_secretref::RULE,
    &appservice_keyvault_reference::RULE,
    &dapr_secretref_undefined::RULE,
    &dapr_secret_store_misspelled::RULE,
    &dapr_secret_store_undeclared::RULE,
    &certificate_identity_undeclared::RULE,
    &expression_unresolved::RULE,
    &keyvault_access::RULE,
    &keyvault_secret_state::RULE,
    &keyvault_network::RULE,
    &system_identity_not_created::RULE,
    &suppression_invalid::RULE,
    &suppression_unused::RULE,
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

impl Rule {
    /// The body of one `## heading` section of the rule's page, trimmed (empty when absent).
    pub fn help_section(&self, heading: &str) -> &'static str {
        let help = self.help;
        let marker = format!("\n## {heading}\n");
        let Some(start) = help.find(&marker).map(|i| i + marker.len()) else {
            return "";
        };
        let end = help[start..]
            .find("\n## ")
            .map_or(help.len(), |i| start + i);
        help[start..end].trim()
    }
}

/// What a rule looks at: one resource of one file, the engine's model of it (apps and jobs;
/// `None` for an environment, Dapr component or certificate), and the file's other resources.
pub struct Ctx<'a> {
    pub file: &'a str,
    pub resource: &'a Resource,
    pub workload: Option<&'a Workload>,
    /// Every resource of the file, this one included.
    pub siblings: &'a [Resource],
}

impl Ctx<'_> {
    /// A finding of `rule` at `pointer` (within the resource), at the rule's severity.
    pub fn finding(&self, rule: &Rule, pointer: &str, message: impl Into<String>) -> Finding {
        let pos = self.resource.spans.locate(pointer);
        Finding {
            rule: rule.id.to_string(),
            severity: rule.severity,
            message: message.into(),
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            path: pointer_to_dotted(pointer),
            resource: self.resource.name.clone(),
            suggestion: None,
            remediation: Vec::new(),
        }
    }

    /// True when the value at `pointer`, or one holding it, is an expression left unresolved.
    pub fn unresolved(&self, pointer: &str) -> bool {
        self.resource.unresolved.iter().any(|u| {
            pointer == u.pointer
                || pointer
                    .strip_prefix(u.pointer.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// The raw `configuration.secrets[]` entries with their index (values are looked at only
    /// to tell whether one is present; they are never copied into a finding).
    pub fn secrets(&self) -> Vec<(usize, &Map<String, Value>)> {
        self.resource
            .body
            .pointer("/properties/configuration/secrets")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .enumerate()
                    .filter_map(|(i, s)| Some((i, s.as_object()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A string field of a secret, unless it is absent, not a string, or unresolved.
    pub fn secret_field<'s>(
        &self,
        index: usize,
        secret: &'s Map<String, Value>,
        field: &str,
    ) -> Option<&'s str> {
        let s = secret.get(field)?.as_str()?;
        (!self.unresolved(&secret_pointer(index, field))).then_some(s)
    }

    /// Secrets whose `keyVaultUrl` the file decides and that parse as a vault secret URL.
    pub fn key_vault_refs(&self) -> Vec<(usize, &Map<String, Value>, KeyVaultRef)> {
        self.secrets()
            .into_iter()
            .filter_map(|(i, secret)| {
                let url = self.secret_field(i, secret, "keyVaultUrl")?;
                Some((i, secret, KeyVaultRef::parse(url).ok()?))
            })
            .collect()
    }

    /// True when every secret name is known from the file (no copy loop, no unresolved name).
    pub fn secret_names_known(&self) -> bool {
        let base = "/properties/configuration/secrets";
        !self.resource.unresolved.iter().any(|u| {
            u.pointer == base
                || base.starts_with(&format!("{}/", u.pointer))
                || (u.pointer.starts_with(&format!("{base}/")) && u.pointer.ends_with("/name"))
        }) && self.resource.body.pointer(base).is_none_or(Value::is_array)
    }

    /// The secret's name for messages (`#2` when it has none).
    pub fn secret_label(&self, index: usize, secret: &Map<String, Value>) -> String {
        match secret.get("name").and_then(Value::as_str) {
            Some(name) => format!("'{name}'"),
            None => format!("#{index}"),
        }
    }
}

impl Ctx<'_> {
    /// The engine's model of this resource when it is a Dapr component (the CLI YAML names it
    /// with `--dapr-component-name`, so a file without a name reads as `(unnamed)`).
    pub fn dapr_component(&self) -> Option<DaprComponent> {
        if self.resource.kind != ResourceKind::DaprComponent {
            return None;
        }
        let mut body = self.resource.body.clone();
        if let Some(map) = body.as_object_mut() {
            map.insert(
                "name".into(),
                Value::String(self.resource.environment_and_name().1.to_string()),
            );
        }
        DaprComponent::parse(&body)
    }

    /// The index of the first item of the list at `pointer` that `wanted` accepts (to point a
    /// finding at an item the model names).
    pub fn index_where(&self, pointer: &str, wanted: impl Fn(&Value) -> bool) -> Option<usize> {
        self.resource
            .body
            .pointer(pointer)
            .and_then(Value::as_array)?
            .iter()
            .position(wanted)
    }

    /// The environment resources of this file (a certificate's or component's parent is
    /// found among them by name).
    pub fn environments(&self) -> impl Iterator<Item = &Resource> {
        self.siblings
            .iter()
            .filter(|r| r.kind == ResourceKind::Environment)
    }
}

/// `/properties/configuration/secrets/<i>[/<field>]`.
pub fn secret_pointer(index: usize, field: &str) -> String {
    if field.is_empty() {
        format!("/properties/configuration/secrets/{index}")
    } else {
        format!("/properties/configuration/secrets/{index}/{field}")
    }
}

/// Runs every static rule on one resource.
pub fn run(ctx: &Ctx) -> Vec<Finding> {
    RULES
        .iter()
        .filter_map(|r| r.check)
        .flat_map(|check| check(ctx))
        .collect()
}
