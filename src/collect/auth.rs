//! Credentials: azure_identity 1.0 has no default chain, so kvdiag builds its own, and keeps
//! each audience's token for as long as it is fresh (one `az` call per audience, not per
//! request, and in `kvdiag mcp` not per tool call either).
//!
//! `auto` only tries what the environment announces (workload identity variables, GitHub's OIDC
//! request URL, App Service / Container Apps' `IDENTITY_ENDPOINT`), then the developer tools. It
//! never probes the instance-metadata address on a laptop; `--auth managed-identity` does.
//!
//! One [`Credentials`] lives as long as the process (a CLI run, or the MCP server); each run
//! sees it through [`RunCredentials`], which bounds token fetches by the run's deadline: a source
//! that has not answered by then fails, and an `az` or `azd` it started is killed with its whole
//! process group ([`KillOnDrop`]), so a hung CLI never outlives the run.
//!
//! Token reuse: a token is handed out until [`token_cache::FRESH_MARGIN`] before it expires;
//! concurrent requests for one audience share one fetch (each audience has one async lock, held
//! while its token is fetched). A failed fetch is reused by the runs already under way when it
//! failed (so a run without a login asks `az` once per audience, not once per request), never by
//! a later run (so `az login` in between is seen). The developer CLIs' tokens are also kept on
//! disk between runs ([`token_cache`]); a token Azure answers 401 to is dropped and fetched again
//! once ([`RunCredentials::renew`]).

use super::endpoints::Cloud;
use super::token_cache::{self, Key, Login, TokenCache};
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientMethodOptions, ClientOptions};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, AzureDeveloperCliCredential,
    AzureDeveloperCliCredentialOptions, AzurePipelinesCredential, AzurePipelinesCredentialOptions,
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, Executor, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use clap::ValueEnum;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tokio::time::Instant;

/// `--auth` / `KVDIAG_AUTH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// What the environment announces, then the Azure CLI, then azd.
    Auto,
    /// `az account get-access-token` (after `az login`).
    AzureCli,
    /// `azd auth token` (after `azd auth login`).
    AzureDeveloperCli,
    /// AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE (AKS, federated CI).
    WorkloadIdentity,
    /// The host's managed identity (AZURE_CLIENT_ID selects a user-assigned one).
    ManagedIdentity,
    /// GitHub Actions OIDC (`permissions: id-token: write`) with AZURE_CLIENT_ID and AZURE_TENANT_ID.
    GithubOidc,
    /// An Azure Pipelines service connection (AZURESUBSCRIPTION_* and SYSTEM_ACCESSTOKEN).
    AzurePipelines,
    /// AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET.
    ClientSecret,
}

impl AuthMode {
    fn label(self) -> &'static str {
        match self {
            AuthMode::Auto => "auto",
            AuthMode::AzureCli => "azure-cli",
            AuthMode::AzureDeveloperCli => "azure-developer-cli",
            AuthMode::WorkloadIdentity => "workload-identity",
            AuthMode::ManagedIdentity => "managed-identity",
            AuthMode::GithubOidc => "github-oidc",
            AuthMode::AzurePipelines => "azure-pipelines",
            AuthMode::ClientSecret => "client-secret",
        }
    }
}

/// How to get a credential working, said once at the end of every credential error.
const HOW_TO_LOG_IN: &str = "log in with `az login` (or `azd auth login`), or pick a CI mode with --auth workload-identity|github-oidc|azure-pipelines|managed-identity|client-secret";

/// How long one credential source may take (`az` on a cold machine takes seconds, never this).
const SOURCE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// One credential source of the chain.
struct Source {
    name: &'static str,
    credential: Arc<dyn TokenCredential>,
    /// For the developer CLIs: who is logged in, read from their files when the source is
    /// built, which keys its tokens on disk.
    login: Option<Login>,
}

/// One audience's token as the process holds it.
#[derive(Default)]
struct Slot {
    token: Option<Held>,
    /// The last fetch failed, when, and why.
    failed: Option<(Instant, String)>,
}

struct Held {
    token: AccessToken,
    /// When it was fetched from a source, or read from the disk cache.
    at: Instant,
    from_disk: bool,
    /// The disk entry it came from or went to.
    key: Option<Key>,
}

/// The process's credential: a chain of sources and a per-audience token cache.
pub struct Credentials {
    sources: Vec<Source>,
    /// Index of the source that worked first; later audiences start there.
    chosen: Mutex<Option<usize>>,
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
    cloud: Cloud,
    /// Tokens of the developer CLIs between runs; `None` when off.
    disk: Option<TokenCache>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.sources.iter().map(|s| s.name).collect();
        f.debug_struct("Credentials")
            .field("sources", &names)
            .field("disk", &self.disk.is_some())
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Builds the chain for a mode; `env` reads the environment (tests pass their own). No
    /// token is kept on disk: see [`Credentials::with_token_cache`].
    pub fn new(
        mode: AuthMode,
        cloud: Cloud,
        subscription: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Arc<Self>, String> {
        Self::with_token_cache(mode, cloud, subscription, env, None)
    }

    /// [`Credentials::new`], keeping the developer CLIs' tokens in `disk` between runs.
    pub fn with_token_cache(
        mode: AuthMode,
        cloud: Cloud,
        subscription: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
        disk: Option<TokenCache>,
    ) -> Result<Arc<Self>, String> {
        super::tls::init();
        let var = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let client_options = || ClientOptions {
            cloud: Some(Arc::new(cloud.configuration())),
            ..Default::default()
        };
        let fail = |name: &str, e: azure_core::Error| {
            format!("--auth {name}: {}", first_line(&e.to_string()))
        };
        let mut sources = Vec::new();
        let wanted: Vec<AuthMode> = match mode {
            AuthMode::Auto => {
                let mut chain = Vec::new();
                if var("AZURE_CLIENT_SECRET").is_some() {
                    chain.push(AuthMode::ClientSecret);
                }
                if var("AZURE_FEDERATED_TOKEN_FILE").is_some() {
                    chain.push(AuthMode::WorkloadIdentity);
                }
                if var("ACTIONS_ID_TOKEN_REQUEST_URL").is_some() {
                    chain.push(AuthMode::GithubOidc);
                }
                if var("SYSTEM_OIDCREQUESTURI").is_some()
                    && var("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID").is_some()
                {
                    chain.push(AuthMode::AzurePipelines);
                }
                if var("IDENTITY_ENDPOINT").is_some() {
                    chain.push(AuthMode::ManagedIdentity);
                }
                chain.extend([AuthMode::AzureCli, AuthMode::AzureDeveloperCli]);
                chain
            }
            one => vec![one],
        };
        let require = |mode: AuthMode, keys: &[&str]| -> Result<Vec<String>, String> {
            let missing: Vec<&str> = keys.iter().copied().filter(|k| var(k).is_none()).collect();
            if missing.is_empty() {
                Ok(keys.iter().map(|k| var(k).unwrap_or_default()).collect())
            } else {
                Err(format!(
                    "--auth {} needs {} set",
                    mode.label(),
                    missing.join(", ")
                ))
            }
        };
        for m in wanted {
            let credential: Arc<dyn TokenCredential> = match m {
                AuthMode::Auto => unreachable!("auto expands to concrete modes"),
                AuthMode::AzureCli => AzureCliCredential::new(Some(AzureCliCredentialOptions {
                    subscription: subscription.map(str::to_string),
                    executor: Some(Arc::new(KillOnDrop)),
                    ..Default::default()
                }))
                .map_err(|e| fail(m.label(), e))?,
                AuthMode::AzureDeveloperCli => {
                    AzureDeveloperCliCredential::new(Some(AzureDeveloperCliCredentialOptions {
                        executor: Some(Arc::new(KillOnDrop)),
                        ..Default::default()
                    }))
                    .map_err(|e| fail(m.label(), e))?
                }
                AuthMode::WorkloadIdentity => {
                    let v = require(
                        m,
                        &[
                            "AZURE_CLIENT_ID",
                            "AZURE_TENANT_ID",
                            "AZURE_FEDERATED_TOKEN_FILE",
                        ],
                    )?;
                    WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                        credential_options: ClientAssertionCredentialOptions {
                            client_options: client_options(),
                        },
                        client_id: Some(v[0].clone()),
                        tenant_id: Some(v[1].clone()),
                        token_file_path: Some(v[2].clone().into()),
                    }))
                    .map_err(|e| fail(m.label(), e))?
                }
                AuthMode::ManagedIdentity => {
                    ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                        user_assigned_id: var("AZURE_CLIENT_ID").map(UserAssignedId::ClientId),
                        client_options: client_options(),
                    }))
                    .map_err(|e| fail(m.label(), e))?
                }
                AuthMode::GithubOidc => {
                    let v = require(
                        m,
                        &[
                            "AZURE_CLIENT_ID",
                            "AZURE_TENANT_ID",
                            "ACTIONS_ID_TOKEN_REQUEST_URL",
                            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                        ],
                    )?;
                    let assertion = GithubOidc {
                        request_url: v[2].clone(),
                        request_token: Secret::new(v[3].clone()),
                    };
                    ClientAssertionCredential::new(
                        v[1].clone(),
                        v[0].clone(),
                        assertion,
                        Some(ClientAssertionCredentialOptions {
                            client_options: client_options(),
                        }),
                    )
                    .map_err(|e| fail(m.label(), e))?
                }
                AuthMode::AzurePipelines => {
                    let v = require(
                        m,
                        &[
                            "AZURESUBSCRIPTION_TENANT_ID",
                            "AZURESUBSCRIPTION_CLIENT_ID",
                            "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
                            "SYSTEM_ACCESSTOKEN",
                        ],
                    )?;
                    AzurePipelinesCredential::new(
                        v[0].clone(),
                        v[1].clone(),
                        &v[2],
                        Secret::new(v[3].clone()),
                        Some(AzurePipelinesCredentialOptions {
                            credential_options: ClientAssertionCredentialOptions {
                                client_options: client_options(),
                            },
                        }),
                    )
                    .map_err(|e| fail(m.label(), e))?
                }
                AuthMode::ClientSecret => {
                    let v = require(
                        m,
                        &["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"],
                    )?;
                    ClientSecretCredential::new(
                        &v[0],
                        v[1].clone(),
                        Secret::new(v[2].clone()),
                        Some(ClientSecretCredentialOptions {
                            client_options: client_options(),
                        }),
                    )
                    .map_err(|e| fail(m.label(), e))?
                }
            };
            let login = match m {
                AuthMode::AzureCli if disk.is_some() => Login::azure_cli(subscription, env),
                AuthMode::AzureDeveloperCli if disk.is_some() => Login::azure_developer_cli(env),
                _ => None,
            };
            sources.push(Source {
                name: m.label(),
                credential,
                login,
            });
        }
        Ok(Arc::new(Credentials {
            sources,
            chosen: Mutex::new(None),
            slots: Mutex::new(HashMap::new()),
            cloud,
            disk,
        }))
    }

    /// This process's credential as one run sees it: every fetch ends by `deadline`.
    pub fn for_run(self: &Arc<Self>, deadline: Instant) -> Arc<RunCredentials> {
        Arc::new(RunCredentials {
            credentials: self.clone(),
            started: Instant::now(),
            deadline,
        })
    }

    fn slot(&self, scope: &str) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().expect("token slots lock");
        slots.entry(scope.to_string()).or_default().clone()
    }

    /// The disk entry a source's token for `scope` lives under, when it is kept on disk.
    fn disk_key(&self, source: &Source, scope: &str) -> Option<(&TokenCache, Key)> {
        let disk = self.disk.as_ref()?;
        let login = source.login.as_ref()?;
        let cloud = self.cloud.to_possible_value()?;
        Some((
            disk,
            Key {
                credential: source.name.to_string(),
                cloud: cloud.get_name().to_string(),
                tenant: login.tenant.clone(),
                audience: scope.to_string(),
                account: login.account.clone(),
            },
        ))
    }

    /// A token for one audience (`https://management.azure.com/.default`) for the run `run`:
    /// the held one while it is fresh, else one fetch shared by every concurrent caller.
    /// The error is one line: what was tried and how to log in.
    async fn token(&self, scope: &str, run: &RunCredentials) -> Result<AccessToken, String> {
        let slot = self.slot(scope);
        let mut slot = slot.lock().await;
        let now = OffsetDateTime::now_utc();
        if let Some(held) = &slot.token {
            // A token this run fetched itself serves the run while it is valid at all, even
            // when the source handed it out close to its expiry: the margin is for reuse.
            let own = !held.from_disk && held.at >= run.started && held.token.expires_on > now;
            if own || token_cache::fresh(held.token.expires_on, now) {
                return Ok(held.token.clone());
            }
        }
        if let Some((at, message)) = &slot.failed
            && *at >= run.started
        {
            return Err(message.clone());
        }
        match self.fetch(scope, run.deadline).await {
            Ok(held) => {
                let token = held.token.clone();
                slot.token = Some(held);
                slot.failed = None;
                Ok(token)
            }
            Err(message) => {
                slot.token = None;
                slot.failed = Some((Instant::now(), message.clone()));
                Err(message)
            }
        }
    }

    /// Tries the sources from the one that worked last; a developer CLI's token is taken from
    /// the disk cache when a fresh one is there, and stored there when fetched.
    async fn fetch(&self, scope: &str, deadline: Instant) -> Result<Held, String> {
        let start = self.chosen.lock().expect("chosen lock").unwrap_or(0);
        let mut tried = Vec::new();
        for index in (start..self.sources.len()).chain(0..start) {
            let source = &self.sources[index];
            let disk = self.disk_key(source, scope);
            if let Some((cache, key)) = &disk
                && let Some(token) = cache.get(key, OffsetDateTime::now_utc())
            {
                *self.chosen.lock().expect("chosen lock") = Some(index);
                return Ok(Held {
                    token,
                    at: Instant::now(),
                    from_disk: true,
                    key: Some(key.clone()),
                });
            }
            let scopes = [scope];
            let budget = SOURCE_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
            if budget.is_zero() {
                tried.push(format!(
                    "{}: the run's deadline (--timeout) passed",
                    source.name
                ));
                break;
            }
            let attempt = source.credential.get_token(&scopes, None);
            match tokio::time::timeout(budget, attempt).await {
                Ok(Ok(token)) => {
                    *self.chosen.lock().expect("chosen lock") = Some(index);
                    if let Some((cache, key)) = &disk
                        && token_cache::fresh(token.expires_on, OffsetDateTime::now_utc())
                    {
                        cache.put(key, &token);
                    }
                    return Ok(Held {
                        token,
                        at: Instant::now(),
                        from_disk: false,
                        key: disk.map(|(_, key)| key),
                    });
                }
                Ok(Err(e)) => {
                    tried.push(format!("{}: {}", source.name, first_line(&e.to_string())))
                }
                Err(_) => tried.push(format!(
                    "{}: no token within {:.1} s",
                    source.name,
                    budget.as_secs_f64()
                )),
            }
        }
        Err(format!(
            "no Azure credential worked for {scope} (tried {}); {HOW_TO_LOG_IN}",
            tried.join("; ")
        ))
    }
}

/// One run's view of the process's [`Credentials`]: fetches end by the run's deadline, and a
/// failed fetch is reused only by runs that were under way when it failed.
pub struct RunCredentials {
    credentials: Arc<Credentials>,
    started: Instant,
    deadline: Instant,
}

impl std::fmt::Debug for RunCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunCredentials")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl RunCredentials {
    /// A token for one audience (see [`Credentials`]); the error is one line.
    pub async fn token(&self, scope: &str) -> Result<AccessToken, String> {
        self.credentials.token(scope, self).await
    }

    /// Azure answered 401 to a request made with `used` (the token this run was handed for
    /// `scope`; `None` when the caller cannot tell, as under the Key Vault SDK). Returns true
    /// when asking again may help: the token came from the disk cache or from an earlier run
    /// (it is dropped, from disk too, so the next [`RunCredentials::token`] fetches a new one),
    /// or it was already replaced. A token fetched fresh for this run is not fetched again.
    pub async fn renew(&self, scope: &str, used: Option<&AccessToken>) -> bool {
        let slot = self.credentials.slot(scope);
        let mut slot = slot.lock().await;
        let Some(held) = &slot.token else {
            return true;
        };
        if used.is_some_and(|used| used.token.secret() != held.token.token.secret()) {
            return true;
        }
        if !(held.from_disk || held.at < self.started) {
            return false;
        }
        if let (Some(disk), Some(key)) = (&self.credentials.disk, &held.key) {
            disk.remove(key);
        }
        slot.token = None;
        true
    }
}

#[async_trait::async_trait]
impl TokenCredential for RunCredentials {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.token(&scopes.join(" ")).await.map_err(|message| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, message)
        })
    }
}

/// Runs `az` and `azd` for azure_identity (which starts them through `/bin/sh -c`) in a process
/// group of their own, with no stdin, and kills that whole group if the token fetch is dropped
/// before the CLI exits: the deadline passed. azure_identity's own executor leaves the CLI
/// running. On Windows only the direct child is killed.
#[derive(Debug)]
struct KillOnDrop;

#[async_trait::async_trait]
impl Executor for KillOnDrop {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> std::io::Result<Output> {
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let child = command.spawn()?;
        let mut group = GroupKiller(child.id());
        let output = child.wait_with_output().await;
        // The CLI exited by itself: nothing of its group is killed.
        group.0 = None;
        output
    }
}

/// Kills a process group when dropped while still armed.
struct GroupKiller(Option<u32>);

impl Drop for GroupKiller {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.0.and_then(|pid| i32::try_from(pid).ok()) {
            // SAFETY: kill(2) with a negative pid signals the process group the child leads
            // (process_group(0) made its pgid its pid); it touches no memory.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

/// GitHub Actions' OIDC token as a client assertion (azure_identity 1.0 has no GitHub
/// credential): `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange`.
struct GithubOidc {
    request_url: String,
    request_token: Secret,
}

impl std::fmt::Debug for GithubOidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubOidc").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl ClientAssertion for GithubOidc {
    async fn secret(
        &self,
        _options: Option<ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        let credential_error = |message: String| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, message)
        };
        let mut url = url::Url::parse(&self.request_url).map_err(|e| {
            credential_error(format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL: {e}"))
        })?;
        url.query_pairs_mut()
            .append_pair("audience", "api://AzureADTokenExchange");
        super::tls::init();
        let response = reqwest::Client::new()
            .get(url)
            .bearer_auth(self.request_token.secret())
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| credential_error(format!("GitHub OIDC token request failed: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(credential_error(format!(
                "GitHub OIDC token request returned {status}; does the job have `permissions: id-token: write`?"
            )));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| credential_error(format!("GitHub OIDC answer is not JSON: {e}")))?;
        body.get("value")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| credential_error("GitHub OIDC answer has no `value`".into()))
    }
}

/// The first line of an error, at most 300 characters: CLI errors can be long.
fn first_line(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    line.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::collect::test_env as env;

    fn names(c: &Credentials) -> Vec<&'static str> {
        c.sources.iter().map(|s| s.name).collect()
    }

    #[test]
    fn auto_tries_only_what_the_environment_announces() {
        let plain = Credentials::new(AuthMode::Auto, Cloud::Public, None, &env(&[])).unwrap();
        assert_eq!(names(&plain), ["azure-cli", "azure-developer-cli"]);
        let gh = Credentials::new(
            AuthMode::Auto,
            Cloud::Public,
            None,
            &env(&[
                (
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    "https://token.actions.example/x?api-version=2.0",
                ),
                ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
                ("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001"),
                ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000002"),
            ]),
        )
        .unwrap();
        assert_eq!(
            names(&gh),
            ["github-oidc", "azure-cli", "azure-developer-cli"]
        );
    }

    /// A source that counts its fetches, takes 50 ms, and hands out tokens living `minutes`
    /// (or fails when `minutes` is negative).
    #[derive(Debug)]
    struct Counting {
        calls: std::sync::atomic::AtomicUsize,
        minutes: i64,
    }

    #[async_trait::async_trait]
    impl TokenCredential for Counting {
        async fn get_token(
            &self,
            scopes: &[&str],
            _options: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            if self.minutes < 0 {
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Credential,
                    "not logged in",
                ));
            }
            Ok(AccessToken::new(
                format!("{}-{n}", scopes[0]),
                OffsetDateTime::now_utc() + time::Duration::minutes(self.minutes),
            ))
        }
    }

    fn counting(minutes: i64) -> (Arc<Credentials>, Arc<Counting>) {
        let source = Arc::new(Counting {
            calls: Default::default(),
            minutes,
        });
        let credentials = Arc::new(Credentials {
            sources: vec![Source {
                name: "azure-cli",
                credential: source.clone(),
                login: None,
            }],
            chosen: Mutex::new(None),
            slots: Mutex::new(HashMap::new()),
            cloud: Cloud::Public,
            disk: None,
        });
        (credentials, source)
    }

    fn calls(source: &Counting) -> usize {
        source.calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn later() -> Instant {
        Instant::now() + std::time::Duration::from_secs(30)
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_fetch_and_later_runs_reuse_it() {
        let (credentials, source) = counting(60);
        let run = credentials.for_run(later());
        let arm = "https://management.azure.com/.default";
        let tokens = futures::future::join_all((0..10).map(|_| run.token(arm))).await;
        assert_eq!(calls(&source), 1, "ten concurrent requests, one fetch");
        assert!(tokens.iter().all(
            |t| t.as_ref().unwrap().token.secret() == "https://management.azure.com/.default-0"
        ));
        // Another audience is its own fetch; a later run (a second tool call) fetches nothing.
        run.token("https://vault.azure.net/.default").await.unwrap();
        assert_eq!(calls(&source), 2);
        let next = credentials.for_run(later());
        next.token(arm).await.unwrap();
        next.token("https://vault.azure.net/.default")
            .await
            .unwrap();
        assert_eq!(calls(&source), 2, "the second run reuses both tokens");
        // A 401 to a token an earlier run fetched drops it; one fetched in this run is kept.
        assert!(next.renew(arm, None).await);
        next.token(arm).await.unwrap();
        assert_eq!(calls(&source), 3);
        assert!(
            !next.renew(arm, None).await,
            "fresh in this run: no second retry"
        );
    }

    #[tokio::test]
    async fn a_token_near_its_expiry_is_fetched_again() {
        let (credentials, source) = counting(4);
        let arm = "https://management.azure.com/.default";
        let run = credentials.for_run(later());
        run.token(arm).await.unwrap();
        run.token(arm).await.unwrap();
        assert_eq!(calls(&source), 1, "the run that fetched it uses it");
        credentials.for_run(later()).token(arm).await.unwrap();
        assert_eq!(
            calls(&source),
            2,
            "a token 4 minutes from expiry is not reused"
        );
    }

    #[tokio::test]
    async fn a_failure_is_reused_within_its_run_only() {
        let (credentials, source) = counting(-1);
        let arm = "https://management.azure.com/.default";
        let run = credentials.for_run(later());
        let failures = futures::future::join_all((0..5).map(|_| run.token(arm))).await;
        assert!(
            failures
                .iter()
                .all(|f| f.as_ref().unwrap_err().contains("not logged in"))
        );
        assert_eq!(calls(&source), 1, "one failed fetch per audience and run");
        // A run that starts after the failure (the user ran `az login`) asks again.
        credentials.for_run(later()).token(arm).await.unwrap_err();
        assert_eq!(calls(&source), 2);
    }

    #[test]
    fn only_the_developer_clis_keep_tokens_on_disk() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path().to_str().unwrap().to_string();
        std::fs::create_dir_all(home.path().join(".azure")).unwrap();
        std::fs::write(
            home.path().join(".azure/azureProfile.json"),
            r#"{"subscriptions":[{"id":"s","tenantId":"t","isDefault":true,"user":{"name":"u","type":"user"}}]}"#,
        )
        .unwrap();
        let vars = [
            ("HOME", h.as_str()),
            ("AZURE_CLIENT_SECRET", "x"),
            ("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001"),
            ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000002"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/dev/null"),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi"),
        ];
        let disk = Some(TokenCache::at(&home.path().join("cache")));
        let all = Credentials::with_token_cache(
            AuthMode::Auto,
            Cloud::Public,
            Some("s"),
            &env(&vars),
            disk.clone(),
        )
        .unwrap();
        let arm = "https://management.azure.com/.default";
        let kept: Vec<&str> = all
            .sources
            .iter()
            .filter(|s| all.disk_key(s, arm).is_some())
            .map(|s| s.name)
            .collect();
        assert_eq!(
            names(&all),
            [
                "client-secret",
                "workload-identity",
                "managed-identity",
                "azure-cli",
                "azure-developer-cli"
            ]
        );
        assert_eq!(kept, ["azure-cli"], "azd is not logged in here");
        for mode in [
            AuthMode::ClientSecret,
            AuthMode::WorkloadIdentity,
            AuthMode::ManagedIdentity,
        ] {
            let one = Credentials::with_token_cache(
                mode,
                Cloud::Public,
                Some("s"),
                &env(&vars),
                disk.clone(),
            )
            .unwrap();
            assert!(one.disk_key(&one.sources[0], arm).is_none(), "{mode:?}");
        }
        let key = all.disk_key(&all.sources[3], arm).unwrap().1;
        assert_eq!(
            (
                key.tenant.as_str(),
                key.account.as_str(),
                key.cloud.as_str()
            ),
            ("t", "user:u", "public")
        );
    }

    #[test]
    fn a_ci_mode_without_its_variables_says_which_are_missing() {
        let err = Credentials::new(AuthMode::WorkloadIdentity, Cloud::Public, None, &env(&[]))
            .unwrap_err();
        assert!(err.contains("AZURE_FEDERATED_TOKEN_FILE"), "{err}");
        let err = Credentials::new(
            AuthMode::GithubOidc,
            Cloud::Public,
            None,
            &env(&[("AZURE_CLIENT_ID", "x")]),
        )
        .unwrap_err();
        assert!(err.contains("ACTIONS_ID_TOKEN_REQUEST_URL"), "{err}");
        assert!(!err.contains("AZURE_CLIENT_ID,"), "{err}");
    }
}
