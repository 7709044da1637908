//! Helpers shared by the integration tests.
#![allow(dead_code)]

use kvdiag::bundle::Bundle;
use kvdiag::checks::diagnose;
use kvdiag::snapshot::Snapshot;
use kvdiag::verdict::Verdict;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario bundle, sorted by name.
pub fn scenarios() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(repo().join("fixtures/scenarios"))
        .expect("fixtures/scenarios exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    assert!(
        out.len() >= 15,
        "at least 15 scenarios, found {}",
        out.len()
    );
    out
}

pub fn verdict_of(path: &Path) -> Verdict {
    let bundle = Bundle::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    diagnose(&Snapshot::build(&bundle, None))
}

pub mod fake_az;
pub mod hostile;
pub mod mock_azure;

/// Environment variables a developer's shell may carry that must not steer a child kvdiag.
pub const SCRUBBED: &[&str] = &[
    "RUST_LOG",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CONFIG_DIR",
    "IDENTITY_ENDPOINT",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "KVDIAG_AUTH",
    "KVDIAG_ARM_ENDPOINT",
    "KVDIAG_LOG_ANALYTICS_ENDPOINT",
    "KVDIAG_KEYVAULT_ENDPOINT",
    "NO_COLOR",
];

/// The lab app as `--app … --rg … --subscription …` flags.
pub const LAB_TARGET: [&str; 6] = [
    "--app",
    "ca-orders-web",
    "--rg",
    "rg-orders",
    "--subscription",
    "3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90",
];

pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// `--app/--job/--environment NAME --rg RG --subscription S --as-of <collected_at>` for a
/// fixture.
pub fn target_args(bundle: &Path) -> Vec<String> {
    let b: Value = serde_json::from_str(&std::fs::read_to_string(bundle).unwrap()).unwrap();
    let t = &b["target"];
    let (flag, name) = ["app", "job", "environment"]
        .iter()
        .find_map(|k| Some((format!("--{k}"), t[*k].as_str()?)))
        .expect("a fixture's target names an app, a job or an environment");
    let flag = flag.as_str();
    strings(&[
        flag,
        name,
        "--rg",
        t["resource_group"].as_str().unwrap(),
        "--subscription",
        t["subscription"].as_str().unwrap(),
        "--as-of",
        b["collected_at"].as_str().unwrap(),
    ])
}

/// A kvdiag run's stdout as JSON, or a panic that shows both streams.
pub fn json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Fails when the fake `az`'s token appears in a run's stdout or stderr.
pub fn no_token(o: &std::process::Output, what: &str) {
    for stream in [&o.stdout, &o.stderr] {
        assert!(
            !String::from_utf8_lossy(stream).contains(fake_az::TOKEN),
            "{what}: the token leaked into the output"
        );
    }
}

/// A verdict's gap list as text, to search.
pub fn gaps(v: &Value) -> String {
    v["gaps"].to_string()
}

/// The status of one hypothesis of a verdict.
pub fn status_of<'a>(v: &'a Value, id: &str) -> &'a str {
    v["hypotheses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == id)
        .and_then(|h| h["status"].as_str())
        .unwrap_or_else(|| panic!("no {id} in {v}"))
}

/// `kvdiag lint ARGS` run in `dir`: no colour, the default width.
pub fn lint_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"))
        .arg("lint")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output()
        .expect("kvdiag runs")
}

/// Output bytes as text (kvdiag writes UTF-8 only).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The extra arguments a lint fixture's expectation names (`args`), parameter files resolved
/// under fixtures/lint/.
pub fn lint_fixture_args(expected: &Value) -> Vec<String> {
    expected["args"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|a| {
            let a = a.as_str().unwrap();
            if a.ends_with(".json") {
                format!("fixtures/lint/{a}")
            } else {
                a.to_string()
            }
        })
        .collect()
}

/// The official SARIF 2.1.0 schema (tests/schemas/), compiled.
pub fn sarif_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .expect("the SARIF schema compiles")
}
