//! `dapr-secret-store-misspelled` (error): a Dapr component spells `secretStoreComponent`
//! wrongly, so it has no secret store.
//!
//! **Azure rule.** The property is `secretStoreComponent`. Microsoft's own ARM example once
//! spelled it `secretScoreComponent`; a template that copies it is accepted, the unknown
//! property is ignored, and the component has no secret store: its metadata `secretRef`s then
//! resolve against its own `secrets[]` only (docs/azure.md#dapr-components).
//!
//! **What counts.** A `properties` member one or two characters away from `secretStoreComponent`
//! (the secret_ref checker's `did_you_mean`); a difference of case alone is not reported.

use super::{Ctx, Rule};
use crate::checks::did_you_mean;
use crate::lint::finding::{Finding, Severity};
use crate::lint::source::escape;
use crate::verdict::Remediation;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "dapr-secret-store-misspelled",
    severity: Severity::Error,
    summary: "a Dapr component misspells secretStoreComponent (the docs' own `secretScoreComponent`): Azure ignores it and the component has no secret store",
    help: include_str!("../../../docs/rules/dapr-secret-store-misspelled.md"),
    check: Some(check),
};

const PROPERTY: &str = "secretStoreComponent";

fn check(ctx: &Ctx) -> Vec<Finding> {
    if ctx.dapr_component().is_none() {
        return Vec::new();
    }
    let Some(props) = ctx
        .resource
        .body
        .get("properties")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in props.keys() {
        if key.eq_ignore_ascii_case(PROPERTY) || did_you_mean(key, &[PROPERTY]).is_none() {
            continue;
        }
        let mut f = ctx
            .finding(
                &RULE,
                &format!("/properties/{}", escape(key)),
                format!(
                    "'{key}' is not a Dapr component property (did you mean '{PROPERTY}'?): Azure ignores it, so the component has no secret store and its metadata secretRefs must name its own secrets"
                ),
            )
            .fix(Remediation::advice(format!(
                "rename '{key}' to '{PROPERTY}'"
            )));
        f.suggestion = Some(PROPERTY.to_string());
        out.push(f);
    }
    out
}
