//! `kvdiag scan` of generated fleets on the loopback fleet mock with a fixed latency per answer
//! and Resource Graph's default quota (15 queries per 5 s): wall time, requests by service,
//! peak RSS (`/usr/bin/time -f %M`), and a per-app `kvdiag check` loop on a sample of the same
//! fleet, extrapolated to the whole fleet.
//!
//! `cargo bench --bench scan_fleet` (or `bash bench/scan.sh`). Arguments after `--`:
//! `--workloads N[,N...]` (default 1000,10000), `--latency-ms N` (default 100), `--sample N`
//! (default 10), `--quota N` (default 15 per 5 s).
// A benchmark reports on stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/fake_az.rs"]
mod fake_az;
#[path = "../tests/common/fleet_gen.rs"]
mod fleet_gen;
#[path = "../tests/common/mock_azure.rs"]
mod mock_azure;
#[path = "../tests/common/mock_fleet.rs"]
mod mock_fleet;

use serde_json::Value;
use std::time::{Duration, Instant};

const AS_OF: &str = "2026-11-20T10:30:00Z";

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

/// Runs kvdiag under `/usr/bin/time -f %M` (peak RSS in KiB on the last stderr line).
async fn kvdiag(
    args: &[String],
    env: &[(String, String)],
    az: &fake_az::FakeAz,
) -> (Duration, std::process::Output, Option<u64>) {
    let timed = std::path::Path::new("/usr/bin/time").exists();
    let mut command = if timed {
        let mut c = tokio::process::Command::new("/usr/bin/time");
        c.args(["-f", "%M", env!("CARGO_BIN_EXE_kvdiag")]);
        c
    } else {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"))
    };
    command
        .args(args)
        .env("HOME", std::env::temp_dir())
        .env("PATH", az.path())
        .env_remove("RUST_LOG")
        .env_remove("AZURE_SUBSCRIPTION_ID")
        .env_remove("KVDIAG_AUTH")
        .kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let start = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(600), command.output())
        .await
        .expect("kvdiag finished within 10 minutes")
        .expect("kvdiag ran");
    let wall = start.elapsed();
    let rss = timed
        .then(|| {
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .and_then(|l| l.trim().parse().ok())
        })
        .flatten();
    (wall, out, rss)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let latency = Duration::from_millis(arg("--latency-ms", "100").parse().unwrap());
    let sample: usize = arg("--sample", "10").parse().unwrap();
    let quota: u32 = arg("--quota", "15").parse().unwrap();
    let sizes: Vec<usize> = arg("--workloads", "1000,10000")
        .split(',')
        .map(|n| n.trim().parse().unwrap())
        .collect();
    let az = fake_az::FakeAz::new("bench-scan");
    println!(
        "kvdiag scan on a loopback fleet: {} ms per answer, Resource Graph quota {quota} per 5 s",
        latency.as_millis()
    );
    for n in sizes {
        let shape = fleet_gen::Shape::of(n);
        let mock = mock_fleet::MockFleet::serve(fleet_gen::generate(shape)).await;
        mock.set_latency(latency);
        mock.set_quota(quota, Duration::from_secs(5));
        let args: Vec<String> = [
            "scan",
            "--auth",
            "azure-cli",
            "-o",
            "json",
            "--as-of",
            AS_OF,
            "--timeout",
            "120s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (wall, out, rss) = kvdiag(&args, &mock.env(), &az).await;
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "scan output is not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let seen = mock.seen();
        let count = |service: &str| seen.iter().filter(|s| s.service == service).count();
        let graph = seen
            .iter()
            .filter(|s| {
                s.path
                    .eq_ignore_ascii_case("/providers/Microsoft.ResourceGraph/resources")
            })
            .count();
        let total = seen.len();
        let workloads = report["summary"]["workloads"].as_u64().unwrap_or(0) as usize;
        println!(
            "\n{n} workloads ({} subscriptions, {} vaults, {} environments/workspaces): {} diagnosed, {} scope gaps",
            shape.subscriptions,
            shape.vaults,
            n.div_ceil(shape.per_environment),
            workloads,
            report["gaps"].as_array().map_or(0, Vec::len)
        );
        println!(
            "  scan:  {:.2} s wall, {total} requests ({:.4} per workload): {graph} Resource Graph (429s included), {} other ARM, {} Log Analytics, {} Key Vault; peak RSS {}",
            wall.as_secs_f64(),
            total as f64 / n as f64,
            count("arm") - graph,
            count("log_analytics"),
            count("keyvault"),
            rss.map(|k| format!("{:.1} MB", k as f64 / 1024.0))
                .unwrap_or_else(|| "n/a (no /usr/bin/time)".into()),
        );
        println!("  by top status: {}", report["summary"]["by_top_status"]);
        // The per-app loop on a sample: `kvdiag check` for each, one after another.
        let rows: Vec<Value> = report["workloads"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .step_by((workloads / sample.max(1)).max(1))
            .take(sample)
            .collect();
        let before = mock.seen().len();
        let loop_start = Instant::now();
        for w in &rows {
            let flag = if w["kind"] == "job" { "--job" } else { "--app" };
            let args: Vec<String> = [
                "check",
                flag,
                w["name"].as_str().unwrap(),
                "--rg",
                w["resource_group"].as_str().unwrap(),
                "--subscription",
                w["subscription"].as_str().unwrap(),
                "--auth",
                "azure-cli",
                "-o",
                "json",
                "--as-of",
                AS_OF,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            kvdiag(&args, &mock.env(), &az).await;
        }
        let per_app = loop_start.elapsed().as_secs_f64() / rows.len().max(1) as f64;
        let per_app_requests = (mock.seen().len() - before) as f64 / rows.len().max(1) as f64;
        let extrapolated = per_app * n as f64;
        println!(
            "  check loop (sample of {}): {:.2} s and {:.1} requests per workload -> {:.0} s and {:.0} requests for {n}; the scan is {:.0}x faster, {:.0}x fewer requests",
            rows.len(),
            per_app,
            per_app_requests,
            extrapolated,
            per_app_requests * n as f64,
            extrapolated / wall.as_secs_f64(),
            per_app_requests * n as f64 / total.max(1) as f64
        );
    }
}
