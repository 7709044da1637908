//! Collection for `lint --live`: a resource as a file describes it, before it is deployed —
//! the principals of its identities, and the same per-vault reads as `check`. No revisions,
//! environment logs or activity: they describe what runs now, not what the file will deploy.

use super::{
    CollectError, Collector, Window, dapr_references, environment_id, kind_word, stop_if_pointless,
    vault_secrets,
};
use crate::azure::ids;
use crate::azure::time::display;
use crate::bundle::{BUNDLE_VERSION, Bundle, Response, Target};
use crate::plan::Request;
use crate::snapshot::{KvReference, Workload, WorkloadKind};
use futures::future::join_all;
use serde_json::Value;

/// What `kvdiag lint --live` read for a resource that is about to be deployed.
#[derive(Debug, Clone)]
pub struct PlannedEvidence {
    /// A bundle whose app (or job) response is the file's resource, with the principals the
    /// deploy will use filled in, followed by the real reads of its identities and vaults.
    pub bundle: Bundle,
    /// True when the app or job already exists in Azure.
    pub exists: bool,
}

impl Collector {
    /// Reads the evidence the Key Vault checkers need for a resource as a file describes it
    /// (`kvdiag lint --live`): the existing app or job (only for its identities' principals),
    /// each user-assigned identity the file names, the environment it names, and the same per-vault reads as
    /// [`Collector::collect`] (Resource Graph, vault, secret metadata, role and deny
    /// assignments, custom roles, version lists). No revisions, environment or logs: they
    /// describe what runs now, not what the file will deploy. `resource` must hold no secret
    /// values. A missing app is not an error: it will be created by the deploy.
    pub async fn collect_for_workload(
        &self,
        target: &Target,
        resource: &Value,
        window: &Window,
    ) -> Result<PlannedEvidence, CollectError> {
        let result = self.read_for_workload(target, resource, window).await;
        self.session.progress().finish();
        result
    }

    async fn read_for_workload(
        &self,
        target: &Target,
        resource: &Value,
        window: &Window,
    ) -> Result<PlannedEvidence, CollectError> {
        self.session.progress().step(&format!(
            "reading {} '{}' and its Key Vault references",
            kind_word(target),
            target.name()
        ));
        let (app, _) = tokio::join!(
            self.send(Request::workload(target.resource_id(), target.is_job())),
            self.credentials.token(&self.endpoints.keyvault_scope),
        );
        if app.status != Some(404) {
            stop_if_pointless(target, &app)?;
        }
        let exists = app.ok();
        let kind = if target.is_job() {
            WorkloadKind::Job
        } else {
            WorkloadKind::App
        };
        let mut body = resource.clone();
        if let Some(map) = body.as_object_mut() {
            map.insert("id".into(), Value::String(target.resource_id()));
            map.insert("name".into(), Value::String(target.name().to_string()));
        }
        if exists && let Some(live) = &app.body {
            adopt_principals(&mut body, live);
        }
        let Some(planned) = Workload::parse(kind, &body) else {
            return Err(CollectError::NotFound(
                "the resource has no name to look up".into(),
            ));
        };
        let identities = self.identities(&planned).await;
        for r in identities.iter().filter(|r| r.ok()) {
            let principal = r
                .body
                .as_ref()
                .and_then(|b| b.pointer("/properties/principalId"))
                .cloned();
            if let (Some(principal), Some(map)) = (
                principal,
                body.pointer_mut("/identity/userAssignedIdentities")
                    .and_then(Value::as_object_mut),
            ) {
                for (id, entry) in map.iter_mut() {
                    if ids::same(id, &r.path)
                        && let Some(entry) = entry.as_object_mut()
                    {
                        entry.insert("principalId".into(), principal.clone());
                    }
                }
            }
        }
        let w = Workload::parse(kind, &body).unwrap_or(planned);
        // An app that enables Dapr: the components already in its environment that it will load.
        let dapr = self
            .dapr(
                &w,
                w.environment_id
                    .as_deref()
                    .and_then(environment_id)
                    .as_deref(),
            )
            .await;
        let mut refs = KvReference::all_of(&w);
        refs.extend(dapr_references(&w, dapr.as_ref()));
        let secrets = vault_secrets(&refs);
        // The environment the file names: the network checker needs its VNet.
        let environment = async {
            match w.environment_id.as_deref().and_then(environment_id) {
                Some(id) => vec![self.send(Request::environment(id)).await],
                None => Vec::new(),
            }
        };
        let (versions, vaults, environment) = tokio::join!(
            join_all(secrets.iter().map(|r| self.keyvault.versions(r))),
            // No activity log: a file about to be deployed has no history yet.
            self.vaults(target, &w, &refs, &secrets, None),
            environment,
        );
        let mut responses = vec![Response {
            status: Some(200),
            body: Some(body),
            ..Request::workload(target.resource_id(), target.is_job()).recorded()
        }];
        responses.extend(environment);
        responses.extend(dapr);
        responses.extend(identities);
        responses.extend(vaults);
        responses.extend(versions);
        Ok(PlannedEvidence {
            bundle: Bundle {
                kvdiag_bundle: BUNDLE_VERSION,
                description: Some(
                    "kvdiag lint --live: the file's resource and its Key Vault reads".into(),
                ),
                target: target.clone(),
                collected_at: display(window.now),
                responses,
            },
            exists,
        })
    }
}

/// Copies the principals of the existing app's identities into the planned resource: the
/// system identity's when the file keeps it enabled, and each user-assigned identity's that
/// the file still attaches (ids compare without case).
fn adopt_principals(planned: &mut Value, live: &Value) {
    let enabled = crate::snapshot::Identity::system_enabled_in;
    if enabled(planned)
        && enabled(live)
        && let Some(principal) = live.pointer("/identity/principalId").cloned()
        && let Some(identity) = planned.get_mut("identity").and_then(Value::as_object_mut)
    {
        identity.insert("principalId".into(), principal);
    }
    let Some(live_users) = live
        .pointer("/identity/userAssignedIdentities")
        .and_then(Value::as_object)
    else {
        return;
    };
    if let Some(map) = planned
        .pointer_mut("/identity/userAssignedIdentities")
        .and_then(Value::as_object_mut)
    {
        for (id, entry) in map.iter_mut() {
            let found = live_users
                .iter()
                .find(|(k, _)| ids::same(k, id))
                .and_then(|(_, v)| v.get("principalId").cloned());
            if let (Some(p), Some(entry)) = (found, entry.as_object_mut()) {
                entry.insert("principalId".into(), p);
            }
        }
    }
}
