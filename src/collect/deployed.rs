//! Collection for `check` and `collect`: the app or job as it runs now, and everything around
//! it — revisions, environment, Dapr components (only when the app runs Dapr), identities,
//! vaults, role and deny assignments, system logs and the activity log of the window.

use super::{
    CollectError, Collector, Window, environment_id, is_guid, kind_word, stop_if_pointless,
    vault_secrets,
};
use crate::azure::ids;
use crate::azure::time::display;
use crate::bundle::{BUNDLE_VERSION, Bundle, Response, Target};
use crate::plan::Request;
use crate::snapshot::{DaprComponent, Environment, KvReference, Workload, WorkloadKind};
use futures::future::join_all;

impl Collector {
    /// Collects the bundle for `target` as of `window.now`.
    pub async fn collect(&self, target: &Target, window: &Window) -> Result<Bundle, CollectError> {
        let result = self.read(target, window).await;
        // Cleared on every path, so an error message never lands behind a spinner.
        self.session.progress().finish();
        result
    }

    async fn read(&self, target: &Target, window: &Window) -> Result<Bundle, CollectError> {
        let progress = self.session.progress();
        progress.step(&format!(
            "reading {} '{}'",
            kind_word(target),
            target.name()
        ));
        // The Key Vault and Log Analytics tokens are fetched while the app is read, so a slow
        // credential (`az` starts in about a second) costs one wait, not three.
        let (app, _, _) = tokio::join!(
            self.send(Request::workload(target.resource_id(), target.is_job())),
            self.credentials.token(&self.endpoints.keyvault_scope),
            self.credentials.token(&self.endpoints.log_analytics_scope),
        );
        stop_if_pointless(target, &app)?;
        let kind = if target.is_job() {
            WorkloadKind::Job
        } else {
            WorkloadKind::App
        };
        let workload = app
            .ok()
            .then(|| app.body.as_ref().and_then(|b| Workload::parse(kind, b)))
            .flatten();
        let mut responses = vec![app];
        if let Some(w) = workload {
            progress.step("reading revisions, vaults, role assignments and logs");
            responses.extend(self.around(target, &w, window).await);
        }
        Ok(Bundle {
            kvdiag_bundle: BUNDLE_VERSION,
            description: None,
            target: target.clone(),
            collected_at: display(window.now),
            responses,
        })
    }

    /// Everything that hangs off a readable app, in parallel branches.
    async fn around(&self, target: &Target, w: &Workload, window: &Window) -> Vec<Response> {
        let app_path = target.resource_id();
        let revisions = async {
            if target.is_job() {
                Vec::new()
            } else {
                vec![self.send(Request::revisions(&app_path)).await]
            }
        };
        let (revisions, environment, identities, keyvault, activity) = tokio::join!(
            revisions,
            self.environment_and_logs(target, w, window),
            self.identities(w),
            self.keyvault_branch(target, w, window),
            self.activity(target, window),
        );
        let mut out = revisions;
        out.extend(environment);
        out.extend(identities);
        out.extend(keyvault);
        out.push(activity);
        out
    }

    /// The Key Vault references and everything about their vaults. An app with Dapr enabled
    /// first reads its environment's Dapr components, whose secrets and Key Vault secret stores
    /// join the app's own references (one Resource Graph lookup names every vault); for any
    /// other app or a job the components branch is empty and costs no round trip.
    async fn keyvault_branch(
        &self,
        target: &Target,
        w: &Workload,
        window: &Window,
    ) -> Vec<Response> {
        let dapr = self.dapr(w).await;
        let mut refs = KvReference::all_of(w);
        if let Some(components) = dapr
            .first()
            .filter(|r| r.ok())
            .and_then(|r| r.body.as_ref())
            .and_then(DaprComponent::parse_list)
        {
            let app_id = w.dapr.active_app_id().unwrap_or_default();
            let scoped: Vec<&DaprComponent> =
                components.iter().filter(|c| c.serves(app_id)).collect();
            refs.extend(KvReference::dapr_of(w, &scoped));
        }
        let secrets = vault_secrets(&refs);
        let (versions, vaults) = tokio::join!(
            join_all(secrets.iter().map(|r| self.keyvault.versions(r))),
            self.vaults(target, w, &refs, &secrets, Some(window)),
        );
        let mut out = dapr;
        out.extend(vaults);
        out.extend(versions);
        out
    }

    /// The managed environment, then its workspace's system logs (both table families).
    async fn environment_and_logs(
        &self,
        target: &Target,
        w: &Workload,
        window: &Window,
    ) -> Vec<Response> {
        let Some(env_id) = w.environment_id.as_deref().and_then(environment_id) else {
            return Vec::new();
        };
        let environment = self.send(Request::environment(env_id)).await;
        let workspace = environment
            .ok()
            .then(|| environment.body.as_ref().and_then(Environment::parse))
            .flatten()
            .and_then(|e| e.workspace)
            .filter(|w| is_guid(w));
        let mut out = vec![environment];
        if let Some(workspace) = workspace {
            let (start, now) = window.span();
            out.push(
                self.send(Request::system_logs(
                    &workspace,
                    target.is_job(),
                    target.name(),
                    Some((&start, &now)),
                ))
                .await,
            );
        }
        out
    }

    /// An app with Dapr enabled: its environment's Dapr components (they need only the
    /// environment id, known from the app). Any other app or a job sends nothing.
    async fn dapr(&self, w: &Workload) -> Vec<Response> {
        let env_id = w.environment_id.as_deref().and_then(environment_id);
        match env_id {
            Some(env_id) if w.dapr.enabled => {
                vec![self.send(Request::dapr_components(&env_id)).await]
            }
            _ => Vec::new(),
        }
    }

    /// Activity-log writes on the app within the window.
    async fn activity(&self, target: &Target, window: &Window) -> Response {
        let (start, now) = window.span();
        self.send(Request::app_activity(
            &target.subscription,
            &target.resource_id(),
            Some((&start, &now)),
        ))
        .await
    }

    /// The activity log of each vault's resource group: role assignments created or deleted at
    /// the vault, its secrets or the group, and writes to the vault. The API cannot filter on a
    /// role assignment's scope, so the group is read and the snapshot keeps what touches a vault.
    pub(super) async fn vault_activity(
        &self,
        vault_ids: &[String],
        window: &Window,
    ) -> Vec<Response> {
        let mut groups: Vec<(String, String)> = vault_ids
            .iter()
            .filter_map(|id| {
                Some((
                    ids::segment_after(id, "subscriptions")?,
                    ids::segment_after(id, "resourceGroups")?,
                ))
            })
            .filter(|(s, rg)| is_guid(s) && ids::is_safe_path(&format!("/{rg}")))
            .collect();
        groups.sort_by_key(|(s, rg)| (s.to_ascii_lowercase(), rg.to_ascii_lowercase()));
        groups.dedup_by_key(|(s, rg)| (s.to_ascii_lowercase(), rg.to_ascii_lowercase()));
        let (start, now) = window.span();
        join_all(groups.iter().map(|(subscription, group)| {
            self.send(Request::group_activity(
                subscription,
                group,
                Some((&start, &now)),
            ))
        }))
        .await
    }
}
