//! Live collection against the loopback mock of Azure with an injected latency per request:
//! wall time, requests and sequential depth (wall ÷ latency) of `kvdiag check --app`, next to the
//! same evidence read strictly one request at a time (`--parallel 1`).
//!
//! `cargo bench --bench live_collection` (or `bash bench/live.sh`). Arguments after `--`:
//! `--latency-ms N` (default 100) and `--runs N` (default 5).
// A benchmark reports on stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/fake_az.rs"]
mod fake_az;
#[path = "../tests/common/mock_azure.rs"]
mod mock_azure;
mod support;

use support::{flag, median};

use std::path::PathBuf;
use std::time::Duration;

const SCENARIOS: &[&str] = &[
    "managed-identity-no-role",
    "role-on-other-identity",
    "custom-role-excludes-getsecret",
    "custom-domain-certificate-no-role",
    "environment-certificates",
    "healthy",
    "dapr-healthy",
];

struct Measured {
    wall: Duration,
    requests: usize,
}

async fn run(
    mock: &mock_azure::MockAzure,
    az: &fake_az::FakeAz,
    bundle: &PathBuf,
    parallel: &str,
) -> Measured {
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle).unwrap()).unwrap();
    let t = &b["target"];
    let (flag, name) = ["app", "environment"]
        .iter()
        .find_map(|k| Some((format!("--{k}"), t[*k].as_str()?)))
        .expect("an app or environment scenario");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"));
    command
        .args(["check", flag.as_str(), name, "--rg"])
        .arg(t["resource_group"].as_str().unwrap())
        .args([
            "--subscription",
            t["subscription"].as_str().unwrap(),
            "--auth",
            "azure-cli",
        ])
        .args([
            "--as-of",
            b["collected_at"].as_str().unwrap(),
            "-o",
            "json",
            "--parallel",
            parallel,
        ])
        .env("PATH", az.path())
        .envs(mock.env())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    mock.reset();
    let (wall, status) = support::timed(&mut command).await;
    assert!(
        matches!(status.code(), Some(0 | 1 | 3)),
        "kvdiag failed: {status}"
    );
    assert!(mock.violations().is_empty(), "{:?}", mock.violations());
    Measured {
        wall,
        requests: mock.seen().len(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let latency = Duration::from_millis(flag("--latency-ms", 100));
    let runs = flag("--runs", 5) as usize;
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    println!(
        "live collection against the loopback mock, {} ms per request, median of {runs} runs (fake az: tokens cost ~0)",
        latency.as_millis()
    );
    println!(
        "{:<32} {:>9} {:>9} {:>7} {:>12} {:>9} {:>7} {:>8}",
        "scenario", "requests", "parallel", "depth", "one-by-one", "depth", "speedup", ""
    );
    for scenario in SCENARIOS {
        let bundle = repo.join(format!("fixtures/scenarios/{scenario}.json"));
        let mock = mock_azure::MockAzure::serve(&bundle).await;
        mock.set_latency(latency);
        let az = fake_az::FakeAz::new("bench");
        // One warm-up run: page cache, binary loading.
        run(&mock, &az, &bundle, "16").await;
        let mut parallel = Vec::new();
        let mut requests = 0;
        for _ in 0..runs {
            let m = run(&mock, &az, &bundle, "16").await;
            requests = m.requests;
            parallel.push(m.wall);
        }
        let mut sequential = Vec::new();
        for _ in 0..runs.min(3) {
            sequential.push(run(&mock, &az, &bundle, "1").await.wall);
        }
        let (p, s) = (median(parallel), median(sequential));
        let depth = |d: Duration| d.as_secs_f64() / latency.as_secs_f64();
        println!(
            "{:<32} {:>9} {:>7.0}ms {:>7.1} {:>10.0}ms {:>9.1} {:>6.1}x",
            scenario,
            requests,
            p.as_secs_f64() * 1000.0,
            depth(p),
            s.as_secs_f64() * 1000.0,
            depth(s),
            s.as_secs_f64() / p.as_secs_f64()
        );
    }
    println!(
        "depth = wall time ÷ latency: round trips on the critical path, start-up and tokens included."
    );
    println!(
        "requests include Key Vault's 401 bearer challenge (one per referenced secret: the SDK's first try carries no token)."
    );
}
