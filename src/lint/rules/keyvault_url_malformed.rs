//! `keyvault-url-malformed` (error): a `keyVaultUrl` that is not a Key Vault secret URL.
//!
//! **Azure rule.** Container Apps accepts `https://<vault>.vault.azure.net/secrets/<name>`
//! (versionless) or `.../secrets/<name>/<32-hex version>` (pinned), with the cloud's vault DNS
//! suffix; anything else is rejected with `ContainerAppSecretKeyVaultUrlInvalid`
//! (docs/azure.md#key-vault-references). Parsed by the engine's
//! `KeyVaultRef::parse`, the same parser `check` and live collection use.

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
    let mut out = Vec::new();
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
