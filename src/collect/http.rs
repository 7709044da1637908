//! The one HTTP client of a run, for every service (ARM, Resource Graph, Log Analytics, and Key
//! Vault underneath the SDK), and the one way an answer is read.
//!
//! An answer is read whole before anything looks at it, within the attempt's time and within
//! [`MAX_BODY_BYTES`], while it streams: a body that stalls or drips ends as `timeout` when the
//! deadline passes, one that grows past the limit ends as `too large` without being kept, and a
//! declared `Content-Length` over the limit is refused before a byte of the body is read.
//!
//! The client never decompresses (it asks for identity encoding and refuses an encoded answer it
//! did not ask for: a 1 MB gzip can expand to gigabytes), never follows a redirect (a bearer
//! token must not travel to wherever a `Location` points), and never retries on its own: retries
//! live in [`super::session`] only.

use reqwest::header::{CONTENT_ENCODING, HeaderMap};
use std::time::Duration;

/// The largest answer kvdiag reads, in bytes. The biggest real answers it asks for (an
/// activity-log page of a busy resource group, a Resource Graph page of 1,000 rows) are a few
/// megabytes; 32 MiB leaves room for ten times that and bounds memory at the concurrency limit.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Why an exchange produced no usable answer. Its `Display` is what a bundle records in
/// `error`, and what a gap shows: it never quotes a body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The request guard would not send it (see [`super::guard`]).
    #[error("refused: {0}")]
    Refused(String),
    /// The run's deadline (or the per-request limit) passed before the whole answer arrived.
    #[error("timeout")]
    Timeout,
    /// No connection: worth another try.
    #[error("connect: {0}")]
    Connect(String),
    /// The answer is larger than [`MAX_BODY_BYTES`].
    #[error(
        "too large: the answer exceeds kvdiag's limit of {} MiB per response",
        MAX_BODY_BYTES >> 20
    )]
    TooLarge,
    /// The answer arrived but cannot be read (an encoding kvdiag did not ask for, or a body
    /// that is not the expected document).
    #[error("decode: {0}")]
    Decode(String),
    /// Anything else between the request and its answer (a reset mid-body, a TLS failure).
    #[error("transport: {0}")]
    Transport(String),
    /// No token.
    #[error("credential: {0}")]
    Credential(String),
}

impl Failure {
    /// Only a failed connection is worth another try: a timeout already spent the attempt's
    /// budget, and the others would fail the same way again.
    pub fn is_retryable(error: &str) -> bool {
        error.starts_with("connect")
    }
}

/// A whole answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The run's HTTP client.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

impl Http {
    pub fn new() -> Self {
        super::tls::init();
        let identity = reqwest::header::HeaderMap::from_iter([(
            reqwest::header::ACCEPT_ENCODING,
            reqwest::header::HeaderValue::from_static("identity"),
        )]);
        let client = reqwest::Client::builder()
            .user_agent(concat!("kvdiag/", env!("CARGO_PKG_VERSION")))
            .default_headers(identity)
            .redirect(reqwest::redirect::Policy::none())
            // Decompression stays off for kvdiag's client whatever reqwest's features are (a
            // dependency could turn gzip or deflate on for the whole build).
            .no_gzip()
            .no_deflate()
            .no_brotli()
            .no_zstd()
            .retry(reqwest::retry::never())
            .build()
            .expect("a reqwest client with static settings");
        Http { client }
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request` and reads its whole answer within `within`; with no time left it is not
    /// sent at all.
    pub async fn exchange(
        &self,
        request: reqwest::Request,
        within: Duration,
    ) -> Result<Answer, Failure> {
        if within.is_zero() {
            return Err(Failure::Timeout);
        }
        match tokio::time::timeout(within, self.read(request)).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Timeout),
        }
    }

    async fn read(&self, request: reqwest::Request) -> Result<Answer, Failure> {
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| transport_failure(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(encoding) = headers.get(CONTENT_ENCODING)
            && !encoding.as_bytes().eq_ignore_ascii_case(b"identity")
        {
            return Err(Failure::Decode(format!(
                "the answer is compressed ({}), which kvdiag did not ask for and does not expand",
                String::from_utf8_lossy(encoding.as_bytes())
                    .chars()
                    .take(40)
                    .collect::<String>()
            )));
        }
        let declared = response.content_length();
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(Failure::TooLarge);
        }
        let mut body = Vec::with_capacity(declared.map_or(0, |n| n.min(1 << 20) as usize));
        while let Some(chunk) = response.chunk().await.map_err(|e| transport_failure(&e))? {
            if body.len().saturating_add(chunk.len()) > MAX_BODY_BYTES {
                return Err(Failure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// A reqwest error as a [`Failure`]: its root cause, never a body.
pub fn transport_failure(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::Timeout
    } else if e.is_connect() {
        Failure::Connect(root_cause(e))
    } else {
        Failure::Transport(root_cause(e))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connection_failures_are_retried() {
        for (failure, retry) in [
            (Failure::Connect("refused".into()), true),
            (Failure::Timeout, false),
            (Failure::TooLarge, false),
            (Failure::Decode("x".into()), false),
            (Failure::Refused("x".into()), false),
            (Failure::Transport("reset".into()), false),
            (Failure::Credential("x".into()), false),
        ] {
            assert_eq!(
                Failure::is_retryable(&failure.to_string()),
                retry,
                "{failure}"
            );
        }
    }

    #[test]
    fn the_limit_is_stated_in_the_message() {
        assert_eq!(
            Failure::TooLarge.to_string(),
            "too large: the answer exceeds kvdiag's limit of 32 MiB per response"
        );
    }
}
