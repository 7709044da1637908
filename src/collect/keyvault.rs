//! The Key Vault data plane through azure_security_keyvault_secrets: the version list of each
//! referenced secret (`list_secret_properties_versions`, metadata only). kvdiag never calls
//! `get_secret`, which returns the value.
//!
//! Every request the SDK makes — the challenge, the first page, every `nextLink` it follows —
//! goes through [`Guarded`], kvdiag's transport under the SDK's pipeline. It is the last step
//! before the wire, after the bearer-token policy has added the token, so it decides where the
//! token may go: [`guard::check_vault`] lets through only a `GET` of the version list of the one
//! secret this client reads, on the vault's own host. A `nextLink` to another host, or to a
//! secret's value (absolute or relative), is never sent; the read ends as a `refused` failure.
//! The request then goes out on the run's [`Http`] client (bounded body, no decompression, the
//! attempt's deadline covering the whole body) under the run's concurrency limit and `-v` log.
//! When `KVDIAG_KEYVAULT_ENDPOINT` is set it moves to that host here, after the SDK's
//! bearer-token policy has checked the https vault URL (azure_core 1.x refuses tokens over
//! http, even to loopback). The SDK's own retries are off: [`Session`] retries.
//!
//! Real Key Vault answers a version list of a secret that does not exist with 200 and an empty
//! page (observed against the service; the SDK surfaces no 404 for it), so zero versions means
//! "no such secret".

use super::auth::RunCredentials;
use super::endpoints::Endpoints;
use super::guard;
use super::http::{Failure, Http, transport_failure};
use super::rest::{MAX_PAGES, merge_page, parse_body};
use super::session::Session;
use crate::azure::keyvault_url::KeyVaultRef;
use crate::bundle::Response;
use crate::plan::{self, api};
use azure_core::error::ErrorKind;
use azure_core::http::headers::{HeaderName, HeaderValue, Headers};
use azure_core::http::{
    AsyncRawResponse, ClientOptions, HttpClient, Request, RetryOptions, StatusCode, Transport,
};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use futures::StreamExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use url::Url;

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
    /// The run's client: one connection pool for every service and vault.
    http: Http,
    credentials: Arc<RunCredentials>,
    endpoints: Arc<Endpoints>,
    session: Arc<Session>,
}

impl KeyVault {
    pub fn new(
        http: Http,
        credentials: Arc<RunCredentials>,
        endpoints: Arc<Endpoints>,
        session: Arc<Session>,
    ) -> Self {
        KeyVault {
            http,
            credentials,
            endpoints,
            session,
        }
    }

    /// `GET https://{vault}/secrets/{name}/versions`, every page, recorded as one response.
    pub async fn versions(&self, reference: &KeyVaultRef) -> Response {
        let recorded =
            plan::Request::secret_versions(&reference.host, &reference.secret).recorded();
        let client = match self.client(reference) {
            Ok(client) => client,
            Err(e) => {
                return Response {
                    error: Some(format!("client: {e}")),
                    ..recorded
                };
            }
        };
        let read = || {
            self.session.with_retries(|| {
                let template = recorded.clone();
                let client = &client;
                async move { list(client, &reference.secret, template).await }
            })
        };
        let response = read().await;
        // A reused token Key Vault no longer takes: dropped, and the list read once more.
        if response.status == Some(401)
            && self
                .credentials
                .renew(&self.endpoints.keyvault_scope, None)
                .await
        {
            return read().await;
        }
        response
    }

    fn client(&self, reference: &KeyVaultRef) -> azure_core::Result<SecretClient> {
        let transport = Transport::new(Arc::new(Guarded {
            http: self.http.clone(),
            host: reference.host.clone(),
            secret: reference.secret.clone(),
            target: self.endpoints.keyvault_base(&reference.vault),
            session: self.session.clone(),
        }));
        let options = SecretClientOptions {
            api_version: api::KEYVAULT_DATA.into(),
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

/// Status, merged body and kept headers of the pages read so far.
type MergedPage = (u16, Value, Option<BTreeMap<String, String>>);

/// Reads every page of the version list; an error becomes the recorded answer.
async fn list(client: &SecretClient, secret: &str, template: Response) -> Response {
    let pager = match client.list_secret_properties_versions(secret, None) {
        Ok(pager) => pager,
        Err(e) => return from_error(e, template),
    };
    let mut pages = pager.into_pages();
    let mut merged: Option<MergedPage> = None;
    for _ in 0..MAX_PAGES {
        let Some(page) = pages.next().await else {
            break;
        };
        let page = match page {
            Ok(page) => page,
            Err(e) => return from_error(e, template),
        };
        let status = u16::from(page.status());
        let headers = kept(page.headers());
        let body = parse_body(page.body().as_ref()).unwrap_or(Value::Null);
        merged = Some(match merged {
            None => (status, body, headers),
            Some((status, mut first, headers)) => {
                merge_page(&mut first, &body);
                (status, first, headers)
            }
        });
    }
    match merged {
        Some((status, body, headers)) => Response {
            status: Some(status),
            body: Some(body),
            headers,
            ..template
        },
        None => Response {
            error: Some("transport: the version list returned no page".into()),
            ..template
        },
    }
}

/// An SDK error as a recorded answer: the status, raw error body and kept headers
/// (`Retry-After`) when Key Vault answered (azure_core cannot always parse Key Vault's error JSON
/// itself, so the body is kept raw); otherwise the [`Failure`] the transport gave, or what the
/// SDK failed at. A body that is not a version list is `decode`, and its text is never quoted:
/// serde's message would quote the unexpected value.
fn from_error(e: azure_core::Error, template: Response) -> Response {
    if let ErrorKind::HttpResponse {
        status,
        raw_response,
        ..
    } = e.kind()
    {
        return Response {
            status: Some(u16::from(*status)),
            body: raw_response
                .as_ref()
                .and_then(|r| parse_body(r.body().as_ref())),
            headers: raw_response.as_ref().and_then(|r| kept(r.headers())),
            ..template
        };
    }
    let error = match (failure_in(&e), e.kind()) {
        (Some(failure), _) => failure.clone(),
        (None, ErrorKind::Credential) => Failure::Credential(first_line(&error_chain(&e))),
        (None, ErrorKind::DataConversion) => {
            Failure::Decode("the answer is not a Key Vault version list".into())
        }
        (None, ErrorKind::Connection) => Failure::Connect(first_line(&error_chain(&e))),
        (None, _) => Failure::Transport(first_line(&error_chain(&e))),
    };
    Response {
        error: Some(error.to_string()),
        ..template
    }
}

/// The transport's [`Failure`] inside an SDK error, wherever the pipeline wrapped it.
fn failure_in(e: &azure_core::Error) -> Option<&Failure> {
    if let Some(failure) = e.downcast_ref::<Failure>() {
        return Some(failure);
    }
    let mut cause = std::error::Error::source(e);
    while let Some(next) = cause {
        if let Some(failure) = next.downcast_ref::<Failure>() {
            return Some(failure);
        }
        cause = next.source();
    }
    None
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

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// The headers a bundle keeps, from an SDK answer.
fn kept(headers: &Headers) -> Option<BTreeMap<String, String>> {
    super::rest::kept_headers(
        headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )
}

/// kvdiag's transport under the SDK: guard, endpoint override, bounded read, limit, log.
#[derive(Debug)]
struct Guarded {
    http: Http,
    /// The vault host this client reads (`kv.vault.azure.net`).
    host: String,
    /// The one secret whose version list it reads.
    secret: String,
    /// `http://127.0.0.1:8080/kv/{vault}` filled in, when the endpoint is overridden.
    target: Option<Url>,
    session: Arc<Session>,
}

#[async_trait::async_trait]
impl HttpClient for Guarded {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let method = request.method().as_str();
        let original = request.url().clone();
        if let Err(why) = guard::check_vault(method, &original, &self.host, &self.secret) {
            self.session.refused(method, original.as_str(), &why);
            return Err(azure_core::Error::new(ErrorKind::Io, Failure::Refused(why)));
        }
        let mut url = original.clone();
        if let Some(target) = &self.target {
            url = target.clone();
            let prefix = target.path().trim_end_matches('/');
            url.set_path(&format!("{prefix}{}", original.path()));
            url.set_query(original.query());
        }
        let mut builder = self.http.client().get(url.clone());
        for (name, value) in request.headers().iter() {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let exchange = |budget| async move {
            let request = builder.build().map_err(|e| transport_failure(&e))?;
            self.http.exchange(request, budget).await
        };
        let answer = self
            .session
            .attempt(method, url.as_str(), exchange, |result| match result {
                Ok(answer) => answer.status.to_string(),
                Err(failure) => failure.to_string(),
            })
            .await
            .map_err(|failure| azure_core::Error::new(ErrorKind::Io, failure))?;
        let headers: Headers = answer
            .headers
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    HeaderName::from(name.as_str().to_owned()),
                    HeaderValue::from(value.to_str().ok()?.to_owned()),
                ))
            })
            .collect::<std::collections::HashMap<_, _>>()
            .into();
        Ok(AsyncRawResponse::from_bytes(
            StatusCode::from(answer.status),
            headers,
            answer.body,
        ))
    }
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
