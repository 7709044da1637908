//! What every request of one run shares: the deadline, the concurrency limit, the retry policy,
//! and the request log (`-v`) and progress that go to stderr.
//!
//! Retries live here and only here: 429, 408 and 5xx answers and failed connections are tried
//! again (at most [`MAX_RETRIES`] times, honouring `Retry-After`, never past the deadline); the
//! Key Vault SDK's own retry policy is switched off so the two never multiply.

use super::http::Failure;
use super::progress::Progress;
use crate::bundle::Response;
use backon::{ExponentialBuilder, Retryable};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Retries after the first attempt.
pub const MAX_RETRIES: usize = 3;
/// The longest single request, when the deadline is further away.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests in flight at once: enough for every independent read of a large app, few enough to
/// stay far from ARM's per-principal read limits.
pub const DEFAULT_PARALLELISM: u16 = 16;

/// One run's shared request machinery.
#[derive(Debug)]
pub struct Session {
    deadline: Instant,
    limiter: Semaphore,
    verbose: bool,
    progress: Progress,
    sent: AtomicUsize,
}

impl Session {
    pub fn new(
        timeout: Duration,
        parallelism: usize,
        verbose: bool,
        progress: Progress,
    ) -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Session {
            // A timeout beyond what the clock can represent is no deadline worth keeping: a
            // year stands in for it (the flag is validated long before this).
            deadline: now
                .checked_add(timeout)
                .or_else(|| now.checked_add(Duration::from_secs(365 * 86_400)))
                .unwrap_or(now),
            limiter: Semaphore::new(parallelism.max(1)),
            verbose,
            progress,
            sent: AtomicUsize::new(0),
        })
    }

    /// The run's deadline: every attempt, body read, backoff and token fetch ends by then.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// `-v`: a request the guard would not send, and why.
    pub fn refused(&self, method: &str, url: &str, why: &str) {
        if self.verbose {
            let url: String = url.chars().filter(|c| !c.is_control()).take(200).collect();
            self.progress
                .println(&format!("kvdiag: {method} {url} -> refused ({why})"));
        }
    }

    /// Time left before the run's deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The timeout for the next attempt: the per-request limit or what is left of the run.
    pub fn attempt_timeout(&self) -> Duration {
        self.remaining().min(REQUEST_TIMEOUT)
    }

    /// HTTP requests sent so far (retries and Key Vault challenges included).
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Runs one attempt under the concurrency limit, counting and logging it; `outcome` names
    /// the result for the log (`200`, `timeout`). `send` gets the attempt's time budget, taken
    /// when the attempt may start: the per-request limit or what is left of the run, and zero
    /// when the deadline passed while the attempt waited for its turn (it must then not send).
    pub async fn attempt<T, Fut>(
        &self,
        method: &str,
        url: &str,
        send: impl FnOnce(Duration) -> Fut,
        outcome: impl FnOnce(&T) -> String,
    ) -> T
    where
        Fut: Future<Output = T>,
    {
        let permit = tokio::time::timeout_at(self.deadline, self.limiter.acquire()).await;
        let _permit = match permit {
            Ok(permit) => Some(permit.expect("limiter is never closed")),
            Err(_) => None,
        };
        let budget = if _permit.is_some() {
            self.attempt_timeout()
        } else {
            Duration::ZERO
        };
        if !budget.is_zero() {
            self.sent.fetch_add(1, Ordering::Relaxed);
        }
        let started = std::time::Instant::now();
        let result = send(budget).await;
        if self.verbose || tracing::enabled!(target: "kvdiag::http", tracing::Level::DEBUG) {
            let outcome = outcome(&result);
            let ms = started.elapsed().as_millis();
            tracing::debug!(target: "kvdiag::http", %method, %url, %outcome, ms, "request");
            if self.verbose {
                self.progress
                    .println(&format!("kvdiag: {method} {url} -> {outcome} ({ms} ms)"));
            }
        }
        result
    }

    /// `-v`: one line per request — method, URL (never a token: tokens travel in headers), status
    /// and milliseconds. This names a recorded response's outcome.
    pub fn outcome(response: &Response) -> String {
        match (response.status, &response.error) {
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => error.clone(),
            (None, None) => "no answer".into(),
        }
    }

    /// Sends with retries: `attempt` is called again for a retryable answer, after `Retry-After`
    /// or an exponential backoff, until [`MAX_RETRIES`] or the deadline.
    pub async fn with_retries<F, Fut>(&self, attempt: F) -> Response
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Response>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(500))
            .with_max_delay(Duration::from_secs(8))
            .with_max_times(MAX_RETRIES)
            .with_jitter();
        let mut attempt = attempt;
        let outcome = (|| {
            let next = attempt();
            async move {
                let response = next.await;
                if retryable(&response) {
                    Err(response)
                } else {
                    Ok(response)
                }
            }
        })
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .adjust(|response: &Response, backoff: Option<Duration>| {
            // `None` from the backoff means the retries are used up; Retry-After only sets the wait.
            let wait = retry_after(response, OffsetDateTime::now_utc()).unwrap_or(backoff?);
            // Waiting past the deadline only delays the same failure.
            (wait.saturating_add(Duration::from_millis(100)) < self.remaining()).then_some(wait)
        })
        .await;
        match outcome {
            Ok(response) | Err(response) => response,
        }
    }
}

/// 408, 429 and 5xx other than 501 are worth another try; so is a failed connection
/// ([`Failure::is_retryable`]). A timeout is not: it already spent the request's whole budget;
/// nor is an answer too large, undecodable or refused by the guard: it would be the same again.
fn retryable(response: &Response) -> bool {
    match (response.status, response.error.as_deref()) {
        (Some(408 | 429 | 500 | 502 | 503 | 504), _) => true,
        (None, Some(error)) => Failure::is_retryable(error),
        _ => false,
    }
}

/// The longest `Retry-After` kvdiag waits; a longer one is waited for this long (and the
/// deadline still wins).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// `Retry-After` as seconds or as an HTTP date (RFC 9110), at most [`MAX_RETRY_AFTER`]; a date
/// in the past means now. Without it, Resource Graph's `x-ms-user-quota-resets-after`
/// (`hh:mm:ss`, docs/azure.md#resource-graph-and-fleet-reads) says when a 429 may be retried.
fn retry_after(response: &Response, now: OffsetDateTime) -> Option<Duration> {
    let headers = response.headers.as_ref()?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    let Some(value) = header("retry-after") else {
        return header("x-ms-user-quota-resets-after")
            .and_then(super::fleet::hms)
            .map(|d| d.min(MAX_RETRY_AFTER));
    };
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
            let seconds = at.unix_timestamp().saturating_sub(now.unix_timestamp());
            Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Service;
    use std::collections::BTreeMap;

    fn answer(status: Option<u16>, error: Option<&str>, retry_after: Option<&str>) -> Response {
        Response {
            method: "GET".into(),
            service: Service::Arm,
            host: None,
            path: "/x".into(),
            query: String::new(),
            request_body: None,
            status,
            body: None,
            error: error.map(str::to_string),
            headers: retry_after
                .map(|v| BTreeMap::from([("Retry-After".to_string(), v.to_string())])),
        }
    }

    #[test]
    fn what_is_retried() {
        assert!(retryable(&answer(Some(429), None, None)));
        assert!(retryable(&answer(Some(503), None, None)));
        assert!(retryable(&answer(None, Some("connect: refused"), None)));
        assert!(!retryable(&answer(Some(404), None, None)));
        assert!(!retryable(&answer(Some(403), None, None)));
        assert!(!retryable(&answer(Some(501), None, None)));
        assert!(!retryable(&answer(None, Some("timeout"), None)));
        assert!(!retryable(&answer(None, Some("decode: not a list"), None)));
        assert!(!retryable(&answer(None, Some("too large: x"), None)));
        assert!(!retryable(&answer(None, Some("refused: x"), None)));
    }

    #[test]
    fn retry_after_seconds_and_dates_are_honoured_and_capped() {
        let now = time::macros::datetime!(2026-10-21 07:27:50 UTC);
        let wait = |v: &str| retry_after(&answer(Some(429), None, Some(v)), now);
        assert_eq!(wait("2"), Some(Duration::from_secs(2)));
        assert_eq!(wait("3600"), Some(Duration::from_secs(60)));
        assert_eq!(wait("18446744073709551615"), Some(Duration::from_secs(60)));
        assert_eq!(
            wait("Wed, 21 Oct 2026 07:28:00 GMT"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(wait("Wed, 21 Oct 2026 07:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(
            wait("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(wait("soon"), None);
        let mut quota = answer(Some(429), None, None);
        quota.headers = Some(BTreeMap::from([(
            "x-ms-user-quota-resets-after".to_string(),
            "00:00:03".to_string(),
        )]));
        assert_eq!(retry_after(&quota, now), Some(Duration::from_secs(3)));
        assert_eq!(wait("-5"), None);
    }

    #[test]
    fn an_unrepresentable_timeout_is_no_panic() {
        let session = Session::new(Duration::MAX, 1, false, Progress::hidden());
        assert!(session.remaining() > Duration::from_secs(86_400));
    }

    #[tokio::test]
    async fn retries_stop_after_the_limit() {
        let session = Session::new(Duration::from_secs(30), 4, false, Progress::hidden());
        let calls = AtomicUsize::new(0);
        let response = session
            .with_retries(|| {
                calls.fetch_add(1, Ordering::Relaxed);
                async { answer(Some(503), None, Some("0")) }
            })
            .await;
        assert_eq!(response.status, Some(503));
        assert_eq!(calls.load(Ordering::Relaxed), MAX_RETRIES + 1);
    }

    #[tokio::test]
    async fn no_retry_is_scheduled_past_the_deadline() {
        let session = Session::new(Duration::from_secs(1), 4, false, Progress::hidden());
        let calls = AtomicUsize::new(0);
        let response = session
            .with_retries(|| {
                calls.fetch_add(1, Ordering::Relaxed);
                async { answer(Some(429), None, Some("30")) }
            })
            .await;
        assert_eq!(response.status, Some(429));
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }
}
