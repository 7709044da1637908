//! A loopback mock of a whole fleet for `kvdiag scan`: Resource Graph answered from rows (the
//! `resources` and `authorizationresources` tables), paged with `$skipToken` and paced by a
//! per-user quota with the real headers and 429 `RateLimiting` body; every other read answered
//! from recorded responses like [`super::mock_azure`] (same URL layout, same Key Vault
//! challenge, same list of forbidden requests).
//!
//! The Resource Graph side understands the shapes of kvdiag's queries only: `type =~` /
//! `type in~`, `id in~`, `name in~`, `resourceGroup =~`, the body's `subscriptions`, `$top`
//! and `$skipToken`. `authorizationresources` answers every row (kvdiag filters by scope and
//! principal itself).
#![allow(dead_code)]

use super::mock_azure::{Seen, forbidden, parse};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What the fleet holds.
#[derive(Debug, Default, Clone)]
pub struct FleetData {
    /// `resources` rows (apps, jobs, environments, identities, vaults).
    pub resources: Vec<Value>,
    /// `authorizationresources` rows (role assignments).
    pub authorization: Vec<Value>,
    /// Bundle-shaped responses for every other read.
    pub responses: Vec<Value>,
}

#[derive(Debug, Default)]
struct State {
    data: FleetData,
    seen: Vec<Seen>,
    /// Resource Graph request bodies, in order.
    graph_bodies: Vec<Value>,
    violations: Vec<String>,
    unplanned: Vec<String>,
    latency: Duration,
    /// Queries per window (None: unlimited) and the window.
    quota: Option<(u32, Duration)>,
    window: Option<(Instant, u32)>,
    /// Every n-th Resource Graph request is throttled (429 with quota headers).
    throttle_every: Option<usize>,
    graph_count: usize,
    /// Resource Graph requests whose query contains the text and whose `$skipToken` is the
    /// given one (None: the first page) always fail with this status.
    never: Vec<(String, Option<String>, u16)>,
    /// Rows answered in place of what a query selects (hostile answers), by query text.
    hostile_pages: Vec<(String, Value)>,
}

#[derive(Clone)]
struct Handler(Arc<Mutex<State>>);

pub struct MockFleet {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
}

impl MockFleet {
    pub async fn serve(data: FleetData) -> MockFleet {
        let state = Arc::new(Mutex::new(State {
            data,
            ..Default::default()
        }));
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Handler(state.clone()))
            .mount(&server)
            .await;
        MockFleet { server, state }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        super::mock_azure::env_for(&self.server.uri())
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = latency;
    }

    /// Resource Graph's per-user quota: `limit` queries per `window`.
    pub fn set_quota(&self, limit: u32, window: Duration) {
        self.state.lock().unwrap().quota = Some((limit, window));
    }

    pub fn throttle_every(&self, n: usize) {
        self.state.lock().unwrap().throttle_every = Some(n);
    }

    /// The page of a query containing `needle` at `skip_token` (None: the first) never succeeds.
    pub fn never(&self, needle: &str, skip_token: Option<&str>, status: u16) {
        self.state.lock().unwrap().never.push((
            needle.to_string(),
            skip_token.map(str::to_string),
            status,
        ));
    }

    /// Every query containing `needle` is answered with this body.
    pub fn hostile_page(&self, needle: &str, body: Value) {
        self.state
            .lock()
            .unwrap()
            .hostile_pages
            .push((needle.to_string(), body));
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn graph_bodies(&self) -> Vec<Value> {
        self.state.lock().unwrap().graph_bodies.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }

    pub fn unplanned(&self) -> Vec<String> {
        self.state.lock().unwrap().unplanned.clone()
    }
}

/// The KQL string literals of a `marker (...)` list or a single `marker '...'`.
fn quoted_after(query: &str, marker: &str) -> Option<Vec<String>> {
    let at = query.find(marker)? + marker.len();
    let mut rest = query[at..].trim_start();
    let list = rest.starts_with('(');
    if list {
        rest = &rest[1..];
    }
    let mut out = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == ',') {
            chars.next();
        }
        if chars.peek() != Some(&'\'') {
            break;
        }
        chars.next();
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                }
                '\'' => break,
                c => s.push(c),
            }
        }
        out.push(s);
        if !list {
            break;
        }
    }
    Some(out)
}

fn text_of(row: &Value, key: &str) -> String {
    row[key].as_str().unwrap_or("").to_ascii_lowercase()
}

/// The rows a kvdiag query selects.
fn select(data: &FleetData, body: &Value) -> Vec<Value> {
    let query = body["query"].as_str().unwrap_or("");
    let mut rows: Vec<Value> = if query.trim_start().starts_with("authorizationresources") {
        // `scope in~ (…) or tostring(split(scope, '/secrets/')[0]) in~ (…)`.
        let scopes = quoted_after(query, "where scope in~").unwrap_or_default();
        let vaults = quoted_after(query, "[0]) in~").unwrap_or_default();
        data.authorization
            .iter()
            .filter(|r| {
                let scope = r["properties"]["scope"]
                    .as_str()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let vault = scope.split("/secrets/").next().unwrap_or("").to_string();
                scopes.contains(&scope) || vaults.contains(&vault)
            })
            .cloned()
            .collect()
    } else {
        let types = quoted_after(query, "type in~")
            .or_else(|| quoted_after(query, "type =~"))
            .unwrap_or_default();
        let ids = quoted_after(query, "id in~");
        let names = quoted_after(query, "name in~");
        let group = quoted_after(query, "resourceGroup =~");
        let subscriptions: Option<Vec<String>> = body["subscriptions"].as_array().map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_ascii_lowercase))
                .collect()
        });
        data.resources
            .iter()
            .filter(|r| {
                types
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(&text_of(r, "type")))
            })
            .filter(|r| {
                ids.as_ref().is_none_or(|ids| {
                    ids.iter()
                        .any(|i| i.eq_ignore_ascii_case(&text_of(r, "id")))
                })
            })
            .filter(|r| {
                names.as_ref().is_none_or(|n| {
                    n.iter()
                        .any(|i| i.eq_ignore_ascii_case(&text_of(r, "name")))
                })
            })
            .filter(|r| {
                group.as_ref().is_none_or(|g| {
                    g.first()
                        .is_some_and(|g| g.eq_ignore_ascii_case(&text_of(r, "resourceGroup")))
                })
            })
            .filter(|r| {
                subscriptions
                    .as_ref()
                    .is_none_or(|s| s.contains(&text_of(r, "subscriptionId")))
            })
            .cloned()
            .collect()
    };
    rows.sort_by_key(|r| text_of(r, "id"));
    rows
}

fn hms(d: Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_millis() > 0);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn rate_limited(remaining_window: Duration, latency: Duration) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("x-ms-user-quota-remaining", "0")
        .insert_header("x-ms-user-quota-resets-after", hms(remaining_window).as_str())
        .set_body_json(json!({"error": {"code": "RateLimiting", "message": "Please provide below info when asking for support: timestamp = 2026-11-20T10:30:00.0000000Z, correlationId = 00000000-0000-0000-0000-000000000000.", "details": [{"code": "RateLimiting", "message": "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help."}]}}))
        .set_delay(latency)
}

impl Handler {
    fn graph(&self, state: &mut State, body: Value) -> ResponseTemplate {
        let latency = state.latency;
        state.graph_bodies.push(body.clone());
        state.graph_count += 1;
        let query = body["query"].as_str().unwrap_or("").to_string();
        let token = body["options"]["$skipToken"].as_str().map(str::to_string);
        // Quota: a window starts with the first query after the last one ended.
        let now = Instant::now();
        let (mut remaining, mut resets) = (u32::MAX, Duration::from_secs(5));
        if let Some((limit, window)) = state.quota {
            let (start, used) = match state.window {
                Some((start, used)) if now.duration_since(start) < window => (start, used),
                _ => (now, 0),
            };
            resets = window.saturating_sub(now.duration_since(start));
            if used >= limit {
                state.window = Some((start, used));
                return rate_limited(resets, latency);
            }
            state.window = Some((start, used + 1));
            remaining = limit - used - 1;
        }
        if let Some(n) = state.throttle_every
            && state.graph_count.is_multiple_of(n)
        {
            return rate_limited(Duration::from_secs(1), latency);
        }
        for (needle, at, status) in &state.never {
            if query.contains(needle.as_str()) && *at == token {
                return ResponseTemplate::new(*status)
                    .set_body_json(json!({"error": {"code": if *status == 429 { "RateLimiting" } else { "InternalServerError" }, "message": "injected"}}))
                    .insert_header("x-ms-user-quota-resets-after", "00:00:01")
                    .set_delay(latency);
            }
        }
        let answer = |body: Value| {
            let mut t = ResponseTemplate::new(200)
                .set_body_json(body)
                .set_delay(latency);
            if remaining != u32::MAX {
                t = t
                    .insert_header("x-ms-user-quota-remaining", remaining.to_string().as_str())
                    .insert_header("x-ms-user-quota-resets-after", hms(resets).as_str());
            }
            t
        };
        if let Some((_, hostile)) = state
            .hostile_pages
            .iter()
            .find(|(n, _)| query.contains(n.as_str()))
        {
            return answer(hostile.clone());
        }
        let rows = select(&state.data, &body);
        let top = body["options"]["$top"]
            .as_u64()
            .unwrap_or(100)
            .clamp(1, 1000) as usize;
        let offset: usize = token
            .as_deref()
            .and_then(|t| t.strip_prefix("offset-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let page: Vec<Value> = rows.iter().skip(offset).take(top).cloned().collect();
        let mut out = json!({"totalRecords": rows.len(), "count": page.len(), "resultTruncated": "false", "facets": [], "data": page});
        if offset + top < rows.len() {
            out["$skipToken"] = json!(format!("offset-{}", offset + top));
        }
        answer(out)
    }
}

/// `$filter` without its time range: the window depends on when the test runs.
fn without_times(filter: &str) -> String {
    filter
        .split(" and ")
        .filter(|c| {
            !c.trim_start()
                .to_ascii_lowercase()
                .starts_with("eventtimestamp")
        })
        .collect::<Vec<_>>()
        .join(" and ")
        .to_ascii_lowercase()
}

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
    let recorded_filter = text("query")
        .split('&')
        .find_map(|p| p.strip_prefix("$filter="))
        .map(without_times);
    let seen_filter = seen
        .query
        .iter()
        .find(|(k, _)| k == "$filter")
        .map(|(_, v)| without_times(v));
    recorded_filter == seen_filter
}

impl Respond for Handler {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some(seen) = parse(request) else {
            self.0.lock().unwrap().violations.push(format!(
                "{} {} (unknown service)",
                request.method, request.url
            ));
            return ResponseTemplate::new(400);
        };
        let mut state = self.0.lock().unwrap();
        state.seen.push(seen.clone());
        let latency = state.latency;
        if let Some(why) = forbidden(&seen) {
            state.violations.push(format!("{}: {why}", seen.line()));
            return ResponseTemplate::new(405).set_delay(latency);
        }
        if !seen.authorized && seen.service != "keyvault" {
            state.violations.push(format!("{}: no token", seen.line()));
        }
        if seen.service == "keyvault" && !seen.authorized {
            return super::mock_azure::challenge().set_delay(latency);
        }
        if seen.method == "POST"
            && seen
                .path
                .eq_ignore_ascii_case("/providers/Microsoft.ResourceGraph/resources")
        {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            return self.graph(&mut state, body);
        }
        let found = state
            .data
            .responses
            .iter()
            .rev()
            .find(|r| matches(r, &seen))
            .cloned();
        // A resource GET is answered with its row (the per-app `check` of the benchmark).
        let row = (seen.method == "GET" && seen.service == "arm")
            .then(|| {
                state
                    .data
                    .resources
                    .iter()
                    .find(|r| text_of(r, "id") == seen.path.to_ascii_lowercase())
                    .map(|r| json!({"status": 200, "body": r}))
            })
            .flatten();
        let Some(recorded) = found.or(row) else {
            state.unplanned.push(seen.line());
            return ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"code": "NotInFixture", "message": seen.line()}}))
                .set_delay(latency);
        };
        super::mock_azure::answer(&recorded, latency)
    }
}

/// The fleet that holds one recorded scenario: its resources as Resource Graph rows, its role
/// assignments as `authorizationresources` rows, every recorded response for the reads made as
/// `check` makes them, and the two shared reads a scan makes instead of per-app ones (a vault's
/// secret list from the secrets recorded; the subscription's activity log from the app's).
pub fn from_scenario(bundle: &Value) -> FleetData {
    let responses = bundle["responses"].as_array().cloned().unwrap_or_default();
    let target = &bundle["target"];
    let subscription = target["subscription"].as_str().unwrap_or("");
    let group = target["resource_group"].as_str().unwrap_or("");
    let mut data = FleetData {
        responses: responses.clone(),
        ..Default::default()
    };
    let ok = |r: &Value| r["status"].as_u64() == Some(200) && r["body"].is_object();
    let segments = |p: &str| -> Vec<String> {
        p.trim_matches('/')
            .split('/')
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let mut vault_secrets: Vec<(String, Option<Value>, Value)> = Vec::new();
    for r in &responses {
        let path = r["path"].as_str().unwrap_or("");
        let s = segments(path);
        let arm = r["service"] == "arm" && r["method"] == "GET";
        if arm && s.len() == 8 && s[0] == "subscriptions" && s[4] == "providers" {
            let kind = format!("{}/{}", s[5], s[6]);
            let wanted = [
                "microsoft.app/containerapps",
                "microsoft.app/jobs",
                "microsoft.app/managedenvironments",
                "microsoft.managedidentity/userassignedidentities",
                "microsoft.keyvault/vaults",
            ];
            if wanted.contains(&kind.as_str()) && ok(r) {
                let mut row = r["body"].clone();
                row["type"] = json!(kind);
                row["id"] = json!(path);
                row["subscriptionId"] = json!(s[1]);
                row["resourceGroup"] = json!(path.split('/').nth(4).unwrap_or(""));
                data.resources.push(row);
            }
        }
        if arm && s.len() == 10 && s[6] == "vaults" && s[8] == "secrets" {
            let vault = path.rsplitn(3, '/').nth(2).unwrap_or("").to_string();
            vault_secrets.push((vault, ok(r).then(|| r["body"].clone()), r.clone()));
        }
        if arm
            && path
                .to_ascii_lowercase()
                .ends_with("/providers/microsoft.authorization/roleassignments")
            && ok(r)
        {
            for a in r["body"]["value"].as_array().into_iter().flatten() {
                if !data.authorization.iter().any(|x| x["id"] == a["id"]) {
                    data.authorization.push(a.clone());
                }
            }
        }
        let query = r["query"].as_str().unwrap_or("");
        if arm
            && path
                .to_ascii_lowercase()
                .ends_with("/providers/microsoft.insights/eventtypes/management/values")
            && query.to_ascii_lowercase().contains("resourceuri eq")
        {
            let mut fleet = r.clone();
            fleet["query"] = json!(format!(
                "api-version=2015-04-01&$filter=resourceProvider eq 'Microsoft.App'"
            ));
            data.responses.push(fleet);
        }
    }
    let mut vaults: Vec<String> = vault_secrets.iter().map(|(v, _, _)| v.clone()).collect();
    vaults.sort();
    vaults.dedup();
    for vault in vaults {
        let mine: Vec<&(String, Option<Value>, Value)> = vault_secrets
            .iter()
            .filter(|(v, _, _)| *v == vault)
            .collect();
        // A refused secret read means the list is refused the same way.
        let refused = mine
            .iter()
            .find(|(_, body, r)| body.is_none() && r["status"].as_u64() != Some(404));
        let response = match refused {
            Some((_, _, r)) => {
                let mut r = r.clone();
                r["path"] = json!(format!("{vault}/secrets"));
                r["query"] = json!("api-version=2025-05-01");
                r
            }
            None => json!({
                "method": "GET", "service": "arm", "path": format!("{vault}/secrets"),
                "query": "api-version=2025-05-01", "status": 200,
                "body": {"value": mine.iter().filter_map(|(_, b, _)| b.clone()).collect::<Vec<_>>()},
            }),
        };
        data.responses.push(response);
    }
    let _ = (subscription, group);
    data
}
