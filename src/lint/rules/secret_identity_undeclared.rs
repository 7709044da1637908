//! `secret-identity-undeclared` (error): a secret names an identity the resource does not have.
//!
//! **Azure rule.** The identity a Key Vault reference names must be attached to the app or job:
//! `system` needs `identity.type` to include `SystemAssigned`; a user-assigned identity's resource
//! id must be a key of `identity.userAssignedIdentities` (ids compare without case:
//! `resourceGroups` vs `resourcegroups`) (docs/azure.md#secrets-of-an-app-or-job). Otherwise the
//! platform has no token to read the vault with and the write fails ("Unable to get value using
//! Managed identity …", docs/azure-errors.md A1–A3). Same lookup as the `keyvault_access` checker
//! (`Identity::system`, `Identity::user`).

use super::{Ctx, Rule, secret_pointer};
use crate::azure::ids;
use crate::lint::finding::{Finding, Severity};
use crate::snapshot::Identity;
use crate::verdict::Remediation;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "secret-identity-undeclared",
    severity: Severity::Error,
    summary: "a secret's identity is not on the resource (system identity not enabled, or the user-assigned id not in identity.userAssignedIdentities)",
    help: include_str!("../../../docs/rules/secret-identity-undeclared.md"),
    check: Some(check),
};

fn check(ctx: &Ctx) -> Vec<Finding> {
    let body = &ctx.resource.body;
    let kind = body
        .pointer("/identity/type")
        .and_then(Value::as_str)
        .unwrap_or("None");
    let system_enabled = Identity::system_enabled_in(body);
    let keys: Vec<&String> = body
        .pointer("/identity/userAssignedIdentities")
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    let keys_unresolved = ctx.unresolved("/identity/userAssignedIdentities")
        || ctx
            .resource
            .unresolved
            .iter()
            .any(|u| u.pointer.starts_with("/identity/userAssignedIdentities/"));
    let mut out = Vec::new();
    for (i, secret) in ctx.secrets() {
        let pointer = secret_pointer(i, "identity");
        let Some(identity) = secret.get("identity").and_then(Value::as_str) else {
            continue;
        };
        if identity.trim().is_empty() {
            continue;
        }
        let label = ctx.secret_label(i, secret);
        if Identity::names_system(identity) {
            if ctx.unresolved("/identity/type") || system_enabled {
                continue;
            }
            out.push(ctx.finding(
                &RULE,
                &pointer,
                format!("secret {label} uses identity 'system', but the resource's identity.type is '{kind}', so there is no system-assigned identity to read Key Vault with"),
            ).fix(Remediation::advice("set identity.type to 'SystemAssigned' (or 'SystemAssigned,UserAssigned'), or name an attached user-assigned identity")));
            continue;
        }
        if ctx.unresolved(&pointer) {
            // expression-unresolved says it could not be checked (and whether it is the same
            // expression as a declared identity).
            continue;
        }
        if ctx
            .workload
            .is_some_and(|w| w.identity.user(identity).is_some())
            || keys_unresolved
        {
            continue;
        }
        let attached: Vec<String> = keys.iter().map(|k| ids::last_segment(k)).collect();
        out.push(ctx.finding(
            &RULE,
            &pointer,
            format!(
                "secret {label} names user-assigned identity '{}', which is not in identity.userAssignedIdentities (attached: {}); the platform can only use an identity the app has",
                ids::last_segment(identity),
                if attached.is_empty() { "none".to_string() } else { attached.join(", ") }
            ),
        ).fix(Remediation::advice(format!("add '{identity}' under identity.userAssignedIdentities (and 'UserAssigned' to identity.type), or name an attached identity"))));
    }
    out
}
