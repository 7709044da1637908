//! `keyvault_secret_state`: the referenced vault or secret (version) is missing or disabled.
//!
//! **Azure rule.** A versionless reference reads the secret's current version; a pinned one
//! reads exactly that version. A secret or version that does not exist fails with 404
//! `SecretNotFound`, often silently at write time (microsoft/azure-container-apps#1306); a
//! disabled one fails ("The secret is in a disabled state", `SecretDisabled`). `exp` and `nbf`
//! are informational: Key Vault still serves an expired secret (Azure/AzureKeyVault#19), so
//! expiry is a warning (`possible` at most), never the cause of a failed read by itself
//! (docs/azure.md#key-vault-secret-state; docs/design.md#h2-keyvault_access).
//!
//! **Evidence read.** The vault (does it exist), the ARM metadata of the secret's current
//! version, the data-plane version list (metadata only; zero versions means no such secret),
//! and sync failures in the system log.
//!
//! **Cannot see.** Soft-deleted secrets (`deletedsecrets` is not read; the fix says how to
//! look); vaults in subscriptions the caller cannot read.

use super::certificates::{self, FetchFailure};
use super::{CheckerId, Tally, commands, latest_sync, log_evidence};
use crate::azure::ids;
use crate::azure::time as t;
use crate::logs::{FailureCause, LogEvent};
use crate::snapshot::{
    Certificate, KvReference, Read, SecretVersion, Snapshot, VaultSecret, Workload,
};
use crate::verdict::{Evidence, Hypothesis, Remediation, Status};
use time::OffsetDateTime;

pub const ID: CheckerId = CheckerId::KeyvaultSecretState;
pub const TITLE: &str =
    "each referenced vault and secret version exists, is enabled and not expired";

/// What one reference points at, from whichever read is available.
struct State {
    enabled: Option<bool>,
    expires: Option<OffsetDateTime>,
    not_before: Option<OffsetDateTime>,
    version: Option<String>,
    source: &'static str,
}

pub fn check(snapshot: &Snapshot, workload: &Workload) -> Option<Hypothesis> {
    if snapshot.kv_refs.is_empty() && snapshot.certificates.is_empty() {
        return None;
    }
    let mut tally = Tally::new(ID);
    for r in &snapshot.kv_refs {
        reference(snapshot, r, &mut tally);
    }
    bindings(snapshot, workload, &mut tally);
    for r in snapshot
        .kv_refs
        .iter()
        .filter(|r| r.consumer.is_certificate())
    {
        if let Some(c) = certificates::resource_of(snapshot, r) {
            certificate_state(snapshot, r, c, &mut tally);
        }
    }
    Some(tally.finish(
        (Status::RuledOut, "no Key Vault reference could be resolved"),
        "every referenced secret (version) exists and is enabled",
    ))
}

/// Custom domains bound to a certificate that does not exist, or could not be read.
fn bindings(snapshot: &Snapshot, workload: &Workload, tally: &mut Tally) {
    for domain in &workload.custom_domains {
        let Some(id) = domain.certificate_id.as_deref() else {
            continue;
        };
        let certificate = ids::last_segment(id);
        let concern = format!("certificate:{certificate}");
        match snapshot.certificates.get(&ids::normalize(id)) {
            Some(Read::NotFound(detail)) => {
                tally.item(
                    Status::Likely,
                    format!("custom domain {} is bound to certificate '{certificate}', which does not exist", domain.name),
                    &concern,
                );
                tally.evidence(
                    Evidence::supports(format!("GET {id}: {detail}"), "certificate").reproduce(
                        commands::show_app(
                            &snapshot.target,
                            "properties.configuration.ingress.customDomains",
                        ),
                    ),
                );
                if let Some(env) = ids::certificate_environment(id) {
                    tally.remedy(Remediation::run(
                        format!(
                            "add the certificate again (from Key Vault) and bind {} to it",
                            domain.name
                        ),
                        commands::env_certificate_list(&env),
                    ));
                }
            }
            Some(Read::Unavailable(gap)) => {
                tally.item(
                    Status::Inconclusive,
                    format!("cannot check certificate '{certificate}' bound to {}: it could not be read", domain.name),
                    &concern,
                );
                tally.gap(gap, "certificate");
            }
            _ => {}
        }
    }
}

/// A Key Vault certificate's own state: its last fetch failed, it is not valid, or it has
/// expired or expires soon (a warning: `possible` at most).
fn certificate_state(snapshot: &Snapshot, r: &KvReference, c: &Certificate, tally: &mut Tally) {
    let subject = r.subject();
    let Some(environment) = r.consumer.environment_id() else {
        return;
    };
    let list = commands::env_certificate_list(environment);
    let text = c.deployment_errors.as_deref().unwrap_or_default();
    let failure = FetchFailure::of(text);
    // Access and network failures are keyvault_access's and keyvault_network's.
    if c.failed() && !matches!(failure, FetchFailure::Access | FetchFailure::Network) {
        let (status, what) = match (failure, &c.deployment_errors) {
            (FetchFailure::NotFound, _) => (
                Status::Confirmed,
                "the Key Vault object it names does not exist",
            ),
            (_, Some(_)) => (Status::Likely, "the platform could not import it"),
            // No words from the platform: the access and network entries may explain it.
            (_, None) => (
                Status::Possible,
                "its import failed and the platform recorded no error",
            ),
        };
        tally.item(
            status,
            format!(
                "{subject} is in state {}: {what}",
                c.provisioning_state.as_deref().unwrap_or("Failed")
            ),
            &r.concern(),
        );
        tally.evidence(
            Evidence::supports(
                match &c.deployment_errors {
                    Some(errors) => format!(
                        "{subject}: provisioningState {}, deploymentErrors \"{}\"",
                        c.provisioning_state.as_deref().unwrap_or("?"),
                        crate::logs::one_line(errors, 300)
                    ),
                    None => format!(
                        "{subject}: provisioningState {}, no deploymentErrors recorded",
                        c.provisioning_state.as_deref().unwrap_or("?")
                    ),
                },
                "certificate",
            )
            .reproduce(list.clone()),
        );
        if let Some(command) = commands::write_again(
            &snapshot.target,
            r,
            &r.url,
            r.identity.as_deref().unwrap_or("system"),
        ) {
            tally.remedy(Remediation::run(
                format!(
                    "once the cause is fixed, add {subject} again so the environment fetches it"
                ),
                command,
            ));
        }
    } else if c.valid == Some(false) {
        tally.item(
            Status::Likely,
            format!("{subject} is not valid"),
            &r.concern(),
        );
        tally.evidence(
            Evidence::supports(
                format!(
                    "{subject}: valid = false (subject {})",
                    c.subject_name.as_deref().unwrap_or("unknown")
                ),
                "certificate",
            )
            .reproduce(list.clone()),
        );
    }
    if let Some((expired, note)) = certificates::expiry_note(c, snapshot.now) {
        tally.item(Status::Possible, format!("{subject} {note}"), &r.concern());
        tally.evidence(
            Evidence::supports(
                format!(
                    "{subject}: expirationDate {note}{}",
                    if expired {
                        "; clients are served an expired certificate"
                    } else {
                        ""
                    }
                ),
                "certificate",
            )
            .reproduce(list),
        );
        tally.remedy(Remediation::advice(format!("renew the certificate in Key Vault; a versionless URL is picked up within 12 hours (or add {subject} again to fetch it now)")));
    }
}

fn reference(snapshot: &Snapshot, r: &KvReference, tally: &mut Tally) {
    let Ok(parsed) = &r.parsed else { return };
    let secret = r.subject();
    let vault = &parsed.vault;
    match snapshot.vault(vault) {
        Some(Read::Ok(_)) => {}
        Some(Read::NotFound(detail)) => {
            // A direct GET 404 is proof; "Resource Graph found nothing" only covers what the
            // caller can read.
            let status = if detail.contains("no vault named") {
                Status::Likely
            } else {
                Status::Confirmed
            };
            tally.item(status, format!("vault '{vault}' referenced by {secret} does not exist (or is in a subscription you cannot read)"), &r.concern());
            tally.evidence(
                Evidence::supports(format!("vault '{vault}': {detail}"), "vault").reproduce(
                    format!(
                        "az keyvault list --query {} -o table",
                        commands::q(&format!("[?name=='{vault}']"))
                    ),
                ),
            );
            tally.remedy(Remediation::run(
                "a deleted vault can be recovered within its retention period",
                format!(
                    "az keyvault list-deleted --query {} -o table",
                    commands::q(&format!("[?name=='{vault}']"))
                ),
            ));
            return;
        }
        Some(Read::Unavailable(gap)) => {
            tally.item(
                Status::Inconclusive,
                format!("cannot check {secret}: vault '{vault}' could not be read"),
                &r.concern(),
            );
            tally.gap(gap, "vault");
            return;
        }
        Some(Read::NotRead(_)) | None => return,
    }
    if r.is_vault_wide() {
        // A Dapr secret store reads whichever secret the app asks for: the vault is all there
        // is to check.
        return;
    }
    let key = (vault.clone(), parsed.secret.to_ascii_lowercase());
    let metadata = snapshot.vault_secrets.get(&key);
    let versions = snapshot.secret_versions.get(&key);
    let show_versions = commands::secret_versions(vault, &parsed.secret);

    let state = match &parsed.version {
        Some(pinned) => pinned_state(pinned, metadata, versions),
        None => current_state(metadata, versions),
    };
    let last = latest_sync(snapshot, r);
    let log_cause = last.and_then(|e| match &e.event {
        LogEvent::SyncFailed(f)
            if matches!(
                f.cause,
                FailureCause::SecretNotFound | FailureCause::SecretDisabled
            ) =>
        {
            Some((e, f.cause.clone()))
        }
        _ => None,
    });
    if let Some((entry, cause)) = &log_cause {
        tally.evidence(log_evidence(
            entry,
            &format!("the latest sync of {secret} failed: {}", cause.describe()),
            true,
            snapshot,
        ));
    }
    let what = match &parsed.version {
        Some(v) => format!("version {v} of {secret}"),
        None => secret.clone(),
    };
    let state = match state {
        Ok(state) => state,
        Err(Missing::NotFound(detail)) => {
            tally.item(
                Status::Confirmed,
                format!("{what} does not exist in vault '{vault}'"),
                &r.concern(),
            );
            tally.evidence(
                Evidence::supports(
                    format!(
                        "Key Vault secret '{}' in '{vault}': {detail}",
                        parsed.secret
                    ),
                    "vault_secret",
                )
                .reproduce(show_versions),
            );
            tally.remedy(Remediation::run(
                format!(
                    "if '{}' was deleted, look for it among deleted secrets and recover it",
                    parsed.secret
                ),
                commands::secret_list_deleted(vault, &parsed.secret),
            ));
            tally.remedy(Remediation::advice(format!("otherwise create it, or point {secret} at the secret that exists (names are case-insensitive in Key Vault, exact in the URL path)")));
            return;
        }
        Err(Missing::Unread(gap)) => {
            let status = if log_cause.is_some() {
                Status::Confirmed
            } else {
                Status::Inconclusive
            };
            tally.item(
                status,
                format!("cannot read the state of {what}"),
                &r.concern(),
            );
            tally.gap(&gap, "vault_secret");
            return;
        }
    };
    let now = snapshot.now;
    let version = state
        .version
        .clone()
        .map(|v| format!(" (version {v})"))
        .unwrap_or_default();
    if state.enabled == Some(false) {
        tally.item(
            Status::Confirmed,
            format!("{what} is disabled in vault '{vault}'"),
            &r.concern(),
        );
        tally.evidence(Evidence::supports(format!("{what}{version} has attributes.enabled = false ({}); Key Vault refuses reads of a disabled secret", state.source), "vault_secret").reproduce(show_versions));
        tally.remedy(Remediation::run(
            format!("enable {what}"),
            commands::secret_enable(vault, &parsed.secret, parsed.version.as_deref()),
        ));
        return;
    }
    if let Some(exp) = state.expires.filter(|e| *e < now) {
        tally.item(
            Status::Possible,
            format!(
                "{what} expired {} ({}); Key Vault still serves it, but rotation is overdue",
                t::ago(now, exp),
                t::display(exp)
            ),
            &r.concern(),
        );
        tally.evidence(Evidence::supports(format!("{what}{version} has exp = {} — informational: Key Vault does not block reads of an expired secret", t::display(exp)), "vault_secret").reproduce(show_versions.clone()));
        tally.remedy(Remediation::advice(format!("rotate '{}' in vault '{vault}' (new version with a new expiry); a versionless reference picks it up within 30 minutes", parsed.secret)));
    }
    if let Some(nbf) = state.not_before.filter(|n| *n > now) {
        tally.item(
            Status::Possible,
            format!("{what} is not valid before {}", t::display(nbf)),
            &r.concern(),
        );
        tally.evidence(
            Evidence::supports(
                format!(
                    "{what}{version} has nbf = {} (informational in Key Vault)",
                    t::display(nbf)
                ),
                "vault_secret",
            )
            .reproduce(show_versions.clone()),
        );
    }
    if let Some((_, cause)) = log_cause {
        tally.item(
            Status::Likely,
            format!(
                "the latest sync of {secret} failed ({}) although its metadata looks fine now",
                cause.describe()
            ),
            &r.concern(),
        );
        return;
    }
    tally.item(
        Status::RuledOut,
        format!("{what} exists and is enabled"),
        &r.concern(),
    );
    tally.evidence(
        Evidence::weakens(
            format!("{what}{version} exists and is enabled ({})", state.source),
            "vault_secret",
        )
        .reproduce(show_versions),
    );
}

enum Missing {
    NotFound(String),
    Unread(crate::snapshot::Gap),
}

fn unread<T>(read: Option<&Read<T>>) -> Missing {
    match read.and_then(Read::gap) {
        Some(gap) => Missing::Unread(gap.clone()),
        None => Missing::Unread(crate::snapshot::Gap {
            request: "secret metadata".into(),
            status: None,
            why: "not collected".into(),
            needs: "Reader on the vault".into(),
        }),
    }
}

/// The version a versionless reference reads: the current one (ARM), else the newest listed.
fn current_state(
    metadata: Option<&Read<VaultSecret>>,
    versions: Option<&Read<Vec<SecretVersion>>>,
) -> Result<State, Missing> {
    match (metadata, versions) {
        (Some(Read::Ok(m)), _) => Ok(State {
            enabled: m.enabled,
            expires: m.expires,
            not_before: m.not_before,
            version: m.current_version.clone(),
            source: "ARM metadata of the current version",
        }),
        (_, Some(Read::Ok(list))) if list.is_empty() => Err(Missing::NotFound(
            "the version list is empty: no such secret".into(),
        )),
        (_, Some(Read::Ok(list))) => {
            let newest = list.last().expect("non-empty");
            Ok(State {
                enabled: newest.enabled,
                expires: newest.expires,
                not_before: newest.not_before,
                version: Some(newest.version.clone()),
                source: "newest version in the data-plane list",
            })
        }
        (Some(Read::NotFound(detail)), _) => Err(Missing::NotFound(detail.clone())),
        (m, v) => Err(if m.and_then(Read::gap).is_some() {
            unread(m)
        } else {
            unread(v)
        }),
    }
}

/// The pinned version's state: from the version list, or ARM when it is the current version.
fn pinned_state(
    pinned: &str,
    metadata: Option<&Read<VaultSecret>>,
    versions: Option<&Read<Vec<SecretVersion>>>,
) -> Result<State, Missing> {
    match versions {
        Some(Read::Ok(list)) => {
            return match list.iter().find(|v| v.version.eq_ignore_ascii_case(pinned)) {
                Some(v) => Ok(State {
                    enabled: v.enabled,
                    expires: v.expires,
                    not_before: v.not_before,
                    version: None,
                    source: "data-plane version list",
                }),
                None if list.is_empty() => Err(Missing::NotFound(
                    "the version list is empty: no such secret".into(),
                )),
                None => Err(Missing::NotFound(format!(
                    "the version list ({} versions) does not contain {pinned}",
                    list.len()
                ))),
            };
        }
        Some(Read::NotFound(detail)) => return Err(Missing::NotFound(detail.clone())),
        _ => {}
    }
    match metadata {
        Some(Read::Ok(m))
            if m.current_version
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(pinned)) =>
        {
            Ok(State {
                enabled: m.enabled,
                expires: m.expires,
                not_before: m.not_before,
                version: None,
                source: "ARM metadata (the pinned version is current)",
            })
        }
        Some(Read::NotFound(detail)) => Err(Missing::NotFound(detail.clone())),
        _ => Err(unread(versions)),
    }
}
