//! Dapr components as Key Vault consumers (docs/azure.md#dapr-components).
//!
//! A `secretstores.azure.keyvault` component runs in each scoped app's sidecar and signs in
//! with the app's identity that `azureClientId` chooses (the system identity without it). A
//! client id that matches no identity attached to the app fails the component ("No User
//! Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId",
//! dapr/components-contrib#3464, docs/azure-errors.md D2): `confirmed`, from the app's
//! identities alone. Otherwise the chosen principal is judged like any reference, at the
//! vault's scope (a store reads any secret of the vault).
//!
//! A component's own `secrets[].keyVaultUrl` is judged with the identity it names on the
//! app; who really fetches it is not documented, so it is `likely` at most, and the evidence
//! says so.
//!
//! **Evidence read.** The component's `provisioningState`/`deploymentErrors`, and the app's
//! system-log lines that name the component (`INIT_COMPONENT_FAILURE`, `shutting down
//! component`); no log query is made per component, and sidecar console logs are not read.

use super::super::{Tally, commands, log_evidence};
use crate::logs::dapr_component_failed;
use crate::snapshot::{KvReference, Snapshot, Workload};
use crate::verdict::{Evidence, Remediation, Status};

/// The component a Dapr reference belongs to.
pub(super) fn component_of(r: &KvReference) -> Option<&str> {
    use crate::snapshot::Consumer;
    match &r.consumer {
        Consumer::DaprSecret { component } | Consumer::DaprSecretStore { component } => {
            Some(component)
        }
        _ => None,
    }
}

/// The store's `azureClientId` matches no identity attached to the app.
pub(super) fn client_id_unmatched(
    snapshot: &Snapshot,
    workload: &Workload,
    r: &KvReference,
    client: &str,
    tally: &mut Tally,
) {
    let target = &snapshot.target;
    let component = component_of(r).unwrap_or_default();
    let app = &workload.name;
    tally.item(
        Status::Confirmed,
        format!(
            "Dapr component '{component}' (Key Vault secret store) signs in with azureClientId '{client}', which matches no identity attached to app '{app}'"
        ),
        &r.concern(),
    );
    let attached: Vec<String> = workload
        .identity
        .user_assigned
        .iter()
        .map(|u| {
            format!(
                "{} (client id {})",
                crate::azure::ids::last_segment(&u.id),
                u.client_id.as_deref().unwrap_or("unknown")
            )
        })
        .collect();
    tally.evidence(
        Evidence::supports(
            format!(
                "Dapr component '{component}' metadata azureClientId is '{client}'; user-assigned identities attached to app '{app}': {}. The sidecar then fails with \"No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId\" (dapr/components-contrib#3464)",
                if attached.is_empty() {
                    "none".to_string()
                } else {
                    attached.join(", ")
                }
            ),
            "dapr_components",
        )
        .reproduce(commands::show_app(target, "identity.userAssignedIdentities")),
    );
    tally.remedy(Remediation::advice(format!(
        "set azureClientId of Dapr component '{component}' to the client id of an identity attached to app '{app}' (az identity show --ids <identity id> --query clientId), or attach the identity with that client id"
    )));
}

/// What the component's own state and the app's logs say about it.
pub(super) fn component_evidence(
    snapshot: &Snapshot,
    workload: &Workload,
    r: &KvReference,
    tally: &mut Tally,
) {
    let Some(name) = component_of(r) else {
        return;
    };
    if let Some(c) = snapshot
        .dapr_components_of(workload)
        .into_iter()
        .find(|c| c.name == name)
        && c.failed()
    {
        tally.evidence(Evidence::supports(
            format!(
                "Dapr component '{name}' provisioningState is Failed{}",
                c.deployment_errors
                    .as_deref()
                    .map(|e| format!(": {}", crate::logs::one_line(e, 300)))
                    .unwrap_or_default()
            ),
            "dapr_components",
        ));
    }
    for entry in snapshot
        .logs()
        .iter()
        .filter(|e| dapr_component_failed(&e.log, name))
        .take(2)
    {
        tally.evidence(log_evidence(
            entry,
            &format!("the Dapr sidecar failed Dapr component '{name}'"),
            true,
            snapshot,
        ));
    }
}

/// Why a component secret's verdict stops at `likely`.
pub(super) fn assumption(r: &KvReference) -> Evidence {
    Evidence::supports(
        format!(
            "{} is judged with identity '{}' of the app: which identity fetches a Dapr component's own keyVaultUrl is not documented, so this is likely at most",
            r.subject(),
            r.identity_label()
        ),
        "dapr_components",
    )
}
