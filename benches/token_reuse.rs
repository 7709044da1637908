//! Token reuse, measured: how many `az` processes a live `kvdiag check` starts and how long it
//! takes, for a first run and a second run with the token cache, runs with the cache off, and
//! one `kvdiag mcp` connection (rmcp's own client) running ten checks.
//!
//! The release binary against the loopback mock of Azure (the lab scenario) with a latency per
//! request, and the fake `az` with a start-up delay standing in for the real CLI's
//! (`--az-ms`, default 400; the real `az account get-access-token` takes about a second).
//! `cargo bench --bench token_reuse` (or `bash bench/tokens.sh`); arguments after `--`:
//! `--latency-ms N` (default 100), `--az-ms N` (default 400), `--runs N` (default 5).
// A benchmark reports on stdout.
#![allow(clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use common::{fake_az, mock_azure};
use support::{flag, median};

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const LAB: &str = "managed-identity-no-role";

struct Setup {
    mock: mock_azure::MockAzure,
    az: fake_az::FakeAz,
    home: tempfile::TempDir,
    bundle: PathBuf,
}

impl Setup {
    fn command(&self, args: &[String]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"));
        command
            .args(args)
            .env_clear()
            .env("PATH", self.az.path())
            .env("HOME", self.home.path())
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .env("AZURE_CONFIG_DIR", self.home.path().join("azure"))
            .envs(self.mock.env())
            .kill_on_drop(true);
        command
    }

    fn target(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&self.bundle).unwrap()).unwrap()
    }

    /// One `kvdiag check` run: wall time and the `az` processes it started.
    async fn check(&self, extra: &[&str]) -> (Duration, usize) {
        let mut args = vec!["check".to_string()];
        args.extend(common::target_args(&self.bundle));
        args.extend(common::strings(&["--auth", "azure-cli", "-o", "json"]));
        args.extend(extra.iter().map(|s| s.to_string()));
        let before = self.az.runs();
        let mut command = self.command(&args);
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let (wall, status) = support::timed(&mut command).await;
        assert_eq!(status.code(), Some(1), "the lab finds its cause");
        (wall, self.az.runs() - before)
    }

    fn forget_tokens(&self) {
        let _ = std::fs::remove_dir_all(self.home.path().join("cache"));
    }
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let latency = Duration::from_millis(flag("--latency-ms", 100));
    let az_ms = flag("--az-ms", 400);
    let runs = flag("--runs", 5).max(1) as usize;
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bundle = repo.join(format!("fixtures/scenarios/{LAB}.json"));
    let setup = Setup {
        mock: mock_azure::MockAzure::serve(&bundle).await,
        az: fake_az::FakeAz::slow("bench-tokens", az_ms),
        home: tempfile::tempdir().unwrap(),
        bundle,
    };
    setup.mock.set_latency(latency);
    let subscription = setup.target()["target"]["subscription"]
        .as_str()
        .unwrap()
        .to_string();
    fake_az::FakeAz::login(&setup.home.path().join("azure"), &subscription);
    println!(
        "token reuse: `kvdiag check` of {LAB} against the loopback mock, {} ms per request, fake az taking {az_ms} ms, median of {runs}",
        latency.as_millis()
    );
    // Warm-up: page cache, binary loading.
    setup.check(&["--no-token-cache"]).await;

    let (mut first, mut second, mut off) = (Vec::new(), Vec::new(), Vec::new());
    let (mut first_az, mut second_az, mut off_az) = (0, 0, 0);
    for _ in 0..runs {
        setup.forget_tokens();
        let (wall, az) = setup.check(&[]).await;
        first.push(wall);
        first_az = az;
        let (wall, az) = setup.check(&[]).await;
        second.push(wall);
        second_az = az;
        let (wall, az) = setup.check(&["--no-token-cache"]).await;
        off.push(wall);
        off_az = az;
    }
    let (first, second, off) = (median(first), median(second), median(off));
    println!("{:<40} {:>6} {:>10}", "run", "az", "wall");
    println!(
        "{:<40} {:>6} {:>10}",
        "CLI, first run (empty cache)",
        first_az,
        ms(first)
    );
    println!(
        "{:<40} {:>6} {:>10}",
        "CLI, second run (cache on)",
        second_az,
        ms(second)
    );
    println!("{:<40} {:>6} {:>10}", "CLI, cache off", off_az, ms(off));

    // One MCP connection, ten checks (no disk cache: the server's own reuse).
    let mut calls = Vec::new();
    let before = setup.az.runs();
    let mut command = setup.command(&[
        "mcp".into(),
        "--auth".into(),
        "azure-cli".into(),
        "--no-token-cache".into(),
    ]);
    command.stderr(std::process::Stdio::null());
    let connected = Instant::now();
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    let handshake = connected.elapsed();
    let b = setup.target();
    let arguments = serde_json::json!({
        "app": b["target"]["app"], "resource_group": b["target"]["resource_group"],
        "subscription": b["target"]["subscription"], "as_of": b["collected_at"],
    });
    for _ in 0..10 {
        let started = Instant::now();
        let result = tokio::time::timeout(
            Duration::from_secs(120),
            client.call_tool(
                CallToolRequestParams::new("kvdiag_check")
                    .with_arguments(arguments.as_object().unwrap().clone()),
            ),
        )
        .await
        .expect("a check within 120 s")
        .unwrap();
        assert_eq!(result.is_error, Some(false));
        calls.push(started.elapsed());
    }
    let mcp_az = setup.az.runs() - before;
    client.cancel().await.unwrap();
    let total: Duration = calls.iter().sum();
    let rest = median(calls[1..].to_vec());
    println!("{:<40} {:>6} {:>10}", "MCP, handshake", 0, ms(handshake));
    println!("{:<40} {:>6} {:>10}", "MCP, first check", "", ms(calls[0]));
    println!(
        "{:<40} {:>6} {:>10}",
        "MCP, checks 2-10 (median)",
        "",
        ms(rest)
    );
    println!(
        "{:<40} {:>6} {:>10}",
        "MCP, ten checks in one connection",
        mcp_az,
        ms(total)
    );
    println!(
        "second run / first run: {:.2}; cache off / second run: {:.2}; MCP check 2-10 / first: {:.2}",
        second.as_secs_f64() / first.as_secs_f64(),
        off.as_secs_f64() / second.as_secs_f64(),
        rest.as_secs_f64() / calls[0].as_secs_f64()
    );
    assert!(setup.mock.violations().is_empty(), "only allowed reads");
}
