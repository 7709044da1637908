//! `expression-unresolved` (note): a value the rules need is an ARM expression that only the
//! deployment decides.
//!
//! **Why.** kvdiag evaluates `parameters()` (from `--parameters` or `defaultValue`),
//! `variables()`, `concat()`, `format()`, `toLower()` and `toUpper()`; `resourceId()`,
//! `reference()`, `uniqueString()`, copy loops and the like are decided by Azure at deployment.
//! Guessing them would produce findings about a file that will not be deployed, so lint says
//! which field it could not check and why. Only fields a rule reads are reported: secret
//! names, URLs and identities, secretRefs, the resource's identities and name, and the lists
//! that hold them.

use super::{Ctx, Rule};
use crate::lint::expr::same_expression;
use crate::lint::finding::{Finding, Severity};
use crate::lint::source::pointer_to_dotted;
use crate::verdict::Remediation;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "expression-unresolved",
    severity: Severity::Note,
    summary: "a field lint needs is an ARM expression only the deployment decides: lint says it could not check it instead of guessing",
    help: include_str!("../../../docs/rules/expression-unresolved.md"),
    check: Some(check),
};

/// Last segments of the fields (and lists) the rules read.
const READ: &[&str] = &[
    "secretRef",
    "passwordSecretRef",
    "keyVaultUrl",
    "identity",
    "secrets",
    "env",
    "containers",
    "initContainers",
    "volumes",
    "rules",
    "auth",
    "registries",
    "userAssignedIdentities",
    "configuration",
    "template",
    "properties",
    "eventTriggerConfig",
    "scale",
];

fn relevant(pointer: &str) -> bool {
    let last = pointer.rsplit('/').next().unwrap_or_default();
    if pointer == "/name" || pointer == "/identity/type" {
        return true;
    }
    if pointer.starts_with("/identity/userAssignedIdentities/") && pointer.matches('/').count() == 3
    {
        return true; // an identity's key
    }
    if last == "name" && pointer.starts_with("/properties/configuration/secrets/") {
        return true;
    }
    READ.contains(&last)
}

fn check(ctx: &Ctx) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for u in &ctx.resource.unresolved {
        if !relevant(&u.pointer) || out.iter().any(|f| f.path == pointer_to_dotted(&u.pointer)) {
            continue;
        }
        // Bicep writes a user-assigned identity's key as [format('{0}', X)] and the secret's
        // identity as [X]: the same expression, so it is attached even though unresolved.
        let attached = u.pointer.ends_with("/identity")
            && ctx
                .resource
                .body
                .pointer("/identity/userAssignedIdentities")
                .and_then(Value::as_object)
                .is_some_and(|m| m.keys().any(|k| same_expression(k, &u.expression)));
        out.push(ctx.finding(
            &RULE,
            &u.pointer,
            format!(
                "cannot check {}: `{}` is left unresolved ({}){}; kvdiag does not guess deployment-time values",
                pointer_to_dotted(&u.pointer),
                u.expression,
                u.reason,
                if attached { "; it is the same expression as a user-assigned identity the resource declares, so it is attached" } else { "" }
            ),
        ).fix(Remediation::advice(
            "pass the value with --parameters FILE, or check the deployed app with `kvdiag check`",
        )));
    }
    out
}
