//! `certificate-identity-undeclared` (error): an environment certificate from Key Vault names an
//! identity the environment does not have.
//!
//! **Azure rule.** A certificate of a managed environment (`managedEnvironments/certificates`
//! with `certificateKeyVaultProperties`) and the environment's DNS-suffix certificate
//! (`customDomainConfiguration.certificateKeyVaultProperties`) are fetched by the
//! **environment**, with the identity `certificateKeyVaultProperties.identity` names: `system`
//! needs the environment's `identity.type` to include `SystemAssigned`, a user-assigned
//! identity's resource id must be a key of the environment's
//! `identity.userAssignedIdentities` (docs/azure.md#other-key-vault-consumers).
//! An identity on the app does not help: the app does not fetch it.
//!
//! **What it reads.** The certificate and the environment resource of the same file (found by
//! name); when the environment is not in the file, the rule cannot tell and says nothing.

use super::{Ctx, Rule};
use crate::azure::ids;
use crate::lint::Resource;
use crate::lint::ResourceKind;
use crate::lint::expr::same_expression;
use crate::lint::finding::{Finding, Severity};
use crate::snapshot::Identity;
use crate::verdict::Remediation;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "certificate-identity-undeclared",
    severity: Severity::Error,
    summary: "an environment certificate from Key Vault names no identity, or one the environment resource does not carry: the environment, not the app, fetches it",
    help: include_str!("../../../docs/rules/certificate-identity-undeclared.md"),
    check: Some(check),
};

/// Where each kind of resource holds `certificateKeyVaultProperties`.
pub fn properties_pointer(kind: ResourceKind) -> Option<&'static str> {
    match kind {
        ResourceKind::Certificate => Some("/properties/certificateKeyVaultProperties"),
        ResourceKind::Environment => {
            Some("/properties/customDomainConfiguration/certificateKeyVaultProperties")
        }
        _ => None,
    }
}

fn check(ctx: &Ctx) -> Vec<Finding> {
    let Some(base) = properties_pointer(ctx.resource.kind) else {
        return Vec::new();
    };
    let Some(kv) = ctx.resource.body.pointer(base).filter(|v| v.is_object()) else {
        return Vec::new();
    };
    if kv.get("keyVaultUrl").is_none_or(Value::is_null) {
        return Vec::new();
    }
    let (env_name, name) = ctx.resource.environment_and_name();
    let (what, environment): (String, Option<&Resource>) = match ctx.resource.kind {
        ResourceKind::Environment => (
            format!("the DNS-suffix certificate of environment '{name}'"),
            Some(ctx.resource),
        ),
        _ => (
            format!("certificate '{name}'"),
            env_name.and_then(|env| {
                ctx.environments()
                    .find(|e| e.environment_and_name().1.eq_ignore_ascii_case(env))
            }),
        ),
    };
    let pointer = format!("{base}/identity");
    let identity = kv.get("identity").and_then(Value::as_str).map(str::trim);
    let Some(identity) = identity.filter(|i| !i.is_empty()) else {
        return vec![
            ctx.finding(
                &RULE,
                &pointer,
                format!("{what} has a keyVaultUrl but no identity: the environment has no identity to fetch it with"),
            )
            .fix(Remediation::advice(
                "set certificateKeyVaultProperties.identity to 'system' or to the resource id of a user-assigned identity of the environment",
            )),
        ];
    };
    if ctx.unresolved(&pointer) {
        return Vec::new();
    }
    let Some(env) = environment else {
        return Vec::new();
    };
    let env_label = env.environment_and_name().1;
    let body = &env.body;
    let in_env = |p: &str| env.unresolved.iter().any(|u| u.pointer.starts_with(p));
    if body.get("identity").is_none_or(Value::is_null) {
        return vec![
            ctx.finding(
                &RULE,
                &pointer,
                format!("{what} is fetched with identity '{}', but environment '{env_label}' has no identity block: the environment, not the app, fetches the certificate", label(identity)),
            )
            .fix(Remediation::advice(format!(
                "give environment '{env_label}' an identity block with {}",
                wanted(identity)
            ))),
        ];
    }
    if Identity::names_system(identity) {
        if in_env("/identity/type") || Identity::system_enabled_in(body) {
            return Vec::new();
        }
        let kind = body
            .pointer("/identity/type")
            .and_then(Value::as_str)
            .unwrap_or("None");
        return vec![
            ctx.finding(
                &RULE,
                &pointer,
                format!("{what} is fetched with the environment's system identity, but environment '{env_label}' has identity.type '{kind}'"),
            )
            .fix(Remediation::advice(format!(
                "add 'SystemAssigned' to the identity.type of environment '{env_label}', or name one of its user-assigned identities"
            ))),
        ];
    }
    let keys: Vec<&String> = body
        .pointer("/identity/userAssignedIdentities")
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    let attached = keys
        .iter()
        .any(|k| ids::same(k, identity) || same_expression(k, identity));
    if attached || in_env("/identity/userAssignedIdentities") {
        return Vec::new();
    }
    let names: Vec<String> = keys.iter().map(|k| ids::last_segment(k)).collect();
    vec![
        ctx.finding(
            &RULE,
            &pointer,
            format!(
                "{what} is fetched with user-assigned identity '{}', which environment '{env_label}' does not carry (its user-assigned identities: {}); an identity on the app does not help",
                ids::last_segment(identity),
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ),
        )
        .fix(Remediation::advice(format!(
            "add '{identity}' under identity.userAssignedIdentities of environment '{env_label}' (and 'UserAssigned' to its identity.type)"
        ))),
    ]
}

fn label(identity: &str) -> String {
    if Identity::names_system(identity) {
        "system".into()
    } else {
        ids::last_segment(identity)
    }
}

fn wanted(identity: &str) -> String {
    if Identity::names_system(identity) {
        "type 'SystemAssigned'".into()
    } else {
        format!("type 'UserAssigned' and '{identity}' under userAssignedIdentities")
    }
}
