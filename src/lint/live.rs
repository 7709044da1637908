//! `kvdiag lint --live`: the engine's Key Vault reasoning against what the file will deploy.
//!
//! For each app or job in the file: [`Collector::collect_for_workload`] reads the existing
//! resource (for its principals), the user-assigned identities the file names, and each
//! referenced vault; [`Snapshot::build`] turns that into evidence; then the engine's
//! `keyvault_access`, `keyvault_secret_state` and `keyvault_network` checkers run once per Key
//! Vault reference, and each hypothesis at `possible` or stronger (or `inconclusive`) becomes a
//! finding at that secret's `keyVaultUrl`. Revisions, the environment and logs are not read:
//! they describe what runs now, not what the file will deploy, so the snapshot treats the
//! app's logs as empty rather than missing.
//!
//! A Key Vault reference with `identity: system` whose principal does not exist yet (a new
//! app, or an app that does not have a system identity yet) is reported as
//! `system-identity-not-created` with the role assignment to add after the first deploy.

use super::finding::{Finding, Severity};
use super::rules::{self, Rule};
use super::source::pointer_to_dotted;
use super::{Resource, sort};
use crate::bundle::Target;
use crate::checks::{CHECKERS, CheckerId, commands};
use crate::collect::{CollectError, Collector, Window};
use crate::snapshot::{KvReference, Read, Snapshot};
use crate::verdict::{Evidence, Hypothesis, Remediation, Status};
use serde_json::Value;

/// True for the rules only `--live` decides.
pub fn is_live_rule(id: &str) -> bool {
    [
        &rules::keyvault_access::RULE,
        &rules::keyvault_secret_state::RULE,
        &rules::keyvault_network::RULE,
        &rules::system_identity_not_created::RULE,
    ]
    .iter()
    .any(|r| r.id == id)
}

/// The Azure target of a resource: `--app`/`--job`/`--rg` win, then the file's `id` and
/// `resourceGroup` (the az CLI YAML carries both), then its name.
pub fn target(
    resource: &Resource,
    subscription: &str,
    name: Option<&str>,
    resource_group: Option<&str>,
) -> Result<Target, String> {
    let from_id = resource
        .body
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| {
            let parts: Vec<&str> = id.split('/').collect();
            parts
                .iter()
                .position(|p| p.eq_ignore_ascii_case("resourceGroups"))
                .and_then(|i| parts.get(i + 1))
                .map(|s| s.to_string())
        });
    let rg = resource_group
        .map(str::to_string)
        .or(from_id)
        .or_else(|| {
            resource
                .body
                .get("resourceGroup")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| {
            format!(
                "--live needs the resource group of '{}': pass --rg RG",
                resource.name
            )
        })?;
    let name = name.unwrap_or(&resource.name).to_string();
    if super::expr::is_expression(&name) || name == "(unnamed)" {
        return Err(format!(
            "--live needs the app's name, and the file gives '{name}': pass --app NAME (or --job NAME)"
        ));
    }
    let job = resource.kind == super::ResourceKind::Job;
    let target = Target {
        subscription: subscription.to_string(),
        resource_group: rg,
        app: (!job).then(|| name.clone()),
        job: job.then_some(name),
        environment: None,
    };
    crate::collect::validate(&target)?;
    Ok(target)
}

/// The resource as it will be deployed, without any secret value.
pub fn deployable(resource: &Resource) -> Value {
    let mut body = resource.body.clone();
    if let Some(list) = body
        .pointer_mut("/properties/configuration/secrets")
        .and_then(Value::as_array_mut)
    {
        for s in list.iter_mut().filter_map(Value::as_object_mut) {
            if s.contains_key("value") {
                s.insert("value".into(), Value::Null);
            }
        }
    }
    body
}

/// Reads Azure for one resource and returns its live findings.
pub async fn lint_live(
    collector: &Collector,
    file: &str,
    resource: &Resource,
    target: &Target,
    window: &Window,
) -> Result<Vec<Finding>, CollectError> {
    let evidence = collector
        .collect_for_workload(target, &deployable(resource), window)
        .await?;
    let mut bundle = evidence.bundle;
    crate::bundle::redact(&mut bundle);
    Ok(judge(file, resource, &bundle, evidence.exists, window))
}

/// Runs the Key Vault checkers on the evidence, one reference at a time.
pub fn judge(
    file: &str,
    resource: &Resource,
    bundle: &crate::bundle::Bundle,
    exists: bool,
    window: &Window,
) -> Vec<Finding> {
    let mut snapshot = Snapshot::build(bundle, Some(window.now));
    // What runs now is not what the file deploys: no log line speaks for or against it.
    snapshot.system_logs = Read::Ok(Vec::new());
    snapshot.activity = Read::Ok(Vec::new());
    snapshot.revisions = Read::Ok(Vec::new());
    let Some(workload) = snapshot.workload.ok().cloned() else {
        return Vec::new();
    };
    let system_enabled = workload.identity.system_enabled();
    let mut out = Vec::new();
    for r in snapshot.kv_refs.clone() {
        if r.parsed.is_err() {
            continue; // keyvault-url-malformed says why
        }
        let pointer = secret_pointer(resource, &r.secret);
        let not_created = r.is_system() && r.principal.is_none() && system_enabled;
        if not_created {
            out.push(system_identity_finding(
                file, resource, &snapshot, &r, &pointer, exists,
            ));
        }
        let mut one = snapshot.clone();
        one.kv_refs = vec![r.clone()];
        for checker in CHECKERS {
            let Some(rule) = checker.id.lint_rule() else {
                continue;
            };
            if not_created && checker.id == CheckerId::KeyvaultAccess {
                continue;
            }
            if let Some(h) = (checker.run)(&one, &workload)
                && let Some(severity) = severity(h.status)
            {
                out.push(from_hypothesis(
                    file, resource, rule, severity, &h, &r, &pointer,
                ));
            }
        }
    }
    sort(&mut out);
    out
}

/// Lint's severities for the checkers' statuses (docs/design.md#verdict-semantics: error ↔ likely, warning ↔
/// possible); `inconclusive` is a note that makes the run exit 3, like `check`.
fn severity(status: Status) -> Option<Severity> {
    match status {
        Status::Confirmed | Status::Likely => Some(Severity::Error),
        Status::Possible => Some(Severity::Warning),
        Status::Inconclusive => Some(Severity::Note),
        Status::Unlikely | Status::RuledOut => None,
    }
}

fn secret_pointer(resource: &Resource, secret: &str) -> String {
    let index = resource
        .body
        .pointer("/properties/configuration/secrets")
        .and_then(Value::as_array)
        .and_then(|list| {
            list.iter()
                .position(|s| s.get("name").and_then(Value::as_str) == Some(secret))
        });
    match index {
        Some(i) => format!("/properties/configuration/secrets/{i}/keyVaultUrl"),
        None => "/properties/configuration/secrets".into(),
    }
}

fn base(
    file: &str,
    resource: &Resource,
    rule: &Rule,
    severity: Severity,
    pointer: &str,
    message: String,
) -> Finding {
    let pos = resource.spans.locate(pointer);
    Finding {
        rule: rule.id.to_string(),
        severity,
        message,
        file: file.to_string(),
        line: pos.line,
        column: pos.column,
        path: pointer_to_dotted(pointer),
        resource: resource.name.clone(),
        suggestion: None,
        remediation: Vec::new(),
    }
}

fn from_hypothesis(
    file: &str,
    resource: &Resource,
    rule: &Rule,
    severity: Severity,
    h: &Hypothesis,
    r: &KvReference,
    pointer: &str,
) -> Finding {
    let why: Vec<&str> = h
        .evidence
        .iter()
        .filter(|e| e.effect == crate::verdict::Effect::Supports)
        .map(|e: &Evidence| e.observation.as_str())
        .take(3)
        .collect();
    let mut message = format!(
        "secret '{}' ({} via identity {}): {} [{}]",
        r.secret,
        r.url,
        r.identity_label(),
        h.summary,
        h.status
    );
    if !why.is_empty() {
        message.push_str(&format!(". Evidence: {}", why.join("; ")));
    }
    let mut f = base(file, resource, rule, severity, pointer, message);
    f.remediation = h.remediation.clone();
    f
}

fn system_identity_finding(
    file: &str,
    resource: &Resource,
    snapshot: &Snapshot,
    r: &KvReference,
    pointer: &str,
    exists: bool,
) -> Finding {
    let vault = r
        .parsed
        .as_ref()
        .ok()
        .map(|p| p.vault.clone())
        .unwrap_or_default();
    let scope = snapshot
        .vault(&vault)
        .and_then(Read::ok)
        .map(|v| v.id.clone())
        .unwrap_or_else(|| format!("$(az keyvault show --name {vault} --query id -o tsv)"));
    let t = &snapshot.target;
    let group = if t.is_job() {
        "containerapp job"
    } else {
        "containerapp"
    };
    let state = if exists {
        format!(
            "'{}' exists but has no system-assigned identity yet; this deploy creates it",
            t.name()
        )
    } else {
        format!(
            "'{}' does not exist yet, and its system-assigned identity is created with it",
            t.name()
        )
    };
    let message = format!(
        "secret '{}' reads Key Vault '{vault}' with identity 'system', but {state}, so no role can be granted to it before the deploy (a user-assigned identity can be granted one beforehand) and the deploy cannot read the secret (ContainerAppSecretKeyVaultUrlInvalid / \"Unable to get value using Managed identity system\")",
        r.secret
    );
    let mut f = base(
        file,
        resource,
        &rules::system_identity_not_created::RULE,
        Severity::Error,
        pointer,
        message,
    );
    f.remediation = vec![
        Remediation::advice(
            "deploy without this reference first, then grant the role and add it back",
        ),
        Remediation::run(
            "after that first deploy, grant the new system identity read access to the secret",
            format!(
                "az role assignment create --assignee-object-id $(az {group} show -n {} -g {} --subscription {} --query identity.principalId -o tsv) --assignee-principal-type ServicePrincipal --role \"Key Vault Secrets User\" --scope {scope}",
                t.name(),
                t.resource_group,
                t.subscription
            ),
        ),
        Remediation::advice(format!(
            "or pre-create a user-assigned identity, grant it Key Vault Secrets User on {scope}, attach it and name it in the secret's identity; then show it with {}",
            commands::show_app(t, "identity")
        )),
    ];
    f
}
