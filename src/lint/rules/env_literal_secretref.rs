//! `env-literal-secretref` (error): an env var whose plain `value` is `secretRef:<name>`.
//!
//! **Azure rule.** Only the az CLI's `--env-vars NAME=secretref:<secret>` turns that prefix
//! into a reference, and only in lower case (Azure/azure-cli#23365). In a file, `value:
//! secretRef:db` is a plain value: the container receives the text, not the secret, and
//! nothing fails at deploy time (docs/azure-errors.md, A10). Found by the engine's
//! `Template::literal_secretrefs`, the same fact the `secret_ref` checker reports.

use super::{Ctx, Rule};
use crate::lint::finding::{Finding, Severity};
use crate::verdict::Remediation;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "env-literal-secretref",
    severity: Severity::Error,
    summary: "an env var's plain value is 'secretRef:<name>': the container gets that text, not the secret",
    help: include_str!("../../../docs/rules/env-literal-secretref.md"),
    check: Some(check),
};

fn check(ctx: &Ctx) -> Vec<Finding> {
    let Some(workload) = ctx.workload else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (container, env, secret) in workload.template.literal_secretrefs() {
        let pointer = locate(&ctx.resource.body, &container, &env)
            .unwrap_or_else(|| "/properties/template".into());
        let mut f = ctx
            .finding(
                &RULE,
                &pointer,
                format!("env '{env}' of container '{container}' has the plain value 'secretRef:{secret}', so the container receives that text, not the secret; only the az CLI's --env-vars converts a lower-case 'secretref:' prefix (Azure/azure-cli#23365)"),
            )
            .fix(Remediation::advice(format!(
                "replace `value` with `secretRef: {secret}`"
            )));
        f.suggestion = Some(secret);
        out.push(f);
    }
    out
}

/// The pointer of that env var's `value` in containers or init containers.
fn locate(body: &Value, container: &str, env: &str) -> Option<String> {
    for list in ["containers", "initContainers"] {
        let containers = body
            .pointer(&format!("/properties/template/{list}"))
            .and_then(Value::as_array);
        for (ci, c) in containers.into_iter().flatten().enumerate() {
            if c.get("name").and_then(Value::as_str).unwrap_or_default() != container {
                continue;
            }
            for (ei, e) in c
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if e.get("name").and_then(Value::as_str).unwrap_or_default() == env {
                    return Some(format!("/properties/template/{list}/{ci}/env/{ei}/value"));
                }
            }
        }
    }
    None
}
