//! `secretref-undefined` (error): a `secretRef` names no secret.
//!
//! **Azure rule.** Every `secretRef` must name an entry of `configuration.secrets[]` exactly:
//! container and init-container `env[].secretRef`, `Secret` volume `secrets[].secretRef`, scale
//! rule `auth[].secretRef`, `registries[].passwordSecretRef`, and jobs'
//! `eventTriggerConfig.scale.rules[].auth[]`. Azure rejects such a write with
//! `ContainerAppSecretRefNotFound` ("SecretRef 'x' defined for container 'c' not found"), or the
//! revision is created but fails and is scaled to 0 (docs/azure-errors.md, A8, A9).
//!
//! **Why lint.** The sites come from the same `Workload::secret_refs` the `secret_ref` checker
//! reads, and near misses from its `did_you_mean`, so lint and `check` agree on every site.

use super::{Ctx, Rule};
use crate::checks::did_you_mean;
use crate::lint::finding::{Finding, Severity};
use crate::lint::source::dotted_to_pointer;
use crate::verdict::Remediation;

pub const RULE: Rule = Rule {
    id: "secretref-undefined",
    severity: Severity::Error,
    summary: "a secretRef (env, volume, scale rule, registry, job trigger) names no defined secret: the deploy fails with ContainerAppSecretRefNotFound",
    help: include_str!("../../../docs/rules/secretref-undefined.md"),
    check: Some(check),
};

fn check(ctx: &Ctx) -> Vec<Finding> {
    let Some(workload) = ctx.workload else {
        return Vec::new();
    };
    if !ctx.secret_names_known() {
        return Vec::new();
    }
    let names: Vec<&str> = workload.secrets.iter().map(|s| s.name.as_str()).collect();
    let defined = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    let mut out = Vec::new();
    for site in workload.secret_refs() {
        let pointer = dotted_to_pointer(&site.json_path);
        if ctx.unresolved(&pointer) || names.contains(&site.secret.as_str()) {
            continue;
        }
        let hint = did_you_mean(&site.secret, &names);
        let fix = match &hint {
            Some((name, why)) => format!(
                "did you mean '{name}' ({why})? Change the reference, or define a secret named '{}'",
                site.secret
            ),
            None => format!(
                "define a secret named '{}' in configuration.secrets, or point the reference at an existing one",
                site.secret
            ),
        };
        let mut f = ctx
            .finding(
                &RULE,
                &pointer,
                format!(
                    "{} references secret '{}', which is not defined (defined: {defined}); Azure rejects the deploy with ContainerAppSecretRefNotFound or the revision fails",
                    site.site, site.secret
                ),
            )
            .fix(Remediation::advice(fix));
        f.suggestion = hint.map(|h| h.0);
        out.push(f);
    }
    out
}
