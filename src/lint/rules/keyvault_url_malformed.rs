//! `keyvault-url-malformed` (error): a `keyVaultUrl` that is not a Key Vault secret URL.
//!
//! **Azure rule.** Container Apps accepts `https://<vault>.vault.azure.net/secrets/<name>`
//! (versionless) or `.../secrets/<name>/<32-hex version>` (pinned), with the cloud's vault DNS
//! suffix; anything else is rejected with `ContainerAppSecretKeyVaultUrlInvalid`
//! (docs/azure.md#key-vault-references). Parsed by the engine's
//! `KeyVaultRef::parse`, the same parser `check` and live collection use.

use super::certificate_identity_undeclared::properties_pointer;
use super::{Ctx, Rule, secret_pointer};
use crate::azure::keyvault_url::KeyVaultRef;
use crate::lint::finding::{Finding, Severity};
use crate::verdict::Remediation;

pub const RULE: Rule = Rule {
    id: "keyvault-url-malformed",
    severity: Severity::Error,
    summary: "a keyVaultUrl is not https://<vault>.vault.azure.net/secrets/<name>[/<version>]: Azure rejects it with ContainerAppSecretKeyVaultUrlInvalid",
    help: include_str!("../../../docs/rules/keyvault-url-malformed.md"),
    check: Some(check),
};

fn check(ctx: &Ctx) -> Vec<Finding> {
    let mut out = certificate(ctx);
    out.extend(dapr_secrets(ctx));
    for (i, secret) in ctx.secrets() {
        let pointer = secret_pointer(i, "keyVaultUrl");
        let Some(raw) = secret.get("keyVaultUrl").filter(|v| !v.is_null()) else {
            continue;
        };
        if ctx.unresolved(&pointer) {
            continue;
        }
        let label = ctx.secret_label(i, secret);
        let problem = match raw.as_str() {
            Some(url) => match KeyVaultRef::parse(url) {
                Ok(_) => continue,
                Err(e) => e,
            },
            None => "is not a string".to_string(),
        };
        out.push(ctx.finding(
            &RULE,
            &pointer,
            format!("keyVaultUrl of secret {label} is malformed ({problem}): Azure rejects it with ContainerAppSecretKeyVaultUrlInvalid"),
        ).fix(Remediation::run(
            "use https://<vault>.vault.azure.net/secrets/<secret-name>, the secret's id without its version (this command shows the id)",
            "az keyvault secret show --vault-name <vault> --name <secret-name> --query id",
        )));
    }
    out
}

/// An environment certificate's (or the DNS-suffix certificate's) `keyVaultUrl`, where
/// `/certificates/<name>` is accepted too.
fn certificate(ctx: &Ctx) -> Vec<Finding> {
    let Some(base) = properties_pointer(ctx.resource.kind) else {
        return Vec::new();
    };
    let pointer = format!("{base}/keyVaultUrl");
    let Some(raw) = ctx.resource.body.pointer(&pointer).filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    if ctx.unresolved(&pointer) {
        return Vec::new();
    }
    let problem = match raw.as_str() {
        Some(url) => match KeyVaultRef::parse_certificate(url) {
            Ok(_) => return Vec::new(),
            Err(e) => e,
        },
        None => "is not a string".to_string(),
    };
    let (_, name) = ctx.resource.environment_and_name();
    vec![ctx.finding(
        &RULE,
        &pointer,
        format!("keyVaultUrl of {} '{name}' is malformed ({problem}): the environment cannot fetch the certificate", ctx.resource.kind.word()),
    ).fix(Remediation::run(
        "use https://<vault>.vault.azure.net/certificates/<name> (or /secrets/<name>), without a version to follow renewals (this command shows the certificate's secret id)",
        "az keyvault certificate show --vault-name <vault> --name <certificate> --query sid",
    ))]
}

/// A Dapr component's `secrets[].keyVaultUrl` (the same `Secret` shape as an app's).
fn dapr_secrets(ctx: &Ctx) -> Vec<Finding> {
    let Some(component) = ctx.dapr_component() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for secret in &component.secrets {
        let Some(url) = secret.key_vault_url.as_deref() else {
            continue;
        };
        let Err(problem) = KeyVaultRef::parse(url) else {
            continue;
        };
        let Some(i) = ctx.index_where("/properties/secrets", |s| {
            s.get("name").and_then(serde_json::Value::as_str) == Some(secret.name.as_str())
        }) else {
            continue;
        };
        let pointer = format!("/properties/secrets/{i}/keyVaultUrl");
        if ctx.unresolved(&pointer) {
            continue;
        }
        out.push(ctx.finding(
            &RULE,
            &pointer,
            format!("keyVaultUrl of secret '{}' of Dapr component '{}' is malformed ({problem})", secret.name, component.name),
        ).fix(Remediation::run(
            "use https://<vault>.vault.azure.net/secrets/<secret-name>, the secret's id without its version (this command shows the id)",
            "az keyvault secret show --vault-name <vault> --name <secret-name> --query id",
        )));
    }
    out
}
