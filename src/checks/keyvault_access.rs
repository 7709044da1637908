//! `keyvault_access` (H2): a Key Vault reference its identity may not read.
//!
//! **Azure rule.** A secret with `keyVaultUrl` is fetched by the platform with the identity the
//! secret names: `system` (the app's system-assigned identity, which must be enabled) or a
//! user-assigned identity resource id, which must be attached to the app (compared without
//! case). That principal needs `Microsoft.KeyVault/vaults/secrets/getSecret/action` on the
//! secret through RBAC (role at the secret, vault or any parent; wildcards; `notDataActions`;
//! deny assignments; ABAC conditions) when the vault uses RBAC, or an access policy with secret
//! `get` for its object id when it uses access policies (azure-reference.md §4, §9;
//! DESIGN.md H2). Owner and Contributor grant no data action. Role changes take up to ~10
//! minutes to propagate, and the platform retries only on its ~30 minute sync cycle.
//!
//! **Evidence read.** The app's identities and secrets; user-assigned identities (do they still
//! exist); the vault (permission model, access policies); role-assignment listings at the vault
//! and at the secret's scope for each principal; role definitions (built-ins compiled in); deny
//! assignments at the vault; system-log sync results (`ForbiddenByRbac`, `AccessDenied`,
//! identity not found); role assignments deleted (activity log of the vault's resource group);
//! writes and revisions Azure refused with `Unable to get value using Managed identity … for
//! secret X` (error-strings.md A1–A5), judged again against the grants as they are now.
//!
//! **Cannot see.** Group membership beyond what `assignedTo()` expands server-side; whether an
//! ABAC condition matches this secret; PIM activations; token caches on the platform side.

use super::refused::Refused;
use super::{Tally, commands, latest_sync, log_evidence, quoted};
use crate::access::{self, Access, Outcome};
use crate::azure::{ids, time as t};
use crate::logs::{FailureCause, LogEvent};
use crate::refusals::Refusal;
use crate::snapshot::{KvReference, Read, Snapshot, Vault, Workload};
use crate::verdict::{Evidence, Hypothesis, Remediation, Status};
use time::Duration;

pub const ID: &str = "keyvault_access";
pub const TITLE: &str = "each Key Vault reference's identity exists and may read the secret";

/// Role assignments younger than this may not have propagated (DESIGN.md field facts).
pub const PROPAGATION: Duration = Duration::minutes(10);

/// The role kvdiag recommends: the least privilege that grants getSecret.
const RECOMMENDED_ROLE: &str = "Key Vault Secrets User";

pub fn check(snapshot: &Snapshot, workload: &Workload) -> Option<Hypothesis> {
    let mut tally = Tally::new(ID);
    for r in &snapshot.kv_refs {
        reference(snapshot, workload, r, &mut tally);
    }
    for refused in super::refused::all(snapshot, workload) {
        refused_fetch(snapshot, workload, &refused, &mut tally);
    }
    Some(tally.finish(
        (Status::RuledOut, "the app has no Key Vault references"),
        "every Key Vault reference's identity may read its secret",
    ))
}

fn reference(snapshot: &Snapshot, workload: &Workload, r: &KvReference, tally: &mut Tally) {
    let target = &snapshot.target;
    let secret = quoted(&r.secret);
    let parsed = match &r.parsed {
        Ok(p) => p,
        Err(problem) => {
            tally.item(
                Status::Confirmed,
                format!("secret {secret} has a malformed keyVaultUrl: {problem}"),
                &r.secret,
            );
            tally.evidence(Evidence::supports(format!("secret {secret} keyVaultUrl '{}' is invalid: {problem} (Azure rejects it with ContainerAppSecretKeyVaultUrlInvalid)", r.url), "app").reproduce(commands::show_app(target, "properties.configuration.secrets")));
            tally.remedy(Remediation::advice(format!("set secret {secret} to https://<vault>.vault.azure.net/secrets/<name> (versionless, or /<32-hex version> to pin)")));
            return;
        }
    };
    let Some(identity) = r.identity.as_deref() else {
        tally.item(
            Status::Likely,
            format!("secret {secret} has a keyVaultUrl but names no identity"),
            &r.secret,
        );
        tally.evidence(Evidence::supports(format!("secret {secret} has keyVaultUrl but no identity; Azure requires both (ContainerAppSecretInvalid)"), "app"));
        tally.remedy(Remediation::run(
            format!("name the identity that reads {secret}"),
            commands::secret_set_keyvault(target, &r.secret, &r.url, "system"),
        ));
        return;
    };
    let last = latest_sync(snapshot, &r.secret);
    let principal = match (&r.principal, r.is_system()) {
        (Some(p), _) => p.clone(),
        (None, true) => {
            tally.item(
                Status::Confirmed,
                format!(
                    "secret {secret} uses the system identity, which is not enabled on the app"
                ),
                &r.secret,
            );
            tally.evidence(Evidence::supports(format!("secret {secret} names identity 'system' but the app's identity type is '{}'", workload.identity.kind), "app").reproduce(commands::show_app(target, "identity")));
            tally.remedy(Remediation::run(
                "enable the system-assigned identity",
                commands::identity_assign_system(target),
            ));
            tally.remedy(Remediation::advice(format!("then grant it '{RECOMMENDED_ROLE}' on vault '{}' and set the secret again to force a sync", parsed.vault)));
            return;
        }
        (None, false) => {
            let existence = match snapshot.identities.get(&ids::normalize(identity)) {
                Some(Read::Ok(_)) => "it exists but is not attached to the app",
                Some(Read::NotFound(_)) => "it does not exist (deleted?)",
                _ => "it is not attached to the app (whether it still exists could not be read)",
            };
            tally.item(
                Status::Confirmed,
                format!(
                    "secret {secret} uses user-assigned identity '{}': {existence}",
                    ids::last_segment(identity)
                ),
                &r.secret,
            );
            let attached: Vec<String> = workload
                .identity
                .user_assigned
                .iter()
                .map(|u| ids::last_segment(&u.id))
                .collect();
            tally.evidence(
                Evidence::supports(format!("secret {secret} names identity {identity}; attached user-assigned identities: {}", if attached.is_empty() { "none".into() } else { attached.join(", ") }), "app")
                    .reproduce(commands::show_app(target, "identity.userAssignedIdentities")),
            );
            if let Some(entry) = last.filter(|e| matches!(&e.event, LogEvent::SyncFailed(f) if matches!(f.cause, FailureCause::IdentityNotFound { .. }))) {
                tally.evidence(log_evidence(entry, "the platform cannot find the identity", true, snapshot));
            }
            tally.remedy(Remediation::run(
                "attach the identity the secret names",
                commands::identity_assign_user(target, identity),
            ));
            return;
        }
    };
    if !r.is_system()
        && snapshot
            .identities
            .get(&ids::normalize(identity))
            .is_some_and(Read::is_not_found)
    {
        tally.item(
            Status::Confirmed,
            format!(
                "secret {secret} uses identity '{}', which is attached but no longer exists",
                r.identity_label()
            ),
            &r.secret,
        );
        tally.evidence(Evidence::supports(
            format!("GET {identity} answered 404: the identity was deleted while still attached"),
            "identity",
        ));
        tally.remedy(Remediation::advice(format!(
            "recreate or replace identity '{}', attach it, and grant it '{RECOMMENDED_ROLE}'",
            r.identity_label()
        )));
        return;
    }
    let vault = match snapshot.vault(&parsed.vault) {
        Some(Read::Ok(v)) => v,
        Some(Read::NotFound(_)) => {
            tally.item(
                Status::Unlikely,
                format!(
                    "vault '{}' of secret {secret} was not found (see keyvault_secret_state)",
                    parsed.vault
                ),
                &r.secret,
            );
            return;
        }
        Some(Read::Unavailable(gap)) => {
            tally.item(Status::Inconclusive, format!("cannot tell whether identity '{}' may read {secret}: vault '{}' could not be read", r.identity_label(), parsed.vault), &r.secret);
            tally.gap(gap, "vault");
            return;
        }
        Some(Read::NotRead(_)) | None => return,
    };
    let reading = Reading {
        snapshot,
        workload,
        r,
        vault,
        principal: &principal,
        result: access::evaluate(snapshot, vault, &parsed.secret, &principal),
    };
    reading.decide(last, tally);
}

/// The concern of a refusal whose message names no secret.
const UNNAMED: &str = "(secret not named)";

/// A write or revision Azure refused because the platform could not read a Key Vault
/// reference (`Unable to get value using Managed identity <id> for secret <s>`), or could not
/// find the identity. The message never says why, so the access reasoning runs again on that
/// secret and identity as they are now: the refusal is `confirmed` while the identity still
/// cannot read the vault, and becomes `possible` once a grant exists (retry the deploy) or when
/// the grant predates the refusal (the cause is elsewhere: the secret's name or the network).
fn refused_fetch(snapshot: &Snapshot, workload: &Workload, refused: &Refused, tally: &mut Tally) {
    let target = &snapshot.target;
    let what = refused.what();
    let (secret, identity) = match &refused.refusal {
        Refusal::KeyVaultUnreadable { secret, identity } => {
            (secret.clone(), Some(identity.clone()))
        }
        Refusal::IdentityNotFound { secret, identity } => (
            secret.clone().unwrap_or_else(|| UNNAMED.into()),
            identity.clone(),
        ),
        Refusal::KeyVaultUrlInvalid => (UNNAMED.into(), None),
        _ => return,
    };
    tally.evidence(refused.evidence(snapshot));
    if tally.has(&secret) {
        // The current reference already shows this cause; the refusal is its evidence.
        return;
    }
    let quoted_secret = quoted(&secret);
    if let Some(later) = &refused.superseded {
        if !tally.has(&secret) {
            tally.item(
                Status::Unlikely,
                format!("{what}: the platform could not read {quoted_secret}; {later}"),
                &secret,
            );
        }
        return;
    }
    if matches!(refused.refusal, Refusal::KeyVaultUrlInvalid) {
        tally.item(Status::Likely, format!("{what} with ContainerAppSecretKeyVaultUrlInvalid: a keyVaultUrl is malformed, or a new system identity had no role yet"), &secret);
        tally.remedy(Remediation::advice("use https://<vault>.vault.azure.net/secrets/<name>[/<version>]; with a system identity, deploy without the reference first, grant the role, then add it — or use a user-assigned identity granted 'Key Vault Secrets User' before the deploy"));
        return;
    }
    // The identity as the app has it now.
    let identity = identity.unwrap_or_default();
    let is_system = identity.eq_ignore_ascii_case("system")
        || identity.is_empty() && workload.identity.system().is_some();
    let principal = if is_system {
        workload.identity.system().map(str::to_ascii_lowercase)
    } else {
        workload
            .identity
            .user(&identity)
            .and_then(|u| u.principal_id.clone())
            .map(|p| p.to_ascii_lowercase())
    };
    let label = if is_system {
        "system".to_string()
    } else {
        ids::last_segment(&identity)
    };
    let Some(principal) = principal else {
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
            &secret,
        );
        tally.remedy(if is_system {
            Remediation::run(
                "enable the system-assigned identity, grant it access, then retry the deploy",
                commands::identity_assign_system(target),
            )
        } else {
            Remediation::run(
                "attach the identity, then retry the deploy",
                commands::identity_assign_user(target, &identity),
            )
        });
        return;
    };
    // Which vault: the app's own reference to this secret, else every vault it references.
    let own = snapshot
        .kv_refs
        .iter()
        .find(|r| r.secret.eq_ignore_ascii_case(&secret))
        .and_then(|r| r.parsed.as_ref().ok());
    let candidates: Vec<(&Vault, String)> = match own {
        Some(p) => snapshot
            .vault(&p.vault)
            .and_then(Read::ok)
            .map(|v| vec![(v, p.secret.clone())])
            .unwrap_or_default(),
        None => snapshot
            .vaults
            .values()
            .filter_map(Read::ok)
            .map(|v| (v, secret.clone()))
            .collect(),
    };
    let who = format!("identity '{label}' ({principal})");
    if candidates.is_empty() {
        tally.item(Status::Likely, format!("{what}: the platform could not read {quoted_secret} with {who}; kvdiag could not find which vault holds it (the app references no vault it could read)"), &secret);
        tally.remedy(Remediation::advice(format!("grant {who} '{RECOMMENDED_ROLE}' on the vault that holds {quoted_secret}, then retry the deploy")));
        return;
    }
    let guess = if own.is_none() {
        if candidates.len() == 1 {
            format!(
                " (presumably in vault '{}', the only vault the app references)",
                candidates[0].0.name
            )
        } else {
            " (the app references several vaults; each was checked)".to_string()
        }
    } else {
        String::new()
    };
    let results: Vec<(&Vault, Access)> = candidates
        .iter()
        .map(|(v, s)| (*v, access::evaluate(snapshot, v, s, &principal)))
        .collect();
    let granted: Vec<(&Vault, &crate::access::Grant)> = results
        .iter()
        .filter_map(|(v, a)| match &a.outcome {
            Outcome::Granted { grant, .. } => Some((*v, grant)),
            _ => None,
        })
        .collect();
    let refused_at = refused.at;
    let (status, now) = if let Some((v, grant)) = granted
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
    };
    tally.item(
        status,
        format!("{what}: {who} could not read {quoted_secret}{guess}; {now}"),
        &secret,
    );
    for (v, a) in &results {
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
                .reproduce(commands::role_assignment_list(&principal, &v.id)),
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
                .reproduce(commands::role_assignment_list(&principal, &v.id)),
            );
        }
        // The secret's own scope was not planned for a secret the app does not reference
        // (the rejected write never landed): only reads that failed are gaps here.
        for gap in a.gaps.iter().filter(|g| g.status.is_some()) {
            tally.gap(gap, "role_assignments");
        }
    }
    if status == Status::Confirmed || status == Status::Likely {
        for (v, a) in &results {
            tally.remedy(grant(v, &principal, &label, a.rbac));
        }
        tally.remedy(Remediation::advice("then retry the deploy: Azure rejected it, so the app still runs its previous configuration"));
    }
}

/// One Key Vault reference whose identity and vault are known, with the access evaluation:
/// everything the verdict for that reference is made from.
struct Reading<'a> {
    snapshot: &'a Snapshot,
    workload: &'a Workload,
    r: &'a KvReference,
    vault: &'a Vault,
    principal: &'a str,
    result: Access,
}

impl Reading<'_> {
    fn decide(&self, last: Option<&crate::snapshot::SystemLogEntry>, tally: &mut Tally) {
        let Reading {
            snapshot,
            r,
            vault,
            principal,
            result,
            ..
        } = self;
        let target = &snapshot.target;
        let secret = quoted(&r.secret);
        let who = format!("identity '{}' ({principal})", r.identity_label());
        self.record_grants(&who, &secret, tally);
        self.record_role_changes(&who, tally);

        let log_says_denied = last.and_then(|e| match &e.event {
            LogEvent::SyncFailed(f)
                if matches!(
                    f.cause,
                    FailureCause::Rbac
                        | FailureCause::AccessPolicy
                        | FailureCause::OnBehalfOfPolicy
                ) =>
            {
                Some((e, f.cause.describe()))
            }
            _ => None,
        });
        if let Some(entry) = last {
            match &log_says_denied {
                Some((e, cause)) => tally.evidence(log_evidence(
                    e,
                    &format!("the latest sync of {secret} failed: {cause}"),
                    true,
                    snapshot,
                )),
                None if matches!(entry.event, LogEvent::SyncSucceeded) => tally.evidence(
                    log_evidence(entry, "the latest sync succeeded", false, snapshot),
                ),
                None => {}
            }
        }

        // A failure kvdiag cannot attribute (an unknown body, a 401) must still keep the
        // reference from being ruled out.
        if let Some((entry, cause)) = last.and_then(|e| match &e.event {
            LogEvent::SyncFailed(f)
                if matches!(f.cause, FailureCause::Unknown | FailureCause::Unauthorized) =>
            {
                Some((e, f.cause.describe()))
            }
            _ => None,
        }) {
            tally.evidence(log_evidence(
                entry,
                &format!("the latest sync of {secret} failed with {cause}"),
                true,
                snapshot,
            ));
            tally.item(Status::Possible, format!("the latest sync of {secret} failed with {cause}; kvdiag cannot tell which cause"), &r.secret);
        }
        let now = snapshot.now;
        let vault_label = format!("vault '{}'", vault.name);
        match &result.outcome {
        Outcome::Granted { grant, deny_unread } => {
            let recent = grant.created_on.filter(|c| t::elapsed(now, *c) < PROPAGATION);
            let failed_after = log_says_denied.as_ref().is_some_and(|(e, _)| grant.created_on.is_none_or(|c| t::elapsed(e.time, c) > PROPAGATION));
            if let Some(created) = recent {
                tally.item(Status::Possible, format!("{who} was granted '{}' on {secret} {}; it may not have propagated, and the platform retries only on its 30-minute sync", grant.role, t::ago(now, created)), &r.secret);
                tally.remedy(Remediation::run(format!("after a few minutes, set {secret} again to force an immediate sync"), commands::secret_set_keyvault(target, &r.secret, &r.url, r.identity.as_deref().unwrap_or("system"))));
            } else if failed_after {
                tally.item(Status::Possible, format!("{who} holds '{}' but the latest sync of {secret} was still refused", grant.role), &r.secret);
                tally.remedy(Remediation::run(format!("set {secret} again to force a fresh sync with the current grant"), commands::secret_set_keyvault(target, &r.secret, &r.url, r.identity.as_deref().unwrap_or("system"))));
            } else if *deny_unread {
                tally.item(Status::Unlikely, format!("{who} holds '{}' for {secret}; deny assignments could not be read", grant.role), &r.secret);
            } else {
                tally.item(Status::RuledOut, format!("{who} may read {secret} ('{}' at {})", grant.role, scope_label(&grant.scope, &vault.id)), &r.secret);
            }
        }
        Outcome::Conditional { grant } => {
            // The platform being refused after the grant existed says the condition excludes it.
            let refused = log_says_denied.as_ref().is_some_and(|(e, _)| grant.created_on.is_none_or(|c| t::elapsed(e.time, c) > PROPAGATION));
            let (status, verb) = if refused { (Status::Likely, "which most likely excludes") } else { (Status::Possible, "which may exclude") };
            tally.item(status, format!("{who} holds '{}' only under an ABAC condition, {verb} {secret}", grant.role), &r.secret);
            tally.remedy(Remediation::advice(format!("check the condition on the '{}' assignment at {}; it must allow secret '{}'", grant.role, grant.scope, r.secret)));
        }
        Outcome::Denied { deny, scope } => {
            tally.item(Status::Confirmed, format!("deny assignment '{deny}' blocks {who} from reading {secret}"), &r.secret);
            tally.evidence(Evidence::supports(format!("deny assignment '{deny}' at {scope} denies getSecret to this principal; a deny overrides every role"), "deny_assignments"));
            tally.remedy(Remediation::advice(format!("deny assignment '{deny}' comes from a deployment stack, managed application or blueprint: exclude this identity there (excludePrincipals) or move the vault out of its scope")));
        }
        Outcome::NotGranted { complete } => {
            let status = if *complete || log_says_denied.is_some() { Status::Confirmed } else { Status::Likely };
            let why = if result.rbac { "no role assignment grants getSecret" } else { "no access policy grants secret get" };
            let secret_id = format!("{}/secrets/{}", vault.id, r.parsed.as_ref().map(|p| p.secret.as_str()).unwrap_or_default());
            let deleted = snapshot.role_changes(principal, &secret_id).into_iter().find(|e| e.role_change.as_ref().is_some_and(|c| c.deleted)).map(|e| {
                let role = e.role_change.as_ref().and_then(|c| c.role_guid.as_deref()).map(|g| snapshot.role_name(g)).unwrap_or_else(|| "a role".into());
                format!(" — its {role} assignment was deleted at {}{}", t::display(e.time), e.by_caller())
            }).unwrap_or_default();
            tally.item(status, format!("{who} cannot read {secret} in {vault_label}: {why}{deleted}"), &r.secret);
            self.remedy_grant(tally);
        }
        Outcome::Unknown => match (&log_says_denied, last) {
            (Some(_), _) => {
                tally.item(Status::Confirmed, format!("{who} is refused reading {secret} (system log); role assignments could not be read"), &r.secret);
                self.remedy_grant(tally);
            }
            (None, Some(entry)) if matches!(entry.event, LogEvent::SyncSucceeded) => {
                tally.item(Status::Unlikely, format!("the latest sync succeeded ({}); role assignments for {who} could not be read", t::ago(now, entry.time)), &r.secret);
            }
            _ => tally.item(Status::Inconclusive, format!("cannot tell whether {who} may read {secret}: its role assignments could not be read"), &r.secret),
        },
    }
        self.hint_other_identities(tally);
    }

    /// Records what the vault's permission model and the principal's assignments (or access
    /// policies) show, and the reads that were missing.
    fn record_grants(&self, who: &str, secret: &str, tally: &mut Tally) {
        let (vault, principal, result) = (self.vault, self.principal, &self.result);
        let model = if result.rbac {
            "Azure RBAC"
        } else {
            "access policies"
        };
        tally.evidence(
            Evidence::supports(
                format!(
                    "vault '{}' authorizes the data plane with {model}",
                    vault.name
                ),
                "vault",
            )
            .reproduce(commands::keyvault_show(
                &vault.name,
                "properties.enableRbacAuthorization",
            )),
        );
        let list_cmd = if result.rbac {
            commands::role_assignment_list(principal, &vault.id)
        } else {
            commands::keyvault_show(&vault.name, "properties.accessPolicies")
        };
        for held in &result.held {
            let scope = scope_label(&held.scope, &vault.id);
            let (effect, meaning) = match held.grants {
            Some(true) if held.conditional => (true, "grants getSecret only where its ABAC condition holds".to_string()),
            Some(true) => (false, "grants getSecret".to_string()),
            Some(false) if held.broad_control_plane => (true, "is a management-plane role: it grants no data actions, so it cannot read secret values".to_string()),
            Some(false) if held.excludes => (true, "matches getSecret in dataActions but its notDataActions removes it".to_string()),
            Some(false) => (true, "does not include getSecret".to_string()),
            None => (true, "has a definition kvdiag could not read".to_string()),
        };
            let text = format!("{who} holds '{}' at {scope}: {meaning}", held.role);
            tally.evidence(
                if effect {
                    Evidence::supports(text, "role_assignments")
                } else {
                    Evidence::weakens(text, "role_assignments")
                }
                .reproduce(list_cmd.clone()),
            );
        }
        if result.held.is_empty() && matches!(result.outcome, Outcome::NotGranted { .. }) {
            let text = if result.rbac {
                format!(
                    "no role assignment of {who} applies to {secret} (listed at the vault and the secret scope, inherited and group assignments included)"
                )
            } else {
                format!("vault '{}' has no access policy for {who}", vault.name)
            };
            tally.evidence(
                Evidence::supports(
                    text,
                    if result.rbac {
                        "role_assignments"
                    } else {
                        "vault"
                    },
                )
                .reproduce(list_cmd.clone()),
            );
        }
        for ignored in &result.ignored_policies {
            tally.evidence(Evidence::supports(ignored.clone(), "vault"));
        }
        for gap in &result.gaps {
            tally.gap(gap, "role_assignments");
        }
    }

    /// Role assignments of this principal created or deleted (activity log) at a scope that
    /// covers the secret: a deletion is often the whole story ("it worked yesterday").
    fn record_role_changes(&self, who: &str, tally: &mut Tally) {
        let Ok(parsed) = &self.r.parsed else { return };
        let secret_id = format!("{}/secrets/{}", self.vault.id, parsed.secret);
        let group = crate::snapshot::resource_group_of(&self.vault.id).unwrap_or_default();
        for e in self.snapshot.role_changes(self.principal, &secret_id) {
            let Some(change) = &e.role_change else {
                continue;
            };
            let role = change
                .role_guid
                .as_deref()
                .map(|g| self.snapshot.role_name(g))
                .unwrap_or_else(|| "a role".into());
            let text = format!(
                "activity log {}: {role} of {who} at {} was {}{}",
                t::display(e.time),
                scope_label(&change.scope, &self.vault.id),
                if change.deleted { "deleted" } else { "created" },
                e.by_caller()
            );
            let evidence = if change.deleted {
                Evidence::supports(text, "role_assignment")
            } else {
                Evidence::weakens(text, "role_assignment")
            };
            tally.evidence(
                evidence
                    .at(e.time)
                    .reproduce(commands::activity_role_changes(&ids::last_segment(&group))),
            );
        }
    }

    fn remedy_grant(&self, tally: &mut Tally) {
        let Reading {
            snapshot,
            r,
            vault,
            principal,
            result,
            ..
        } = self;
        tally.remedy(grant(vault, principal, &r.identity_label(), result.rbac));
        tally.remedy(Remediation::run(
            format!(
                "then set '{}' again: the platform syncs at once instead of within 30 minutes",
                r.secret
            ),
            commands::secret_set_keyvault(
                &snapshot.target,
                &r.secret,
                &r.url,
                r.identity.as_deref().unwrap_or("system"),
            ),
        ));
    }

    /// When the secret's identity cannot read it but another identity of the app can, say so: the
    /// role was probably granted to the wrong identity.
    fn hint_other_identities(&self, tally: &mut Tally) {
        let Reading {
            snapshot,
            workload,
            r,
            vault,
            principal,
            result,
            ..
        } = self;
        if !matches!(
            result.outcome,
            Outcome::NotGranted { .. } | Outcome::Unknown
        ) {
            return;
        }
        let Ok(parsed) = &r.parsed else { return };
        for (other, label) in workload.identity.principals() {
            if other == *principal {
                continue;
            }
            if let Outcome::Granted { grant, .. } =
                access::evaluate(snapshot, vault, &parsed.secret, &other).outcome
            {
                tally.evidence(Evidence::supports(format!("the app's other identity '{label}' ({other}) does hold '{}' on {} — the role may have been granted to the wrong identity", grant.role, scope_label(&grant.scope, &vault.id)), "role_assignments").reproduce(commands::role_assignment_list(&other, &vault.id)));
                let identity_ref = if label == "system" {
                    "system".to_string()
                } else {
                    workload
                        .identity
                        .user_assigned
                        .iter()
                        .find(|u| {
                            u.principal_id
                                .as_deref()
                                .is_some_and(|p| p.eq_ignore_ascii_case(&other))
                        })
                        .map(|u| u.id.clone())
                        .unwrap_or(label.clone())
                };
                tally.remedy(Remediation::run(
                    format!(
                        "or let '{}' use identity '{label}', which already has access",
                        r.secret
                    ),
                    commands::secret_set_keyvault(
                        &snapshot.target,
                        &r.secret,
                        &r.url,
                        &identity_ref,
                    ),
                ));
            }
        }
    }
}

/// The grant that lets `principal` read secrets in `vault`: the least-privilege role under
/// RBAC, else secret `get` added to the permissions its access policy already has (set-policy
/// replaces the list, so the existing ones are repeated).
fn grant(vault: &Vault, principal: &str, label: &str, rbac: bool) -> Remediation {
    if rbac {
        return Remediation::run(
            format!(
                "grant identity '{label}' '{RECOMMENDED_ROLE}' on vault '{}'",
                vault.name
            ),
            commands::role_assignment_create(principal, RECOMMENDED_ROLE, &vault.id),
        );
    }
    let existing: Vec<String> = vault
        .access_policies
        .iter()
        .filter(|p| p.object_id.eq_ignore_ascii_case(principal) && p.application_id.is_none())
        .flat_map(|p| p.secret_permissions.clone())
        .collect();
    Remediation::run(
        format!(
            "add secret get to identity '{label}' in vault '{}' access policies",
            vault.name
        ),
        commands::keyvault_set_policy(&vault.name, principal, &existing),
    )
}

/// `the vault`, `the secret`, `resource group 'rg'`, `subscription 's'`, or the raw scope.
pub fn scope_label(scope: &str, vault_id: &str) -> String {
    let s = ids::normalize(scope);
    let v = ids::normalize(vault_id);
    if s == v {
        return "vault scope".into();
    }
    if s.starts_with(&format!("{v}/secrets/")) {
        return format!("secret scope ('{}')", ids::last_segment(&s));
    }
    if ids::is_above_resources(&s) {
        return format!("management-group or root scope ({scope}, inherited)");
    }
    match s
        .trim_start_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["subscriptions", sub] => format!("subscription '{sub}' (inherited)"),
        ["subscriptions", _, "resourcegroups", _] => format!(
            "resource group '{}' (inherited)",
            ids::segment_after(scope, "resourceGroups").unwrap_or_default()
        ),
        _ => scope.to_string(),
    }
}
