//! Every fixture scenario gives its expected verdict (fixtures/expected/<name>.json).

mod common;

use kvdiag::verdict::Status;
use serde_json::Value;
use std::collections::BTreeMap;

#[test]
fn every_scenario_gives_its_expected_verdict() {
    let mut failures = Vec::new();
    for (name, path) in common::scenarios() {
        let expected_path = common::repo().join(format!("fixtures/expected/{name}.json"));
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|_| panic!("{name}: no {}", expected_path.display())),
        )
        .unwrap();
        let verdict = common::verdict_of(&path);
        let json = serde_json::to_value(&verdict).unwrap();
        let mut problems = Vec::new();

        let statuses: BTreeMap<String, String> = verdict
            .hypotheses
            .iter()
            .map(|h| (h.id.to_string(), h.status.to_string()))
            .collect();
        let wanted: BTreeMap<String, String> =
            serde_json::from_value(expected["statuses"].clone()).unwrap();
        if statuses != wanted {
            problems.push(format!("statuses {statuses:?}, expected {wanted:?}"));
        }
        if verdict.top().map(|h| h.id.as_str()) != expected["top"].as_str() {
            problems.push(format!(
                "top {:?}, expected {}",
                verdict.top().map(|h| &h.id),
                expected["top"]
            ));
        }
        let exit = verdict.exit_code(Status::Likely);
        if Some(exit as i64) != expected["exit"].as_i64() {
            problems.push(format!("exit {exit}, expected {}", expected["exit"]));
        }
        if Some(verdict.gaps.len() as i64) != expected["gaps"].as_i64() {
            problems.push(format!(
                "{} gaps, expected {}: {:#?}",
                verdict.gaps.len(),
                expected["gaps"],
                verdict.gaps
            ));
        }
        for (id, needles) in expected["contains"].as_object().into_iter().flatten() {
            let entry = json["hypotheses"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["id"] == *id);
            let text = entry.map(|e| e.to_string()).unwrap_or_default();
            for needle in needles.as_array().unwrap() {
                let needle = needle.as_str().unwrap();
                // Compare against JSON-escaped text so quotes in needles match.
                let escaped = serde_json::to_string(needle).unwrap();
                if !text.contains(escaped.trim_matches('"')) {
                    problems.push(format!("{id} lacks {needle:?}"));
                }
            }
        }
        let gaps = json["gaps"].to_string();
        for needle in expected["gaps_contain"].as_array().into_iter().flatten() {
            if !gaps.contains(needle.as_str().unwrap()) {
                problems.push(format!("gaps lack {needle}"));
            }
        }
        problems.extend(timeline_problems(&json, &expected));
        if !problems.is_empty() {
            failures.push(format!("{name}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `timeline_contains`: each needle is in some entry (`at source event — detail`).
/// `timeline_before`: `[earlier, later]` pairs of needles; the entry matching `earlier` must
/// come after (older than) the first entry matching `later`, the list being newest first.
fn timeline_problems(json: &Value, expected: &Value) -> Vec<String> {
    let lines: Vec<String> = json["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} — {}",
                e["at"].as_str().unwrap(),
                e["source"].as_str().unwrap(),
                e["event"].as_str().unwrap(),
                e["detail"].as_str().unwrap()
            )
        })
        .collect();
    let find = |needle: &str| lines.iter().position(|l| l.contains(needle));
    let mut problems = Vec::new();
    for needle in expected["timeline_contains"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let needle = needle.as_str().unwrap();
        if find(needle).is_none() {
            problems.push(format!("timeline lacks {needle:?}: {lines:#?}"));
        }
    }
    for pair in expected["timeline_before"].as_array().into_iter().flatten() {
        let (earlier, later) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        match (find(earlier), find(later)) {
            (Some(e), Some(l)) if e > l => {}
            found => problems.push(format!(
                "timeline: {earlier:?} should come before {later:?}, positions {found:?}: {lines:#?}"
            )),
        }
    }
    problems
}

/// Evidence that comes from a timed event points at an existing timeline entry, and the
/// timeline is newest first, bounded and numbered t1..tn.
#[test]
fn evidence_points_at_timeline_entries() {
    let mut linked = 0;
    for (name, path) in common::scenarios() {
        let verdict = common::verdict_of(&path);
        assert!(verdict.timeline.len() <= kvdiag::timeline::LIMIT, "{name}");
        for (i, e) in verdict.timeline.iter().enumerate() {
            assert_eq!(e.id, format!("t{}", i + 1), "{name}");
        }
        assert!(
            verdict.timeline.windows(2).all(|w| w[0].at >= w[1].at),
            "{name}: timeline not newest first"
        );
        for e in verdict.hypotheses.iter().flat_map(|h| &h.evidence) {
            if let Some(id) = &e.timeline {
                assert!(
                    verdict.timeline.iter().any(|t| &t.id == id),
                    "{name}: evidence points at missing {id}"
                );
                linked += 1;
            }
        }
        if name == "rejected-put-secretref" {
            let write = verdict.hypotheses[0]
                .evidence
                .iter()
                .find(|e| e.source == "activity_log")
                .expect("the failed write is evidence");
            let entry = verdict
                .timeline
                .iter()
                .find(|t| Some(&t.id) == write.timeline.as_ref())
                .expect("linked to its entry");
            assert!(entry.event.contains("app write failed"), "{entry:?}");
        }
    }
    assert!(
        linked > 20,
        "only {linked} evidence items point at the timeline"
    );
}

#[test]
fn every_expectation_has_a_scenario() {
    let scenarios: Vec<String> = common::scenarios().into_iter().map(|(n, _)| n).collect();
    for entry in std::fs::read_dir(common::repo().join("fixtures/expected")).unwrap() {
        let name = entry
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            scenarios.contains(&name),
            "fixtures/expected/{name}.json has no scenario"
        );
    }
}

/// The verdict semantics of docs/design.md that must hold for every scenario.
#[test]
fn verdicts_keep_the_contract() {
    for (name, path) in common::scenarios() {
        let v = common::verdict_of(&path);
        let ranks: Vec<usize> = v.hypotheses.iter().map(|h| h.rank).collect();
        assert_eq!(
            ranks,
            (1..=v.hypotheses.len()).collect::<Vec<_>>(),
            "{name}: ranks are 1..n in order"
        );
        assert!(
            v.hypotheses.windows(2).all(|w| w[0].status <= w[1].status),
            "{name}: sorted by status"
        );
        for id in ["secret_ref", "keyvault_access", "stale_revision"] {
            assert!(
                v.hypotheses.iter().any(|h| h.id == id),
                "{name}: {id} is always present"
            );
        }
        for h in &v.hypotheses {
            assert!(!h.summary.is_empty(), "{name}/{}: empty summary", h.id);
            if h.status <= Status::Possible {
                assert!(
                    !h.evidence.is_empty(),
                    "{name}/{}: a cause needs evidence",
                    h.id
                );
            }
            if h.status == Status::Inconclusive {
                assert!(
                    !v.gaps.is_empty(),
                    "{name}/{}: inconclusive must name the missing read",
                    h.id
                );
            }
        }
        // Never ruled_out on evidence that could not be read: a failed role-assignment read
        // keeps keyvault_access from being ruled out.
        if v.gaps.iter().any(|g| g.request.contains("roleAssignments")) {
            let access = v
                .hypotheses
                .iter()
                .find(|h| h.id == "keyvault_access")
                .unwrap();
            assert_ne!(access.status, Status::RuledOut, "{name}");
        }
    }
}

#[test]
fn replay_is_deterministic() {
    for (name, path) in common::scenarios() {
        let a = serde_json::to_string(&common::verdict_of(&path)).unwrap();
        let b = serde_json::to_string(&common::verdict_of(&path)).unwrap();
        assert_eq!(a, b, "{name}");
    }
}

/// A sync failure kvdiag cannot classify keeps the reference from being ruled out.
#[test]
fn an_unclassified_sync_failure_is_not_ruled_out() {
    let path = common::repo().join("fixtures/scenarios/healthy.json");
    let mut bundle = kvdiag::bundle::Bundle::load(&path).unwrap();
    let logs = bundle
        .responses
        .iter_mut()
        .find(|r| r.path.ends_with("/query"))
        .unwrap();
    let rows = logs
        .body
        .as_mut()
        .unwrap()
        .pointer_mut("/tables/0/rows")
        .unwrap()
        .as_array_mut()
        .unwrap();
    let mut row = rows[0].clone();
    // Columns: TimeGenerated, ContainerAppName_s, RevisionName_s, ReplicaName_s, Reason_s, Type_s, Log_s, ...
    row[0] = "2026-11-20T10:20:00.0000000Z".into();
    row[4] = "SyncingSecretFromAzureKeyVaultForContainerAppFailed".into();
    row[6] = "Error happened when syncing secret orders-db-password from Azure Key Vault https://kv-orders-shared.vault.azure.net/secrets/orders-db-password for ContainerApp ca-orders-web: GET request to Azure Key Vault https://kv-orders-shared.vault.azure.net/secrets/orders-db-password returned error status: 500. body: oops.".into();
    rows.insert(0, row);
    let verdict = kvdiag::checks::diagnose(&kvdiag::snapshot::Snapshot::build(&bundle, None));
    let access = verdict
        .hypotheses
        .iter()
        .find(|h| h.id == "keyvault_access")
        .unwrap();
    assert_eq!(access.status, Status::Possible, "{access:#?}");
    assert!(
        access.summary.contains("an unrecognised error"),
        "{}",
        access.summary
    );
}

/// `--as-of` replays the past: the timeline holds nothing after "now", and a verdict taken
/// before the role was deleted sees the syncs still succeeding.
#[test]
fn as_of_cuts_the_timeline() {
    let verdict = before_the_deletion();
    assert!(!verdict.timeline.is_empty());
    assert!(
        verdict
            .timeline
            .iter()
            .all(|e| e.at.as_str() <= "2026-11-19T16:30:00Z"),
        "{:#?}",
        verdict.timeline
    );
    assert!(
        !verdict
            .timeline
            .iter()
            .any(|e| e.event.contains("deleted") || e.event.contains("sync failed"))
    );
    assert!(
        verdict.timeline[0]
            .event
            .starts_with("Key Vault sync succeeded")
    );
}

/// Before the deletion the same bundle shows a healthy app: no sync had failed yet.
#[test]
fn as_of_before_the_deletion_sees_no_failure() {
    let verdict = before_the_deletion();
    let access = verdict
        .hypotheses
        .iter()
        .find(|h| h.id == "keyvault_access")
        .unwrap();
    assert!(
        !access
            .evidence
            .iter()
            .any(|e| e.observation.contains("failed")),
        "{access:#?}"
    );
}

/// The role-deleted scenario as of 2026-11-19T16:30Z, ten minutes before the deletion.
fn before_the_deletion() -> kvdiag::verdict::Verdict {
    let path = common::repo().join("fixtures/scenarios/role-deleted-yesterday.json");
    let bundle = kvdiag::bundle::Bundle::load(&path).unwrap();
    let as_of = kvdiag::azure::time::parse("2026-11-19T16:30:00Z").unwrap();
    kvdiag::checks::diagnose(&kvdiag::snapshot::Snapshot::build(&bundle, Some(as_of)))
}
