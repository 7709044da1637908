//! A loopback mock of Azure that serves one evidence bundle by path, so the live collector can be
//! tested (and benchmarked) against every fixture scenario.
//!
//! Layout on one port: `/arm/...` is Resource Manager (and Resource Graph), `/kv/{vault}/...` the
//! vault `{vault}.vault.azure.net`, `/la/...` Log Analytics. Point kvdiag at it with
//! [`MockAzure::env`]. The mock
//! - answers a request with the bundle's response for the same method, service, host, path
//!   (without case) and query (api-version exactly, other parameters without case);
//! - answers Key Vault requests without a token with the real 401 bearer challenge;
//! - records every request, and every request that is not an allowed read (any `listSecrets`,
//!   any Key Vault secret GET that returns a value, any PUT/PATCH/DELETE, a POST other than the
//!   Resource Graph and Log Analytics queries) as a violation;
//! - records requests the bundle has no answer for as unplanned;
//! - can inject faults (throttling, 500s, delays, malformed bodies) for paths that contain a
//!   given text, and a fixed latency for every request;
//! - can refuse one bearer token with ARM's 401 (a token that expired or was revoked).
#![allow(dead_code)]

use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A request as the mock saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub service: &'static str,
    pub host: Option<String>,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorized: bool,
}

impl Seen {
    pub fn line(&self) -> String {
        let query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(
            "{} {} {}{}?{}",
            self.method,
            self.service,
            self.host
                .as_deref()
                .map(|h| format!("https://{h}"))
                .unwrap_or_default(),
            self.path,
            query.join("&")
        )
    }
}

/// An injected fault for requests whose path contains a text.
#[derive(Debug, Clone)]
pub enum Fault {
    /// The first `times` matching requests get 429 with `Retry-After: seconds`.
    Throttle { times: usize, retry_after: u64 },
    /// Every matching request gets this status with an ARM error body.
    Status(u16),
    /// Every matching request is answered after this delay.
    Delay(Duration),
    /// Every matching request gets 200 with a body that is not JSON.
    Malformed,
    /// Every matching request gets this status and JSON body.
    Answer(u16, Value),
    /// Every matching request gets this status, these headers and this raw body.
    Raw {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

#[derive(Debug, Default)]
struct State {
    responses: Vec<Value>,
    /// (needle, fault, times matched, whole path must end with the needle).
    faults: Vec<(String, Fault, usize, bool)>,
    seen: Vec<Seen>,
    violations: Vec<String>,
    unplanned: Vec<String>,
    latency: Duration,
    /// Resource Manager and Log Analytics answer 401 to this bearer token.
    rejected_token: Option<String>,
}

#[derive(Clone)]
struct Handler(Arc<Mutex<State>>);

/// The running mock.
pub struct MockAzure {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
}

impl MockAzure {
    /// Serves the responses of a bundle file.
    pub async fn serve(bundle: &std::path::Path) -> MockAzure {
        let text = std::fs::read_to_string(bundle).expect("bundle readable");
        let bundle: Value = serde_json::from_str(&text).expect("bundle is JSON");
        let state = Arc::new(Mutex::new(State {
            responses: bundle["responses"].as_array().cloned().unwrap_or_default(),
            ..Default::default()
        }));
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Handler(state.clone()))
            .mount(&server)
            .await;
        MockAzure { server, state }
    }

    /// The environment that points kvdiag at this mock.
    pub fn env(&self) -> Vec<(String, String)> {
        env_for(&self.server.uri())
    }

    pub fn fault(&self, path_contains: &str, fault: Fault) {
        self.state.lock().unwrap().faults.push((
            path_contains.to_ascii_lowercase(),
            fault,
            0,
            false,
        ));
    }

    /// A fault for the requests whose path ends with `path_ends_with` (one resource, not the
    /// lists below it).
    pub fn fault_at(&self, path_ends_with: &str, fault: Fault) {
        self.state.lock().unwrap().faults.push((
            path_ends_with.to_ascii_lowercase(),
            fault,
            0,
            true,
        ));
    }

    /// The recorded response (bundle shape) for a path ending with `path_ends_with`, to build
    /// a hostile variant of it.
    pub fn recorded(&self, path_ends_with: &str) -> Value {
        let wanted = path_ends_with.to_ascii_lowercase();
        self.state
            .lock()
            .unwrap()
            .responses
            .iter()
            .find(|r| {
                r["path"]
                    .as_str()
                    .is_some_and(|p| p.to_ascii_lowercase().ends_with(&wanted))
            })
            .cloned()
            .unwrap_or_else(|| panic!("no recorded response for {path_ends_with}"))
    }

    /// Serves one more recorded response (same shape as a bundle's), e.g. a read that the
    /// fixture does not hold because only a fault makes kvdiag send it.
    pub fn add_response(&self, response: Value) {
        self.state.lock().unwrap().responses.push(response);
    }

    /// Answers every Resource Manager and Log Analytics request that carries `token` with 401
    /// `ExpiredAuthenticationToken`, as ARM does for a token it no longer accepts.
    pub fn reject_token(&self, token: &str) {
        self.state.lock().unwrap().rejected_token = Some(token.to_string());
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = latency;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }

    pub fn unplanned(&self) -> Vec<String> {
        self.state.lock().unwrap().unplanned.clone()
    }

    /// Bundle responses no request asked for (`method path`), leaving out the ones a fixture
    /// holds only to prove they are redacted (`listSecrets`, a Key Vault value GET).
    pub fn never_requested(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state
            .responses
            .iter()
            .filter(|r| {
                let as_request = Seen {
                    method: r["method"].as_str().unwrap_or("").to_string(),
                    service: match r["service"].as_str() {
                        Some("keyvault") => "keyvault",
                        Some("log_analytics") => "log_analytics",
                        _ => "arm",
                    },
                    host: None,
                    path: r["path"].as_str().unwrap_or("").to_string(),
                    query: Vec::new(),
                    authorized: true,
                };
                forbidden(&as_request).is_none()
            })
            .filter(|r| !state.seen.iter().any(|s| s.authorized && matches(r, s)))
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap_or(""),
                    r["path"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    pub fn reset(&self) {
        let mut state = self.state.lock().unwrap();
        state.seen.clear();
        state.violations.clear();
        state.unplanned.clear();
        for fault in &mut state.faults {
            fault.2 = 0;
        }
    }
}

impl Respond for Handler {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let seen = match parse(request) {
            Some(seen) => seen,
            None => {
                let mut state = self.0.lock().unwrap();
                state.violations.push(format!(
                    "{} {} (unknown service)",
                    request.method, request.url
                ));
                return ResponseTemplate::new(400);
            }
        };
        let mut state = self.0.lock().unwrap();
        state.seen.push(seen.clone());
        let latency = state.latency;
        if let Some(why) = forbidden(&seen) {
            state.violations.push(format!("{}: {why}", seen.line()));
            return ResponseTemplate::new(405).set_delay(latency);
        }
        if seen.service == "keyvault" && !seen.authorized {
            return challenge().set_delay(latency);
        }
        if seen.service != "keyvault"
            && let Some(rejected) = &state.rejected_token
            && request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                == Some(format!("Bearer {rejected}").as_str())
        {
            return ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"error": {"code": "ExpiredAuthenticationToken", "message": "The access token expiry UTC time is earlier than current UTC time."}}))
                .set_delay(latency);
        }
        let lower_path = seen.path.to_ascii_lowercase();
        let mut injected = None;
        for (needle, fault, count, at_end) in state.faults.iter_mut() {
            let hit = if *at_end {
                lower_path.ends_with(needle.as_str())
            } else {
                lower_path.contains(needle.as_str())
            };
            if hit {
                *count += 1;
                injected = Some((fault.clone(), *count));
                break;
            }
        }
        let mut delay = latency;
        match injected {
            Some((Fault::Throttle { times, retry_after }, n)) if n <= times => {
                return ResponseTemplate::new(429)
                    .insert_header("retry-after", retry_after.to_string().as_str())
                    .set_body_json(serde_json::json!({"error": {"code": "TooManyRequests", "message": "The request is being throttled as the limit has been reached for operation type - 'Read'. For more information, see - https://aka.ms/msdn-throttling"}}))
                    .set_delay(latency);
            }
            Some((Fault::Status(status), _)) => {
                return ResponseTemplate::new(status)
                    .set_body_json(serde_json::json!({"error": {"code": if status == 403 { "AuthorizationFailed" } else { "InternalServerError" }, "message": format!("injected {status}")}}))
                    .set_delay(latency);
            }
            Some((Fault::Malformed, _)) => {
                return ResponseTemplate::new(200)
                    .set_body_raw("{\"value\": [", "application/json")
                    .set_delay(latency);
            }
            Some((Fault::Answer(status, body), _)) => {
                return ResponseTemplate::new(status)
                    .set_body_json(body)
                    .set_delay(latency);
            }
            Some((
                Fault::Raw {
                    status,
                    headers,
                    body,
                },
                _,
            )) => {
                let mut answer = ResponseTemplate::new(status).set_delay(latency);
                for (k, v) in &headers {
                    answer = answer.insert_header(k.as_str(), v.as_str());
                }
                return answer.set_body_raw(body, "application/json");
            }
            Some((Fault::Delay(d), _)) => delay += d,
            _ => {}
        }
        let found = state
            .responses
            .iter()
            .rev()
            .find(|r| matches(r, &seen))
            .cloned();
        let Some(recorded) = found else {
            state.unplanned.push(seen.line());
            return ResponseTemplate::new(404)
                .set_body_json(
                    serde_json::json!({"error": {"code": "NotInFixture", "message": seen.line()}}),
                )
                .set_delay(delay);
        };
        answer(&recorded, delay)
    }
}

/// The environment that points kvdiag at a mock listening at `base`.
pub fn env_for(base: &str) -> Vec<(String, String)> {
    vec![
        ("KVDIAG_ARM_ENDPOINT".into(), format!("{base}/arm")),
        ("KVDIAG_LOG_ANALYTICS_ENDPOINT".into(), format!("{base}/la")),
        (
            "KVDIAG_KEYVAULT_ENDPOINT".into(),
            format!("{base}/kv/{{vault}}"),
        ),
    ]
}

/// Key Vault's answer to a request without a token: the real 401 bearer challenge.
pub fn challenge() -> ResponseTemplate {
    ResponseTemplate::new(401).insert_header(
        "www-authenticate",
        r#"Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#,
    )
}

/// A recorded response (bundle shape) as the mock's answer: status, kept headers, body.
pub fn answer(recorded: &Value, delay: Duration) -> ResponseTemplate {
    let status = recorded["status"].as_u64().unwrap_or(200) as u16;
    let mut answer = ResponseTemplate::new(status).set_delay(delay);
    if let Some(headers) = recorded["headers"].as_object() {
        for (k, v) in headers {
            if let Some(v) = v.as_str() {
                answer = answer.insert_header(k.as_str(), v);
            }
        }
    }
    match &recorded["body"] {
        Value::Null => answer,
        Value::String(text) => answer.set_body_raw(text.clone(), "text/plain"),
        body => answer.set_body_json(body),
    }
}

/// Splits a mock URL into the service, vault host and Azure path it stands for.
pub fn parse(request: &Request) -> Option<Seen> {
    let path = request.url.path();
    let (service, host, rest) = if let Some(rest) = path.strip_prefix("/arm") {
        ("arm", None, rest.to_string())
    } else if let Some(rest) = path.strip_prefix("/la") {
        ("log_analytics", None, rest.to_string())
    } else if let Some(rest) = path.strip_prefix("/kv/") {
        let (vault, rest) = rest.split_once('/')?;
        (
            "keyvault",
            Some(format!("{vault}.vault.azure.net")),
            format!("/{rest}"),
        )
    } else {
        return None;
    };
    Some(Seen {
        method: request.method.to_string(),
        service,
        host,
        path: rest,
        query: request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        authorized: request.headers.get("authorization").is_some_and(|v| {
            v.to_str()
                .is_ok_and(|v| v.starts_with("Bearer ") && v.len() > "Bearer ".len())
        }),
    })
}

/// Why a request is not an allowed read, if it is not.
pub fn forbidden(seen: &Seen) -> Option<&'static str> {
    let path = seen.path.to_ascii_lowercase();
    if path.contains("listsecrets") || path.ends_with("/list") {
        return Some("a list action returns secret values");
    }
    match (seen.method.as_str(), seen.service) {
        ("GET", "keyvault") => {
            let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
            match segments.as_slice() {
                ["secrets", _, "versions"] => None,
                _ => Some("a Key Vault GET other than a version list returns a value"),
            }
        }
        ("GET", _) => None,
        ("POST", "arm") if path == "/providers/microsoft.resourcegraph/resources" => None,
        ("POST", "log_analytics")
            if path.starts_with("/v1/workspaces/") && path.ends_with("/query") =>
        {
            None
        }
        ("POST", _) => Some("a POST other than a Resource Graph or Log Analytics query"),
        _ => Some("not a read"),
    }
}

/// True when a recorded bundle response answers this request.
fn matches(recorded: &Value, seen: &Seen) -> bool {
    let text = |k: &str| recorded[k].as_str().unwrap_or("");
    if text("method") != seen.method
        || text("service") != seen.service
        || !text("path").eq_ignore_ascii_case(&seen.path)
    {
        return false;
    }
    if seen.service == "keyvault"
        && !text("host").eq_ignore_ascii_case(seen.host.as_deref().unwrap_or(""))
    {
        return false;
    }
    let recorded_query: Vec<(String, String)> = match &recorded["query"] {
        Value::String(q) => q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            .collect(),
        _ => Vec::new(),
    };
    recorded_query.len() == seen.query.len()
        && recorded_query.iter().all(|(k, v)| {
            seen.query.iter().any(|(sk, sv)| {
                sk == k
                    && if k == "api-version" {
                        sv == v
                    } else {
                        sv.eq_ignore_ascii_case(v)
                    }
            })
        })
}
