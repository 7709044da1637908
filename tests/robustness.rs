//! Bad evidence never panics: every response of every fixture is replaced in turn by junk
//! bodies, error statuses and missing answers, and the verdict must keep its contract.

mod common;
#[path = "robustness/hostile.rs"]
mod hostile;

use kvdiag::bundle::Bundle;
use kvdiag::checks::diagnose;
use kvdiag::render::{Format, Style, render};
use kvdiag::snapshot::Snapshot;
use kvdiag::verdict::Status;
use serde_json::{Value, json};

fn mutations() -> Vec<(Option<u16>, Option<Value>, Option<&'static str>)> {
    let junk = [
        json!(null),
        json!("x"),
        json!(1),
        json!([]),
        json!({}),
        json!({"properties": null}),
        json!({"value": "x"}),
        json!({"value": [1, "a", null, {"properties": 7}]}),
        json!({"tables": [{"columns": 1, "rows": [[null]]}]}),
        json!({"properties": {"configuration": {"secrets": [{"name": 5}, null]}, "template": {"containers": {"env": 1}}}}),
    ];
    let mut out: Vec<_> = junk
        .into_iter()
        .map(|b| (Some(200), Some(b), None))
        .collect();
    for status in [401, 403, 404, 429, 500] {
        out.push((
            Some(status),
            Some(json!({"error": {"code": "X", "message": "m"}})),
            None,
        ));
    }
    out.push((None, None, Some("timeout")));
    out
}

fn check_contract(name: &str, bundle: &Bundle) {
    let verdict = diagnose(&Snapshot::build(bundle, None));
    let ranks: Vec<usize> = verdict.hypotheses.iter().map(|h| h.rank).collect();
    assert_eq!(
        ranks,
        (1..=verdict.hypotheses.len()).collect::<Vec<_>>(),
        "{name}"
    );
    for id in ["secret_ref", "keyvault_access", "stale_revision"] {
        assert!(
            verdict.hypotheses.iter().any(|h| h.id == id),
            "{name}: {id} missing"
        );
    }
    if verdict
        .hypotheses
        .iter()
        .any(|h| h.status == Status::Inconclusive)
    {
        assert!(
            !verdict.gaps.is_empty(),
            "{name}: inconclusive without a named gap"
        );
    }
    for format in [Format::Table, Format::Json, Format::Markdown] {
        assert!(!render(&verdict, format, Style::default()).is_empty());
    }
    let _ = verdict.exit_code(Status::Likely);
}

#[test]
fn no_corrupted_response_panics_or_breaks_the_contract() {
    let mut runs = 0;
    for (name, path) in common::scenarios() {
        let original = Bundle::load(&path).unwrap();
        for i in 0..original.responses.len() {
            for (status, body, error) in mutations() {
                let mut bundle = original.clone();
                let r = &mut bundle.responses[i];
                r.status = status;
                r.body = body;
                r.error = error.map(str::to_string);
                check_contract(
                    &format!(
                        "{name} response {i} ({} {}) status {:?} body {:?} error {:?}",
                        r.method, r.path, r.status, r.body, r.error
                    ),
                    &bundle,
                );
                runs += 1;
            }
        }
        // And with each response missing entirely.
        for i in 0..original.responses.len() {
            let mut bundle = original.clone();
            bundle.responses.remove(i);
            check_contract(&format!("{name} without response {i}"), &bundle);
            runs += 1;
        }
    }
    assert!(runs > 4000, "{runs} runs");
}

/// A failed read never lets a hypothesis that depends on it be ruled out.
#[test]
fn unreadable_evidence_is_never_ruled_out() {
    let path = common::repo().join("fixtures/scenarios/managed-identity-no-role.json");
    let original = Bundle::load(&path).unwrap();
    for (i, response) in original.responses.iter().enumerate() {
        let mut bundle = original.clone();
        bundle.responses[i].status = Some(403);
        bundle.responses[i].body =
            Some(json!({"error": {"code": "AuthorizationFailed", "message": "no"}}));
        let verdict = diagnose(&Snapshot::build(&bundle, None));
        let access = verdict
            .hypotheses
            .iter()
            .find(|h| h.id == "keyvault_access")
            .unwrap();
        let path = response.path.to_ascii_lowercase();
        let decisive = path.contains("roleassignments")
            || path.ends_with("/vaults/kv-orders-shared")
            || path.contains("microsoft.app/containerapps/ca-orders-web")
                && !path.ends_with("/revisions");
        if decisive {
            assert_ne!(
                access.status,
                Status::RuledOut,
                "403 on {} must not rule out keyvault_access",
                response.path
            );
        }
    }
}
