//! `keyvault_access` (H2): a Key Vault reference its identity may not read.
//!
//! **Azure rule.** A secret with `keyVaultUrl` is fetched by the platform with the identity the
//! secret names: `system` (the app's system-assigned identity, which must be enabled) or a
//! user-assigned identity resource id, which must be attached to the app (compared without
//! case). That principal needs `Microsoft.KeyVault/vaults/secrets/getSecret/action` on the
//! secret through RBAC (role at the secret, vault or any parent; wildcards; `notDataActions`;
//! deny assignments; ABAC conditions) when the vault uses RBAC, or an access policy with secret
//! `get` for its object id when it uses access policies (docs/azure.md#key-vault-permission-models,
//! #evaluating-role-assignments; docs/design.md#h2-keyvault_access). Owner and Contributor grant
//! no data action. Role changes take up to ~10 minutes to propagate
//! (docs/azure.md#role-propagation), and the platform retries only on its ~30 minute sync cycle.
//!
//! **Evidence read.** The app's identities and secrets; user-assigned identities (do they still
//! exist); the vault (permission model, access policies); role-assignment listings at the vault
//! and at the secret's scope for each principal; role definitions (built-ins compiled in); deny
//! assignments at the vault; system-log sync results (`ForbiddenByRbac`, `AccessDenied`,
//! identity not found); role assignments deleted (activity log of the vault's resource group);
//! writes and revisions Azure refused with `Unable to get value using Managed identity … for
//! secret X` (docs/azure-errors.md A1–A5), judged again against the grants as they are now.
//!
//! **Cannot see.** Group membership beyond what `assignedTo()` expands server-side; whether an
//! ABAC condition matches this secret; PIM activations; token caches on the platform side.
//!
//! **Layout.** This file holds the checker's entry and the per-reference flow (URL, identity,
//! vault); [`evaluate`] answers "may this principal read this secret" from RBAC, deny
//! assignments or access policies; [`reading`] turns that answer and the logs into the
//! reference's status and evidence; [`remedy`] says what to grant; [`refused_fetch`] judges
//! refused writes and revisions again against the grants as they are now. The generic RBAC
//! model (role definitions, built-ins, wildcard matching) is [`crate::azure::roles`].

mod dapr;
mod evaluate;
mod reading;
mod refused_fetch;
mod remedy;

use super::certificates::{self, FetchFailure};
use super::{CheckerId, Tally, commands, latest_sync, log_evidence, quoted};
use crate::azure::ids;
use crate::logs::{FailureCause, LogEvent};
use crate::snapshot::{
    Consumer, Identity, KvReference, Read, Snapshot, SystemLogEntry, Vault, Workload,
    environment_label,
};
use crate::verdict::{Evidence, Hypothesis, Remediation, Status};
use reading::Reading;
use time::Duration;

pub const ID: CheckerId = CheckerId::KeyvaultAccess;
pub const TITLE: &str = "each Key Vault reference's identity exists and may read the secret";

/// Role assignments younger than this may not have propagated (docs/azure.md#role-propagation).
pub const PROPAGATION: Duration = Duration::minutes(10);

/// The role kvdiag recommends: the least privilege that grants getSecret.
const RECOMMENDED_ROLE: &str = "Key Vault Secrets User";

pub fn check(snapshot: &Snapshot, workload: &Workload) -> Option<Hypothesis> {
    let mut tally = Tally::new(ID);
    for r in &snapshot.kv_refs {
        match &r.consumer {
            // Who fetches a component's own keyVaultUrl is not documented: likely at most.
            Consumer::DaprSecret { .. } => {
                let mut own = Tally::new(ID);
                reference(snapshot, workload, r, &mut own);
                if own.has(&r.concern()) {
                    own.evidence(dapr::assumption(r));
                    dapr::component_evidence(snapshot, workload, r, &mut own);
                }
                tally.merge_capped(own, Status::Likely);
            }
            Consumer::DaprSecretStore { .. } => {
                reference(snapshot, workload, r, &mut tally);
                if tally.has(&r.concern()) {
                    dapr::component_evidence(snapshot, workload, r, &mut tally);
                    tally.remedy(Remediation::advice(
                        "a bulk read through the secret store lists the vault first: on an access-policy vault grant secret list as well as get (Key Vault Secrets User already carries both data actions)",
                    ));
                }
            }
            _ => reference(snapshot, workload, r, &mut tally),
        }
    }
    for read in snapshot.certificates.values() {
        if let Read::Unavailable(gap) = read {
            tally.item(
                Status::Inconclusive,
                "cannot tell whether the environment may read its certificates: they could not be read",
                "certificates",
            );
            tally.gap(gap, "certificate");
        }
    }
    for refused in super::refused::all(snapshot, workload) {
        refused_fetch::judge(snapshot, workload, &refused, &mut tally);
    }
    Some(tally.finish(
        (Status::RuledOut, "the app has no Key Vault references"),
        "every Key Vault reference's identity may read its secret",
    ))
}

/// One Key Vault reference, step by step: its URL parses, it names an identity, the app has
/// that identity, the identity still exists and the vault could be read; then the grants decide.
fn reference(snapshot: &Snapshot, workload: &Workload, r: &KvReference, tally: &mut Tally) {
    refused_certificate(snapshot, r, tally);
    let parsed = match &r.parsed {
        Ok(p) => p,
        Err(problem) => {
            malformed_url(snapshot, r, problem, tally);
            return;
        }
    };
    let Some(identity) = r.identity.as_deref() else {
        no_identity(snapshot, r, tally);
        return;
    };
    let last = latest_sync(snapshot, r);
    if r.is_vault_wide() && r.principal.is_none() && ids::is_guid(identity) {
        // A Key Vault secret store whose azureClientId matches no attached identity.
        dapr::client_id_unmatched(snapshot, workload, r, identity, tally);
        return;
    }
    let Some(principal) = r.principal.clone() else {
        if r.is_system() {
            system_not_enabled(snapshot, workload, r, &parsed.vault, tally);
        } else {
            user_not_attached(snapshot, workload, r, identity, last, tally);
        }
        return;
    };
    if !r.is_system()
        && snapshot
            .identities
            .get(&ids::normalize(identity))
            .is_some_and(Read::is_not_found)
    {
        identity_deleted(r, identity, tally);
        return;
    }
    let Some(vault) = read_vault(snapshot, r, &parsed.vault, tally) else {
        return;
    };
    let reading = Reading {
        snapshot,
        workload,
        r,
        vault,
        principal: &principal,
        result: evaluate::evaluate(snapshot, vault, &parsed.secret, &principal),
    };
    reading.decide(last, tally);
}

/// The resource whose identity fetches a reference: the workload itself, or its environment
/// for certificates. Names it, shows its identity, and attaches identities to it.
struct Holder<'a> {
    /// `the app`, `the job`, `environment 'cae-prod'`.
    name: String,
    identity: Option<&'a Identity>,
    /// The environment's id when the environment fetches.
    environment: Option<&'a str>,
    /// The evidence source of its identity block.
    source: &'static str,
}

impl<'a> Holder<'a> {
    fn of(snapshot: &'a Snapshot, workload: &'a Workload, r: &'a KvReference) -> Holder<'a> {
        match r.consumer.environment_id() {
            Some(env) => Holder {
                name: environment_label(env),
                identity: snapshot.environment.ok().map(|e| &e.identity),
                environment: Some(env),
                source: "environment",
            },
            None => Holder {
                name: format!(
                    "the {}",
                    if snapshot.target.is_job() {
                        "job"
                    } else {
                        "app"
                    }
                ),
                identity: Some(&workload.identity),
                environment: None,
                source: "app",
            },
        }
    }

    fn show_identity(&self, target: &crate::bundle::Target, query: &str) -> String {
        match self.environment {
            Some(env) => commands::env_show(env, query),
            None => commands::show_app(target, query),
        }
    }

    fn assign_system(&self, target: &crate::bundle::Target) -> String {
        match self.environment {
            Some(env) => commands::env_identity_assign_system(env),
            None => commands::identity_assign_system(target),
        }
    }

    fn assign_user(&self, target: &crate::bundle::Target, identity: &str) -> String {
        match self.environment {
            Some(env) => commands::env_identity_assign_user(env, identity),
            None => commands::identity_assign_user(target, identity),
        }
    }
}

/// A certificate whose resource records that the environment was refused reading it: the
/// platform's own words name this cause (docs/azure-errors.md, certificates).
fn refused_certificate(snapshot: &Snapshot, r: &KvReference, tally: &mut Tally) {
    let Some((FetchFailure::Access, text)) = certificates::failure(snapshot, r) else {
        return;
    };
    let Some(environment) = r.consumer.environment_id() else {
        return;
    };
    let secret = r.subject();
    tally.item(
        Status::Confirmed,
        format!("the environment was refused reading {secret}"),
        &r.concern(),
    );
    tally.evidence(
        certificates::failure_evidence(r, text)
            .reproduce(commands::env_certificate_list(environment)),
    );
}

/// The `keyVaultUrl` does not parse: Azure rejects the write.
fn malformed_url(snapshot: &Snapshot, r: &KvReference, problem: &str, tally: &mut Tally) {
    let target = &snapshot.target;
    let secret = r.subject();
    tally.item(
        Status::Confirmed,
        format!("{secret} has a malformed keyVaultUrl: {problem}"),
        &r.concern(),
    );
    let (rejection, form, show) = match r.consumer.environment_id() {
        Some(env) => (
            "the environment cannot fetch it",
            "https://<vault>.vault.azure.net/certificates/<name> (or /secrets/<name>)",
            commands::env_certificate_list(env),
        ),
        None => (
            "Azure rejects it with ContainerAppSecretKeyVaultUrlInvalid",
            "https://<vault>.vault.azure.net/secrets/<name> (versionless, or /<32-hex version> to pin)",
            commands::show_app(target, "properties.configuration.secrets"),
        ),
    };
    tally.evidence(
        Evidence::supports(
            format!(
                "{secret} keyVaultUrl '{}' is invalid: {problem} ({rejection})",
                r.url
            ),
            "app",
        )
        .reproduce(show),
    );
    tally.remedy(Remediation::advice(format!("set {secret} to {form}")));
}

/// A `keyVaultUrl` without an `identity`: the platform has no identity to read it with.
fn no_identity(snapshot: &Snapshot, r: &KvReference, tally: &mut Tally) {
    let target = &snapshot.target;
    let secret = r.subject();
    tally.item(
        Status::Likely,
        format!("{secret} has a keyVaultUrl but names no identity"),
        &r.concern(),
    );
    tally.evidence(Evidence::supports(format!("{secret} has keyVaultUrl but no identity; Azure requires both (ContainerAppSecretInvalid)"), "app"));
    if let Some(command) = commands::write_again(target, r, &r.url, "system") {
        tally.remedy(Remediation::run(
            format!("name the identity that reads {secret}"),
            command,
        ));
    }
}

/// The reference names `system` and the fetching resource's system-assigned identity is not
/// enabled.
fn system_not_enabled(
    snapshot: &Snapshot,
    workload: &Workload,
    r: &KvReference,
    vault: &str,
    tally: &mut Tally,
) {
    let target = &snapshot.target;
    let holder = Holder::of(snapshot, workload, r);
    let secret = r.subject();
    tally.item(
        Status::Confirmed,
        format!(
            "{secret} uses the system identity, which is not enabled on {}",
            holder.name
        ),
        &r.concern(),
    );
    let kind = holder.identity.map_or("(unread)", |i| i.kind.as_str());
    tally.evidence(
        Evidence::supports(
            format!(
                "{secret} names identity 'system' but the identity type of {} is '{kind}'",
                holder.name
            ),
            holder.source,
        )
        .reproduce(holder.show_identity(target, "identity")),
    );
    tally.remedy(Remediation::run(
        "enable the system-assigned identity",
        holder.assign_system(target),
    ));
    tally.remedy(Remediation::advice(format!("then grant it '{RECOMMENDED_ROLE}' on vault '{vault}' and set the reference again to force a fetch")));
}

/// The reference names a user-assigned identity the fetching resource does not have attached
/// (or whose principal is unknown), with whether it still exists and what the platform logged.
fn user_not_attached(
    snapshot: &Snapshot,
    workload: &Workload,
    r: &KvReference,
    identity: &str,
    last: Option<&SystemLogEntry>,
    tally: &mut Tally,
) {
    let target = &snapshot.target;
    let holder = Holder::of(snapshot, workload, r);
    let secret = r.subject();
    let existence = match snapshot.identities.get(&ids::normalize(identity)) {
        Some(Read::Ok(_)) => format!("it exists but is not attached to {}", holder.name),
        Some(Read::NotFound(_)) => "it does not exist (deleted?)".to_string(),
        _ => format!(
            "it is not attached to {} (whether it still exists could not be read)",
            holder.name
        ),
    };
    tally.item(
        Status::Confirmed,
        format!(
            "{secret} uses user-assigned identity '{}': {existence}",
            ids::last_segment(identity)
        ),
        &r.concern(),
    );
    let attached: Vec<String> = holder
        .identity
        .map(|i| {
            i.user_assigned
                .iter()
                .map(|u| ids::last_segment(&u.id))
                .collect()
        })
        .unwrap_or_default();
    tally.evidence(
        Evidence::supports(
            format!(
                "{secret} names identity {identity}; user-assigned identities attached to {}: {}",
                holder.name,
                if attached.is_empty() {
                    "none".into()
                } else {
                    attached.join(", ")
                }
            ),
            holder.source,
        )
        .reproduce(holder.show_identity(target, "identity.userAssignedIdentities")),
    );
    if let Some(entry) = last.filter(|e| matches!(&e.event, LogEvent::SyncFailed(f) if matches!(f.cause, FailureCause::IdentityNotFound { .. }))) {
        tally.evidence(log_evidence(entry, "the platform cannot find the identity", true, snapshot));
    }
    tally.remedy(Remediation::run(
        format!("attach the identity {secret} names to {}", holder.name),
        holder.assign_user(target, identity),
    ));
}

/// The user-assigned identity is attached but its resource answers 404.
fn identity_deleted(r: &KvReference, identity: &str, tally: &mut Tally) {
    let secret = r.subject();
    tally.item(
        Status::Confirmed,
        format!(
            "{secret} uses identity '{}', which is attached but no longer exists",
            r.identity_label()
        ),
        &r.concern(),
    );
    tally.evidence(Evidence::supports(
        format!("GET {identity} answered 404: the identity was deleted while still attached"),
        "identity",
    ));
    tally.remedy(Remediation::advice(format!(
        "recreate or replace identity '{}', attach it, and grant it '{RECOMMENDED_ROLE}'",
        r.identity_label()
    )));
}

/// The vault the reference points at, or `None` after recording why it cannot be judged
/// (not found: `keyvault_secret_state` owns that; unreadable: a gap).
fn read_vault<'a>(
    snapshot: &'a Snapshot,
    r: &KvReference,
    vault: &str,
    tally: &mut Tally,
) -> Option<&'a Vault> {
    let secret = r.subject();
    match snapshot.vault(vault) {
        Some(Read::Ok(v)) => Some(v),
        Some(Read::NotFound(_)) => {
            tally.item(
                Status::Unlikely,
                format!("vault '{vault}' of {secret} was not found (see keyvault_secret_state)"),
                &r.concern(),
            );
            None
        }
        Some(Read::Unavailable(gap)) => {
            tally.item(Status::Inconclusive, format!("cannot tell whether identity '{}' may read {secret}: vault '{vault}' could not be read", r.identity_label()), &r.concern());
            tally.gap(gap, "vault");
            None
        }
        Some(Read::NotRead(_)) | None => None,
    }
}
