//! `kvdiag lint` acceptance: inline suppression comments, kvdiag.toml and `--baseline`.
//! Suppressed findings are listed (JSON, table, SARIF) and never fail the run. Every case
//! works in its own temporary directory holding a `.git`, so the config search stops there.

mod common;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;

/// A literal secret value on line 9 (`secret-literal-value`, a warning) in `ca-orders-web`.
const APP: &str = "\
name: ca-orders-web
properties:
  environmentId: /subscriptions/3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90/resourceGroups/rg-orders/providers/Microsoft.App/managedEnvironments/cae-orders
  configuration:
    secrets:
      - name: orders-db-password
        value: not-a-real-password
  template:
    containers:
      - name: orders-web
        image: crordersshared.azurecr.io/orders-web:1.42.0
        env:
          - name: DB_PASSWORD
            secretRef: orders-db-password
";

const VALUE_LINE: &str = "        value: not-a-real-password\n";

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        Repo { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `kvdiag lint ARGS` run in the repository's root.
    fn lint(&self, args: &[&str]) -> Output {
        common::lint_in(self.dir.path(), args)
    }
}

use common::text;

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)))
}

/// `(rule, line)` of every finding.
fn findings(doc: &Value) -> Vec<(String, u64)> {
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// `(rule, line, kind, reason)` of every suppressed finding.
fn suppressed(doc: &Value) -> Vec<(String, u64, String, String)> {
    doc["suppressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["rule"].as_str().unwrap().to_string(),
                s["line"].as_u64().unwrap(),
                s["kind"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn with_line_before_value(extra: &str) -> String {
    APP.replace(VALUE_LINE, &format!("{extra}{VALUE_LINE}"))
}

use common::sarif_validator;

#[test]
fn without_acceptance_the_warning_fails_the_gate() {
    let repo = Repo::new();
    repo.write("app.yaml", APP);
    let out = repo.lint(&["app.yaml", "--fail-on", "warning", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json_of(&out);
    assert_eq!(findings(&doc), [("secret-literal-value".to_string(), 7)]);
    assert_eq!(doc["suppressions"], serde_json::json!([]));
}

#[test]
fn inline_yaml_comment_on_the_line_above_or_the_same_line() {
    let repo = Repo::new();
    for (name, body) in [
        (
            "above.yaml",
            with_line_before_value(
                "        # kvdiag: ignore[secret-literal-value] demo app, no real data\n",
            ),
        ),
        (
            "same.yaml",
            APP.replace(
                VALUE_LINE,
                "        value: not-a-real-password # kvdiag: ignore[secret-literal-value] demo app, no real data\n",
            ),
        ),
    ] {
        repo.write(name, &body);
        let out = repo.lint(&[name, "--fail-on", "warning", "-o", "json"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text_of(&out));
        let doc = json_of(&out);
        assert_eq!(findings(&doc), [], "{name}");
        let line = if name == "above.yaml" { 8 } else { 7 };
        assert_eq!(
            suppressed(&doc),
            [(
                "secret-literal-value".into(),
                line,
                "inline".into(),
                "demo app, no real data".into()
            )],
            "{name}"
        );
        let comment = 7;
        assert_eq!(
            doc["suppressions"][0]["source"],
            format!("{name}:{comment}"),
            "{name}"
        );

        let table = text(&repo.lint(&[name]).stdout);
        assert!(
            table.contains("1 suppressed (1 inline); -v lists them"),
            "{table}"
        );
        let listed = text(&repo.lint(&[name, "-v"]).stdout);
        assert!(
            listed.contains("1 suppressed (1 inline):")
                && listed.contains(&format!(
                    "{name}:{line}:9 warning secret-literal-value [inline: {name}:{comment}] demo app, no real data"
                )),
            "{listed}"
        );
    }
}

fn text_of(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

#[test]
fn inline_json_comment_and_sarif_marks_it_in_source() {
    let repo = Repo::new();
    let template =
        std::fs::read_to_string(common::repo().join("fixtures/lint/vault-in-template.json"))
            .unwrap();
    let url =
        "\"keyVaultUrl\": \"https://kv-orders-shared.vault.azure.net/secrets/orders-db-password\",";
    assert!(template.contains(url));
    let before = repo.write("t.json", &template);
    let out = repo.lint(&["t.json", "--fail-on", "note"]);
    assert_eq!(out.status.code(), Some(1), "{}", text_of(&out));

    std::fs::write(
        &before,
        template.replace(
            url,
            &format!("{url} // kvdiag: ignore[keyvault-permission-model-implicit] the vault module sets enableRbacAuthorization"),
        ),
    )
    .unwrap();
    let out = repo.lint(&["t.json", "--fail-on", "note", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
    let doc = json_of(&out);
    assert_eq!(findings(&doc), []);
    assert_eq!(
        suppressed(&doc),
        [(
            "keyvault-permission-model-implicit".into(),
            42,
            "inline".into(),
            "the vault module sets enableRbacAuthorization".into()
        )]
    );

    let out = repo.lint(&["t.json", "--fail-on", "note", "-o", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let sarif = json_of(&out);
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "keyvault-permission-model-implicit");
    assert_eq!(results[0]["suppressions"][0]["kind"], "inSource");
    assert!(
        results[0]["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .starts_with("the vault module sets enableRbacAuthorization")
    );
}

#[test]
fn a_suppression_without_reason_is_not_applied_and_is_reported() {
    let repo = Repo::new();
    repo.write(
        "app.yaml",
        &with_line_before_value("        # kvdiag: ignore[secret-literal-value]\n"),
    );
    let out = repo.lint(&["app.yaml", "--fail-on", "warning", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json_of(&out);
    assert_eq!(
        findings(&doc),
        [
            ("suppression-invalid".into(), 7),
            ("secret-literal-value".into(), 8)
        ]
    );
    let message = doc["files"][0]["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("gives no reason, so it is not applied"),
        "{message}"
    );
    assert_eq!(doc["suppressions"], serde_json::json!([]));
}

#[test]
fn unknown_rule_ids_and_malformed_directives_are_warnings() {
    let repo = Repo::new();
    repo.write(
        "app.yaml",
        &with_line_before_value(
            "        # kvdiag: ignore[secret-literl-value, secret-literal-value] demo\n        # kvdiag: ignore secret-literal-value because\n",
        ),
    );
    let out = repo.lint(&["app.yaml", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out);
    assert_eq!(
        findings(&doc),
        [
            ("suppression-invalid".into(), 7),
            ("suppression-invalid".into(), 8)
        ]
    );
    let first = &doc["files"][0]["findings"][0];
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["suggestion"], "secret-literal-value");
    assert!(first["message"].as_str().unwrap().contains(
        "'secret-literl-value' is not a kvdiag rule (did you mean 'secret-literal-value'?)"
    ));
    // The known id in the same comment still applies (stacked comments skip to the code line).
    assert_eq!(suppressed(&doc).len(), 1);
    let second = doc["files"][0]["findings"][1]["message"].as_str().unwrap();
    assert!(
        second.contains("kvdiag: ignore[rule-id, ...] reason"),
        "{second}"
    );
}

#[test]
fn an_unused_suppression_is_a_note() {
    let repo = Repo::new();
    repo.write(
        "app.yaml",
        &APP.replace(
            "      - name: orders-db-password\n",
            "      - name: orders-db-password # kvdiag: ignore[secret-literal-value] on the wrong line\n",
        ),
    );
    let out = repo.lint(&["app.yaml", "--fail-on", "warning", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json_of(&out);
    assert_eq!(
        findings(&doc),
        [
            ("suppression-unused".into(), 6),
            ("secret-literal-value".into(), 7)
        ]
    );
    assert_eq!(doc["files"][0]["findings"][0]["severity"], "note");
}

#[test]
fn config_is_found_upward_and_stops_at_the_repository_root() {
    let repo = Repo::new();
    repo.write("test/apps/demo.yaml", APP);
    repo.write("prod/app.yaml", APP);
    repo.write(
        "kvdiag.toml",
        r#"
[[ignore]]
rules = ["secret-literal-value"]
paths = ["test/**/*.yaml"]
reason = "demo apps use literal secrets"
"#,
    );
    let out = repo.lint(&[
        "test/apps/demo.yaml",
        "./prod/app.yaml",
        "--fail-on",
        "warning",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "prod is not ignored");
    let doc = json_of(&out);
    assert_eq!(doc["files"][0]["findings"], serde_json::json!([]));
    assert_eq!(findings(&doc), [("secret-literal-value".into(), 7)]);
    assert_eq!(
        suppressed(&doc),
        [(
            "secret-literal-value".into(),
            7,
            "config".into(),
            "demo apps use literal secrets".into()
        )]
    );
    assert_eq!(doc["suppressions"][0]["file"], "test/apps/demo.yaml");
    assert_eq!(doc["suppressions"][0]["source"], "kvdiag.toml ignore[0]");

    // An absolute path finds it too.
    let abs = repo.path("test/apps/demo.yaml");
    let out = repo.lint(&[abs.to_str().unwrap(), "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));

    // A kvdiag.toml above the directory holding .git is not read.
    let inner = Repo::new();
    let nested = inner.path("sub");
    std::fs::create_dir_all(nested.join(".git")).unwrap();
    inner.write(
        "kvdiag.toml",
        "[rules.secret-literal-value]\nseverity = \"off\"\nreason = \"x\"\n",
    );
    inner.write("sub/app.yaml", APP);
    let out = inner.lint(&["sub/app.yaml", "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(1), "{}", text_of(&out));
}

#[test]
fn config_flag_severity_off_and_resource_globs() {
    let repo = Repo::new();
    repo.write("app.yaml", APP);
    let config = |body: &str| {
        let path = repo.write("elsewhere/settings.toml", body);
        path.to_str().unwrap().to_string()
    };

    // Raised to error: fails at the default --fail-on.
    let c = config(
        "[rules.secret-literal-value]\nseverity = \"error\"\nreason = \"no literal secrets here\"\n",
    );
    let out = repo.lint(&["app.yaml", "--config", &c, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        json_of(&out)["files"][0]["findings"][0]["severity"],
        "error"
    );

    // Lowered to a note: passes --fail-on warning.
    let c =
        config("[rules.secret-literal-value]\nseverity = \"note\"\nreason = \"tracked in #12\"\n");
    let out = repo.lint(&["app.yaml", "--config", &c, "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(0));

    // Off: listed as suppressed by config.
    let c = config(
        "[rules.secret-literal-value]\nseverity = \"off\"\nreason = \"sandbox subscription\"\n",
    );
    let out = repo.lint(&[
        "app.yaml",
        "--config",
        &c,
        "--fail-on",
        "note",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        suppressed(&json_of(&out)),
        [(
            "secret-literal-value".into(),
            7,
            "config".into(),
            "sandbox subscription".into()
        )]
    );

    // A resource glob that does not match the app leaves the finding; one that does takes it.
    for (glob, code) in [("ca-demo-*", 1), ("ca-orders-*", 0)] {
        let c = config(&format!(
            "[[ignore]]\nresources = [\"{glob}\"]\nreason = \"demo apps\"\n"
        ));
        let out = repo.lint(&["app.yaml", "--config", &c, "--fail-on", "warning"]);
        assert_eq!(out.status.code(), Some(code), "{glob}: {}", text_of(&out));
    }

    // --config means no search: a kvdiag.toml beside the file is not read.
    repo.write(
        "kvdiag.toml",
        "[rules.secret-literal-value]\nseverity = \"off\"\nreason = \"x\"\n",
    );
    let c =
        config("[rules.keyvault-url-pinned]\nseverity = \"off\"\nreason = \"pinned on purpose\"\n");
    let out = repo.lint(&["app.yaml", "--config", &c, "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(1));
    let out = repo.lint(&["app.yaml", "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn invalid_config_exits_2_with_one_line_naming_file_and_key() {
    let repo = Repo::new();
    repo.write("app.yaml", APP);
    let cases = [
        (
            "[rules.secret-literal-valu]\nseverity = \"off\"\nreason = \"x\"\n",
            "kvdiag.toml: rules.secret-literal-valu: 'secret-literal-valu' is not a kvdiag rule (did you mean 'secret-literal-value'?)",
        ),
        (
            "[rules.secret-literal-value]\nseverity = \"off\"\n",
            "kvdiag.toml: rules.secret-literal-value.reason: is missing",
        ),
        (
            "[[ignore]]\nrules = [\"secret-literal-value\"]\nreason = \"x\"\nresource = [\"a\"]\n",
            "kvdiag.toml: ignore[0].resource: unknown key",
        ),
        ("[rules\n", "kvdiag.toml: invalid TOML (line 1)"),
    ];
    for (body, want) in cases {
        repo.write("kvdiag.toml", body);
        let out = repo.lint(&["app.yaml"]);
        assert_eq!(out.status.code(), Some(2), "{body}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("kvdiag: error: {}", want)) || err.contains(want),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    std::fs::remove_file(repo.path("kvdiag.toml")).unwrap();
    let out = repo.lint(&["app.yaml", "--config", "missing.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read missing.toml"));
}

#[test]
fn baseline_accepts_todays_findings_and_fails_only_on_new_ones() {
    let repo = Repo::new();
    repo.write("app.yaml", APP);
    let out = repo.lint(&[
        "app.yaml",
        "--fail-on",
        "warning",
        "--write-baseline",
        "baseline.json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
    assert!(text(&out.stderr).contains("wrote baseline.json (1 finding(s) accepted)"));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.path("baseline.json")).unwrap())
            .unwrap();
    assert_eq!(written["schema"], "kvdiag/baseline/v1");
    let entry = &written["findings"][0];
    assert_eq!(entry["rule"], "secret-literal-value");
    assert_eq!(entry["file"], "app.yaml");
    assert_eq!(entry["resource"], "ca-orders-web");
    assert_eq!(entry["path"], "properties.configuration.secrets[0].value");
    assert!(
        entry["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(entry.get("line").is_none());

    // Lines moved: still accepted.
    let moved = format!("# a comment\n# and another\n{APP}");
    repo.write("app.yaml", &moved);
    let out = repo.lint(&[
        "./app.yaml",
        "--fail-on",
        "warning",
        "--baseline",
        "baseline.json",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
    let doc = json_of(&out);
    assert_eq!(
        suppressed(&doc),
        [(
            "secret-literal-value".into(),
            9,
            "baseline".into(),
            "accepted in baseline baseline.json".into()
        )]
    );

    // A new literal secret fails; the old one stays accepted.
    let grown = moved.replace(
        VALUE_LINE,
        &format!("{VALUE_LINE}      - name: second-password\n        value: also-not-real\n"),
    );
    repo.write("app.yaml", &grown);
    let out = repo.lint(&[
        "app.yaml",
        "--fail-on",
        "warning",
        "--baseline",
        "baseline.json",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json_of(&out);
    assert_eq!(findings(&doc), [("secret-literal-value".into(), 11)]);
    assert_eq!(suppressed(&doc).len(), 1);

    // SARIF carries the accepted one as an external suppression and still validates.
    let out = repo.lint(&["app.yaml", "--baseline", "baseline.json", "-o", "sarif"]);
    let sarif = json_of(&out);
    assert!(sarif_validator().is_valid(&sarif));
    let kinds: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["suppressions"][0]["kind"])
        .collect();
    assert_eq!(kinds, [&Value::Null, &Value::from("external")]);

    // The fixed finding's entry is stale: said on stderr.
    repo.write("app.yaml", &APP.replace(VALUE_LINE, "        keyVaultUrl: https://kv-orders.vault.azure.net/secrets/orders-db-password\n        identity: system\n"));
    let out = repo.lint(&["app.yaml", "--baseline", "baseline.json"]);
    assert!(
        text(&out.stderr).contains("1 entry of baseline baseline.json matched no finding"),
        "{}",
        text_of(&out)
    );

    // A file that is not a baseline: exit 2, one line.
    repo.write(
        "bad.json",
        "{\"schema\": \"kvdiag/lint/v1\", \"files\": []}",
    );
    let out = repo.lint(&["app.yaml", "--baseline", "bad.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr).lines().count(), 1, "{}", text_of(&out));
}

#[test]
fn suppression_rules_are_in_the_readme_table() {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    for id in ["suppression-invalid", "suppression-unused"] {
        assert!(
            readme.contains(&format!("| [`{id}`](docs/rules/{id}.md) |")),
            "{id}"
        );
    }
    assert!(readme.contains("### Accepting findings"));
}
