//! Can this principal read this Key Vault secret? The evaluation behind `keyvault_access`.
//!
//! Azure's rule (docs/azure.md#key-vault-permission-models, #evaluating-role-assignments):
//! * A vault with `enableRbacAuthorization: true` evaluates Azure RBAC only. The principal needs
//!   the data action `Microsoft.KeyVault/vaults/secrets/getSecret/action` from a role assigned
//!   at the secret, the vault or any parent scope (management groups included); the listing
//!   filter `assignedTo()` expands group membership server-side. ABAC conditions may narrow a
//!   grant; a deny assignment overrides any grant.
//! * Otherwise only access policies count: an entry for the principal's object id, without an
//!   `applicationId` (a compound identity matches on-behalf-of tokens only), with secret `get`.
//!
//! The result says whether the evidence read was complete, because "no grant found" is only a
//! confirmed cause when every listing, definition and deny assignment was read.

use crate::azure::ids;
use crate::azure::roles::GET_SECRET;
use crate::snapshot::{EVERYONE, Gap, Read, RoleAssignment, Snapshot, Vault};
use time::OffsetDateTime;

/// What the evidence says about one principal reading one secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Granted. `deny_unread`: the deny-assignment listing could not be read, so a deny may
    /// still override.
    Granted { grant: Grant, deny_unread: bool },
    /// Only ABAC-conditioned assignments grant: the condition may exclude this secret.
    Conditional { grant: Grant },
    /// A grant exists but a deny assignment overrides it.
    Denied { deny: String, scope: String },
    /// Nothing grants. `complete`: every read that could show a grant was read.
    NotGranted { complete: bool },
    /// The reads that decide it failed.
    Unknown,
}

/// The assignment (or access policy) that grants access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: String,
    pub scope: String,
    pub created_on: Option<OffsetDateTime>,
}

/// An assignment the principal holds that applies to the secret, with its meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRole {
    pub role: String,
    pub scope: String,
    /// `Some(true)` grants getSecret, `Some(false)` does not, `None` unknown definition.
    pub grants: Option<bool>,
    /// A management-plane role people mistake for data access (Owner, Contributor).
    pub broad_control_plane: bool,
    /// `notDataActions` takes getSecret away.
    pub excludes: bool,
    pub conditional: bool,
}

/// The full answer for one (secret, principal).
#[derive(Debug, Clone)]
pub struct Access {
    pub outcome: Outcome,
    /// `true` for RBAC, `false` for access policies.
    pub rbac: bool,
    pub held: Vec<HeldRole>,
    /// Reads that failed or are missing and would have mattered.
    pub gaps: Vec<Gap>,
    /// Access-policy entries for the principal that do not count (compound identities).
    pub ignored_policies: Vec<String>,
}

/// Evaluates `principal` reading `secret` (name) in `vault`.
pub fn evaluate(snapshot: &Snapshot, vault: &Vault, secret: &str, principal: &str) -> Access {
    if vault.uses_rbac() {
        rbac(snapshot, vault, secret, principal)
    } else {
        policies(vault, principal)
    }
}

fn rbac(snapshot: &Snapshot, vault: &Vault, secret: &str, principal: &str) -> Access {
    let secret_id = format!("{}/secrets/{}", vault.id, secret);
    let listings: Vec<_> = snapshot.listings_for(principal, &secret_id).collect();
    let mut gaps: Vec<Gap> = listings
        .iter()
        .filter_map(|l| l.assignments.gap().cloned())
        .collect();
    let secret_scope_read = listings
        .iter()
        .any(|l| ids::same(&l.scope, &secret_id) && l.assignments.ok().is_some());
    let any_read = listings.iter().any(|l| l.assignments.ok().is_some());

    let mut seen = std::collections::BTreeSet::new();
    let assignments: Vec<&RoleAssignment> = listings
        .iter()
        .filter_map(|l| l.assignments.ok())
        .flatten()
        .filter(|a| seen.insert(a.id.to_ascii_lowercase()))
        .filter(|a| ids::is_above_resources(&a.scope) || ids::covers(&a.scope, &secret_id))
        .collect();

    let mut held = Vec::new();
    let mut unknown_definition = false;
    for a in &assignments {
        let definition = snapshot.role(&a.role_guid);
        if definition.is_none() {
            unknown_definition = true;
            if let Some(Read::Unavailable(gap)) = snapshot.role_definitions.get(&a.role_guid) {
                gaps.push(gap.clone());
            }
        }
        held.push(HeldRole {
            role: definition
                .map(|d| d.name.clone())
                .unwrap_or_else(|| format!("role {}", a.role_guid)),
            scope: a.scope.clone(),
            grants: definition.map(|d| d.grants(GET_SECRET)),
            broad_control_plane: definition.is_some_and(|d| d.is_broad_control_plane()),
            excludes: definition.is_some_and(|d| d.excludes(GET_SECRET)),
            conditional: a.condition.is_some(),
        });
    }
    let grant_of = |h: &HeldRole| {
        let created_on = assignments
            .iter()
            .find(|a| {
                a.scope == h.scope
                    && snapshot
                        .role(&a.role_guid)
                        .is_some_and(|d| d.name == h.role)
            })
            .and_then(|a| a.created_on);
        Grant {
            role: h.role.clone(),
            scope: h.scope.clone(),
            created_on,
        }
    };
    // The oldest grant decides (an assignment of unknown age counts as old): a role created
    // minutes ago may not have propagated, an older one has.
    let unconditional = held
        .iter()
        .filter(|h| h.grants == Some(true) && !h.conditional)
        .min_by_key(|h| {
            grant_of(h)
                .created_on
                .map_or(i64::MIN, |t| t.unix_timestamp())
        });
    let conditional = held
        .iter()
        .find(|h| h.grants == Some(true) && h.conditional);

    let outcome = if let Some(h) = unconditional {
        let (deny, deny_unread, deny_gaps) = deny_for(snapshot, &secret_id, principal);
        gaps.extend(deny_gaps);
        match deny {
            Some((name, scope)) => Outcome::Denied { deny: name, scope },
            None => Outcome::Granted {
                grant: grant_of(h),
                deny_unread,
            },
        }
    } else if let Some(h) = conditional {
        Outcome::Conditional { grant: grant_of(h) }
    } else if !any_read {
        Outcome::Unknown
    } else {
        if !secret_scope_read {
            let listing = crate::plan::Request::role_assignments(&secret_id, principal);
            let request = listing.describe();
            // A failed listing's gap names it too (with the method, maybe another host form).
            let target = request.split_once(' ').map_or(request.as_str(), |(_, r)| r);
            if !gaps.iter().any(|g| g.request.ends_with(target)) {
                gaps.push(Gap {
                    request,
                    status: None,
                    why: "assignments made at the secret's own scope were not read".into(),
                    needs: listing.spec().needs.into(),
                });
            }
        }
        Outcome::NotGranted {
            complete: secret_scope_read && !unknown_definition,
        }
    };
    Access {
        outcome,
        rbac: true,
        held,
        gaps,
        ignored_policies: Vec::new(),
    }
}

/// A deny assignment that blocks `principal` from getSecret on `resource`, whether the deny
/// listing was unread, and the gaps of unread listings.
fn deny_for(
    snapshot: &Snapshot,
    resource: &str,
    principal: &str,
) -> (Option<(String, String)>, bool, Vec<Gap>) {
    let listings: Vec<_> = snapshot
        .deny_listings
        .iter()
        .filter(|l| ids::covers(&l.scope, resource))
        .collect();
    let gaps: Vec<Gap> = listings
        .iter()
        .filter_map(|l| l.assignments.gap().cloned())
        .collect();
    let unread = listings.is_empty() || listings.iter().any(|l| l.assignments.ok().is_none());
    let principal = principal.to_ascii_lowercase();
    let blocking = listings
        .iter()
        .filter_map(|l| l.assignments.ok())
        .flatten()
        .find(|d| {
            let in_scope = (ids::is_above_resources(&d.scope) || ids::covers(&d.scope, resource))
                && (!d.do_not_apply_to_child_scopes || ids::same(&d.scope, resource));
            let applies_to = (d
                .principals
                .iter()
                .any(|p| p == EVERYONE || *p == principal))
                && !d.exclude_principals.contains(&principal);
            let denies = d.permissions.iter().any(|p| {
                p.data_actions
                    .iter()
                    .any(|a| crate::azure::roles::matches(a, GET_SECRET))
                    && !p
                        .not_data_actions
                        .iter()
                        .any(|a| crate::azure::roles::matches(a, GET_SECRET))
            });
            in_scope && applies_to && denies
        });
    (
        blocking.map(|d| (d.name.clone(), d.scope.clone())),
        unread,
        gaps,
    )
}

fn policies(vault: &Vault, principal: &str) -> Access {
    let mine: Vec<_> = vault
        .access_policies
        .iter()
        .filter(|p| p.object_id.eq_ignore_ascii_case(principal))
        .collect();
    let allows = |perms: &[String]| {
        perms
            .iter()
            .any(|p| p.eq_ignore_ascii_case("get") || p.eq_ignore_ascii_case("all"))
    };
    let tenant_ok = |t: &Option<String>| match (t, &vault.tenant_id) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    };
    let granting = mine.iter().find(|p| {
        p.application_id.is_none() && tenant_ok(&p.tenant_id) && allows(&p.secret_permissions)
    });
    let ignored_policies = mine
        .iter()
        .filter(|p| p.application_id.is_some())
        .map(|p| format!("an access policy for object {} is bound to application {} (a compound identity: it only matches on-behalf-of tokens)", p.object_id, p.application_id.as_deref().unwrap_or_default()))
        .collect();
    let held = mine
        .iter()
        .map(|p| HeldRole {
            role: format!(
                "access policy (secrets: {})",
                if p.secret_permissions.is_empty() {
                    "none".to_string()
                } else {
                    p.secret_permissions.join(", ")
                }
            ),
            scope: vault.id.clone(),
            grants: Some(p.application_id.is_none() && allows(&p.secret_permissions)),
            broad_control_plane: false,
            excludes: false,
            conditional: false,
        })
        .collect();
    let outcome = match granting {
        Some(p) => Outcome::Granted {
            grant: Grant {
                role: format!(
                    "access policy (secrets: {})",
                    p.secret_permissions.join(", ")
                ),
                scope: vault.id.clone(),
                created_on: None,
            },
            deny_unread: false,
        },
        // The vault GET carries every access policy: absence is complete evidence.
        None => Outcome::NotGranted { complete: true },
    };
    Access {
        outcome,
        rbac: false,
        held,
        gaps: Vec::new(),
        ignored_policies,
    }
}
