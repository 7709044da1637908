//! Reads for `kvdiag scan` (docs/scan.md; docs/azure.md#resource-graph-and-fleet-reads):
//! Resource Graph lists read to their last `$skipToken` page, paced by the caller's Resource
//! Graph quota, and single planned reads counted by service. Everything still passes the one guard ([`super::guard`]) in [`Rest`].
//!
//! Resource Graph allows a user a number of queries per window (the documented example is 15
//! per 5 seconds) and says how many are left on every answer (`x-ms-user-quota-remaining`,
//! `x-ms-user-quota-resets-after` as `hh:mm:ss`). [`Pacer`] keeps the latest of those: when none
//! are left, every query waits for the window to reset, staggered so that parallel batches do
//! not all fire at the same instant; a 429 `RateLimiting` closes the window the same way and the
//! page is sent again. Nothing waits past the run's deadline: a page still unread then is a
//! failed list, which the scan reports as a gap on exactly what that page would have covered.

use super::Collector;
use super::rest::Call;
use crate::azure::keyvault_url::KeyVaultRef;
use crate::bundle::{Response, Service};
use crate::plan::{GraphScope, Kind, Request};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Pages read of one Resource Graph list before it is reported as incomplete (200,000 rows).
pub const MAX_GRAPH_PAGES: usize = 200;
/// Times one page is sent again after a 429 (beyond the session's own retries).
const MAX_THROTTLED: usize = 12;
/// The longest `$skipToken` kept; a longer one is not a token Resource Graph writes.
const MAX_TOKEN: usize = 8192;
/// The wait after a 429 that names no reset time: one documented quota window.
const DEFAULT_RESET: Duration = Duration::from_secs(5);

/// A Resource Graph list, read as far as it could be.
#[derive(Debug, Clone, Default)]
pub struct GraphList {
    /// Every row of every page read, in order.
    pub rows: Vec<Value>,
    /// Pages read successfully.
    pub pages: usize,
    /// The answer that ended the list early (a failed page, a malformed body, a token game);
    /// `None` when the list was read to its end.
    pub failed: Option<Response>,
}

/// Requests sent by the scan's reads, by service (pages included, retries not).
#[derive(Debug, Default)]
pub struct Counts {
    pub resource_graph: AtomicUsize,
    pub arm: AtomicUsize,
    pub log_analytics: AtomicUsize,
    pub keyvault: AtomicUsize,
}

impl Counts {
    fn count(&self, request: &Request) {
        let counter = match (request.service(), request.kind) {
            (_, Kind::FleetResources | Kind::FleetRoleAssignments | Kind::VaultLookup) => {
                &self.resource_graph
            }
            (Service::Arm, _) => &self.arm,
            (Service::LogAnalytics, _) => &self.log_analytics,
            (Service::Keyvault, _) => &self.keyvault,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// `(resource_graph, arm, log_analytics, keyvault)`.
    pub fn get(&self) -> (usize, usize, usize, usize) {
        (
            self.resource_graph.load(Ordering::Relaxed),
            self.arm.load(Ordering::Relaxed),
            self.log_analytics.load(Ordering::Relaxed),
            self.keyvault.load(Ordering::Relaxed),
        )
    }
}

/// The Resource Graph quota as the last answer stated it.
#[derive(Debug, Default)]
pub struct Pacer {
    state: Mutex<Quota>,
}

#[derive(Debug, Default)]
struct Quota {
    /// Queries left in the current window (counted down as queries leave).
    remaining: Option<u64>,
    /// When the window resets.
    resets_at: Option<Instant>,
    /// Queries already waiting for the reset: each starts a little after the one before.
    waiting: u32,
}

impl Pacer {
    /// Waits until a query may be sent; false when the deadline comes first.
    async fn admit(&self, deadline: Instant) -> bool {
        loop {
            let wait = {
                let mut q = self.state.lock().expect("pacer lock");
                let now = Instant::now();
                match (q.remaining, q.resets_at) {
                    (Some(0), Some(at)) if at > now => {
                        q.waiting = q.waiting.saturating_add(1);
                        let stagger = Duration::from_millis(40).saturating_mul(q.waiting.min(50));
                        Some(at.saturating_duration_since(now).saturating_add(stagger))
                    }
                    (Some(0), _) => {
                        // The window has reset: the next answer tells the new count.
                        q.remaining = None;
                        q.resets_at = None;
                        q.waiting = 0;
                        None
                    }
                    (Some(n), _) => {
                        q.remaining = Some(n - 1);
                        None
                    }
                    (None, _) => None,
                }
            };
            let Some(wait) = wait else { return true };
            let now = Instant::now();
            if now.checked_add(wait).is_none_or(|until| until >= deadline) {
                return false;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes the quota an answer states; a 429 closes the window until it resets.
    fn observe(&self, response: &Response) {
        let header = |name: &str| {
            response.headers.as_ref().and_then(|h| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_string())
            })
        };
        let remaining = header("x-ms-user-quota-remaining").and_then(|v| v.parse::<u64>().ok());
        let resets = header("x-ms-user-quota-resets-after").and_then(|v| hms(&v));
        let retry_after = header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let throttled = response.status == Some(429);
        let mut q = self.state.lock().expect("pacer lock");
        let now = Instant::now();
        if throttled {
            q.remaining = Some(0);
            let wait = resets.or(retry_after).unwrap_or(DEFAULT_RESET);
            q.resets_at = now.checked_add(wait.min(Duration::from_secs(60)));
        } else if let Some(left) = remaining {
            q.remaining = Some(left);
            q.resets_at = resets.and_then(|d| now.checked_add(d.min(Duration::from_secs(60))));
            if left > 0 {
                q.waiting = 0;
            }
        }
    }
}

/// `hh:mm:ss` (Resource Graph's `x-ms-user-quota-resets-after`).
pub fn hms(text: &str) -> Option<Duration> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    let h: u64 = h.parse().ok()?;
    let m: u64 = m.parse().ok()?;
    let s: f64 = s.parse().ok()?;
    if m >= 60 || !(0.0..60.0).contains(&s) {
        return None;
    }
    let whole = h.checked_mul(3600)?.checked_add(m * 60)?;
    Some(Duration::from_secs(whole).saturating_add(Duration::from_secs_f64(s)))
}

impl Collector {
    /// Sends one planned read (a list is read to its last `nextLink`) and counts it.
    pub async fn read_planned(&self, request: Request) -> Response {
        self.counts.count(&request);
        self.rest.send(Call::new(request)).await
    }

    /// The data-plane version list of one secret (a pinned reference the ARM list cannot
    /// settle), counted.
    pub async fn read_versions(&self, reference: &KeyVaultRef) -> Response {
        self.counts.count(&Request::secret_versions(
            &reference.host,
            &reference.secret,
        ));
        self.keyvault.versions(reference).await
    }

    /// Requests by service so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Shows a step of a long run on the progress line (a terminal only).
    pub fn step(&self, message: &str) {
        self.session.progress().step(message);
    }

    /// Clears the progress line.
    pub fn finish_progress(&self) {
        self.session.progress().finish();
    }

    /// Reads a Resource Graph list to its end: the same query and scope with each page's
    /// `$skipToken`, paced by the quota. A page that fails (after retries and waits for the
    /// quota), a body that is not a page, a token seen before, or more than
    /// [`MAX_GRAPH_PAGES`] pages ends the list with `failed` set.
    pub async fn graph(&self, kind: Kind, query: &str, scope: &GraphScope) -> GraphList {
        let mut list = GraphList::default();
        let mut token: Option<String> = None;
        let mut seen = BTreeSet::new();
        loop {
            let request = Request::graph(kind, query.to_string(), scope, token.as_deref());
            let page = self.graph_page(request.clone()).await;
            if !page.ok() {
                list.failed = Some(page);
                return list;
            }
            let body = page.body.as_ref();
            let Some(rows) = body.and_then(|b| b.get("data")).and_then(Value::as_array) else {
                list.failed = Some(malformed(page, "the answer is not a Resource Graph page"));
                return list;
            };
            list.rows.extend(rows.iter().cloned());
            list.pages += 1;
            let next = body
                .and_then(|b| b.get("$skipToken"))
                .and_then(Value::as_str)
                .filter(|t| !t.trim().is_empty());
            let truncated = body
                .and_then(|b| b.get("resultTruncated"))
                .is_some_and(|t| t.as_str() == Some("true") || t.as_bool() == Some(true));
            match next {
                None if truncated => {
                    list.failed = Some(malformed(
                        page,
                        "Resource Graph truncated the result without a $skipToken",
                    ));
                    return list;
                }
                None => return list,
                Some(next) => {
                    if next.len() > MAX_TOKEN || !seen.insert(next.to_string()) {
                        list.failed = Some(malformed(
                            page,
                            "the $skipToken repeats an earlier one or is not a token",
                        ));
                        return list;
                    }
                    if list.pages >= MAX_GRAPH_PAGES {
                        list.failed = Some(malformed(
                            page,
                            &format!("more than {MAX_GRAPH_PAGES} pages; narrow the scope"),
                        ));
                        return list;
                    }
                    token = Some(next.to_string());
                }
            }
        }
    }

    /// One page: waits for the quota, sends (the session retries), and after a 429 that
    /// outlived the session's retries waits for the quota window and sends again.
    async fn graph_page(&self, request: Request) -> Response {
        let mut attempts = 0;
        loop {
            if !self.pacer.admit(self.session.deadline()).await {
                return Call::new(request).unanswered(
                    "timeout: the run's deadline came while waiting for the Resource Graph quota"
                        .into(),
                );
            }
            self.counts.count(&request);
            let page = self.rest.send(Call::new(request.clone())).await;
            self.pacer.observe(&page);
            attempts += 1;
            if page.status != Some(429) || attempts > MAX_THROTTLED {
                return page;
            }
        }
    }
}

/// A successful answer that is not usable, as a failure naming why.
fn malformed(page: Response, why: &str) -> Response {
    Response {
        error: Some(format!("decode: {why}")),
        body: None,
        ..page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn reset_times_are_hours_minutes_seconds() {
        assert_eq!(hms("00:00:05"), Some(Duration::from_secs(5)));
        assert_eq!(hms("01:02:03"), Some(Duration::from_secs(3723)));
        assert_eq!(hms("00:00:04.5"), Some(Duration::from_millis(4500)));
        assert_eq!(hms("5"), None);
        assert_eq!(hms("00:61:00"), None);
        assert_eq!(hms("99999999999999999999:00:00"), None);
        assert_eq!(hms("00:00:-1"), None);
    }

    fn answer(status: u16, remaining: &str, resets: &str) -> Response {
        let mut r = Request::graph(
            Kind::FleetResources,
            "resources".into(),
            &GraphScope::Tenant,
            None,
        )
        .recorded();
        r.status = Some(status);
        r.headers = Some(BTreeMap::from([
            ("x-ms-user-quota-remaining".into(), remaining.into()),
            ("x-ms-user-quota-resets-after".into(), resets.into()),
        ]));
        r
    }

    #[tokio::test]
    async fn an_empty_quota_waits_for_the_reset_and_the_deadline_wins() {
        let pacer = Pacer::default();
        let deadline = Instant::now() + Duration::from_secs(30);
        pacer.observe(&answer(200, "1", "00:00:01"));
        let start = Instant::now();
        assert!(pacer.admit(deadline).await, "one query left");
        assert!(start.elapsed() < Duration::from_millis(500));
        assert!(pacer.admit(deadline).await, "waits for the reset");
        assert!(start.elapsed() >= Duration::from_secs(1));
        pacer.observe(&answer(429, "0", "00:00:20"));
        assert!(
            !pacer.admit(Instant::now() + Duration::from_secs(3)).await,
            "a reset after the deadline is not waited for"
        );
    }
}
