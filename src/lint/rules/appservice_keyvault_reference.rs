//! `appservice-keyvault-reference` (error): the App Service Key Vault reference syntax,
//! `@Microsoft.KeyVault(SecretUri=…)` or `@Microsoft.KeyVault(VaultName=…;SecretName=…)`, used as
//! a Container Apps secret value or env value.
//!
//! **Azure rule.** Container Apps does not resolve that syntax: the secret or variable holds the
//! text `@Microsoft.KeyVault(…)` itself, and the application receives it instead of the secret.
//! A Key Vault reference in Container Apps is a secret with `keyVaultUrl` and `identity`
//! (docs/azure.md#key-vault-references; docs/azure-errors.md#a13-app-service-key-vault-reference-syntax).
//!
//! **What it reads.** App and job `configuration.secrets[].value`, container and init-container
//! `env[].value`, and a Dapr component's `secrets[].value` and `metadata[].value`. Only the
//! syntax is looked at; the finding names the secret or variable and the `keyVaultUrl` to use,
//! never anything else of the value.

use super::{Ctx, Rule};
use crate::azure::keyvault_url::KeyVaultRef;
use crate::lint::ResourceKind;
use crate::lint::finding::{Finding, Severity};
use crate::verdict::Remediation;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "appservice-keyvault-reference",
    severity: Severity::Error,
    summary: "a secret or env value is the App Service syntax @Microsoft.KeyVault(...): Container Apps takes it literally; use keyVaultUrl + identity",
    help: include_str!("../../../docs/rules/appservice-keyvault-reference.md"),
    check: Some(check),
};

const PREFIX: &str = "@microsoft.keyvault(";

/// The `keyVaultUrl` an App Service reference means, when the value is one (`None` when it
/// is not the syntax): `Some(Some(url))` when its parts make a valid Key Vault secret URL
/// (public cloud for the `VaultName=` form), `Some(None)` when they do not.
pub fn appservice_reference(value: &str) -> Option<Option<String>> {
    let v = value.trim();
    if !v.to_ascii_lowercase().starts_with(PREFIX) {
        return None;
    }
    let inner = v[PREFIX.len()..].trim_end().trim_end_matches(')');
    let mut parts = std::collections::BTreeMap::new();
    for part in inner.split(';') {
        if let Some((k, val)) = part.split_once('=') {
            parts.insert(k.trim().to_ascii_lowercase(), val.trim().to_string());
        }
    }
    let url = match (
        parts.get("secreturi"),
        parts.get("vaultname"),
        parts.get("secretname"),
    ) {
        (Some(uri), _, _) => uri.clone(),
        (None, Some(vault), Some(secret)) => {
            let version = parts
                .get("secretversion")
                .map(|v| format!("/{v}"))
                .unwrap_or_default();
            format!("https://{vault}.vault.azure.net/secrets/{secret}{version}")
        }
        _ => return Some(None),
    };
    Some(KeyVaultRef::parse(&url).ok().map(|r| match &r.version {
        Some(v) => format!("{}/{v}", r.versionless_url()),
        None => r.versionless_url(),
    }))
}

/// Every (pointer, label) whose string value the rule reads in this resource.
fn sites(ctx: &Ctx) -> Vec<(String, String, bool)> {
    let body = &ctx.resource.body;
    let list = |pointer: &str| -> Vec<Value> {
        body.pointer(pointer)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let name_of = |item: &Value, i: usize| {
        item.get("name")
            .and_then(Value::as_str)
            .map(|n| format!("'{n}'"))
            .unwrap_or_else(|| format!("#{i}"))
    };
    let mut out = Vec::new();
    match ctx.resource.kind {
        ResourceKind::App | ResourceKind::Job => {
            for (i, s) in list("/properties/configuration/secrets").iter().enumerate() {
                out.push((
                    format!("/properties/configuration/secrets/{i}/value"),
                    format!("secret {}", name_of(s, i)),
                    true,
                ));
            }
            for key in ["containers", "initContainers"] {
                for (ci, c) in list(&format!("/properties/template/{key}"))
                    .iter()
                    .enumerate()
                {
                    let container = name_of(c, ci);
                    for (ei, e) in c
                        .get("env")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        out.push((
                            format!("/properties/template/{key}/{ci}/env/{ei}/value"),
                            format!("env {} of container {container}", name_of(e, ei)),
                            false,
                        ));
                    }
                }
            }
        }
        ResourceKind::DaprComponent => {
            for (i, s) in list("/properties/secrets").iter().enumerate() {
                out.push((
                    format!("/properties/secrets/{i}/value"),
                    format!("Dapr component secret {}", name_of(s, i)),
                    true,
                ));
            }
            for (i, m) in list("/properties/metadata").iter().enumerate() {
                out.push((
                    format!("/properties/metadata/{i}/value"),
                    format!("Dapr component metadata {}", name_of(m, i)),
                    false,
                ));
            }
        }
        _ => {}
    }
    out
}

fn check(ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (pointer, label, is_secret) in sites(ctx) {
        let Some(value) = ctx.resource.body.pointer(&pointer).and_then(Value::as_str) else {
            continue;
        };
        let Some(url) = appservice_reference(value) else {
            continue;
        };
        let how = if is_secret {
            "replace the value with keyVaultUrl and identity (an identity of the resource with get permission on the secret)"
        } else {
            "define a secret with keyVaultUrl and identity, and point the variable at it with secretRef"
        };
        let fix = match &url {
            Some(url) => format!("{how}: keyVaultUrl: {url}"),
            None => format!("{how}: keyVaultUrl: https://<vault>.vault.azure.net/secrets/<name>"),
        };
        let mut f = ctx
            .finding(
                &RULE,
                &pointer,
                format!("{label} is an App Service Key Vault reference (@Microsoft.KeyVault(...)); Container Apps does not resolve that syntax, so the application receives the text itself"),
            )
            .fix(Remediation::advice(fix));
        f.suggestion = url;
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms_and_nothing_else() {
        assert_eq!(
            appservice_reference(
                "@Microsoft.KeyVault(SecretUri=https://kv-orders.vault.azure.net/secrets/db/)"
            ),
            Some(Some("https://kv-orders.vault.azure.net/secrets/db".into()))
        );
        assert_eq!(
            appservice_reference(
                " @microsoft.keyvault(VaultName=kv-orders;SecretName=db;SecretVersion=0123456789abcdef0123456789abcdef)"
            ),
            Some(Some(
                "https://kv-orders.vault.azure.net/secrets/db/0123456789abcdef0123456789abcdef"
                    .into()
            ))
        );
        assert_eq!(
            appservice_reference("@Microsoft.KeyVault(nonsense)"),
            Some(None)
        );
        assert_eq!(appservice_reference("plain value"), None);
        assert_eq!(appservice_reference("[parameters('x')]"), None);
    }
}
