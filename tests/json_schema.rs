//! The JSON contracts: every scenario's `check -o json` and every lint fixture's `lint -o json`
//! validate against the schemas in docs/schema/, and the schemas' enums are the code's.

mod common;

use kvdiag::checks::CheckerId;
use kvdiag::render::{Format, Style, render};
use serde_json::Value;
use std::process::Command;

fn schema(name: &str) -> Value {
    let path = common::repo().join("docs/schema").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema(name))
        .unwrap_or_else(|e| panic!("{name} compiles: {e}"))
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

#[test]
fn every_scenario_verdict_fits_the_verdict_schema() {
    let validator = validator("verdict-v1.schema.json");
    for (name, path) in common::scenarios() {
        let text = render(&common::verdict_of(&path), Format::Json, Style::default());
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_valid(&validator, &doc, &name);
    }
}

#[test]
fn the_binary_prints_the_same_document() {
    let validator = validator("verdict-v1.schema.json");
    let out = Command::new(env!("CARGO_BIN_EXE_kvdiag"))
        .args([
            "check",
            "--from",
            "fixtures/scenarios/managed-identity-no-role.json",
            "-o",
            "json",
        ])
        .current_dir(common::repo())
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&validator, &doc, "check -o json");
    // Empty and absent values are present, so `jq '.hypotheses[].concerns[]'` never fails.
    for h in doc["hypotheses"].as_array().unwrap() {
        assert!(h["concerns"].is_array(), "{h}");
    }
    // The schema has teeth: a document that omits a field does not validate.
    let mut missing = doc.clone();
    missing["hypotheses"][0]
        .as_object_mut()
        .unwrap()
        .remove("concerns");
    assert!(!validator.is_valid(&missing));
}

/// Every lint fixture, with the arguments its expected file gives.
fn lint_runs() -> Vec<(String, Vec<String>)> {
    let dir = common::repo().join("fixtures/lint");
    let mut runs = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if !(name.ends_with(".yaml") || name.ends_with(".json"))
            || name.ends_with(".parameters.json")
        {
            continue;
        }
        let stem = name.rsplit_once('.').unwrap().0;
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("expected/{stem}.json"))).unwrap(),
        )
        .unwrap();
        let mut args = vec![format!("fixtures/lint/{name}")];
        args.extend(common::lint_fixture_args(&expected));
        runs.push((name, args));
    }
    runs.sort();
    assert!(runs.len() >= 15, "found {} lint fixtures", runs.len());
    // Several files at once, one of them unreadable: `error` is a string there, null elsewhere.
    runs.push((
        "several files".into(),
        vec![
            "fixtures/lint/bad-secret-name.yaml".into(),
            "fixtures/lint/no-such-file.yaml".into(),
            "fixtures/lint/containerapp-full.yaml".into(),
        ],
    ));
    runs
}

#[test]
fn every_lint_report_fits_the_lint_schema() {
    let validator = validator("lint-v1.schema.json");
    for (name, args) in lint_runs() {
        let out = Command::new(env!("CARGO_BIN_EXE_kvdiag"))
            .arg("lint")
            .args(&args)
            .args(["-o", "json"])
            .current_dir(common::repo())
            .env_remove("COLUMNS")
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_valid(&validator, &doc, &name);
        for file in doc["files"].as_array().unwrap() {
            assert!(file.get("error").is_some(), "{name}: {file}");
            for f in file["findings"].as_array().unwrap() {
                assert!(f.get("suggestion").is_some() && f["remediation"].is_array());
            }
        }
    }
}

fn enum_of(schema: &Value, pointer: &str) -> Vec<String> {
    schema
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{pointer} is an enum"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_schema_enums_are_the_code_s() {
    use kvdiag::verdict::Status;
    let verdict = schema("verdict-v1.schema.json");
    let ids: Vec<String> = CheckerId::ALL.iter().map(|c| c.as_str().into()).collect();
    assert_eq!(
        enum_of(&verdict, "/$defs/hypothesis/properties/id/enum"),
        ids
    );
    let statuses: Vec<String> = Status::ALL
        .iter()
        .map(|s| serde_json::to_value(s).unwrap().as_str().unwrap().into())
        .collect();
    assert_eq!(enum_of(&verdict, "/$defs/status/enum"), statuses);
    let lint = schema("lint-v1.schema.json");
    let severities: Vec<String> = ["error", "warning", "note"].map(String::from).to_vec();
    assert_eq!(
        enum_of(&lint, "/$defs/finding/properties/severity/enum"),
        severities
    );
    for s in &severities {
        let parsed: kvdiag::lint::Severity =
            clap::ValueEnum::from_str(s, false).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(parsed.as_str(), s);
    }
}

/// The lists that are usually empty fit the schema when they are not: a directory scan that
/// skips a file and a finding accepted inline.
#[test]
fn suppressions_and_skipped_files_fit_the_lint_schema() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let yaml = std::fs::read_to_string(common::repo().join("fixtures/lint/bad-secret-name.yaml"))
        .unwrap()
        .replacen(
            "- name: Orders_DB_Password",
            "- name: Orders_DB_Password # kvdiag: ignore[secret-name-invalid] renamed next release",
            1,
        );
    std::fs::write(dir.path().join("app.yaml"), yaml).unwrap();
    std::fs::write(dir.path().join("package.json"), "{\"name\": \"web\"}").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvdiag"))
        .args(["lint", ".", "-o", "json"])
        .current_dir(dir.path())
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(
        &validator("lint-v1.schema.json"),
        &doc,
        "dir with suppression",
    );
    assert_eq!(
        doc["suppressions"].as_array().map(Vec::len),
        Some(1),
        "{doc:#}"
    );
    assert_eq!(doc["skipped"].as_array().map(Vec::len), Some(1), "{doc:#}");
}
