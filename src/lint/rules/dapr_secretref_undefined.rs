//! `dapr-secretref-undefined` (error): a Dapr component's metadata `secretRef` names no secret
//! of the component, and the component has no secret store.
//!
//! **Azure rule.** A `metadata[].secretRef` of a Dapr component resolves against the component's
//! own `secrets[]`, or against the keys of the component named by `secretStoreComponent`. With no
//! secret store, a name that is not one of the component's secrets is refused with
//! `DaprComponentMetadataSecretRefNotFound` (docs/azure.md#dapr-components;
//! docs/azure-errors.md#d1-daprcomponentmetadatasecretrefnotfound). With a secret store, the
//! name is a key of that store, which only Azure can check.
//!
//! **Why lint.** The component is read with the engine's model (`DaprComponent::parse`), and
//! near misses come from the `secret_ref` checker's `did_you_mean`.

use super::{Ctx, Rule};
use crate::checks::did_you_mean;
use crate::lint::finding::{Finding, Severity};
use crate::verdict::Remediation;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "dapr-secretref-undefined",
    severity: Severity::Error,
    summary: "a Dapr component's metadata secretRef names none of its secrets and it has no secretStoreComponent: Azure refuses it with DaprComponentMetadataSecretRefNotFound",
    help: include_str!("../../../docs/rules/dapr-secretref-undefined.md"),
    check: Some(check),
};

fn check(ctx: &Ctx) -> Vec<Finding> {
    let Some(component) = ctx.dapr_component() else {
        return Vec::new();
    };
    if component.secret_store.is_some()
        || ctx.unresolved("/properties/secrets")
        || ctx.unresolved("/properties/secretStoreComponent")
    {
        return Vec::new();
    }
    let names: Vec<&str> = component.secrets.iter().map(|s| s.name.as_str()).collect();
    let defined = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    let mut out = Vec::new();
    for m in &component.metadata {
        let Some(secret) = m.secret_ref.as_deref() else {
            continue;
        };
        let Some(index) = ctx.index_where("/properties/metadata", |item| {
            item.get("name").and_then(Value::as_str) == Some(m.name.as_str())
                && item.get("secretRef").and_then(Value::as_str) == Some(secret)
        }) else {
            continue;
        };
        let pointer = format!("/properties/metadata/{index}/secretRef");
        if ctx.unresolved(&pointer) || names.contains(&secret) {
            continue;
        }
        let hint = did_you_mean(secret, &names);
        let fix = match &hint {
            Some((name, why)) => format!(
                "did you mean '{name}' ({why})? Change the secretRef, or add a secret named '{secret}' to the component's secrets"
            ),
            None => format!(
                "add a secret named '{secret}' to the component's secrets (a keyVaultUrl with an identity keeps it out of the file), or set secretStoreComponent to the Dapr secret store that holds it"
            ),
        };
        let mut f = ctx
            .finding(
                &RULE,
                &pointer,
                format!(
                    "Dapr component '{}' metadata '{}' references secret '{secret}', which is not one of its secrets (defined: {defined}) and the component names no secretStoreComponent; Azure refuses it with DaprComponentMetadataSecretRefNotFound",
                    component.name, m.name
                ),
            )
            .fix(Remediation::advice(fix));
        f.suggestion = hint.map(|h| h.0);
        out.push(f);
    }
    out
}
