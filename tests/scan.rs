//! `kvdiag scan` against a loopback mock of a fleet (tests/common/mock_fleet.rs): every scenario
//! fixture, held in a fleet, gives `check`'s verdict; throttling loses no workload; hostile
//! answers are never followed.

mod common;

use common::fake_az::{FakeAz, TOKEN};
use common::mock_fleet::{FleetData, MockFleet, from_scenario};
use serde_json::Value;
use std::process::Output;
use std::time::Duration;

/// The hypotheses a scan decides without reading revisions.
const COVERED: [&str; 4] = [
    "secret_ref",
    "keyvault_access",
    "keyvault_secret_state",
    "keyvault_network",
];

async fn scan(mock: &MockFleet, az: &FakeAz, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"));
    command
        .arg("scan")
        .args(args)
        .args(["--auth", "azure-cli", "-o", "json"])
        .env("HOME", std::env::temp_dir())
        .env("PATH", az.path())
        .kill_on_drop(true);
    for key in common::SCRUBBED {
        command.env_remove(key);
    }
    for (k, v) in mock.env() {
        command.env(k, v);
    }
    tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("kvdiag scan finished within 120 s")
        .expect("kvdiag ran")
}

fn report(o: &Output) -> Value {
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains(TOKEN), "the token leaked");
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn statuses(hypotheses: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = hypotheses
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            (
                h["id"].as_str().unwrap_or("").to_string(),
                h["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Scenarios a fleet cannot hold: the app does not exist, so Resource Graph has no row for it.
const NOT_IN_A_FLEET: [&str; 1] = ["app-not-found"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_in_a_fleet_gives_checks_verdict() {
    let az = FakeAz::new("scan-equivalence");
    let mut failures = Vec::new();
    for (name, path) in common::scenarios() {
        if NOT_IN_A_FLEET.contains(&name.as_str()) {
            continue;
        }
        let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let check = serde_json::to_value(common::verdict_of(&path)).unwrap();
        let subscription = bundle["target"]["subscription"]
            .as_str()
            .unwrap()
            .to_string();
        let as_of = bundle["collected_at"].as_str().unwrap().to_string();
        for deep in [false, true] {
            let mock = MockFleet::serve(from_scenario(&bundle)).await;
            let mut args = vec!["--subscription", &subscription, "--as-of", &as_of];
            if deep {
                args.push("--deep");
            }
            let out = scan(&mock, &az, &args).await;
            let r = report(&out);
            let problems = compare(&check, &r, deep);
            let violations = mock.violations();
            if !problems.is_empty() || !violations.is_empty() {
                failures.push(format!(
                    "{name} (deep: {deep}): {}{}\n  scan gaps: {}",
                    problems.join("; "),
                    if violations.is_empty() {
                        String::new()
                    } else {
                        format!("; violations {violations:?}")
                    },
                    r["workloads"][0]["gaps"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What differs between `check`'s verdict and the scan's entry for the same workload.
fn compare(check: &Value, report: &Value, deep: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let workloads = report["workloads"].as_array().cloned().unwrap_or_default();
    if workloads.len() != 1 {
        return vec![format!("{} workloads, expected 1", workloads.len())];
    }
    let entry = &workloads[0];
    let check_statuses = statuses(&check["hypotheses"]);
    let scan_statuses = statuses(&entry["hypotheses"]);
    let top = |h: &Value| {
        (
            h[0]["id"].as_str().unwrap_or("").to_string(),
            h[0]["status"].as_str().unwrap_or("").to_string(),
        )
    };
    let (check_top, scan_top) = (top(&check["hypotheses"]), top(&entry["hypotheses"]));
    if deep {
        if check_statuses != scan_statuses {
            problems.push(format!(
                "statuses {scan_statuses:?}, check {check_statuses:?}"
            ));
        }
        if check_top != scan_top {
            problems.push(format!("top {scan_top:?}, check {check_top:?}"));
        }
        return problems;
    }
    // A verdict that rests on a revision (secret_ref's failed revision) is not the scan's to
    // see: it must then not be ruled out, only `unlikely` at best.
    let from_revisions = |id: &str| {
        check["hypotheses"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|h| {
                h["id"] == id
                    && h["evidence"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|e| e["source"] == "revisions" && e["effect"] == "supports")
            })
    };
    for (id, status) in &check_statuses {
        if !COVERED.contains(&id.as_str()) {
            continue;
        }
        let mine = scan_statuses
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, s)| s.as_str());
        if from_revisions(id) {
            if mine == Some("ruled_out") {
                problems.push(format!("{id} ruled out without the revisions it rests on"));
            }
            continue;
        }
        // secret_ref also reads the revisions' templates: without them it never rules out.
        let is_job = check["target"]["job"].is_string();
        let expected = if id == "secret_ref" && !is_job && status == "ruled_out" {
            "unlikely"
        } else {
            status.as_str()
        };
        if mine != Some(expected) {
            problems.push(format!("{id} {mine:?}, check {status}"));
        }
    }
    let cause = ["confirmed", "likely", "possible"];
    if COVERED.contains(&check_top.0.as_str())
        && !from_revisions(&check_top.0)
        && cause.contains(&check_top.1.as_str())
        && check_top != scan_top
    {
        problems.push(format!("top {scan_top:?}, check {check_top:?}"));
    }
    let stale = scan_statuses.iter().find(|(i, _)| i == "stale_revision");
    let is_job = check["target"]["job"].is_string();
    if !is_job && stale.map(|(_, s)| s.as_str()) != Some("inconclusive") {
        problems.push(format!(
            "stale_revision {stale:?} without revisions, expected inconclusive"
        ));
    }
    problems
}

#[allow(dead_code)]
fn unused(_: FleetData) {}
