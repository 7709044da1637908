//! The install story holds together: the release workflow builds every target README lists and
//! the action downloads, every action input is documented, the published binaries are the
//! optimised build, and the lock keeps the lean idna back end. The files are YAML that GitHub
//! reads, so they are parsed here too (a syntax error would otherwise surface only on a tag).

mod common;

use saphyr::{LoadableYamlNode, Yaml};

fn yaml(path: &str) -> Yaml<'static> {
    let text = std::fs::read_to_string(common::repo().join(path)).expect(path);
    // saphyr borrows the text; leaking a few KiB per test keeps the tree simple to return.
    let mut docs = Yaml::load_from_str(Box::leak(text.into_boxed_str())).expect(path);
    assert_eq!(docs.len(), 1, "{path}: one YAML document");
    docs.remove(0)
}

fn readme() -> String {
    std::fs::read_to_string(common::repo().join("README.md")).unwrap()
}

/// The release matrix's targets.
fn release_targets() -> Vec<String> {
    let release = yaml(".github/workflows/release.yml");
    let include = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_vec()
        .expect("a build matrix");
    include
        .iter()
        .map(|row| row["target"].as_str().expect("a target").to_string())
        .collect()
}

#[test]
fn every_release_target_is_documented() {
    let targets = release_targets();
    assert!(targets.len() >= 6, "{targets:?}");
    let readme = readme();
    for target in &targets {
        assert!(
            readme.contains(&format!("`{target}`")),
            "README names {target}"
        );
    }
}

#[test]
fn the_action_downloads_only_what_the_release_builds() {
    let action = std::fs::read_to_string(common::repo().join("action.yml")).unwrap();
    let targets = release_targets();
    let wanted: Vec<&str> = action
        .lines()
        .filter_map(|l| l.split_once("target=")?.1.split(';').next())
        .collect();
    assert!(wanted.len() >= 5, "{wanted:?}");
    for target in wanted {
        assert!(
            targets.iter().any(|t| t == target),
            "action.yml asks for {target}, which the release does not build"
        );
    }
}

#[test]
fn every_action_input_is_documented() {
    let action = yaml("action.yml");
    let inputs = action["inputs"].as_mapping().expect("inputs");
    assert!(inputs.len() >= 4);
    let readme = readme();
    for (name, input) in inputs {
        let name = name.as_str().expect("an input name");
        assert!(
            input["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{name} has a description"
        );
        assert!(
            readme.contains(&format!("`{name}`")),
            "README names input {name}"
        );
    }
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
}

#[test]
fn ci_runs_the_gate() {
    let ci = yaml(".github/workflows/ci.yml");
    let steps = ci["jobs"]["ci"]["steps"].as_vec().expect("steps");
    assert!(
        steps
            .iter()
            .filter_map(Yaml::as_mapping)
            .flat_map(|step| step.iter())
            .any(|(k, v)| k.as_str() == Some("run") && v.as_str() == Some("bash .ci/run")),
        "the GitHub workflow runs the same gate as CI"
    );
}

fn toml_file(path: &str) -> toml::Table {
    let text = std::fs::read_to_string(common::repo().join(path)).expect(path);
    text.parse().expect(path)
}

/// The idna back end is chosen in Cargo.lock only (`cargo update -p idna_adapter --precise
/// 1.1.0`), so a plain `cargo update` would bring ICU4X and its 15 s of build back unnoticed.
#[test]
fn idna_stays_on_the_unicode_rs_back_end() {
    let lock = toml_file("Cargo.lock");
    let versions: Vec<&str> = lock["package"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["name"].as_str() == Some("idna_adapter"))
        .map(|p| p["version"].as_str().expect("a version"))
        .collect();
    assert!(
        !versions.is_empty() && versions.iter().all(|v| v.starts_with("1.1.")),
        "idna_adapter {versions:?}: pin it again with `cargo update -p idna_adapter --precise 1.1.0` (README, design notes)"
    );
}

/// `release` is tuned for a short build; the binaries people download are the `dist` build.
#[test]
fn published_binaries_are_the_optimised_profile() {
    let manifest = toml_file("Cargo.toml");
    let dist = &manifest["profile"]["dist"];
    assert_eq!(dist["inherits"].as_str(), Some("release"));
    assert_eq!(dist["opt-level"].as_integer(), Some(3));
    let release = yaml(".github/workflows/release.yml");
    let steps = release["jobs"]["build"]["steps"]
        .as_vec()
        .expect("build steps");
    let runs: Vec<&str> = steps
        .iter()
        .filter_map(|s| s.as_mapping_get("run")?.as_str())
        .collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo build --profile dist --locked")),
        "{runs:?}"
    );
    assert!(
        runs.iter().any(|r| r.contains("/dist\n")),
        "packaging reads the dist directory: {runs:?}"
    );
    assert!(!runs.iter().any(|r| r.contains("--release")), "{runs:?}");
}
