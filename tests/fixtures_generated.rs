//! The committed scenario bundles are exactly what `fixtures/make_scenarios.py` generates from
//! `fixtures/composed/`: a hand edit of a bundle, or a generator change whose output was not
//! committed, fails here.
//!
//! Runs `python3 fixtures/make_scenarios.py --out <temp dir>` (the tree is never written) and
//! compares every generated file byte for byte with `fixtures/scenarios/`.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The generator takes about a second; this only bounds a hung interpreter.
const LIMIT: Duration = Duration::from_secs(120);

const HOW_TO_FIX: &str = "run python3 fixtures/make_scenarios.py and commit fixtures/scenarios/";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `*.json` file names directly inside `dir`.
fn json_files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect()
}

#[test]
fn committed_scenarios_equal_the_generator_output() {
    let repo = repo();
    let work = tempfile::tempdir().expect("temporary directory");
    let out = work.path().join("scenarios");
    let stdout_path = work.path().join("stdout.txt");
    let stderr_path = work.path().join("stderr.txt");

    let mut child = Command::new("python3")
        .arg(repo.join("fixtures/make_scenarios.py"))
        .arg("--out")
        .arg(&out)
        .current_dir(&repo)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run python3 (needed to regenerate fixtures/scenarios/ from \
                 fixtures/make_scenarios.py): {e}. Install python3 and put it on PATH."
            )
        });

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for python3") {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "python3 fixtures/make_scenarios.py did not finish within {} s",
                LIMIT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(
        status.success(),
        "python3 fixtures/make_scenarios.py --out {} failed ({status}):\n{stderr}",
        out.display()
    );

    let committed_dir = repo.join("fixtures/scenarios");
    let generated = json_files(&out);
    let committed = json_files(&committed_dir);
    assert!(!generated.is_empty(), "the generator wrote no scenario");

    let mut problems = Vec::new();
    for name in &generated {
        if !committed.contains(name) {
            problems.push(format!(
                "fixtures/scenarios/{name} is generated but not committed"
            ));
            continue;
        }
        let want = std::fs::read(out.join(name)).expect("generated file");
        let have = std::fs::read(committed_dir.join(name)).expect("committed file");
        if want != have {
            problems.push(format!(
                "fixtures/scenarios/{name} differs from what the generator writes"
            ));
        }
    }
    for name in committed.difference(&generated) {
        problems.push(format!(
            "fixtures/scenarios/{name} is committed but the generator no longer writes it"
        ));
    }
    assert!(problems.is_empty(), "{}\n{HOW_TO_FIX}", problems.join("\n"));
}

/// True when `text` is `template` with each `{placeholder}` standing for any text.
fn fits(template: &str, text: &str) -> bool {
    let mut pieces: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        pieces.push(&rest[..open]);
        rest = rest[open..].split_once('}').map_or("", |(_, after)| after);
    }
    pieces.push(rest);
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if pieces.len() == 1 {
        return text == first;
    }
    let Some(mut tail) = text.strip_prefix(first) else {
        return false;
    };
    for piece in &pieces[1..pieces.len() - 1] {
        match tail.find(piece) {
            Some(at) => tail = &tail[at + piece.len()..],
            None => return false,
        }
    }
    tail.ends_with(last)
}

/// The generator writes the same reads live collection sends: every response it records for a
/// read of the plan has the plan's method, api-version and `$filter` shape (src/plan.rs).
#[test]
fn every_fixture_request_is_a_planned_read() {
    let dir = repo().join("fixtures/scenarios");
    let mut checked = 0;
    for name in json_files(&dir) {
        let bundle = kvdiag::bundle::Bundle::load(&dir.join(&name)).expect("fixture loads");
        for response in &bundle.responses {
            let Some(kind) = kvdiag::bundle::route(response).kind() else {
                continue;
            };
            let spec = kind.spec();
            let line = format!("{name}: {}", response.request_line());
            assert_eq!(response.method, spec.method, "{line}");
            assert_eq!(response.service, spec.service, "{line}");
            assert_eq!(response.param("api-version"), spec.api_version, "{line}");
            match (spec.filter, response.param("$filter")) {
                (Some(template), Some(filter)) => {
                    assert!(fits(template, filter), "{line}: $filter is not {template}")
                }
                (None, None) => {}
                (template, filter) => panic!("{line}: $filter {filter:?}, plan {template:?}"),
            }
            checked += 1;
        }
    }
    assert!(
        checked > 500,
        "only {checked} planned reads in the fixtures"
    );
}

#[test]
fn templates_fit_like_the_plan_means() {
    assert!(fits(
        "atScope() and assignedTo('{p}')",
        "atScope() and assignedTo('abc')"
    ));
    assert!(!fits(
        "atScope() and assignedTo('{p}')",
        "assignedTo('abc')"
    ));
    assert!(fits("atScope()", "atScope()"));
    assert!(!fits("atScope()", "atScope() and 1"));
}
