//! Live collection against a loopback mock of Azure that serves each fixture scenario: the live
//! verdict must equal the replayed one, `collect` must replay to it, the collector may only read,
//! and faults (throttling, 500s, timeouts, malformed bodies, 403s) must end as the right gaps.
//! Every credential is the fake `az` (`--auth azure-cli`): no test can reach the metadata address.

mod common;

use common::fake_az::{FakeAz, TOKEN};
use common::mock_azure::{Fault, MockAzure};
use common::{gaps, json, no_token, status_of, strings, target_args};
use serde_json::Value;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

async fn kvdiag(args: &[String], env: &[(String, String)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"));
    command
        .args(args)
        .env("HOME", std::env::temp_dir())
        .kill_on_drop(true);
    for key in common::SCRUBBED {
        command.env_remove(key);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("kvdiag finished within 60 s")
        .expect("kvdiag ran")
}

struct Live {
    mock: MockAzure,
    az: FakeAz,
    bundle: std::path::PathBuf,
}

impl Live {
    async fn new(scenario: &str) -> Live {
        let bundle = common::repo().join(format!("fixtures/scenarios/{scenario}.json"));
        Live {
            mock: MockAzure::serve(&bundle).await,
            az: FakeAz::new(scenario),
            bundle,
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env = self.mock.env();
        env.push(("PATH".into(), self.az.path()));
        env
    }

    /// `kvdiag <command> <target> --auth azure-cli <extra>` against the mock.
    async fn run(&self, command: &str, extra: &[&str]) -> Output {
        self.run_with(command, extra, &[]).await
    }

    /// [`Live::run`] with more environment variables.
    async fn run_with(&self, command: &str, extra: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut args = vec![command.to_string()];
        args.extend(target_args(&self.bundle));
        args.extend(strings(&["--auth", "azure-cli"]));
        args.extend(strings(extra));
        let mut env = self.env();
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        kvdiag(&args, &env).await
    }

    async fn replay(&self, from: &Path) -> Output {
        let b: Value =
            serde_json::from_str(&std::fs::read_to_string(&self.bundle).unwrap()).unwrap();
        let args = strings(&[
            "check",
            "--from",
            from.to_str().unwrap(),
            "-o",
            "json",
            "--as-of",
            b["collected_at"].as_str().unwrap(),
        ]);
        kvdiag(&args, &[]).await
    }

    fn assert_only_allowed_reads(&self, scenario: &str) {
        assert_eq!(
            self.mock.violations(),
            Vec::<String>::new(),
            "{scenario}: forbidden requests"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_live_equals_replay_and_collect_replays_to_it() {
    let scratch = std::env::temp_dir().join(format!("kvdiag-live-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    for (name, path) in common::scenarios() {
        let live = Live::new(&name).await;
        let checked = live.run("check", &["-o", "json"]).await;
        no_token(&checked, &name);
        live.assert_only_allowed_reads(&name);
        if name == "app-not-found" {
            // Live, an app that does not exist is an input error with a one-line message.
            assert_eq!(checked.status.code(), Some(2), "{name}");
            let stderr = String::from_utf8_lossy(&checked.stderr);
            assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
            assert!(
                stderr.contains("'ca-orders-web' was not found in resource group 'rg-orders'"),
                "{stderr}"
            );
            continue;
        }
        assert_eq!(
            live.mock.unplanned(),
            Vec::<String>::new(),
            "{name}: requests the fixture has no answer for"
        );
        assert_eq!(
            live.mock.never_requested(),
            Vec::<String>::new(),
            "{name}: fixture responses live collection never asked for"
        );
        let replayed = live.replay(&path).await;
        assert_eq!(
            checked.status.code(),
            replayed.status.code(),
            "{name}: exit codes differ"
        );
        assert_eq!(
            json(&checked),
            json(&replayed),
            "{name}: live and replayed verdicts differ"
        );

        // One `az` call per audience (ARM, Key Vault, Log Analytics), however many requests.
        let calls = live.az.calls();
        let mut scopes: Vec<&str> = calls
            .iter()
            .filter_map(|c| c.split("--scope ").nth(1))
            .map(|s| s.split(' ').next().unwrap())
            .collect();
        let total = scopes.len();
        scopes.sort();
        scopes.dedup();
        assert_eq!(
            total,
            scopes.len(),
            "{name}: one az call per audience: {calls:?}"
        );
        assert!(total <= 3, "{name}: {calls:?}");

        let file = scratch.join(format!("{name}.json"));
        live.mock.reset();
        let collected = live.run("collect", &["-o", file.to_str().unwrap()]).await;
        assert_eq!(
            collected.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&collected.stderr)
        );
        no_token(&collected, &name);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(TOKEN), "{name}: the token is in the bundle");
        let written: Value = serde_json::from_str(&text).unwrap();
        for response in written["responses"].as_array().unwrap() {
            for header in response["headers"]
                .as_object()
                .into_iter()
                .flat_map(|h| h.keys())
            {
                assert!(
                    header.starts_with("x-ms-")
                        || ["retry-after", "content-type", "date"].contains(&header.as_str()),
                    "{name}: header {header} kept in the bundle"
                );
            }
        }
        let from_collected = live.replay(&file).await;
        assert_eq!(
            json(&from_collected),
            json(&checked),
            "{name}: the collected bundle replays differently"
        );
        assert_eq!(
            from_collected.status.code(),
            checked.status.code(),
            "{name}"
        );
    }
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// The lab scenario under one injected fault: (exit code, verdict JSON, mock).
async fn lab_with(fault_on: &str, fault: Fault, extra: &[&str]) -> (Output, Live) {
    scenario_with("managed-identity-no-role", fault_on, fault, extra).await
}

async fn scenario_with(
    scenario: &str,
    fault_on: &str,
    fault: Fault,
    extra: &[&str],
) -> (Output, Live) {
    let live = Live::new(scenario).await;
    live.mock.fault(fault_on, fault);
    let mut args = vec!["-o", "json"];
    args.extend_from_slice(extra);
    let out = live.run("check", &args).await;
    live.assert_only_allowed_reads("lab");
    (out, live)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_after_retry_after_and_changes_nothing() {
    let (out, live) = lab_with(
        "/containerapps/ca-orders-web",
        Fault::Throttle {
            times: 1,
            retry_after: 1,
        },
        &[],
    )
    .await;
    let app_requests = live
        .mock
        .seen()
        .iter()
        .filter(|s| {
            s.path
                .to_ascii_lowercase()
                .ends_with("/containerapps/ca-orders-web")
        })
        .count();
    assert_eq!(app_requests, 2, "one 429, one retry");
    let replayed = live.replay(&live.bundle).await;
    assert_eq!(json(&out), json(&replayed));
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_500_is_a_bounded_number_of_tries_and_a_gap() {
    let (out, live) = lab_with("/denyassignments", Fault::Status(500), &[]).await;
    let tries = live
        .mock
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("/denyAssignments"))
        .count();
    assert_eq!(tries, 4, "first try and three retries");
    let v = json(&out);
    assert!(gaps(&v).contains("denyAssignments"), "{}", gaps(&v));
    assert!(gaps(&v).contains("500"), "{}", gaps(&v));
    // A deny assignment only takes access away: with no grant at all, the missing role is
    // still confirmed, and the unread listing is still reported.
    assert_eq!(status_of(&v, "keyvault_access"), "confirmed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_outlives_the_deadline_is_a_timeout_gap() {
    let started = std::time::Instant::now();
    let (out, _live) = lab_with(
        "/revisions",
        Fault::Delay(Duration::from_secs(30)),
        &["--timeout", "3s"],
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    let v = json(&out);
    assert!(gaps(&v).contains("/revisions"), "{}", gaps(&v));
    assert!(gaps(&v).contains("timeout"), "{}", gaps(&v));
    assert_eq!(
        status_of(&v, "keyvault_access"),
        "confirmed",
        "the rest of the evidence still decides"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_body_is_a_gap_not_a_crash() {
    let (out, _live) = lab_with("/revisions", Fault::Malformed, &[]).await;
    let v = json(&out);
    assert!(gaps(&v).contains("/revisions"), "{}", gaps(&v));
    assert_eq!(
        out.status.code(),
        Some(1),
        "the missing role is still found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_role_assignments_are_never_ruled_out_and_name_the_permission() {
    // A healthy app: with the listings readable, access is ruled out as a cause.
    let live = Live::new("healthy").await;
    let clean = json(&live.run("check", &["-o", "json"]).await);
    assert_eq!(status_of(&clean, "keyvault_access"), "ruled_out");
    // Without them only the platform's successful syncs speak against it: unlikely, not ruled out.
    let (out, _live) = scenario_with("healthy", "/roleassignments", Fault::Status(403), &[]).await;
    let v = json(&out);
    assert_eq!(status_of(&v, "keyvault_access"), "unlikely");
    assert!(
        gaps(&v).contains("Microsoft.Authorization/roleAssignments/read"),
        "{}",
        gaps(&v)
    );
    // In the lab the platform's log names the RBAC refusal, which decides without the listings.
    let (out, _live) = lab_with("/roleassignments", Fault::Status(403), &[]).await;
    let v = json(&out);
    assert_eq!(status_of(&v, "keyvault_access"), "confirmed");
    assert!(
        gaps(&v).contains("Microsoft.Authorization/roleAssignments/read"),
        "{}",
        gaps(&v)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_lists_each_request_without_tokens() {
    let live = Live::new("managed-identity-no-role").await;
    let out = live.run("check", &["-o", "json", "-v"]).await;
    no_token(&out, "verbose");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("GET http://127.0.0.1:"), "{stderr}");
    assert!(
        stderr.contains("/containerApps/ca-orders-web?api-version=2025-07-01 -> 200 ("),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "/kv/kv-orders-shared/secrets/orders-db-password/versions?api-version=2025-07-01 -> 401"
        ),
        "the challenge: {stderr}"
    );
    assert!(stderr.contains("HTTP requests"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_log_traces_kvdiag_and_the_sdk_to_stderr_without_tokens() {
    let live = Live::new("managed-identity-no-role").await;
    let quiet = live.run("check", &["-o", "json"]).await;
    let out = live
        .run_with("check", &["-o", "json"], &[("RUST_LOG", "trace")])
        .await;
    no_token(&out, "RUST_LOG=trace");
    assert_eq!(out.status.code(), Some(1));
    // Tracing never touches stdout: the same hypotheses (`as_of` may be another second).
    let verdict = |o: &Output| {
        let v: Value = serde_json::from_slice(&o.stdout).expect("stdout is the verdict");
        v["hypotheses"].clone()
    };
    assert_eq!(verdict(&out), verdict(&quiet));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("kvdiag::http") && stderr.contains("/containerApps/ca-orders-web"),
        "{stderr}"
    );
    assert!(
        stderr.contains("azure_core"),
        "the SDK's events too: {stderr}"
    );
    let bad = live
        .run_with("check", &["-o", "json"], &[("RUST_LOG", "kvdiag=loud")])
        .await;
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("RUST_LOG 'kvdiag=loud' ignored"),
        "{stderr}"
    );
    assert_eq!(verdict(&bad), verdict(&quiet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_is_one_line_saying_what_was_tried_and_how_to_log_in() {
    let live = Live::new("healthy").await;
    let empty = std::env::temp_dir().join(format!("kvdiag-no-az-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let mut env = live.mock.env();
    env.push(("PATH".into(), empty.display().to_string()));
    let mut args = vec!["check".to_string()];
    args.extend(target_args(&live.bundle));
    args.extend(strings(&["--auth", "azure-cli"]));
    let out = kvdiag(&args, &env).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("azure-cli"), "{stderr}");
    assert!(stderr.contains("az login"), "{stderr}");
    assert!(
        live.mock.seen().is_empty(),
        "nothing was sent without a token"
    );
    std::fs::remove_dir_all(&empty).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_a_non_loopback_host_is_refused() {
    let az = FakeAz::new("refused");
    let env = vec![
        ("PATH".to_string(), az.path()),
        (
            "KVDIAG_ARM_ENDPOINT".to_string(),
            "http://10.20.30.40:8080".to_string(),
        ),
    ];
    let args = strings(
        &[
            &["check"][..],
            &common::LAB_TARGET,
            &["--auth", "azure-cli"],
        ]
        .concat(),
    );
    let out = kvdiag(&args, &env).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(az.calls().is_empty(), "no token was even asked for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_comes_from_the_environment_when_no_flag_is_given() {
    let live = Live::new("healthy").await;
    let mut env = live.env();
    env.push((
        "AZURE_SUBSCRIPTION_ID".into(),
        "3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90".into(),
    ));
    let args = strings(&[
        "check",
        "-n",
        "ca-orders-web",
        "-g",
        "rg-orders",
        "--auth",
        "azure-cli",
        "--as-of",
        "2026-11-20T10:30:00Z",
        "-o",
        "json",
    ]);
    let out = kvdiag(&args, &env).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(live.mock.unplanned(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_would_break_a_url_are_refused_before_any_request() {
    let live = Live::new("healthy").await;
    for (flag, value) in [("--app", "ca/../../x"), ("--rg", "rg?api-version=1")] {
        let mut args = strings(&[
            "check",
            "--auth",
            "azure-cli",
            "--subscription",
            "3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90",
        ]);
        if flag == "--app" {
            args.extend(strings(&["--app", value, "--rg", "rg-orders"]));
        } else {
            args.extend(strings(&["--app", "ca-orders-web", "--rg", value]));
        }
        let out = kvdiag(&args, &live.env()).await;
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
    }
    assert!(live.mock.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_environment_leaves_a_firewalled_vault_undecided() {
    // The healthy vault's firewall admits the environment's subnet; without the environment
    // (and so without its logs) nobody can tell, and kvdiag must not guess "no path".
    let (out, _live) =
        scenario_with("healthy", "/managedenvironments/", Fault::Status(403), &[]).await;
    let v = json(&out);
    assert_eq!(status_of(&v, "keyvault_network"), "inconclusive");
    assert!(
        gaps(&v).contains("Microsoft.App/managedEnvironments/read"),
        "{}",
        gaps(&v)
    );
    assert_eq!(out.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_resource_graph_the_subscription_vault_list_finds_the_vault() {
    let live = Live::new("managed-identity-no-role").await;
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(&live.bundle).unwrap()).unwrap();
    let vault = fixture["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["path"]
                .as_str()
                .unwrap()
                .ends_with("/vaults/kv-orders-shared")
        })
        .unwrap()["body"]
        .clone();
    live.mock
        .fault("/providers/microsoft.resourcegraph/", Fault::Status(403));
    live.mock.add_response(serde_json::json!({
        "method": "GET", "service": "arm",
        "path": "/subscriptions/3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90/providers/Microsoft.KeyVault/vaults",
        "query": "api-version=2025-05-01", "status": 200,
        "body": {"value": [vault]}
    }));
    let out = live.run("check", &["-o", "json"]).await;
    live.assert_only_allowed_reads("fallback");
    assert_eq!(live.mock.unplanned(), Vec::<String>::new());
    let replayed = json(&live.replay(&live.bundle).await);
    let v = json(&out);
    assert_eq!(
        v["hypotheses"], replayed["hypotheses"],
        "the vault was found without Resource Graph"
    );
    assert_eq!(v["gaps"], replayed["gaps"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_log_analytics_result_is_a_gap_not_a_success() {
    let body = serde_json::json!({
        "tables": [{"name": "PrimaryResult", "columns": [{"name": "TimeGenerated", "type": "datetime"}], "rows": []}],
        "error": {"code": "PartialError", "message": "There were some errors when processing your query.",
                  "details": [{"code": "EngineError", "message": "Query exceeded the row limit"}]}
    });
    let (out, _live) = lab_with("/query", Fault::Answer(200, body), &[]).await;
    let v = json(&out);
    assert!(
        gaps(&v).contains("partial result (PartialError)"),
        "{}",
        gaps(&v)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_subscription_or_resource_group_is_exit_2_with_what_to_check() {
    for (code, message, expect) in [
        (
            "SubscriptionNotFound",
            "The subscription '3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90' could not be found.",
            "az account list",
        ),
        (
            "ResourceGroupNotFound",
            "Resource group 'rg-orders' could not be found.",
            "resource group 'rg-orders' was not found",
        ),
    ] {
        let body = serde_json::json!({"error": {"code": code, "message": message}});
        let (out, live) = lab_with(
            "/containerapps/ca-orders-web",
            Fault::Answer(404, body),
            &[],
        )
        .await;
        assert_eq!(out.status.code(), Some(2), "{code}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expect), "{code}: {stderr}");
        assert_eq!(
            live.mock
                .seen()
                .iter()
                .filter(|s| s.service == "arm")
                .count(),
            1,
            "nothing else is read"
        );
    }
}
