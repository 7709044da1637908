//! Credentials: azure_identity 1.0 has no default chain, so kvdiag builds its own, and caches one
//! token per audience for the run (one `az` call per audience, not per request).
//!
//! `auto` only tries what the environment announces (workload identity variables, GitHub's OIDC
//! request URL, App Service / Container Apps' `IDENTITY_ENDPOINT`), then the developer tools. It
//! never probes the instance-metadata address on a laptop; `--auth managed-identity` does.
//!
//! Token fetches end by the run's deadline ([`Credentials::end_by`]): a source that has not
//! answered by then fails, and an `az` or `azd` it started is killed with its whole process
//! group ([`KillOnDrop`]), so a hung CLI never outlives the run.

use super::endpoints::Cloud;
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
use std::sync::{Arc, Mutex, OnceLock};
use time::OffsetDateTime;
use tokio::sync::OnceCell;
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

/// One audience's token (or the error getting it), fetched at most once per run.
type TokenCell = OnceCell<Result<AccessToken, String>>;

/// One credential source of the chain.
struct Source {
    name: &'static str,
    credential: Arc<dyn TokenCredential>,
}

/// The run's credential: a chain of sources and a per-audience token cache.
pub struct Credentials {
    sources: Vec<Source>,
    /// Index of the source that worked first; later audiences start there.
    chosen: Mutex<Option<usize>>,
    cache: Mutex<HashMap<String, Arc<TokenCell>>>,
    /// The run's deadline, once a collector is built on these credentials.
    deadline: OnceLock<Instant>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.sources.iter().map(|s| s.name).collect();
        f.debug_struct("Credentials")
            .field("sources", &names)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Builds the chain for a mode; `env` reads the environment (tests pass their own).
    pub fn new(
        mode: AuthMode,
        cloud: Cloud,
        subscription: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
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
            sources.push(Source {
                name: m.label(),
                credential,
            });
        }
        Ok(Arc::new(Credentials {
            sources,
            chosen: Mutex::new(None),
            cache: Mutex::new(HashMap::new()),
            deadline: OnceLock::new(),
        }))
    }

    /// Bounds every later token fetch by the run's deadline (the first deadline set wins).
    pub fn end_by(&self, deadline: Instant) {
        let _ = self.deadline.set(deadline);
    }

    /// How long one source may take now: [`SOURCE_TIMEOUT`], or less when the deadline is near.
    fn source_budget(&self) -> std::time::Duration {
        match self.deadline.get() {
            Some(deadline) => {
                SOURCE_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()))
            }
            None => SOURCE_TIMEOUT,
        }
    }

    /// A token for one audience (`https://management.azure.com/.default`), fetched once per run.
    /// The error is one line: what was tried and how to log in.
    pub async fn token(&self, scope: &str) -> Result<AccessToken, String> {
        let cell = {
            let mut cache = self.cache.lock().expect("token cache lock");
            cache.entry(scope.to_string()).or_default().clone()
        };
        let cached = cell.get_or_init(|| self.fetch(scope)).await.clone();
        match cached {
            // A run is short, but a token handed out at the edge of its life is fetched again.
            Ok(token)
                if token
                    .expires_on
                    .checked_sub(time::Duration::minutes(2))
                    .is_none_or(|fresh_until| fresh_until < OffsetDateTime::now_utc()) =>
            {
                self.fetch(scope).await
            }
            other => other,
        }
    }

    async fn fetch(&self, scope: &str) -> Result<AccessToken, String> {
        let start = self.chosen.lock().expect("chosen lock").unwrap_or(0);
        let mut tried = Vec::new();
        for index in (start..self.sources.len()).chain(0..start) {
            let source = &self.sources[index];
            let scopes = [scope];
            let budget = self.source_budget();
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
                    return Ok(token);
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

#[async_trait::async_trait]
impl TokenCredential for Credentials {
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
