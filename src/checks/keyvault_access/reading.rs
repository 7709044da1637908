//! One Key Vault reference whose identity and vault are known, read against the access
//! evaluation: the status of that reference, the evidence behind it (the vault's permission
//! model, what the principal holds, role changes in the activity log, the latest sync in the
//! system log) and the missing reads. The remedies are in [`super::remedy`].

use super::evaluate::{Access, Grant, Outcome};
use super::remedy::scope_label;
use super::{PROPAGATION, Tally, commands, log_evidence};
use crate::azure::{ids, time as t};
use crate::logs::{FailureCause, LogEvent};
use crate::snapshot::{KvReference, Snapshot, SystemLogEntry, Vault, Workload};
use crate::verdict::{Evidence, Remediation, Status};

/// One Key Vault reference whose identity and vault are known, with the access evaluation:
/// everything the verdict for that reference is made from.
pub(super) struct Reading<'a> {
    pub(super) snapshot: &'a Snapshot,
    pub(super) workload: &'a Workload,
    pub(super) r: &'a KvReference,
    pub(super) vault: &'a Vault,
    pub(super) principal: &'a str,
    pub(super) result: Access,
}

impl Reading<'_> {
    /// Records the evidence and the reference's status: what the principal holds, role
    /// changes, the latest sync, then what the access outcome means given that sync.
    pub(super) fn decide(&self, last: Option<&SystemLogEntry>, tally: &mut Tally) {
        let r = self.r;
        let secret = r.subject();
        let who = r.who(self.principal);
        self.record_grants(&who, &secret, tally);
        self.record_role_changes(&who, tally);
        let denied = self.record_sync(last, &secret, tally);
        self.unattributed_failure(last, &secret, tally);
        self.judge(&who, &secret, last, denied, tally);
        self.hint_other_identities(tally);
    }

    /// Records the latest sync as evidence; returns it when the platform logged it as refused
    /// by RBAC or an access policy.
    fn record_sync<'e>(
        &self,
        last: Option<&'e SystemLogEntry>,
        secret: &str,
        tally: &mut Tally,
    ) -> Option<&'e SystemLogEntry> {
        let snapshot = self.snapshot;
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
        log_says_denied.map(|(e, _)| e)
    }

    /// A failure kvdiag cannot attribute (an unknown body, a 401) must still keep the
    /// reference from being ruled out.
    fn unattributed_failure(&self, last: Option<&SystemLogEntry>, secret: &str, tally: &mut Tally) {
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
                self.snapshot,
            ));
            tally.item(Status::Possible, format!("the latest sync of {secret} failed with {cause}; kvdiag cannot tell which cause"), &self.r.concern());
        }
    }

    /// The reference's status from the access outcome, read against the latest sync
    /// (`denied`: the platform logged a refusal).
    fn judge(
        &self,
        who: &str,
        secret: &str,
        last: Option<&SystemLogEntry>,
        denied: Option<&SystemLogEntry>,
        tally: &mut Tally,
    ) {
        let Reading {
            snapshot,
            r,
            result,
            ..
        } = self;
        let now = snapshot.now;
        // The platform was refused after the grant existed and had time to propagate.
        let refused_since = |grant: &Grant| {
            denied.is_some_and(|e| {
                grant
                    .created_on
                    .is_none_or(|c| t::elapsed(e.time, c) > PROPAGATION)
            })
        };
        match &result.outcome {
        Outcome::Granted { grant, deny_unread } => self.granted(who, secret, grant, *deny_unread, refused_since(grant), tally),
        Outcome::Conditional { grant } => {
            // The platform being refused after the grant existed says the condition excludes it.
            let (status, verb) = if refused_since(grant) { (Status::Likely, "which most likely excludes") } else { (Status::Possible, "which may exclude") };
            tally.item(status, format!("{who} holds '{}' only under an ABAC condition, {verb} {secret}", grant.role), &r.concern());
            tally.remedy(Remediation::advice(format!("check the condition on the '{}' assignment at {}; it must allow secret '{}'", grant.role, grant.scope, r.secret)));
        }
        Outcome::Denied { deny, scope } => {
            tally.item(Status::Confirmed, format!("deny assignment '{deny}' blocks {who} from reading {secret}"), &r.concern());
            tally.evidence(Evidence::supports(format!("deny assignment '{deny}' at {scope} denies getSecret to this principal; a deny overrides every role"), "deny_assignments"));
            tally.remedy(Remediation::advice(format!("deny assignment '{deny}' comes from a deployment stack, managed application or blueprint: exclude this identity there (excludePrincipals) or move the vault out of its scope")));
        }
        Outcome::NotGranted { complete } => {
            let status = if *complete || denied.is_some() { Status::Confirmed } else { Status::Likely };
            let why = if result.rbac { "no role assignment grants getSecret" } else { "no access policy grants secret get" };
            let deleted = self.deleted_assignment();
            tally.item(status, format!("{who} cannot read {secret} in vault '{}': {why}{deleted}", self.vault.name), &r.concern());
            self.remedy_grant(tally);
        }
        Outcome::Unknown => match (denied, last) {
            (Some(_), _) => {
                tally.item(Status::Confirmed, format!("{who} is refused reading {secret} (system log); role assignments could not be read"), &r.concern());
                self.remedy_grant(tally);
            }
            (None, Some(entry)) if matches!(entry.event, LogEvent::SyncSucceeded) => {
                tally.item(Status::Unlikely, format!("the latest sync succeeded ({}); role assignments for {who} could not be read", t::ago(now, entry.time)), &r.concern());
            }
            _ => tally.item(Status::Inconclusive, format!("cannot tell whether {who} may read {secret}: its role assignments could not be read"), &r.concern()),
        },
    }
    }

    /// A grant exists: too young to have propagated, refused anyway by the latest sync
    /// (`refused_since`), maybe overridden by an unread deny assignment, or ruled out.
    fn granted(
        &self,
        who: &str,
        secret: &str,
        grant: &Grant,
        deny_unread: bool,
        refused_since: bool,
        tally: &mut Tally,
    ) {
        let Reading {
            snapshot, r, vault, ..
        } = self;
        let now = snapshot.now;
        let recent = grant
            .created_on
            .filter(|c| t::elapsed(now, *c) < PROPAGATION);
        if let Some(created) = recent {
            tally.item(Status::Possible, format!("{who} was granted '{}' on {secret} {}; it may not have propagated, and the platform retries only on its 30-minute sync", grant.role, t::ago(now, created)), &r.concern());
            tally.remedy(self.set_again(format!(
                "after a few minutes, set {secret} again to force an immediate sync"
            )));
        } else if refused_since {
            tally.item(
                Status::Possible,
                format!(
                    "{who} holds '{}' but the latest sync of {secret} was still refused",
                    grant.role
                ),
                &r.concern(),
            );
            tally.remedy(self.set_again(format!(
                "set {secret} again to force a fresh sync with the current grant"
            )));
        } else if deny_unread {
            tally.item(
                Status::Unlikely,
                format!(
                    "{who} holds '{}' for {secret}; deny assignments could not be read",
                    grant.role
                ),
                &r.concern(),
            );
        } else {
            tally.item(
                Status::RuledOut,
                format!(
                    "{who} may read {secret} ('{}' at {})",
                    grant.role,
                    scope_label(&grant.scope, &vault.id)
                ),
                &r.concern(),
            );
        }
    }

    /// ` — its <role> assignment was deleted at <time> by <caller>` when the activity log shows
    /// this principal losing an assignment that covered the secret; empty otherwise.
    fn deleted_assignment(&self) -> String {
        let Reading {
            snapshot,
            r,
            vault,
            principal,
            ..
        } = self;
        let secret_id = format!(
            "{}/secrets/{}",
            vault.id,
            r.parsed
                .as_ref()
                .map(|p| p.secret.as_str())
                .unwrap_or_default()
        );
        snapshot
            .role_changes(principal, &secret_id)
            .into_iter()
            .find(|e| e.role_change.as_ref().is_some_and(|c| c.deleted))
            .map(|e| {
                let role = e
                    .role_change
                    .as_ref()
                    .and_then(|c| c.role_guid.as_deref())
                    .map(|g| snapshot.role_name(g))
                    .unwrap_or_else(|| "a role".into());
                format!(
                    " — its {role} assignment was deleted at {}{}",
                    t::display(e.time),
                    e.by_caller()
                )
            })
            .unwrap_or_default()
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
}
