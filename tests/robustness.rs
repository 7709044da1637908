//! Bad evidence never panics: every response of every fixture is replaced in turn by junk
//! bodies, error statuses and missing answers, and the verdict must keep its contract.
// The hostile corpus prints its measured figures (bench/hostile.sh quotes them).
#![allow(clippy::print_stdout, clippy::print_stderr)]

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
    check_contract_as_of(name, bundle, None);
}

fn check_contract_as_of(name: &str, bundle: &Bundle, as_of: Option<time::OffsetDateTime>) {
    let verdict = diagnose(&Snapshot::build(bundle, as_of));
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

/// One extreme moment, written the way each kind of field carries a time: RFC 3339 text
/// (ARM, activity log, Log Analytics cells) and Key Vault's unix seconds.
struct Extreme {
    name: &'static str,
    text: Value,
    unix: Value,
}

fn extremes() -> Vec<Extreme> {
    let e = |name, text: Value, unix: Value| Extreme { name, text, unix };
    vec![
        e(
            "the calendar's last second",
            json!("9999-12-31T23:59:59Z"),
            json!(253402300799_i64),
        ),
        e(
            "the last tick .NET can write",
            json!("9999-12-31T23:59:59.9999999Z"),
            json!(253402300799.9999_f64),
        ),
        e(
            "the last second, west of UTC",
            json!("9999-12-31T23:59:59-05:00"),
            json!(u64::MAX),
        ),
        e(
            "year one",
            json!("0001-01-01T00:00:00Z"),
            json!(-62135596800_i64),
        ),
        e(
            "year zero, east of UTC",
            json!("0000-01-01T00:00:00+01:00"),
            json!(-1e300_f64),
        ),
        e(
            "six-digit year",
            json!("+999999-12-31T23:59:59Z"),
            json!(i64::MAX),
        ),
        e("the epoch", json!("1970-01-01T00:00:00Z"), json!(0)),
        e("i64::MIN", json!("-0001-01-01T00:00:00Z"), json!(i64::MIN)),
        e("garbage", json!("not-a-time"), json!("not-a-time")),
    ]
}

/// Key Vault's unix-second attributes.
const UNIX_FIELDS: [&str; 4] = ["created", "updated", "exp", "nbf"];

/// Where a body holds a time: a JSON pointer and whether it is unix seconds.
fn time_fields(value: &Value, at: &str, out: &mut Vec<(String, bool)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let pointer = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                if UNIX_FIELDS.contains(&key.as_str()) && v.is_number() {
                    out.push((pointer, true));
                } else {
                    time_fields(v, &pointer, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                time_fields(v, &format!("{at}/{i}"), out);
            }
        }
        Value::String(s) if kvdiag::azure::time::parse(s).is_some() => out.push((at.into(), false)),
        _ => {}
    }
}

/// Every time in a bundle: (response index, pointer into its body, unix seconds?).
fn bundle_time_fields(bundle: &Bundle) -> Vec<(usize, String, bool)> {
    let mut out = Vec::new();
    for (i, r) in bundle.responses.iter().enumerate() {
        let mut fields = Vec::new();
        if let Some(body) = &r.body {
            time_fields(body, "", &mut fields);
        }
        out.extend(fields.into_iter().map(|(p, unix)| (i, p, unix)));
    }
    out
}

fn replace(bundle: &mut Bundle, (i, pointer, unix): &(usize, String, bool), with: &Extreme) {
    let body = bundle.responses[*i].body.as_mut().unwrap();
    *body.pointer_mut(pointer).unwrap() = if *unix {
        with.unix.clone()
    } else {
        with.text.clone()
    };
}

/// Runs `f`, counting a panic instead of unwinding through the test.
fn survives(label: String, failures: &mut Vec<String>, f: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
        failures.push(label);
    }
}

/// Moments at the ends of the calendar for `--as-of`.
fn as_of_extremes() -> Vec<time::OffsetDateTime> {
    use time::OffsetDateTime;
    let parse = |s: &str| kvdiag::azure::time::parse(s).unwrap();
    vec![
        parse("9999-12-31T23:59:59.999999999Z"),
        parse("9999-12-31T23:59:59Z"),
        parse("0000-01-01T00:00:00Z"),
        OffsetDateTime::UNIX_EPOCH,
        parse("1970-01-01T00:00:00Z") - time::Duration::seconds(1),
        kvdiag::azure::time::from_unix(-62135596800).unwrap(),
    ]
}

/// Extreme but well-formed timestamps (the ends of the calendar, seven fractional digits,
/// offsets that push past year 9999, unix seconds beyond any date) and garbage where a time
/// belongs never panic and never break the verdict's contract: every time of every fixture
/// at once, one kind at a time; each time alone in a sample; and `--as-of` at the ends of the
/// calendar.
#[test]
fn extreme_timestamps_never_panic_or_break_the_contract() {
    let mut runs = 0;
    let mut failures: Vec<String> = Vec::new();
    for (name, path) in common::scenarios() {
        let original = Bundle::load(&path).unwrap();
        let fields = bundle_time_fields(&original);
        for extreme in extremes() {
            let mut bundle = original.clone();
            for field in &fields {
                replace(&mut bundle, field, &extreme);
            }
            if let Some(text) = extreme.text.as_str() {
                bundle.collected_at = text.to_string();
            }
            let label = format!("{name}: every time is {}", extreme.name);
            survives(label.clone(), &mut failures, || {
                check_contract_as_of(&label, &bundle, None)
            });
            runs += 1;
        }
        // One field at a time: the first response of each kind of time, for two extremes.
        let mut sampled: Vec<&(usize, String, bool)> = Vec::new();
        for field in &fields {
            let shape = |(i, p, _): &(usize, String, bool)| {
                (
                    original.responses[*i].path.clone(),
                    p.rsplit('/').next().map(str::to_string),
                )
            };
            if !sampled.iter().any(|s| shape(s) == shape(field)) {
                sampled.push(field);
            }
        }
        for field in sampled {
            for extreme in extremes()
                .iter()
                .filter(|e| ["the calendar's last second", "year one", "garbage"].contains(&e.name))
            {
                let mut bundle = original.clone();
                replace(&mut bundle, field, extreme);
                let label = format!(
                    "{name}: response {} {} is {}",
                    field.0, field.1, extreme.name
                );
                survives(label.clone(), &mut failures, || {
                    check_contract_as_of(&label, &bundle, None)
                });
                runs += 1;
            }
        }
        for as_of in as_of_extremes() {
            let label = format!("{name}: --as-of {as_of}");
            survives(label.clone(), &mut failures, || {
                check_contract_as_of(&label, &original, Some(as_of))
            });
            runs += 1;
        }
    }
    eprintln!("{runs} runs, {} panicked", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {runs} runs panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(runs > 1000, "{runs} runs");
}

/// Whether the snapshot reads the time at `pointer` of response `i` (other times, such as a
/// role definition's `createdOn` or an event's `submissionTimestamp`, are never evidence).
fn read_by_snapshot(bundle: &Bundle, i: usize, pointer: &str) -> bool {
    let response = &bundle.responses[i];
    let path = response.path.to_ascii_lowercase();
    let last = pointer.rsplit('/').next().unwrap_or_default();
    match last {
        "createdTime" => path.ends_with("/revisions"),
        // An environment target reads no time of its own resource.
        "lastModifiedAt" => {
            !bundle.target.is_environment()
                && path == bundle.target.resource_id().to_ascii_lowercase()
        }
        "eventTimestamp" => path.contains("/eventtypes/management/values"),
        "createdOn" => path.contains("/roleassignments"),
        "created" | "updated" | "exp" | "nbf" => pointer.contains("/attributes/"),
        // A Log Analytics cell: its column's name says what it is.
        column if pointer.starts_with("/tables/0/rows/") => {
            let body = response.body.as_ref().unwrap();
            column.parse::<usize>().is_ok_and(|c| {
                body.pointer(&format!("/tables/0/columns/{c}/name"))
                    .and_then(Value::as_str)
                    == Some("TimeGenerated")
            })
        }
        _ => false,
    }
}

/// A time the evidence needs that is present but unusable (garbled, or beyond year 9999 in
/// UTC) is a gap naming the response and the field, never silently "no time".
#[test]
fn an_unusable_time_is_a_gap_that_names_its_response() {
    let mut checked = 0;
    for (name, path) in common::scenarios() {
        let original = Bundle::load(&path).unwrap();
        let before = Snapshot::build(&original, None);
        for field in bundle_time_fields(&original) {
            let (i, pointer, unix) = &field;
            let request = original.responses[*i].request_line();
            // Only responses the snapshot used (not superseded retries, not unplanned reads).
            if !read_by_snapshot(&original, *i, pointer)
                || before.gaps.iter().any(|g| g.request == request)
            {
                continue;
            }
            // Garbled, and well-formed but past year 9999 in UTC.
            for bad in ["not-a-time", "9999-12-31T23:59:59-05:00"] {
                let mut bundle = original.clone();
                let body = bundle.responses[*i].body.as_mut().unwrap();
                *body.pointer_mut(pointer).unwrap() =
                    if *unix { json!(i64::MAX) } else { json!(bad) };
                let snapshot = Snapshot::build(&bundle, None);
                let gap = snapshot.gaps.iter().find(|g| {
                    g.request == request && g.why.starts_with("timestamp out of range: ")
                });
                let label = format!("{name}: response {i} {pointer} = {bad}");
                let gap = gap.unwrap_or_else(|| panic!("{label}: no gap in {:#?}", snapshot.gaps));
                assert!(
                    gap.why.contains(" is not a time kvdiag can read; "),
                    "{label}: {gap:?}"
                );
                check_contract(&label, &bundle);
                checked += 1;
            }
        }
    }
    eprintln!("{checked} unusable times checked");
    assert!(checked > 300, "{checked} checked");
}

/// A role assignment whose `createdOn` cannot be read cannot be called old enough to have
/// propagated: an hour after the grant the lab is ruled out, but not on an unreadable age.
#[test]
fn an_unreadable_grant_age_never_rules_out_access() {
    let path = common::repo().join("fixtures/scenarios/role-assigned-minutes-ago.json");
    let original = Bundle::load(&path).unwrap();
    let later = kvdiag::azure::time::parse("2026-11-20T11:30:00Z");
    let status = |bundle: &Bundle| {
        let verdict = diagnose(&Snapshot::build(bundle, later));
        let h = verdict
            .hypotheses
            .iter()
            .find(|h| h.id == "keyvault_access")
            .unwrap();
        (h.status, verdict.gaps.clone())
    };
    assert_eq!(status(&original).0, Status::RuledOut);
    let fields: Vec<_> = bundle_time_fields(&original)
        .into_iter()
        .filter(|(i, p, _)| p.ends_with("/createdOn") && read_by_snapshot(&original, *i, p))
        .collect();
    // The vault-scope listing and the secret-scope one (which inherits it) list the same grant.
    assert!(fields.len() >= 2, "{fields:?}");
    let mut bundle = original.clone();
    for field in &fields {
        replace(&mut bundle, field, &extremes()[2]);
    }
    let (status, gaps) = status(&bundle);
    assert_ne!(status, Status::RuledOut);
    assert!(
        gaps.iter().any(|g| g.why
            == "timestamp out of range: value[0].properties.createdOn '9999-12-31T23:59:59-05:00' is not a time kvdiag can read; nothing in this response is used"),
        "{gaps:#?}"
    );
}
