//! Hostile HTTP on loopback, at the byte level that wiremock cannot reach: a front server that
//! answers chosen paths with dripping, stalled, oversized or compressed bodies and forwards
//! everything else to the [`super::mock_azure::MockAzure`] behind it; and a recorder that stands
//! for "another host" and only notes what reaches it.
//!
//! Every connection gets one answer and is closed (`Connection: close`), so the server needs no
//! keep-alive bookkeeping. Every loop here is bounded: a drip or a stall ends after
//! [`MAX_HOSTILE`] whatever the client does, and the accept loop ends with the test's runtime.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The longest any hostile answer keeps a connection open.
pub const MAX_HOSTILE: Duration = Duration::from_secs(90);

/// A hostile way to answer.
#[derive(Debug, Clone)]
pub enum Hostile {
    /// This status, these headers and this body (`Content-Length` added).
    Raw {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A 200 declaring a 1 MB JSON body, then one byte every `every`.
    Drip { every: Duration },
    /// A 200 declaring a 1 MB JSON body, the first 10 bytes of it, then nothing.
    Stall,
    /// A 200 JSON body of `bytes` bytes, sent as fast as the socket takes it; with
    /// `declare_length` the size is announced up front, else it is chunked.
    Huge { bytes: usize, declare_length: bool },
}

/// A request as the hostile server saw it.
#[derive(Debug, Clone)]
pub struct Arrived {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub authorized: bool,
}

#[derive(Default)]
struct State {
    rules: Vec<(String, Hostile)>,
    arrived: Vec<Arrived>,
}

/// A hostile server on 127.0.0.1.
pub struct HostileServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl HostileServer {
    /// A front for `upstream` (`http://127.0.0.1:port`), or with `None` a recorder that
    /// answers every request `200 {"value": []}`.
    pub async fn start(upstream: Option<String>) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        // reqwest is built without a TLS provider of its own; kvdiag installs ring.
        kvdiag::collect::tls::init();
        let client = reqwest::Client::builder()
            .no_gzip()
            .no_deflate()
            .no_brotli()
            .no_zstd()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = shared.clone();
                let upstream = upstream.clone();
                let client = client.clone();
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(MAX_HOSTILE, serve(socket, state, upstream, client))
                            .await;
                });
            }
        });
        HostileServer { addr, state }
    }

    /// `http://127.0.0.1:port`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers requests whose path contains `needle` (without case) this way.
    pub fn rule(&self, needle: &str, answer: Hostile) {
        self.state
            .lock()
            .unwrap()
            .rules
            .push((needle.to_ascii_lowercase(), answer));
    }

    pub fn arrived(&self) -> Vec<Arrived> {
        self.state.lock().unwrap().arrived.clone()
    }

    /// The environment that points kvdiag at this front instead of the mock behind it.
    pub fn env(&self) -> Vec<(String, String)> {
        let base = self.base();
        vec![
            ("KVDIAG_ARM_ENDPOINT".into(), format!("{base}/arm")),
            ("KVDIAG_LOG_ANALYTICS_ENDPOINT".into(), format!("{base}/la")),
            (
                "KVDIAG_KEYVAULT_ENDPOINT".into(),
                format!("{base}/kv/{{vault}}"),
            ),
        ]
    }
}

async fn serve(
    mut socket: TcpStream,
    state: Arc<Mutex<State>>,
    upstream: Option<String>,
    client: reqwest::Client,
) {
    let Some((head, body)) = read_request(&mut socket).await else {
        return;
    };
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let authorized = headers
        .iter()
        .any(|(k, v)| k == "authorization" && v.len() > "Bearer ".len());
    let path = target
        .split('?')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let rule = {
        let mut state = state.lock().unwrap();
        state.arrived.push(Arrived {
            method: method.clone(),
            target: target.clone(),
            authorized,
        });
        state
            .rules
            .iter()
            .find(|(needle, _)| path.contains(needle.as_str()))
            .map(|(_, answer)| answer.clone())
    };
    match (rule, upstream) {
        (Some(answer), _) => answer_with(&mut socket, answer).await,
        (None, Some(upstream)) => {
            forward(
                &mut socket,
                &client,
                &upstream,
                &method,
                &target,
                &headers,
                body,
            )
            .await
        }
        (None, None) => {
            let _ = socket.write_all(&response_head(200, &[], Some(13))).await;
            let _ = socket.write_all(b"{\"value\": []}").await;
        }
    }
    let _ = socket.shutdown().await;
}

/// Reads one request: the head (at most 64 KiB) and a `Content-Length` body (at most 1 MiB).
async fn read_request(socket: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 || buffer.len() > 64 * 1024 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
        .min(1 << 20);
    let mut body = buffer[end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((head, body))
}

fn response_head(status: u16, headers: &[(String, String)], length: Option<usize>) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} Hostile\r\nconnection: close\r\n");
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("content-type: application/json\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match length {
        Some(n) => head.push_str(&format!("content-length: {n}\r\n")),
        None => head.push_str("transfer-encoding: chunked\r\n"),
    }
    head.push_str("\r\n");
    head.into_bytes()
}

async fn answer_with(socket: &mut TcpStream, answer: Hostile) {
    const DECLARED: usize = 1 << 20;
    match answer {
        Hostile::Raw {
            status,
            headers,
            body,
        } => {
            let _ = socket
                .write_all(&response_head(status, &headers, Some(body.len())))
                .await;
            let _ = socket.write_all(&body).await;
        }
        Hostile::Drip { every } => {
            if socket
                .write_all(&response_head(200, &[], Some(DECLARED)))
                .await
                .is_err()
            {
                return;
            }
            let body = b"{\"value\": [";
            for i in 0..DECLARED {
                let byte = [body.get(i).copied().unwrap_or(b' ')];
                if socket.write_all(&byte).await.is_err() || socket.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        }
        Hostile::Stall => {
            let _ = socket
                .write_all(&response_head(200, &[], Some(DECLARED)))
                .await;
            let _ = socket.write_all(b"{\"value\": ").await;
            tokio::time::sleep(MAX_HOSTILE).await;
        }
        Hostile::Huge {
            bytes,
            declare_length,
        } => {
            let length = declare_length.then_some(bytes);
            if socket
                .write_all(&response_head(200, &[], length))
                .await
                .is_err()
            {
                return;
            }
            let item = b"{\"name\": \"revision-padding-padding-padding\"},";
            let block: Vec<u8> = item.iter().copied().cycle().take(64 * 1024).collect();
            let mut sent = 0;
            let _ = write_part(socket, b"{\"value\": [", declare_length).await;
            while sent < bytes {
                let n = block.len().min(bytes - sent);
                if write_part(socket, &block[..n], declare_length)
                    .await
                    .is_err()
                {
                    return;
                }
                sent += n;
            }
            if !declare_length {
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
        }
    }
}

async fn write_part(socket: &mut TcpStream, part: &[u8], raw: bool) -> std::io::Result<()> {
    if raw {
        socket.write_all(part).await
    } else {
        socket
            .write_all(format!("{:x}\r\n", part.len()).as_bytes())
            .await?;
        socket.write_all(part).await?;
        socket.write_all(b"\r\n").await
    }
}

async fn forward(
    socket: &mut TcpStream,
    client: &reqwest::Client,
    upstream: &str,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = client.request(method, format!("{upstream}{target}"));
    for (k, v) in headers {
        if matches!(k.as_str(), "authorization" | "content-type" | "accept") {
            request = request.header(k.as_str(), v.as_str());
        }
    }
    let Ok(answer) = request.body(body).send().await else {
        let _ = socket.write_all(&response_head(502, &[], Some(0))).await;
        return;
    };
    let status = answer.status().as_u16();
    let kept: Vec<(String, String)> = answer
        .headers()
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "content-length" | "transfer-encoding" | "connection" | "content-type"
            )
        })
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let body = answer.bytes().await.unwrap_or_default();
    let _ = socket
        .write_all(&response_head(status, &kept, Some(body.len())))
        .await;
    let _ = socket.write_all(&body).await;
}

/// A gzip body that expands to `expanded` bytes of zeros, in one gzip member (so a client that
/// decompresses would have to expand all of it).
pub fn gzip_bomb(expanded: usize) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    let mut left = expanded;
    while left > 0 {
        let n = zeros.len().min(left);
        encoder.write_all(&zeros[..n]).unwrap();
        left -= n;
    }
    encoder.finish().unwrap()
}

/// Runs a command to its end and returns its output with its peak resident memory in KiB
/// (`wait4`'s `ru_maxrss`), on a thread of its own. The caller bounds the time with
/// `--timeout` and `timeout_after` kills it if that fails.
#[allow(unsafe_code)] // wait4(2) for the child's peak RSS, kill(2) for its bound: libc has no safe wrapper
pub fn run_measured(
    mut command: std::process::Command,
    timeout_after: Duration,
) -> (std::process::Output, u64) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kvdiag starts");
    let pid = child.id() as i32;
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stdout.read_to_end(&mut buffer);
        buffer
    });
    let err_reader = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stderr.read_to_end(&mut buffer);
        buffer
    });
    let killer = std::thread::spawn(move || {
        let step = Duration::from_millis(50);
        let mut waited = Duration::ZERO;
        while waited < timeout_after {
            std::thread::sleep(step);
            waited += step;
            // SAFETY: signal 0 only asks whether the process exists.
            if unsafe { libc::kill(pid, 0) } != 0 {
                return;
            }
        }
        // SAFETY: kills the child this test started, which outlived its bound.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    });
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; std's Child is not waited on afterwards.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 reaped the child");
    let _ = killer.join();
    let output = std::process::Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(status),
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    std::mem::forget(child);
    (output, usage.ru_maxrss as u64)
}
