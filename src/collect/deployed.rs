//! Collection for `check` and `collect`: the app or job as it runs now, and everything around
//! it — revisions, environment, Dapr components (only when the app runs Dapr), identities,
//! vaults, role and deny assignments, system logs and
//! the activity log of the window.

use super::{
    CollectError, Collector, Window, dapr_references, environment_id, is_guid, kind_word,
    stop_if_pointless, vault_groups, vault_secrets,
};
use crate::azure::time::display;
use crate::bundle::{BUNDLE_VERSION, Bundle, Response, Target};
use crate::plan::Request;
use crate::snapshot::{Certificate, Environment, KvReference, Workload, WorkloadKind};
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
        let responses = if target.is_environment() {
            self.read_environment(target, window).await?
        } else {
            self.read_workload(target, window).await?
        };
        Ok(Bundle {
            kvdiag_bundle: BUNDLE_VERSION,
            description: None,
            target: target.clone(),
            collected_at: display(window.now),
            responses,
        })
    }

    /// `check --environment`: the environment, its certificate list, its identities and the
    /// activity log on it; then the vault reads behind every certificate from Key Vault and
    /// its DNS-suffix certificate.
    async fn read_environment(
        &self,
        target: &Target,
        window: &Window,
    ) -> Result<Vec<Response>, CollectError> {
        let progress = self.session.progress();
        progress.step(&format!("reading environment '{}'", target.name()));
        let id = target.resource_id();
        let (environment, _) = tokio::join!(
            self.send(Request::environment(id.as_str())),
            self.credentials.token(&self.endpoints.keyvault_scope),
        );
        stop_if_pointless(target, &environment)?;
        let Some(parsed) = parse_environment(Some(&environment)) else {
            return Ok(vec![environment]);
        };
        let w = Workload::of_environment(&parsed);
        progress.step("reading certificates, vaults and role assignments");
        // Dapr components: their secretRefs are checked here; their Key Vault reads belong to
        // the scoped apps' identities (check those apps).
        let (list, dapr, identities, activity) = tokio::join!(
            self.send(Request::certificates(&id)),
            self.send(Request::dapr_components(&id)),
            self.identities(&w),
            self.activity(target, window),
        );
        let certificates = if list.ok() {
            list.body
                .as_ref()
                .map(Certificate::parse_list)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let refs = KvReference::around(&w, Some(&parsed), &certificates);
        let vaults = self.references(target, &w, &refs, window).await;
        let mut out = vec![environment, list, dapr];
        out.extend(identities);
        out.push(activity);
        out.extend(vaults);
        Ok(out)
    }

    /// `check --app` / `--job`: the workload, then everything around it.
    async fn read_workload(
        &self,
        target: &Target,
        window: &Window,
    ) -> Result<Vec<Response>, CollectError> {
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
        Ok(responses)
    }

    /// Everything that hangs off a readable app, in parallel branches.
    async fn around(&self, target: &Target, w: &Workload, window: &Window) -> Vec<Response> {
        let app_path = target.resource_id();
        // An app's revisions, or a job's executions: what ran on which secret values.
        let revisions = async {
            if target.is_job() {
                vec![self.send(Request::job_executions(&app_path)).await]
            } else {
                vec![self.send(Request::revisions(&app_path)).await]
            }
        };
        let (revisions, consumers, identities, activity) = tokio::join!(
            revisions,
            self.consumers(target, w, window),
            self.identities(w),
            self.activity(target, window),
        );
        let mut out = revisions;
        out.extend(consumers);
        out.extend(identities);
        out.push(activity);
        out
    }

    /// The environment and its system logs, and the reads behind every Key Vault reference:
    /// the app's own secrets, the certificates its custom domains bind and the environment's
    /// DNS-suffix certificate (docs/azure.md#other-key-vault-consumers).
    ///
    /// The app's own references need nothing but the app, so without custom domains their
    /// vault reads start at once, next to the environment: no round trip is added. Bound
    /// certificates are fetched with the environment's identity from a vault their own
    /// resource names, so with custom domains the vault reads wait for the environment and the
    /// certificates (one round trip more, for those apps only). A DNS-suffix certificate is
    /// known once the environment is: its reads follow then, next to the logs.
    async fn consumers(&self, target: &Target, w: &Workload, window: &Window) -> Vec<Response> {
        let env_id = w.environment_id.as_deref().and_then(environment_id);
        let certificate_ids = w.certificate_ids();
        let mut out = Vec::new();
        if certificate_ids.is_empty() {
            let own = KvReference::all_of(w);
            let environment_then_logs = async {
                let environment = self.environment(env_id.as_deref()).await;
                let parsed = parse_environment(environment.as_ref());
                let suffix: Vec<KvReference> = parsed
                    .as_ref()
                    .and_then(KvReference::of_dns_suffix)
                    .into_iter()
                    .collect();
                let (logs, suffix_reads) =
                    tokio::join!(self.logs(target, parsed.as_ref(), window), async {
                        if suffix.is_empty() {
                            Vec::new()
                        } else {
                            self.references(target, w, &suffix, window).await
                        }
                    },);
                (environment, logs, suffix_reads)
            };
            // An app with Dapr enabled reads its components first: their Key Vault references
            // join the app's own in one lookup (one round trip more, for Dapr apps only).
            let own_and_dapr = async {
                let dapr = self.dapr(w, env_id.as_deref()).await;
                let mut refs = own;
                refs.extend(dapr_references(w, dapr.as_ref()));
                let mut out: Vec<Response> = dapr.into_iter().collect();
                out.extend(self.references(target, w, &refs, window).await);
                out
            };
            let ((environment, logs, suffix_reads), vaults) =
                tokio::join!(environment_then_logs, own_and_dapr);
            out.extend(environment);
            out.extend(logs);
            out.extend(vaults);
            out.extend(suffix_reads);
            return out;
        }
        let (environment, certificates, dapr) = tokio::join!(
            self.environment(env_id.as_deref()),
            join_all(
                certificate_ids
                    .iter()
                    .map(|id| self.send(Request::certificate(id.as_str())))
            ),
            self.dapr(w, env_id.as_deref()),
        );
        let parsed = parse_environment(environment.as_ref());
        let bound: Vec<Certificate> = certificates
            .iter()
            .filter(|c| c.ok())
            .filter_map(|c| c.body.as_ref().and_then(Certificate::parse))
            .collect();
        let mut refs = KvReference::around(w, parsed.as_ref(), &bound);
        refs.extend(dapr_references(w, dapr.as_ref()));
        let (logs, vaults) = tokio::join!(
            self.logs(target, parsed.as_ref(), window),
            self.references(target, w, &refs, window),
        );
        out.extend(environment);
        out.extend(certificates);
        out.extend(dapr);
        out.extend(logs);
        out.extend(vaults);
        out
    }

    /// The vault reads and data-plane version lists behind a set of references.
    async fn references(
        &self,
        target: &Target,
        w: &Workload,
        refs: &[KvReference],
        window: &Window,
    ) -> Vec<Response> {
        let secrets = vault_secrets(refs);
        let (versions, vaults) = tokio::join!(
            join_all(secrets.iter().map(|r| self.keyvault.versions(r))),
            self.vaults(target, w, refs, &secrets, Some(window)),
        );
        let mut out = vaults;
        out.extend(versions);
        out
    }

    /// An app with Dapr enabled: its environment's Dapr components. Any other app, a job or an
    /// environment sends nothing.
    pub(super) async fn dapr(&self, w: &Workload, env_id: Option<&str>) -> Option<Response> {
        if !w.dapr.enabled {
            return None;
        }
        Some(self.send(Request::dapr_components(env_id?)).await)
    }

    /// The managed environment (none when the app names no valid environment id).
    async fn environment(&self, env_id: Option<&str>) -> Option<Response> {
        Some(self.send(Request::environment(env_id?)).await)
    }

    /// The system logs of the app or job, from the environment's workspace.
    async fn logs(
        &self,
        target: &Target,
        environment: Option<&Environment>,
        window: &Window,
    ) -> Option<Response> {
        let workspace = environment?.workspace.as_deref().filter(|w| is_guid(w))?;
        let (start, now) = window.span();
        Some(
            self.send(Request::system_logs(
                workspace,
                target.is_job(),
                target.name(),
                Some((&start, &now)),
            ))
            .await,
        )
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
        let groups = vault_groups(vault_ids);
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

/// The environment an answer holds, when it is one.
fn parse_environment(response: Option<&Response>) -> Option<Environment> {
    let response = response.filter(|r| r.ok())?;
    response.body.as_ref().and_then(Environment::parse)
}
