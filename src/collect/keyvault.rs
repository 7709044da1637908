//! The Key Vault data plane through azure_security_keyvault_secrets: the version list of each
//! referenced secret (`list_secret_properties_versions`, metadata only). kvdiag never calls
//! `get_secret`, which returns the value.
//!
//! Every request goes through [`Transport`], which applies the run's concurrency limit, timeout
//! and `-v` log, and, when `KVDIAG_KEYVAULT_ENDPOINT` is set, moves the request to that host
//! after the SDK's bearer-token policy has checked the https vault URL (azure_core 1.x refuses
//! tokens over http, even to loopback). The SDK's own retries are off: [`Session`] retries.
//!
//! Real Key Vault answers a version list of a secret that does not exist with 200 and an empty
//! page (shared/notes/rust-sdk-spike), so zero versions means "no such secret".

use super::auth::Credentials;
use super::endpoints::Endpoints;
use super::rest::{MAX_PAGES, merge_page, parse_body};
use super::session::Session;
use crate::azure::keyvault_url::KeyVaultRef;
use crate::bundle::{Response, Service};
use azure_core::error::ErrorKind;
use azure_core::http::{
    AsyncRawResponse, ClientOptions, HttpClient, Request, RetryOptions, Transport,
};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use futures::StreamExt;
use serde_json::Value;
use std::sync::Arc;
use url::Url;

/// The data-plane api-version kvdiag sends (the SDK's default, pinned so bundles say it).
pub const API_VERSION: &str = "2025-07-01";

/// What a transport timeout is called in the recorded response.
const TIMEOUT: &str = "timeout";

/// Key Vault DNS suffixes of the clouds kvdiag knows; a reference to any other host is never
/// sent a token.
const VAULT_SUFFIXES: &[&str] = &[
    ".vault.azure.net",
    ".vault.usgovcloudapi.net",
    ".vault.azure.cn",
];

/// True when a `keyVaultUrl` host is a real Key Vault host.
pub fn is_vault_host(host: &str) -> bool {
    VAULT_SUFFIXES.iter().any(|s| host.ends_with(s))
}

/// Reads version lists from the vaults of one run.
#[derive(Debug, Clone)]
pub struct KeyVault {
    /// One connection pool for every vault.
    http: Arc<dyn HttpClient>,
    credentials: Arc<Credentials>,
    endpoints: Arc<Endpoints>,
    session: Arc<Session>,
}

impl KeyVault {
    pub fn new(
        credentials: Arc<Credentials>,
        endpoints: Arc<Endpoints>,
        session: Arc<Session>,
    ) -> Self {
        KeyVault {
            http: azure_core::http::new_http_client(None),
            credentials,
            endpoints,
            session,
        }
    }

    /// `GET https://{vault}/secrets/{name}/versions`, every page, recorded as one response.
    pub async fn versions(&self, reference: &KeyVaultRef) -> Response {
        let recorded = Response {
            method: "GET".into(),
            service: Service::Keyvault,
            host: Some(reference.host.clone()),
            path: format!("/secrets/{}/versions", reference.secret),
            query: format!("api-version={API_VERSION}"),
            request_body: None,
            status: None,
            body: None,
            error: None,
            headers: None,
        };
        let client = match self.client(reference) {
            Ok(client) => client,
            Err(e) => {
                return Response {
                    error: Some(format!("client: {e}")),
                    ..recorded
                };
            }
        };
        self.session
            .with_retries(|| {
                let template = recorded.clone();
                let client = &client;
                async move { list(client, &reference.secret, template).await }
            })
            .await
    }

    fn client(&self, reference: &KeyVaultRef) -> azure_core::Result<SecretClient> {
        let transport = Transport::new(Arc::new(Redirect {
            inner: self.http.clone(),
            target: self.endpoints.keyvault_base(&reference.vault),
            session: self.session.clone(),
        }));
        let options = SecretClientOptions {
            api_version: API_VERSION.into(),
            client_options: ClientOptions {
                transport: Some(transport),
                retry: RetryOptions::none(),
                ..Default::default()
            },
            ..Default::default()
        };
        SecretClient::new(
            &format!("https://{}/", reference.host),
            self.credentials.clone(),
            Some(options),
        )
    }
}

/// Reads every page of the version list; an error becomes the recorded answer.
async fn list(client: &SecretClient, secret: &str, template: Response) -> Response {
    let pager = match client.list_secret_properties_versions(secret, None) {
        Ok(pager) => pager,
        Err(e) => return from_error(e, template),
    };
    let mut pages = pager.into_pages();
    let mut merged: Option<(u16, Value)> = None;
    for _ in 0..MAX_PAGES {
        let Some(page) = pages.next().await else {
            break;
        };
        let page = match page {
            Ok(page) => page,
            Err(e) => return from_error(e, template),
        };
        let status = u16::from(page.status());
        let body = parse_body(page.body().as_ref()).unwrap_or(Value::Null);
        merged = Some(match merged {
            None => (status, body),
            Some((status, mut first)) => {
                merge_page(&mut first, &body);
                (status, first)
            }
        });
    }
    match merged {
        Some((status, body)) => Response {
            status: Some(status),
            body: Some(body),
            ..template
        },
        None => Response {
            error: Some("transport: the version list returned no page".into()),
            ..template
        },
    }
}

/// An SDK error as a recorded answer: the status and raw error body when Key Vault answered
/// (azure_core cannot always parse Key Vault's error JSON itself, so the body is kept raw).
fn from_error(e: azure_core::Error, template: Response) -> Response {
    match e.kind() {
        ErrorKind::HttpResponse {
            status,
            raw_response,
            ..
        } => Response {
            status: Some(u16::from(*status)),
            body: raw_response
                .as_ref()
                .and_then(|r| parse_body(r.body().as_ref())),
            ..template
        },
        ErrorKind::Credential => Response {
            error: Some(format!("credential: {e}")),
            ..template
        },
        _ => {
            let text = error_chain(&e);
            let error = if text.contains(TIMEOUT) {
                TIMEOUT.to_string()
            } else {
                format!("connect: {text}")
            };
            Response {
                error: Some(error),
                ..template
            }
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(next) = cause {
        parts.push(next.to_string());
        cause = next.source();
    }
    parts.join(": ")
}

/// The SDK's HTTP client, wrapped: limit, timeout, log, and the loopback redirect for tests.
#[derive(Debug)]
struct Redirect {
    inner: Arc<dyn HttpClient>,
    /// `http://127.0.0.1:8080/kv/{vault}` filled in, when the endpoint is overridden.
    target: Option<Url>,
    session: Arc<Session>,
}

#[async_trait::async_trait]
impl HttpClient for Redirect {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut request = request.clone();
        if let Some(target) = &self.target {
            let original = request.url().clone();
            let url = request.url_mut();
            *url = target.clone();
            let prefix = target.path().trim_end_matches('/');
            url.set_path(&format!("{prefix}{}", original.path()));
            url.set_query(original.query());
        }
        let shown = request.url().to_string();
        let method = request.method().to_string();
        let timeout = self.session.attempt_timeout();
        let send = async {
            match tokio::time::timeout(timeout, self.inner.execute_request(&request)).await {
                Ok(result) => result,
                Err(_) => Err(azure_core::Error::with_message(ErrorKind::Io, TIMEOUT)),
            }
        };
        self.session
            .attempt(&method, &shown, send, |result| match result {
                Ok(answer) => u16::from(answer.status()).to_string(),
                Err(e) => first_words(&e.to_string()),
            })
            .await
    }
}

fn first_words(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_key_vault_hosts_get_a_token() {
        assert!(is_vault_host("kv-orders-shared.vault.azure.net"));
        assert!(is_vault_host("kv.vault.usgovcloudapi.net"));
        assert!(!is_vault_host("kv.vault.evil.example"));
        assert!(!is_vault_host("vault.azure.net.evil.example"));
    }
}
