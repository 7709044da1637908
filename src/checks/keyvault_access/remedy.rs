//! What fixes a reference its identity cannot read: the least-privilege grant (a role under
//! RBAC, secret `get` in an access policy), a fresh sync so the platform does not wait for its
//! 30-minute cycle, and a pointer to another identity of the app that already has access. Also
//! [`scope_label`], the people-readable scope every message about a grant uses.

use super::evaluate::Outcome;
use super::reading::Reading;
use super::{RECOMMENDED_ROLE, Tally, commands, evaluate};
use crate::azure::ids;
use crate::snapshot::{Fetcher, Vault};
use crate::verdict::{Evidence, Remediation};

impl Reading<'_> {
    pub(super) fn remedy_grant(&self, tally: &mut Tally) {
        let Reading {
            r,
            vault,
            principal,
            result,
            ..
        } = self;
        tally.remedy(grant(vault, principal, &r.identity_noun(), result.rbac));
        let (verb, why) = match r.consumer.fetcher() {
            Fetcher::Workload => (
                "set",
                "the platform syncs at once instead of within 30 minutes",
            ),
            Fetcher::Environment => (
                "add",
                "the environment fetches it at once instead of within 12 hours",
            ),
        };
        tally.remedy(self.set_again(format!("then {verb} {} again: {why}", r.subject())));
    }

    /// Setting the reference again, with the same URL and identity, makes the platform fetch it
    /// at once instead of on its own cycle (30 minutes for app secrets, up to 12 hours for
    /// certificates). Advice only for Dapr components, which are read when a replica starts.
    pub(super) fn set_again(&self, description: String) -> Remediation {
        let r = self.r;
        let identity = r.identity.as_deref().unwrap_or("system");
        match commands::write_again(&self.snapshot.target, r, &r.url, identity) {
            Some(command) => Remediation::run(description, command),
            None => Remediation::advice(format!(
                "{description} (restart the app's revision so its Dapr sidecar reads it again)"
            )),
        }
    }

    /// When the secret's identity cannot read it but another identity of the app can, say so: the
    /// role was probably granted to the wrong identity.
    pub(super) fn hint_other_identities(&self, tally: &mut Tally) {
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
        // Another identity of the *app* is no alternative for what the environment fetches.
        if r.consumer.fetcher() != Fetcher::Workload {
            return;
        }
        for (other, label) in workload.identity.principals() {
            if other == *principal {
                continue;
            }
            if let Outcome::Granted { grant, .. } =
                evaluate::evaluate(snapshot, vault, &parsed.secret, &other).outcome
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
                if let Some(command) =
                    commands::write_again(&snapshot.target, r, &r.url, &identity_ref)
                {
                    tally.remedy(Remediation::run(
                        format!(
                            "or let {} use identity '{label}', which already has access",
                            r.subject()
                        ),
                        command,
                    ));
                }
            }
        }
    }
}

/// The grant that lets `principal` read secrets in `vault`: the least-privilege role under
/// RBAC, else secret `get` added to the permissions its access policy already has (set-policy
/// replaces the list, so the existing ones are repeated).
pub(super) fn grant(vault: &Vault, principal: &str, label: &str, rbac: bool) -> Remediation {
    if rbac {
        return Remediation::run(
            format!(
                "grant {label} '{RECOMMENDED_ROLE}' on vault '{}'",
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
            "add secret get to {label} in vault '{}' access policies",
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
