//! `kvdiag scan` against a loopback mock of a fleet (tests/common/mock_fleet.rs): every scenario
//! fixture, held in a fleet, gives `check`'s verdict; throttling loses no workload; hostile
//! answers are never followed.

mod common;

use common::fake_az::{FakeAz, TOKEN};
use common::fleet_gen;
use common::mock_fleet::{MockFleet, from_scenario};
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
    scan_as(mock, az, args, "json").await
}

async fn scan_as(mock: &MockFleet, az: &FakeAz, args: &[&str], format: &str) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"));
    command
        .arg("scan")
        .args(args)
        .args(["--auth", "azure-cli", "-o", format])
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

/// Scenarios a fleet cannot hold: the app does not exist, so Resource Graph has no row for it;
/// an environment target is not a workload (a scan lists apps and jobs).
const NOT_IN_A_FLEET: [&str; 3] = [
    "app-not-found",
    "environment-certificates",
    "environment-dapr-secretref-missing",
];

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
            assert_valid(&r, &name);
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
    // A workload read as `check` reads it (`--deep`, or consumers the shared reads do not
    // assemble) must give `check`'s verdict exactly.
    if deep || entry["read"] == "deep" {
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

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("docs/schema/scan-v1.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .expect("scan-v1.schema.json compiles")
}

fn assert_valid(doc: &Value, what: &str) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

#[test]
fn the_scan_schema_shares_the_verdict_schemas_entries() {
    let read = |name: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(common::repo().join("docs/schema").join(name)).unwrap(),
        )
        .unwrap()
    };
    let (scan, verdict) = (read("scan-v1.schema.json"), read("verdict-v1.schema.json"));
    for def in ["hypothesis", "gap", "evidence", "remediation", "status"] {
        assert_eq!(
            scan["$defs"][def], verdict["$defs"][def],
            "scan-v1.schema.json's {def} is not verdict-v1's"
        );
    }
}

/// (id, top id, top status) of every workload.
fn verdicts(r: &Value) -> Vec<(String, String, String)> {
    r["workloads"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            (
                w["id"].as_str().unwrap_or("").to_string(),
                w["hypotheses"][0]["id"].as_str().unwrap_or("").to_string(),
                w["hypotheses"][0]["status"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

async fn generated(n: usize) -> (MockFleet, FakeAz) {
    let mock = MockFleet::serve(fleet_gen::generate(fleet_gen::Shape::of(n))).await;
    (mock, FakeAz::new("scan-fleet"))
}

const AS_OF: &str = "2026-11-20T10:30:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_fleet_gives_each_workload_once_with_its_planted_cause() {
    let n = 300;
    let (mock, az) = generated(n).await;
    let out = scan(&mock, &az, &["--as-of", AS_OF]).await;
    let r = report(&out);
    assert_valid(&r, "scan of a generated fleet");
    assert_eq!(out.status.code(), Some(1), "planted causes fail the run");
    assert!(mock.violations().is_empty(), "{:?}", mock.violations());
    assert!(mock.unplanned().is_empty(), "{:?}", mock.unplanned());
    let all = verdicts(&r);
    assert_eq!(all.len(), n);
    let mut ids: Vec<&String> = all.iter().map(|(id, _, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "each workload exactly once");
    for (i, w) in r["workloads"].as_array().unwrap().iter().enumerate() {
        let name = w["name"].as_str().unwrap();
        let index: usize = name.rsplit('-').next().unwrap().parse().unwrap();
        let top = (&all[i].1, &all[i].2);
        match fleet_gen::planted(index) {
            Some(cause) => {
                assert_eq!(top.0, cause, "{name}");
                assert_eq!(top.1, "confirmed", "{name}");
            }
            None if w["kind"] == "job" => {
                assert!(
                    ["unlikely", "ruled_out"].contains(&top.1.as_str()),
                    "{name}: {top:?}"
                );
            }
            None => assert_eq!(
                (top.0.as_str(), top.1.as_str()),
                ("stale_revision", "inconclusive"),
                "{name}: an app without revisions read is undecided on stale_revision only"
            ),
        }
    }
    let total = r["summary"]["requests"]["total"].as_u64().unwrap() as f64;
    assert!(
        total / n as f64 <= 0.25,
        "{total} requests for {n} workloads"
    );
    // Strongest top status first.
    let order = [
        "confirmed",
        "likely",
        "possible",
        "inconclusive",
        "unlikely",
        "ruled_out",
    ];
    let ranks: Vec<usize> = all
        .iter()
        .map(|(_, _, s)| order.iter().position(|o| o == s).unwrap())
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "sorted by top status"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_pages_lose_no_workload_and_change_no_verdict() {
    let n = 200;
    let (calm, az) = generated(n).await;
    let baseline = report(&scan(&calm, &az, &["--as-of", AS_OF]).await);
    let (throttled, _) = generated(n).await;
    throttled.throttle_every(2);
    let out = scan(&throttled, &az, &["--as-of", AS_OF]).await;
    let r = report(&out);
    let throttles = throttled.seen().len() - calm.seen().len();
    assert!(throttles > 0, "some pages were throttled");
    assert_eq!(verdicts(&r), verdicts(&baseline));
    assert!(r["gaps"].as_array().unwrap().is_empty(), "{}", r["gaps"]);
    assert_valid(&r, "throttled scan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_is_paced_not_fatal() {
    let n = 150;
    let (mock, az) = generated(n).await;
    // A window far smaller than the scan's queries: every query past it waits for the reset.
    mock.set_quota(3, Duration::from_secs(1));
    let out = scan(&mock, &az, &["--as-of", AS_OF]).await;
    let r = report(&out);
    assert_eq!(verdicts(&r).len(), n);
    assert!(r["gaps"].as_array().unwrap().is_empty(), "{}", r["gaps"]);
    let bodies = mock.graph_bodies().len();
    let graph = r["summary"]["requests"]["resource_graph"].as_u64().unwrap() as usize;
    assert!(
        bodies >= graph,
        "{bodies} Resource Graph requests seen, {graph} counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_page_that_never_succeeds_is_a_gap_on_exactly_its_workloads() {
    let n = 120;
    let (mock, az) = generated(n).await;
    mock.never("microsoft.app/managedenvironments", None, 500);
    let out = scan(&mock, &az, &["--as-of", AS_OF, "--timeout", "30s"]).await;
    let r = report(&out);
    assert_valid(&r, "scan with a failed page");
    let workloads = r["workloads"].as_array().unwrap();
    assert_eq!(workloads.len(), n, "no workload dropped");
    for w in workloads {
        let gaps = w["gaps"].to_string();
        assert!(
            gaps.contains("Resource Graph page of environments"),
            "{}: {gaps}",
            w["name"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_page_that_never_succeeds_is_a_scope_gap() {
    let (mock, az) = generated(50).await;
    mock.never("microsoft.app/containerapps", None, 429);
    let out = scan(&mock, &az, &["--as-of", AS_OF, "--timeout", "8s"]).await;
    let r = report(&out);
    assert_valid(&r, "scan whose workload page failed");
    assert_eq!(out.status.code(), Some(3), "an unread scope cannot pass");
    let gaps = r["gaps"].to_string();
    assert!(
        gaps.contains("the apps and jobs of every subscription"),
        "{gaps}"
    );
    assert!(gaps.contains("not in this report"), "{gaps}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_rows_and_tokens_are_never_followed() {
    let (mock, az) = generated(20).await;
    let good = fleet_gen::generate(fleet_gen::Shape::of(20))
        .resources
        .into_iter()
        .find(|r| r["type"] == "microsoft.app/containerapps")
        .unwrap();
    // A row that carries a secret value (Resource Graph should never): it is not printed.
    let mut leaky = good.clone();
    leaky["properties"]["configuration"]["secrets"][0]["value"] = Value::from("kvdiag-canary-7d1e");
    let mut rows = vec![leaky];
    for (id, name) in [
        (
            "/subscriptions/../resourceGroups/rg/providers/Microsoft.App/containerApps/x",
            "x",
        ),
        (
            "/subscriptions/5b-not-a-guid/resourceGroups/rg/providers/Microsoft.App/containerApps/y",
            "y",
        ),
        (
            "/subscriptions/0000005b-0000-4000-8000-000000000000/resourceGroups/rg/providers/Microsoft.App/containerApps/a%2F..%2Fb",
            "a/../b",
        ),
        (
            "/subscriptions/0000005b-0000-4000-8000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
            "kv",
        ),
        (
            "/subscriptions/0000005b-0000-4000-8000-000000000000/resourceGroups/rg/providers/Microsoft.App/containerApps/q'x",
            "q'x",
        ),
    ] {
        let mut row = good.clone();
        row["id"] = Value::from(id);
        row["name"] = Value::from(name);
        rows.push(row);
    }
    // The same token on every page: a loop, read once.
    mock.hostile_page(
        "microsoft.app/containerapps",
        serde_json::json!({"totalRecords": 6, "count": 6, "resultTruncated": "false", "data": rows, "$skipToken": "again"}),
    );
    let out = scan(&mock, &az, &["--as-of", AS_OF]).await;
    assert!(!common::text(&out.stdout).contains("kvdiag-canary-7d1e"));
    let r = report(&out);
    assert_valid(&r, "hostile scan");
    assert!(mock.violations().is_empty(), "{:?}", mock.violations());
    for seen in mock.seen() {
        assert!(!seen.path.contains(".."), "sent {}", seen.line());
        assert!(!seen.path.contains('\''), "sent {}", seen.line());
    }
    let gaps = r["gaps"].to_string();
    assert!(gaps.contains("repeats an earlier one"), "{gaps}");
    assert!(gaps.contains("is not a Container App or job id"), "{gaps}");
    let names: Vec<&str> = r["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [good["name"].as_str().unwrap()],
        "only the valid row is diagnosed"
    );
    assert_eq!(out.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_list_next_link_to_another_host_is_refused() {
    let shape = fleet_gen::Shape::of(10);
    let mut data = fleet_gen::generate(shape);
    for r in data.responses.iter_mut() {
        if r["path"].as_str().unwrap().ends_with("/secrets") {
            r["body"]["nextLink"] =
                Value::from("https://evil.example/secrets?api-version=2025-05-01");
        }
    }
    let mock = MockFleet::serve(data).await;
    let az = FakeAz::new("scan-nextlink");
    let out = scan(&mock, &az, &["--as-of", AS_OF]).await;
    let r = report(&out);
    assert!(mock.seen().iter().all(|s| !s.line().contains("evil")));
    for w in r["workloads"].as_array().unwrap() {
        let state = w["hypotheses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == "keyvault_secret_state")
            .unwrap();
        assert_eq!(state["status"], "inconclusive", "{}", w["name"]);
        assert!(
            w["gaps"].to_string().contains("another host"),
            "{}",
            w["gaps"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_markdown_and_sarif_lay_out_the_same_scan() {
    let n = 60;
    let (mock, az) = generated(n).await;
    let mut outputs = Vec::new();
    for format in ["table", "markdown", "sarif"] {
        let out = scan_as(&mock, &az, &["--as-of", AS_OF], format).await;
        outputs.push((out.status.code(), common::text(&out.stdout)));
    }
    let planted: Vec<usize> = (0..n)
        .filter(|i| fleet_gen::planted(*i).is_some())
        .collect();
    for (code, text) in &outputs {
        assert_eq!(*code, Some(1), "{text}");
        assert!(!text.contains(TOKEN));
    }
    let (table, markdown, sarif) = (&outputs[0].1, &outputs[1].1, &outputs[2].1);
    for i in &planted {
        let name = if i % 5 == 4 {
            format!("job-{i}")
        } else {
            format!("ca-{i}")
        };
        assert!(
            table.contains(&format!("rg-fleet/{name} ")),
            "{name} in table:\n{table}"
        );
        assert!(
            markdown.contains(&format!("rg-fleet/{name}`")),
            "{name} in markdown"
        );
    }
    assert!(table.contains("fix: az "), "{table}");
    assert!(
        table.contains("workloads undecided: stale_revision"),
        "{table}"
    );
    assert!(markdown.starts_with("### kvdiag scan"), "{markdown}");
    let log: Value = serde_json::from_str(sarif).unwrap();
    let errors: Vec<String> = common::sarif_validator()
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), planted.len(), "one result per cause");
    for r in results {
        let id = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap();
        assert!(id.starts_with("/subscriptions/"), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_assigned_at_a_secret_is_asked_of_arm_at_that_secret() {
    let shape = fleet_gen::Shape::of(20);
    let mut data = fleet_gen::generate(shape);
    let vault = "/subscriptions/0000005b-0000-4000-8000-000000000000/resourceGroups/rg-vaults/providers/Microsoft.KeyVault/vaults/kv-fleet-0";
    // Workload 7 has no grant; a group holds one at its first secret (membership unknown).
    data.authorization.push(serde_json::json!({
        "id": format!("{vault}/secrets/secret-7/providers/Microsoft.Authorization/roleAssignments/{}", fleet_gen::guid(0xb0, 1)),
        "name": fleet_gen::guid(0xb0, 1),
        "type": "microsoft.authorization/roleassignments",
        "properties": {
            "scope": format!("{vault}/secrets/secret-7"),
            "roleDefinitionId": "/subscriptions/0000005b-0000-4000-8000-000000000000/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
            "principalId": fleet_gen::guid(0xc0, 1), "principalType": "Group",
            "createdOn": "2026-01-05T09:00:00Z"
        }
    }));
    let mock = MockFleet::serve(data).await;
    let az = FakeAz::new("scan-group");
    let r = report(&scan(&mock, &az, &["--as-of", AS_OF]).await);
    let listings: Vec<String> = mock
        .seen()
        .into_iter()
        .filter(|s| s.path.ends_with("/roleAssignments"))
        .map(|s| s.path.to_ascii_lowercase())
        .collect();
    let lower = vault.to_ascii_lowercase();
    assert!(
        listings.contains(&format!(
            "{lower}/secrets/secret-7/providers/microsoft.authorization/roleassignments"
        )),
        "{listings:?}"
    );
    assert!(
        listings.contains(&format!(
            "{lower}/providers/microsoft.authorization/roleassignments"
        )),
        "{listings:?}"
    );
    assert!(
        !listings.iter().any(|l| l.contains("/secrets/secret-8/")),
        "no group at secret-8: its listing comes from the vault's answer: {listings:?}"
    );
    let w = r["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "ca-7")
        .unwrap();
    assert_eq!(w["hypotheses"][0]["id"], "keyvault_access");
    assert_eq!(w["hypotheses"][0]["status"], "confirmed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scope_flags_become_resource_graph_scopes() {
    let (mock, az) = generated(10).await;
    let sub = fleet_gen::subscription(0);
    let cases: [(&[&str], &str); 3] = [
        (&["--management-group", "mg-platform"], "managementGroups"),
        (
            &["--subscription", &sub, "--rg", "rg-fleet"],
            "subscriptions",
        ),
        (&[], ""),
    ];
    for (flags, key) in cases {
        let before = mock.graph_bodies().len();
        let mut args = vec!["--as-of", AS_OF];
        args.extend_from_slice(flags);
        let r = report(&scan(&mock, &az, &args).await);
        assert_eq!(r["summary"]["workloads"], 10, "{flags:?}");
        let first = &mock.graph_bodies()[before];
        let options = &first["options"];
        assert_eq!(options["$top"], 1000);
        assert_eq!(options["resultFormat"], "objectArray");
        assert!(
            first["query"]
                .as_str()
                .unwrap()
                .ends_with("| order by id asc")
        );
        match key {
            "managementGroups" => {
                assert_eq!(
                    first["managementGroups"],
                    serde_json::json!(["mg-platform"])
                );
                assert_eq!(r["scope"]["management_group"], "mg-platform");
            }
            "subscriptions" => {
                assert_eq!(first["subscriptions"], serde_json::json!([sub]));
                assert!(
                    first["query"]
                        .as_str()
                        .unwrap()
                        .contains("resourceGroup =~ 'rg-fleet'")
                );
                assert_eq!(r["scope"]["resource_group"], "rg-fleet");
            }
            _ => {
                assert!(
                    first.get("subscriptions").is_none() && first.get("managementGroups").is_none()
                );
                assert_eq!(options["allowPartialScopes"], true);
            }
        }
    }
    let none = report(&scan(&mock, &az, &["--as-of", AS_OF, "--rg", "rg-elsewhere"]).await);
    assert_eq!(none["summary"]["workloads"], 0);
}
