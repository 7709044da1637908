//! Azure Resource Manager, Resource Graph and Log Analytics over typed reqwest calls, recorded as
//! bundle responses exactly as received (README's design notes say why not azure_mgmt_app).
//!
//! Lists are read to the end (`nextLink`, at most [`MAX_PAGES`] pages) and recorded as one
//! response whose `value` holds every page, so a bundle replays without its paging.

use super::auth::Credentials;
use super::endpoints::{Endpoints, join};
use super::session::Session;
use crate::bundle::{KEPT_HEADERS, Response, Service};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use url::Url;

/// Pages followed for one list before it is recorded as truncated (its `nextLink` kept).
pub const MAX_PAGES: usize = 20;

/// One planned read.
#[derive(Debug, Clone)]
pub struct Call {
    pub service: Service,
    pub method: &'static str,
    /// Path below the service's base, starting with `/`.
    pub path: String,
    /// Query pairs, `api-version` first, unencoded.
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Call {
    pub fn get(path: impl Into<String>, api_version: &str) -> Self {
        Call {
            service: Service::Arm,
            method: "GET",
            path: path.into(),
            query: vec![("api-version".into(), api_version.into())],
            body: None,
        }
    }

    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.query.push(("$filter".into(), filter.into()));
        self
    }

    pub fn post(
        service: Service,
        path: impl Into<String>,
        query: Vec<(String, String)>,
        body: Value,
    ) -> Self {
        Call {
            service,
            method: "POST",
            path: path.into(),
            query,
            body: Some(body),
        }
    }

    /// The decoded `k=v&k=v` form bundles record.
    fn query_string(&self) -> String {
        self.query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The request as a bundle records it, before any answer.
    fn recorded(&self) -> Response {
        Response {
            method: self.method.into(),
            service: self.service,
            host: None,
            path: self.path.clone(),
            query: self.query_string(),
            request_body: self.body.clone(),
            status: None,
            body: None,
            error: None,
            headers: None,
        }
    }

    /// What is recorded when no answer came.
    pub fn unanswered(&self, error: String) -> Response {
        Response {
            error: Some(error),
            ..self.recorded()
        }
    }
}

/// The ARM and Log Analytics client of one run.
#[derive(Debug, Clone)]
pub struct Rest {
    http: reqwest::Client,
    credentials: Arc<Credentials>,
    endpoints: Arc<Endpoints>,
    session: Arc<Session>,
}

impl Rest {
    pub fn new(
        credentials: Arc<Credentials>,
        endpoints: Arc<Endpoints>,
        session: Arc<Session>,
    ) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("kvdiag/", env!("CARGO_PKG_VERSION")))
            // Never follow a redirect with a bearer token to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client with static settings");
        Rest {
            http,
            credentials,
            endpoints,
            session,
        }
    }

    fn base_and_scope(&self, service: Service) -> (&Url, &str) {
        match service {
            Service::LogAnalytics => (
                &self.endpoints.log_analytics,
                &self.endpoints.log_analytics_scope,
            ),
            _ => (&self.endpoints.arm, &self.endpoints.arm_scope),
        }
    }

    /// Sends a call (with retries) and reads a list to its last page.
    pub async fn send(&self, call: Call) -> Response {
        let call = &call;
        let mut first = self.send_once(call, None).await;
        let mut pages = 1;
        while let Some(next) = next_link(&first) {
            if pages >= MAX_PAGES {
                break;
            }
            let page = self.send_once(call, Some(&next)).await;
            if !page.ok() {
                // An incomplete list is not evidence of absence: record the failure instead.
                return Response {
                    path: call.path.clone(),
                    query: call.query_string(),
                    ..page
                };
            }
            if let (Some(merged), Some(more)) = (first.body.as_mut(), page.body.as_ref()) {
                merge_page(merged, more);
            }
            pages += 1;
        }
        first
    }

    /// One request, retried; `next` is a `nextLink` to follow instead of the call's own URL.
    async fn send_once(&self, call: &Call, next: Option<&Url>) -> Response {
        let (base, scope) = self.base_and_scope(call.service);
        let url = match next {
            // Keep the token on the configured host: only the link's path and query are used.
            Some(link) => {
                let mut url = join(base, link.path());
                url.set_query(link.query());
                url
            }
            None => {
                let mut url = join(base, &call.path);
                url.query_pairs_mut().extend_pairs(&call.query);
                url
            }
        };
        let token = match self.credentials.token(scope).await {
            Ok(token) => token,
            Err(message) => return call.unanswered(format!("credential: {message}")),
        };
        let record = |status: u16, body, headers| Response {
            status: Some(status),
            body,
            headers,
            ..call.recorded()
        };
        self.session
            .with_retries(|| {
                let url = url.clone();
                let token = token.token.secret().to_string();
                async move {
                    let send = async {
                        let mut request = match call.method {
                            "POST" => self.http.post(url.clone()),
                            _ => self.http.get(url.clone()),
                        }
                        .bearer_auth(&token)
                        .timeout(self.session.attempt_timeout());
                        if let Some(body) = &call.body {
                            request = request.json(body);
                        }
                        match request.send().await {
                            Err(e) => call.unanswered(transport_error(&e)),
                            Ok(answer) => {
                                let status = answer.status().as_u16();
                                let headers = kept_headers(answer.headers());
                                match answer.bytes().await {
                                    Ok(bytes) => record(status, parse_body(&bytes), headers),
                                    Err(e) => call.unanswered(transport_error(&e)),
                                }
                            }
                        }
                    };
                    self.session
                        .attempt(call.method, url.as_str(), send, Session::outcome)
                        .await
                }
            })
            .await
    }
}

/// A body as JSON, or as a string when it is not JSON (an HTML error page, say).
pub fn parse_body(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(serde_json::from_slice(bytes).unwrap_or_else(|_| {
        Value::String(String::from_utf8_lossy(bytes).chars().take(2000).collect())
    }))
}

/// The response headers a bundle keeps (request ids, throttling state).
pub fn kept_headers(headers: &reqwest::header::HeaderMap) -> Option<BTreeMap<String, String>> {
    let kept: BTreeMap<String, String> = headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            KEPT_HEADERS.contains(&name) || name.starts_with("x-ms-ratelimit-remaining")
        })
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// `timeout`, `connect: …` or `transport: …` for a request that got no answer.
pub fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        format!("connect: {}", root_cause(e))
    } else {
        format!("transport: {}", root_cause(e))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn next_link(response: &Response) -> Option<Url> {
    if !response.ok() {
        return None;
    }
    let link = response.body.as_ref()?.get("nextLink")?.as_str()?;
    Url::parse(link).ok()
}

/// Appends a page's `value` to the first page's and carries its `nextLink` over (dropped once
/// the last page says there is none). Key Vault pages merge the same way.
pub fn merge_page(first: &mut Value, page: &Value) {
    let Value::Object(merged) = first else {
        return;
    };
    if let (Some(Value::Array(all)), Some(Value::Array(more))) =
        (merged.get_mut("value"), page.get("value"))
    {
        all.extend(more.iter().cloned());
    }
    match page.get("nextLink") {
        Some(link) if !link.is_null() => merged.insert("nextLink".into(), link.clone()),
        _ => merged.remove("nextLink"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(body: Value) -> Response {
        Response {
            status: Some(200),
            body: Some(body),
            ..Call::get("/x", "1").recorded()
        }
    }

    #[test]
    fn pages_merge_into_one_value_list() {
        let mut first = page(
            json!({"value": [1, 2], "nextLink": "https://management.azure.com/x?$skiptoken=a"}),
        );
        assert_eq!(next_link(&first).unwrap().query(), Some("$skiptoken=a"));
        merge_page(
            first.body.as_mut().unwrap(),
            &json!({"value": [3], "nextLink": null}),
        );
        assert_eq!(first.body, Some(json!({"value": [1, 2, 3]})));
        assert!(next_link(&first).is_none());
    }

    #[test]
    fn bodies_that_are_not_json_are_kept_as_text() {
        assert_eq!(parse_body(b"{\"a\":1}"), Some(json!({"a": 1})));
        assert_eq!(
            parse_body(b"<html>bad gateway</html>"),
            Some(json!("<html>bad gateway</html>"))
        );
        assert_eq!(parse_body(b""), None);
    }
}
