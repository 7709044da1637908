//! Azure Resource Manager, Resource Graph and Log Analytics over typed reqwest calls, recorded as
//! bundle responses exactly as received (README's design notes say why not azure_mgmt_app).
//!
//! Lists are read to the end (`nextLink`, at most [`MAX_PAGES`] pages) and recorded as one
//! response whose `value` holds every page, so a bundle replays without its paging. Every
//! request, first page or next, passes [`guard`] before it is sent.

use super::auth::RunCredentials;
use super::endpoints::{Endpoints, join};
use super::guard;
use super::http::{Failure, Http, transport_failure};
use super::session::Session;
use crate::bundle::{Response, Service, is_kept_header};
use crate::plan::Request;
use azure_core::credentials::AccessToken;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use url::Url;

/// Pages followed for one list before it is recorded as truncated (its `nextLink` kept).
pub const MAX_PAGES: usize = 20;

/// One planned read, as it is sent and recorded.
#[derive(Debug, Clone)]
pub struct Call {
    request: Request,
}

impl Call {
    pub fn new(request: Request) -> Self {
        Call { request }
    }

    /// The request as a bundle records it, before any answer.
    fn recorded(&self) -> Response {
        self.request.recorded()
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
    http: Http,
    credentials: Arc<RunCredentials>,
    endpoints: Arc<Endpoints>,
    session: Arc<Session>,
}

impl Rest {
    pub fn new(
        http: Http,
        credentials: Arc<RunCredentials>,
        endpoints: Arc<Endpoints>,
        session: Arc<Session>,
    ) -> Self {
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

    /// Sends a call (with retries) and reads a list to its last page. Every page passes the
    /// guard and must continue the same list on the same host; one that does not ends the read
    /// as a `refused` failure, because an incomplete list is not evidence of absence.
    pub async fn send(&self, call: Call) -> Response {
        let call = &call;
        let (base, _) = self.base_and_scope(call.request.service());
        let mut url = join(base, &call.request.path);
        url.query_pairs_mut().extend_pairs(call.request.query());
        let first_url = url.clone();
        let mut first = self.send_once(call, url).await;
        let mut pages = 1;
        while let Some(link) = next_link(&first) {
            if pages >= MAX_PAGES {
                break;
            }
            let next = guard::resolve_link(&first_url, &link)
                .and_then(|next| guard::check_page(&first_url, &next).map(|()| next));
            let next = match next {
                Ok(next) => next,
                Err(why) => {
                    self.session.refused("GET", &link, &why);
                    return call.unanswered(Failure::Refused(why).to_string());
                }
            };
            let page = self.send_once(call, next).await;
            if !page.ok() {
                // An incomplete list is not evidence of absence: record the failure instead.
                return Response {
                    path: call.request.path.clone(),
                    query: call.request.query_string(),
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

    /// One request to `url` (the call's own, or a page of it), guarded and retried.
    async fn send_once(&self, call: &Call, url: Url) -> Response {
        let (base, scope) = self.base_and_scope(call.request.service());
        if let Err(why) = guard::check(call.request.service(), call.request.method(), &url, base) {
            self.session
                .refused(call.request.method(), url.as_str(), &why);
            return call.unanswered(Failure::Refused(why).to_string());
        }
        // A token reused from the disk cache or an earlier run that Azure no longer takes
        // (401) is dropped and the request sent once more with a fresh one.
        let mut renewed = false;
        loop {
            let token = match self.credentials.token(scope).await {
                Ok(token) => token,
                Err(message) => return call.unanswered(Failure::Credential(message).to_string()),
            };
            let response = self.send_with(call, &url, &token).await;
            if response.status == Some(401)
                && !renewed
                && self.credentials.renew(scope, Some(&token)).await
            {
                renewed = true;
                continue;
            }
            return response;
        }
    }

    /// One request with `token`, retried as the session retries.
    async fn send_with(&self, call: &Call, url: &Url, token: &AccessToken) -> Response {
        self.session
            .with_retries(|| {
                let url = url.clone();
                let token = token.token.secret().to_string();
                async move {
                    let mut request = match call.request.method() {
                        "POST" => self.http.client().post(url.clone()),
                        _ => self.http.client().get(url.clone()),
                    }
                    .bearer_auth(&token);
                    if let Some(body) = &call.request.body {
                        request = request.json(body);
                    }
                    let send = |budget| async move {
                        let request = match request.build() {
                            Ok(request) => request,
                            Err(e) => return call.unanswered(transport_failure(&e).to_string()),
                        };
                        match self.http.exchange(request, budget).await {
                            Err(failure) => call.unanswered(failure.to_string()),
                            Ok(answer) => Response {
                                status: Some(answer.status),
                                body: parse_body(&answer.body),
                                headers: kept_headers(answer.headers.iter().filter_map(
                                    |(name, value)| Some((name.as_str(), value.to_str().ok()?)),
                                )),
                                ..call.recorded()
                            },
                        }
                    };
                    self.session
                        .attempt(call.request.method(), url.as_str(), send, Session::outcome)
                        .await
                }
            })
            .await
    }
}

/// A body as JSON, or as a string when it is not JSON (an HTML error page, say): at most 2,000
/// characters of it, with control characters dropped.
pub fn parse_body(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(serde_json::from_slice(bytes).unwrap_or_else(|_| {
        Value::String(
            String::from_utf8_lossy(bytes)
                .chars()
                .filter(|c| !c.is_control() || *c == '\n')
                .take(2000)
                .collect(),
        )
    }))
}

/// The response headers a bundle keeps (request ids, throttling state), from any header list:
/// reqwest's, or the Key Vault SDK's.
pub fn kept_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<BTreeMap<String, String>> {
    let kept: BTreeMap<String, String> = headers
        .into_iter()
        .filter(|(name, _)| is_kept_header(name))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// The `nextLink` of a successful list page: absent, `null` or empty ends the list; anything
/// else (even a link that is not a URL) is a page that must be read or refused.
fn next_link(response: &Response) -> Option<String> {
    if !response.ok() {
        return None;
    }
    match response.body.as_ref()?.get("nextLink")? {
        Value::Null => None,
        Value::String(link) if link.trim().is_empty() => None,
        Value::String(link) => Some(link.clone()),
        other => Some(other.to_string()),
    }
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
            ..Call::new(Request::vault("/x")).recorded()
        }
    }

    #[test]
    fn pages_merge_into_one_value_list() {
        let mut first = page(
            json!({"value": [1, 2], "nextLink": "https://management.azure.com/x?$skiptoken=a"}),
        );
        assert_eq!(
            next_link(&first).unwrap(),
            "https://management.azure.com/x?$skiptoken=a"
        );
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
