//! `secret_ref` (H1): a `secretRef` names no secret.
//!
//! **Azure rule.** Every `secretRef` must name an entry of `configuration.secrets[]` exactly:
//! container and init-container `env[].secretRef`, `Secret` volume `secrets[].secretRef`, scale
//! rule `auth[].secretRef`, `registries[].passwordSecretRef`, and the same places in jobs
//! (`eventTriggerConfig.scale.rules[].auth[]`). Otherwise a write fails with
//! `ContainerAppSecretRefNotFound`, or the revision is created but fails and is scaled to zero
//! (docs/azure.md#where-secrets-are-referenced; docs/azure-errors.md A8, A9). Names are lower-case
//! by rule, so a near miss (case, `_` vs `-`, a typo) is reported as "did you mean".
//!
//! **Evidence read.** The workload's current template and configuration; the template snapshot
//! of every revision that is active, or is the latest one; revision provisioning errors; system
//! logs naming an unresolved secret. Also env vars whose plain value is `secretRef:<name>`: the
//! CLI only converts lower-case `secretref:`, so the container received the literal text.
//!
//! A PUT that Azure rejected (`ContainerAppSecretRefNotFound`, `ContainerAppSecretInvalid`)
//! leaves the app unchanged; the failed write in the activity log is then the evidence, and it
//! is `confirmed` while the secret is still undefined and no later write succeeded.
//!
//! A revision whose env `secretRef` reads `capp-<app>`… while the app's template names a
//! defined secret at the same place is the platform's own rewrite (microsoft/azure-container-apps#1705,
//! docs/azure.md#revision-snapshots-rewritten-by-the-platform): reported as such, `possible` at
//! most, never `confirmed`.
//!
//! Dapr components the app loads: a metadata `secretRef` of a component without a secret store
//! must name one of its secrets (`DaprComponentMetadataSecretRefNotFound`), and a
//! `secretStoreComponent` must name a component of the environment the app loads
//! (docs/azure.md#dapr-components).
//!
//! **Cannot see.** Failed writes older than `--since`; EasyAuth secret references; the keys of
//! a Dapr secret store (a `secretRef` through a store is not checked). Without the revision
//! list (a gap, or `kvdiag scan` without `--deep`) it cannot see revisions' own templates, so it
//! says `unlikely` at most, never `ruled_out`.

use super::refused::{Origin, Refused};
use super::{CheckerId, Tally, commands, quoted};
use crate::logs::LogEvent;
use crate::refusals::Refusal;
use crate::snapshot::{Read, SecretRefSite, SiteKind, Snapshot, Workload, WorkloadKind};
use crate::verdict::{Evidence, Hypothesis, Remediation, Status};

pub const ID: CheckerId = CheckerId::SecretRef;
pub const TITLE: &str = "every secretRef names a defined secret";

pub fn check(snapshot: &Snapshot, workload: &Workload) -> Option<Hypothesis> {
    let mut tally = Tally::new(ID);
    let names: Vec<&str> = workload.secrets.iter().map(|s| s.name.as_str()).collect();
    let defined = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    let target = &snapshot.target;

    // Sites: the current template, then each active or latest revision's own snapshot.
    let mut sites: Vec<(SecretRefSite, Option<String>)> = workload
        .secret_refs()
        .into_iter()
        .map(|s| (s, None))
        .collect();
    let revisions = snapshot.revision_list();
    for r in revisions
        .iter()
        .filter(|r| r.active || workload.latest_revision.as_deref() == Some(&r.name))
    {
        for site in r.template.secret_refs("properties.template") {
            sites.push((site, Some(r.name.clone())));
        }
    }
    let mut reported: Vec<(String, String)> = Vec::new();
    let total = sites.len();
    for (site, revision) in &sites {
        if names.contains(&site.secret.as_str())
            || reported.contains(&(site.secret.clone(), site.site.clone()))
        {
            continue;
        }
        reported.push((site.secret.clone(), site.site.clone()));
        if let Some(r) = revision
            && let Some(real) = platform_rewrite(workload, site, &names)
        {
            rewritten_by_platform(snapshot, r, site, &real, &mut tally);
            continue;
        }
        let hint = did_you_mean(&site.secret, &names);
        let place = match revision {
            Some(r) => format!("revision '{r}' {}", site.site),
            None => site.site.clone(),
        };
        tally.item(
            Status::Confirmed,
            format!(
                "{place} references secret {} which is not defined{}",
                quoted(&site.secret),
                hint.as_ref()
                    .map(|h| format!(" (did you mean '{}'?)", h.0))
                    .unwrap_or_default()
            ),
            &site.secret,
        );
        let mut observation = format!(
            "{place} has secretRef {} (at {}); the app defines: {defined}",
            quoted(&site.secret),
            site.json_path
        );
        if let Some((suggestion, why)) = &hint {
            observation.push_str(&format!("; '{suggestion}' {why}"));
        }
        tally.evidence(
            Evidence::supports(
                observation,
                if revision.is_some() {
                    "revisions"
                } else {
                    "app"
                },
            )
            .reproduce(commands::show_app(
                target,
                "properties.configuration.secrets[].name",
            )),
        );
        match (&hint, site.kind) {
            (Some((suggestion, _)), SiteKind::Env | SiteKind::InitEnv) => {
                tally.remedy(Remediation::run(
                    format!(
                        "point {} at the existing secret '{suggestion}' (or create '{}')",
                        site.site, site.secret
                    ),
                    commands::set_env_secretref(target, &env_name(&site.site), suggestion),
                ))
            }
            (Some((suggestion, _)), _) => tally.remedy(Remediation::advice(format!(
                "change {} (`{}`) to '{suggestion}' in your template and redeploy",
                site.site, site.json_path
            ))),
            (None, _) => {}
        }
        tally.remedy(Remediation::run(
            format!(
                "or define the secret {} the template expects",
                quoted(&site.secret)
            ),
            commands::secret_set_plain(target, &site.secret),
        ));
    }

    for refused in super::refused::all(snapshot, workload) {
        refused_change(snapshot, &names, &refused, &mut tally);
    }
    for entry in snapshot.logs() {
        if let LogEvent::SecretRefNotFound { secret, .. } = &entry.event {
            if !tally.has(secret) {
                tally.item(
                    Status::Confirmed,
                    format!("system log reports secretRef {} not found", quoted(secret)),
                    secret,
                );
            }
            tally.evidence(super::log_evidence(
                entry,
                "unresolved secretRef",
                true,
                snapshot,
            ));
        }
    }
    for (container, env, name) in workload.template.literal_secretrefs() {
        tally.item(Status::Likely, format!("container '{container}' env '{env}' is a plain value starting with 'secretRef:' (naming '{name}'), not a reference"), &name);
        tally.evidence(Evidence::supports(format!("container '{container}' env '{env}' has a plain value starting with 'secretRef:' — the CLI only converts lower-case 'secretref:' (Azure/azure-cli#23365), so the container gets that text, not the secret"), "app").reproduce(commands::show_app(target, "properties.template.containers[].env")));
        tally.remedy(Remediation::run(
            format!("make '{env}' a real reference (lower-case secretref:)"),
            commands::set_env_secretref(target, &env, &name),
        ));
    }

    let dapr_sites = dapr(snapshot, workload, &mut tally);

    if total > 0 {
        tally.evidence(
            Evidence::weakens(
                format!(
                    "{} of {total} secretRef site(s) resolve to a defined secret",
                    total - reported.len()
                ),
                "app",
            )
            .reproduce(commands::show_app(
                target,
                "properties.configuration.secrets[].name",
            )),
        );
    }
    let empty = if total + dapr_sites == 0 {
        format!(
            "the {} references no secrets by name",
            snapshot.target.kind_word()
        )
    } else {
        "every secretRef names a defined secret".to_string()
    };
    let mut h = tally.finish((Status::RuledOut, &empty), "");
    // Without the revisions, an active or failed revision's own secretRefs are unseen: the
    // current template alone cannot rule this out (`kvdiag scan` reads no revisions).
    if workload.kind == WorkloadKind::App
        && matches!(snapshot.revisions, Read::NotRead(_) | Read::Unavailable(_))
        && h.status == Status::RuledOut
    {
        h.status = Status::Unlikely;
        h.evidence.push(Evidence::weakens(
            "the revisions were not read: the secretRefs of active and failed revisions are not seen",
            "revisions",
        ));
    }
    Some(h)
}

/// The Dapr components the app loads (docs/azure.md#dapr-components): each metadata
/// `secretRef` must name a secret of its component when the component has no secret store
/// (`DaprComponentMetadataSecretRefNotFound`, docs/azure-errors.md D1), and a
/// `secretStoreComponent` must name a component of the environment that the app loads too.
/// Returns how many Dapr references were checked.
fn dapr(snapshot: &Snapshot, workload: &Workload, tally: &mut Tally) -> usize {
    let Some(read) = &snapshot.dapr_components else {
        return 0;
    };
    let all = match read {
        Read::Ok(all) => all,
        Read::Unavailable(gap) => {
            tally.item(
                Status::Inconclusive,
                "cannot check the secretRefs of the Dapr components: they could not be read",
                "dapr",
            );
            tally.gap(gap, "dapr_components");
            return 0;
        }
        Read::NotFound(_) | Read::NotRead(_) => return 0,
    };
    let mut checked = 0;
    for c in snapshot.dapr_components_of(workload) {
        let show = format!(
            "az containerapp env dapr-component show --ids {}",
            commands::q(&c.id)
        );
        if let Some(store) = &c.secret_store {
            checked += 1;
            let found = all.iter().find(|o| o.name.eq_ignore_ascii_case(store));
            let app_id = workload.dapr.active_app_id().unwrap_or_default();
            let problem = match found {
                None => Some((
                    Status::Confirmed,
                    format!(
                        "names secret store '{store}', which is not a Dapr component of the environment"
                    ),
                )),
                Some(o) if workload.kind != WorkloadKind::Environment && !o.serves(app_id) => {
                    Some((
                        Status::Likely,
                        format!(
                            "names secret store '{store}', whose scopes do not include this app's Dapr app id '{app_id}', so its sidecar does not load it"
                        ),
                    ))
                }
                Some(_) => None,
            };
            if let Some((status, what)) = problem {
                let concern = format!("dapr:{}", c.name);
                tally.item(
                    status,
                    format!("Dapr component '{}' {what}", c.name),
                    &concern,
                );
                tally.evidence(
                    Evidence::supports(
                        format!(
                            "Dapr component '{}' has secretStoreComponent '{store}'; the environment's components: {}",
                            c.name,
                            all.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                        "dapr_components",
                    )
                    .reproduce(show.clone()),
                );
                tally.remedy(Remediation::advice(format!(
                    "create Dapr component '{store}' (a secret store scoped to '{app_id}'), or point secretStoreComponent of '{}' at an existing one",
                    c.name
                )));
            }
            // With a store, a secretRef names a key of the store: only Azure can check it.
            continue;
        }
        let names: Vec<&str> = c.secrets.iter().map(|x| x.name.as_str()).collect();
        for m in &c.metadata {
            let Some(secret) = m.secret_ref.as_deref() else {
                continue;
            };
            checked += 1;
            if names.contains(&secret) {
                continue;
            }
            let hint = did_you_mean(secret, &names);
            let concern = format!("dapr:{}/{secret}", c.name);
            tally.item(
                Status::Confirmed,
                format!(
                    "Dapr component '{}' metadata '{}' references secret {}, which the component does not define{}",
                    c.name,
                    m.name,
                    quoted(secret),
                    hint.as_ref()
                        .map(|h| format!(" (did you mean '{}'?)", h.0))
                        .unwrap_or_default()
                ),
                &concern,
            );
            tally.evidence(
                Evidence::supports(
                    format!(
                        "Dapr component '{}' metadata '{}' has secretRef {} and no secretStoreComponent; the component's secrets: {}. Azure refuses it with DaprComponentMetadataSecretRefNotFound",
                        c.name,
                        m.name,
                        quoted(secret),
                        if names.is_empty() { "none".to_string() } else { names.join(", ") }
                    ),
                    "dapr_components",
                )
                .reproduce(show.clone()),
            );
            if let Some((suggestion, why)) = &hint {
                tally.remedy(Remediation::advice(format!(
                    "point metadata '{}' of Dapr component '{}' at secret '{suggestion}' ({why})",
                    m.name, c.name
                )));
            }
            tally.remedy(Remediation::advice(format!(
                "or add secret '{secret}' to Dapr component '{}' (a keyVaultUrl with an identity), or give it a secretStoreComponent",
                c.name
            )));
            if c.failed() {
                tally.evidence(Evidence::supports(
                    format!(
                        "Dapr component '{}' provisioningState is Failed{}",
                        c.name,
                        c.deployment_errors
                            .as_deref()
                            .map(|e| format!(": {}", crate::logs::one_line(e, 300)))
                            .unwrap_or_default()
                    ),
                    "dapr_components",
                ));
            }
        }
    }
    checked
}

/// The app template's secret for a revision site whose `secretRef` the platform rewrote:
/// the revision names `capp-<app>`… (no such secret), while the same site of the app's own
/// template names a defined secret (docs/azure.md#revision-snapshots-rewritten-by-the-platform).
fn platform_rewrite(workload: &Workload, site: &SecretRefSite, names: &[&str]) -> Option<String> {
    let prefix = format!("capp-{}", workload.name).to_ascii_lowercase();
    if !site.secret.to_ascii_lowercase().starts_with(&prefix) {
        return None;
    }
    workload
        .secret_refs()
        .into_iter()
        .find(|own| own.kind == site.kind && own.site == site.site)
        .map(|own| own.secret)
        .filter(|secret| names.contains(&secret.as_str()))
}

/// The #1705 trap: reported as what it is, `possible` at most, never `confirmed` (the
/// revision's own record disagrees with the app only in the platform's rewritten name).
fn rewritten_by_platform(
    snapshot: &Snapshot,
    revision: &str,
    site: &SecretRefSite,
    real: &str,
    tally: &mut Tally,
) {
    let target = &snapshot.target;
    tally.item(
        Status::Possible,
        format!(
            "revision '{revision}' {} shows secretRef {}, a name the platform rewrote; the app template references the defined secret {} there",
            site.site,
            quoted(&site.secret),
            quoted(real)
        ),
        &site.secret,
    );
    tally.evidence(
        Evidence::supports(
            format!(
                "revision '{revision}' {} has secretRef {} (at {}), which is not defined, while the app's template has secretRef {} at the same place: the platform rewrites revision env secretRefs to 'capp-<app>' (microsoft/azure-container-apps#1705); whether the running replica resolves it is not known",
                site.site,
                quoted(&site.secret),
                site.json_path,
                quoted(real)
            ),
            "revisions",
        )
        .reproduce(commands::show_revision(target, revision, "properties.template.containers[].env")),
    );
    tally.remedy(Remediation::advice(format!(
        "if revision '{revision}' runs and the variable has its value, nothing is wrong; otherwise deploy a new revision from the app template and follow microsoft/azure-container-apps#1705"
    )));
}

/// A write or revision Azure refused because a secretRef names no secret, or a secret has
/// neither a value nor a Key Vault reference. It is `confirmed` while it still holds: the
/// secret is still undefined and nothing later replaced the change.
fn refused_change(snapshot: &Snapshot, names: &[&str], refused: &Refused, tally: &mut Tally) {
    let target = &snapshot.target;
    let what = refused.what();
    let (secret, summary) = match &refused.refusal {
        Refusal::SecretRefNotFound { secret, consumer } => {
            let hint = did_you_mean(secret, names)
                .filter(|(s, _)| s != secret)
                .map(|(s, _)| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            let consumer = consumer
                .as_deref()
                .map(|c| format!(" for {c}"))
                .unwrap_or_default();
            (
                secret.clone(),
                format!(
                    "{what}: secretRef {}{consumer} names no secret{hint}",
                    quoted(secret)
                ),
            )
        }
        Refusal::SecretInvalid { secrets } => {
            let secret = secrets.first().cloned().unwrap_or_default();
            (
                secret.clone(),
                format!(
                    "{what}: secret {} had neither a value nor a keyVaultUrl with an identity (ContainerAppSecretInvalid)",
                    quoted(&secret)
                ),
            )
        }
        _ => return,
    };
    tally.evidence(refused.evidence(snapshot));
    let defined_now = names.contains(&secret.as_str());
    let still_missing =
        matches!(refused.refusal, Refusal::SecretRefNotFound { .. }) && !defined_now;
    let (status, summary) = match (&refused.superseded, &refused.origin) {
        (Some(later), _) => (Status::Unlikely, format!("{summary}; {later}")),
        (None, Origin::Revision(r)) if defined_now => {
            tally.remedy(Remediation::run(
                format!("'{secret}' is defined now, but revision '{}' stays failed: deploy a new revision", r.name),
                commands::new_revision(target),
            ));
            (
                Status::Confirmed,
                format!(
                    "{summary}; the secret is defined now but the revision was not provisioned again"
                ),
            )
        }
        (None, Origin::Write(_)) if defined_now => (
            Status::Possible,
            format!(
                "{summary}; {} is defined now, so a retry should pass if the template keeps it",
                quoted(&secret)
            ),
        ),
        (None, _) => (Status::Confirmed, summary),
    };
    if tally.has(&secret) {
        // The template already shows this cause; the refusal is its evidence.
        return;
    }
    tally.item(status, summary, &secret);
    if status <= Status::Possible
        && (still_missing || matches!(refused.refusal, Refusal::SecretInvalid { .. }))
    {
        if let Refusal::SecretInvalid { .. } = refused.refusal {
            tally.remedy(Remediation::advice(format!("give secret {} a value, or a keyVaultUrl and an identity; a PUT built from a GET body has no inline values (GET never returns them)", quoted(&secret))));
        } else {
            if let Some((suggestion, _)) = did_you_mean(&secret, names) {
                tally.remedy(Remediation::advice(format!(
                    "point the reference at the existing secret '{suggestion}' in your template and redeploy"
                )));
            }
            tally.remedy(Remediation::run(
                format!("or define {} before the deploy (the app keeps its old configuration until then)", quoted(&secret)),
                commands::secret_set_plain(target, &secret),
            ));
        }
    }
}

/// The closest defined name, and why it is close: same letters in another case, `_`/`-`/`.`
/// swapped, or an edit distance of at most two.
pub fn did_you_mean(wanted: &str, names: &[&str]) -> Option<(String, &'static str)> {
    if let Some(n) = names.iter().find(|n| n.eq_ignore_ascii_case(wanted)) {
        return Some((n.to_string(), "differs only by case"));
    }
    let fold = |s: &str| s.to_ascii_lowercase().replace(['_', '.'], "-");
    if let Some(n) = names.iter().find(|n| fold(n) == fold(wanted)) {
        return Some((n.to_string(), "differs only by '_', '-' or '.'"));
    }
    names
        .iter()
        .map(|n| {
            (
                strsim::levenshtein(&n.to_ascii_lowercase(), &wanted.to_ascii_lowercase()),
                n,
            )
        })
        .filter(|(d, n)| *d <= 2 && *d < n.len().max(wanted.len()) / 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| (n.to_string(), "is one or two characters away"))
}

/// The env var name from a site label (`container 'web' env 'X'` -> `X`).
fn env_name(site: &str) -> String {
    site.rsplit("env '")
        .next()
        .unwrap_or(site)
        .trim_end_matches('\'')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let names = [
            "servicebus-connection",
            "orders-db-password",
            "registry-password",
        ];
        assert_eq!(
            did_you_mean("Servicebus-Connection", &names).unwrap().0,
            "servicebus-connection"
        );
        assert_eq!(
            did_you_mean("orders_db_password", &names).unwrap().1,
            "differs only by '_', '-' or '.'"
        );
        assert_eq!(
            did_you_mean("orders-db-pasword", &names).unwrap().0,
            "orders-db-password"
        );
        assert_eq!(did_you_mean("payments-api-key", &names), None);
        assert_eq!(
            did_you_mean("ab", &["cd"]),
            None,
            "short names are not near misses of anything"
        );
    }
}
