//! Writes and revisions Azure refused because the platform could not read a Key Vault
//! reference, judged again against the grants as they are now.
//!
//! The refusal message (`Unable to get value using Managed identity <id> for secret <s>`, or
//! the identity not found) never says why, so this runs the access evaluation again on that
//! secret and identity: the refusal is `confirmed` while the identity still cannot read the
//! vault, and becomes `possible` once a grant exists (retry the deploy) or when the grant
//! predates the refusal (the cause is elsewhere: the secret's name or the network). It lives
//! apart from the per-reference flow because the secret may not be on the app any more (the
//! rejected write never landed), so it has no [`KvReference`](crate::snapshot::KvReference).

use super::evaluate::{self, Access, Grant, Outcome};
use super::remedy::{grant, scope_label};
use super::{RECOMMENDED_ROLE, Tally, commands, quoted};
use crate::azure::{ids, time as t};
use crate::checks::refused::Refused;
use crate::refusals::Refusal;
use crate::snapshot::{Identity, Read, Snapshot, Vault, Workload};
use crate::verdict::{Evidence, Remediation, Status};

/// The concern of a refusal whose message names no secret.
const UNNAMED: &str = "(secret not named)";

/// A write or revision Azure refused because the platform could not read a Key Vault
/// reference (`Unable to get value using Managed identity <id> for secret <s>`), or could not
/// find the identity. The message never says why, so the access reasoning runs again on that
/// secret and identity as they are now: the refusal is `confirmed` while the identity still
/// cannot read the vault, and becomes `possible` once a grant exists (retry the deploy) or when
/// the grant predates the refusal (the cause is elsewhere: the secret's name or the network).
pub(super) fn judge(
    snapshot: &Snapshot,
    workload: &Workload,
    refused: &Refused,
    tally: &mut Tally,
) {
    let what = refused.what();
    let Some((secret, identity)) = named(&refused.refusal) else {
        return;
    };
    tally.evidence(refused.evidence(snapshot));
    if tally.has(&secret) {
        // The current reference already shows this cause; the refusal is its evidence.
        return;
    }
    let quoted_secret = quoted(&secret);
    if let Some(later) = &refused.superseded {
        tally.item(
            Status::Unlikely,
            format!("{what}: the platform could not read {quoted_secret}; {later}"),
            &secret,
        );
        return;
    }
    if matches!(refused.refusal, Refusal::KeyVaultUrlInvalid) {
        tally.item(Status::Likely, format!("{what} with ContainerAppSecretKeyVaultUrlInvalid: a keyVaultUrl is malformed, or a new system identity had no role yet"), &secret);
        tally.remedy(Remediation::advice("use https://<vault>.vault.azure.net/secrets/<name>[/<version>]; with a system identity, deploy without the reference first, grant the role, then add it — or use a user-assigned identity granted 'Key Vault Secrets User' before the deploy"));
        return;
    }
    let identity = identity.unwrap_or_default();
    let fetch = Fetch::resolve(workload, &identity);
    let Some(principal) = fetch.principal.clone() else {
        identity_missing(snapshot, &what, &secret, &identity, &fetch, tally);
        return;
    };
    let (own, candidates) = candidate_vaults(snapshot, &secret);
    let who = format!("identity '{}' ({principal})", fetch.label);
    if candidates.is_empty() {
        tally.item(Status::Likely, format!("{what}: the platform could not read {quoted_secret} with {who}; kvdiag could not find which vault holds it (the app references no vault it could read)"), &secret);
        tally.remedy(Remediation::advice(format!("grant {who} '{RECOMMENDED_ROLE}' on the vault that holds {quoted_secret}, then retry the deploy")));
        return;
    }
    let guess = if own {
        String::new()
    } else {
        vault_guess(&candidates)
    };
    let results: Vec<(&Vault, Access)> = candidates
        .iter()
        .map(|(v, s)| (*v, evaluate::evaluate(snapshot, v, s, &principal)))
        .collect();
    let (status, now) = status_now(&results, refused, &who, &quoted_secret);
    tally.item(
        status,
        format!("{what}: {who} could not read {quoted_secret}{guess}; {now}"),
        &secret,
    );
    record_held(&results, &who, &principal, tally);
    if status == Status::Confirmed || status == Status::Likely {
        for (v, a) in &results {
            tally.remedy(grant(
                v,
                &principal,
                &format!("identity '{}'", fetch.label),
                a.rbac,
            ));
        }
        tally.remedy(Remediation::advice("then retry the deploy: Azure rejected it, so the app still runs its previous configuration"));
    }
}

/// The secret and identity a refusal names; `None` for refusals that are not about reading
/// Key Vault.
fn named(refusal: &Refusal) -> Option<(String, Option<String>)> {
    match refusal {
        Refusal::KeyVaultUnreadable { secret, identity } => {
            Some((secret.clone(), Some(identity.clone())))
        }
        Refusal::IdentityNotFound { secret, identity } => Some((
            secret.clone().unwrap_or_else(|| UNNAMED.into()),
            identity.clone(),
        )),
        Refusal::KeyVaultUrlInvalid => Some((UNNAMED.into(), None)),
        _ => None,
    }
}

/// The identity a refusal names, as the app has it now.
struct Fetch {
    /// The system identity (named `system`, or unnamed while the app has one).
    is_system: bool,
    /// `system`, or the user-assigned identity's name.
    label: String,
    /// The lower-cased principal id; `None` when the app has no such identity (system
    /// identity not enabled, user-assigned identity not attached).
    principal: Option<String>,
}

impl Fetch {
    fn resolve(workload: &Workload, identity: &str) -> Fetch {
        let is_system = Identity::names_system(identity)
            || identity.is_empty() && workload.identity.system().is_some();
        let principal =
            workload
                .identity
                .principal_of(Some(if is_system { "system" } else { identity }));
        let label = if is_system {
            "system".to_string()
        } else {
            ids::last_segment(identity)
        };
        Fetch {
            is_system,
            label,
            principal,
        }
    }
}

/// The app still has no such identity: the refusal is confirmed and the fix is to enable or
/// attach it.
fn identity_missing(
    snapshot: &Snapshot,
    what: &str,
    secret: &str,
    identity: &str,
    fetch: &Fetch,
    tally: &mut Tally,
) {
    let target = &snapshot.target;
    let quoted_secret = quoted(secret);
    let (is_system, label) = (fetch.is_system, &fetch.label);
    let now = if is_system {
        "the app's system identity is still not enabled".to_string()
    } else {
        format!("identity '{label}' is still not attached to the app")
    };
    tally.item(
        Status::Confirmed,
        format!(
            "{what}: the platform could not read {quoted_secret} with identity '{label}'; {now}"
        ),
        secret,
    );
    tally.remedy(if is_system {
        Remediation::run(
            "enable the system-assigned identity, grant it access, then retry the deploy",
            commands::identity_assign_system(target),
        )
    } else {
        Remediation::run(
            "attach the identity, then retry the deploy",
            commands::identity_assign_user(target, identity),
        )
    });
}

/// Which vault holds the secret: the app's own reference to it (`true`), else every vault the
/// app references (`false`). Only vaults that could be read are candidates.
fn candidate_vaults<'a>(snapshot: &'a Snapshot, secret: &str) -> (bool, Vec<(&'a Vault, String)>) {
    let own = snapshot
        .kv_refs
        .iter()
        .find(|r| r.consumer.is_workload_secret() && r.secret.eq_ignore_ascii_case(secret))
        .and_then(|r| r.parsed.as_ref().ok());
    let candidates = match own {
        Some(p) => snapshot
            .vault(&p.vault)
            .and_then(Read::ok)
            .map(|v| vec![(v, p.secret.clone())])
            .unwrap_or_default(),
        None => snapshot
            .vaults
            .values()
            .filter_map(Read::ok)
            .map(|v| (v, secret.to_string()))
            .collect(),
    };
    (own.is_some(), candidates)
}

/// Says which vault was presumed when the app does not reference the secret itself.
fn vault_guess(candidates: &[(&Vault, String)]) -> String {
    if candidates.len() == 1 {
        format!(
            " (presumably in vault '{}', the only vault the app references)",
            candidates[0].0.name
        )
    } else {
        " (the app references several vaults; each was checked)".to_string()
    }
}

/// The refusal's status now, and why: a grant made after the refusal (retry), a grant that
/// already existed (the cause is elsewhere), undecidable reads, or still no grant.
fn status_now(
    results: &[(&Vault, Access)],
    refused: &Refused,
    who: &str,
    quoted_secret: &str,
) -> (Status, String) {
    let granted: Vec<(&Vault, &Grant)> = results
        .iter()
        .filter_map(|(v, a)| match &a.outcome {
            Outcome::Granted { grant, .. } => Some((*v, grant)),
            _ => None,
        })
        .collect();
    let refused_at = refused.at;
    if let Some((v, grant)) = granted
        .iter()
        .find(|(_, g)| g.created_on.is_some_and(|c| c > refused_at))
    {
        (
            Status::Possible,
            format!(
                "{who} was granted '{}' on vault '{}' {} — after the refusal: retry the deploy",
                grant.role,
                v.name,
                grant.created_on.map(t::display).unwrap_or_default()
            ),
        )
    } else if let Some((v, grant)) = granted.first() {
        (
            Status::Possible,
            format!(
                "{who} already held '{}' on vault '{}' then, so the cause is elsewhere: check that {quoted_secret} exists under that name and the vault's network (keyvault_secret_state, keyvault_network)",
                grant.role, v.name
            ),
        )
    } else if results
        .iter()
        .any(|(_, a)| matches!(a.outcome, Outcome::Unknown | Outcome::Conditional { .. }))
    {
        (
            Status::Likely,
            format!("whether {who} can read it now could not be decided"),
        )
    } else {
        let why = if results.iter().all(|(_, a)| a.rbac) {
            "no role assignment grants getSecret"
        } else {
            "no role assignment or access policy grants it"
        };
        (
            Status::Confirmed,
            format!(
                "it still cannot: {why} on {}",
                results
                    .iter()
                    .map(|(v, _)| format!("vault '{}'", v.name))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        )
    }
}

/// What the principal holds at each candidate vault, and the reads that failed.
fn record_held(results: &[(&Vault, Access)], who: &str, principal: &str, tally: &mut Tally) {
    for (v, a) in results {
        for held in &a.held {
            tally.evidence(
                Evidence::supports(
                    format!(
                        "{who} holds '{}' at {} of vault '{}'",
                        held.role,
                        scope_label(&held.scope, &v.id),
                        v.name
                    ),
                    "role_assignments",
                )
                .reproduce(commands::role_assignment_list(principal, &v.id)),
            );
        }
        if a.held.is_empty() && matches!(a.outcome, Outcome::NotGranted { .. }) {
            tally.evidence(
                Evidence::supports(
                    format!(
                        "no role assignment of {who} grants getSecret at vault '{}' or above",
                        v.name
                    ),
                    "role_assignments",
                )
                .reproduce(commands::role_assignment_list(principal, &v.id)),
            );
        }
        // The secret's own scope was not planned for a secret the app does not reference
        // (the rejected write never landed): only reads that failed are gaps here.
        for gap in a.gaps.iter().filter(|g| g.status.is_some()) {
            tally.gap(gap, "role_assignments");
        }
    }
}
