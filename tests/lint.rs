//! `kvdiag lint`: every fixture's findings, SARIF against the official 2.1.0 schema, clear
//! errors on bad input, no secret value in any output, and no panic on any input.

mod common;

use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CANARY: &str = "kvdiag-canary-LINT-7f3a9c-never-print";

fn lint_dir() -> PathBuf {
    common::repo().join("fixtures/lint")
}

fn kvdiag(args: &[&str]) -> Output {
    common::lint_in(&common::repo(), args)
}

use common::text;

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)))
}

/// Every linted fixture, with its expected findings.
fn fixtures() -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(lint_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let linted = name.ends_with(".yaml") || name.ends_with(".json");
        if !linted || name.ends_with(".parameters.json") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let expected = lint_dir().join(format!("expected/{stem}.json"));
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(&expected)
                .unwrap_or_else(|_| panic!("{} has no expected/{stem}.json", path.display())),
        )
        .unwrap();
        assert_eq!(
            expected["file"],
            name.as_str(),
            "expected/{stem}.json names its file"
        );
        out.push((path, expected));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 15,
        "at least 15 lint fixtures, found {}",
        out.len()
    );
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(common::repo())
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn every_fixture_gives_its_expected_findings() {
    for (path, expected) in fixtures() {
        let file = relative(&path);
        let mut args = vec![file.clone(), "-o".into(), "json".into()];
        args.extend(common::lint_fixture_args(&expected));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = kvdiag(&args);
        assert_eq!(
            out.status.code(),
            expected["exit"].as_i64().map(|c| c as i32),
            "{file}: {}",
            text(&out.stderr)
        );
        let report = json_of(&out);
        assert_eq!(report["schema"], "kvdiag/lint/v1");
        let got = &report["files"][0];
        assert_eq!(got["file"], file.as_str());
        match expected["error"].as_str() {
            Some(error) => assert!(
                got["error"].as_str().is_some_and(|e| e.starts_with(error)),
                "{file}: error {} does not start with {error}",
                got["error"]
            ),
            None => assert!(got["error"].is_null(), "{file}: {}", got["error"]),
        }
        let keys = ["rule", "severity", "line", "column", "path"];
        let findings: Vec<Value> = got["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| keys.iter().map(|k| (k.to_string(), f[k].clone())).collect())
            .collect();
        assert_eq!(
            Value::Array(findings),
            expected["findings"],
            "{file}: findings differ"
        );
        for f in got["findings"].as_array().unwrap() {
            let message = f["message"].as_str().unwrap();
            assert!(
                !message.contains("Fix:") && !message.contains("Fix,"),
                "{file}: the message says what is wrong; the fix is in remediation: {message}"
            );
            let steps = f["remediation"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            assert!(
                !steps.is_empty()
                    && steps.iter().all(|r| r["description"]
                        .as_str()
                        .is_some_and(|d| d.split_whitespace().count() >= 2)),
                "{file}: every finding says how to fix it in remediation: {f}"
            );
        }
    }
}

use common::sarif_validator;

#[test]
fn sarif_is_valid_2_1_0_and_points_at_the_line() {
    let validator = sarif_validator();
    let cases = [
        (
            "fixtures/lint/arm-rest-example.json",
            "secretref-undefined",
            60,
            22,
        ),
        (
            "fixtures/lint/bad-secret-name.yaml",
            "secret-name-invalid",
            7,
            9,
        ),
        (
            "fixtures/lint/job-scale-rule.json",
            "secretref-undefined",
            37,
            22,
        ),
    ];
    for (file, rule, line, column) in cases {
        let out = kvdiag(&[file, "-o", "sarif"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let sarif = json_of(&out);
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:#?}");
        let run = &sarif["runs"][0];
        let result = &run["results"][0];
        assert_eq!(result["ruleId"], rule);
        assert_eq!(result["level"], "error");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], file);
        assert_eq!(location["region"]["startLine"], line, "{file}");
        assert_eq!(location["region"]["startColumn"], column, "{file}");
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(run["tool"]["driver"]["rules"][index]["id"], rule);
        let hash = result["partialFingerprints"][kvdiag::lint::sarif::FINGERPRINT]
            .as_str()
            .unwrap();
        assert_eq!(hash.len(), 64, "{hash}");
        // Every rule carries its metadata for code scanning.
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), kvdiag::lint::rules::RULES.len());
        for (r, meta) in kvdiag::lint::rules::RULES.iter().zip(rules) {
            assert_eq!(meta["id"], r.id);
            assert_eq!(meta["shortDescription"]["text"], r.summary);
            let full = meta["fullDescription"]["text"].as_str().unwrap();
            assert!(
                full.len() > 80 && !full.contains("](../"),
                "{}: {full}",
                r.id
            );
            assert!(meta["fullDescription"]["markdown"].is_string());
            let help = meta["help"]["markdown"].as_str().unwrap();
            assert!(help.contains("## How to fix"), "{}", r.id);
            assert!(!help.contains("](../"), "{}: links are absolute", r.id);
            assert!(meta["help"]["text"].as_str().unwrap().contains(&format!(
                "{}azure",
                kvdiag::lint::sarif::DOCS_BASE.trim_end_matches("rules/")
            )));
            assert_eq!(
                meta["helpUri"],
                format!("{}{}.md", kvdiag::lint::sarif::DOCS_BASE, r.id)
            );
            let severity = format!("{:?}", r.severity).to_ascii_lowercase();
            assert_eq!(meta["defaultConfiguration"]["level"], severity.as_str());
            let tags = meta["properties"]["tags"].as_array().unwrap();
            assert!(tags.contains(&Value::from("security")), "{}", r.id);
            assert!(
                tags.contains(&Value::from("azure-container-apps")),
                "{}",
                r.id
            );
        }
    }
    // A file that cannot be read is a tool notification, and the log is still valid.
    let out = kvdiag(&["fixtures/lint/malformed.yaml", "-o", "sarif"]);
    assert_eq!(out.status.code(), Some(2));
    let sarif = json_of(&out);
    assert!(validator.iter_errors(&sarif).next().is_none());
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(
        invocation["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("malformed YAML at line 5")
    );
}

#[test]
fn bad_input_gets_a_clear_message_and_exit_2() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["fixtures/lint/malformed.yaml"],
            "malformed YAML at line 5, column 7",
        ),
        (
            &["fixtures/lint/malformed-template.json"],
            "malformed JSON at line 4, column 68: Trailing commas are not allowed",
        ),
        (
            &["fixtures/lint/not-a-container-app.yaml"],
            "not a Container App: this looks like a Kubernetes manifest",
        ),
        (
            &["fixtures/lint/storage-only.json"],
            "not a Container App: the template declares no Microsoft.App/containerApps, Microsoft.App/jobs or Microsoft.App/managedEnvironments (nor its daprComponents or certificates) resource (it declares: Microsoft.Storage/storageAccounts)",
        ),
        (
            &["fixtures/lint/bicep-compiled.parameters.json"],
            "not a Container App: this is an ARM parameters file",
        ),
        (
            &["fixtures/lint/no-such-file.yaml"],
            "cannot read fixtures/lint/no-such-file.yaml",
        ),
        (
            &["fixtures/lint/main.bicep"],
            "compile it with `az bicep build --file fixtures/lint/main.bicep`",
        ),
    ];
    for (args, message) in cases {
        let out = kvdiag(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = kvdiag(&[
        "fixtures/lint/bicep-compiled.json",
        "--parameters",
        "main.bicepparam",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(".bicepparam files are not supported"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unresolved_expressions_are_reported_not_guessed() {
    let out = kvdiag(&["fixtures/lint/arm-unresolved.json"]);
    assert_eq!(out.status.code(), Some(0), "notes do not fail the gate");
    let table = text(&out.stdout);
    assert!(
        table.contains("cannot check properties.configuration.secrets"),
        "{table}"
    );
    assert!(table.contains("left unresolved"), "{table}");
    // The secretRef to a secret the copy loop builds is not called undefined.
    assert!(!table.contains("secretref-undefined"), "{table}");

    // Without its parameters file, the Key Vault URL cannot be built: say which parameter.
    let out = kvdiag(&["fixtures/lint/bicep-compiled.json", "-o", "json"]);
    let report = json_of(&out);
    let messages: Vec<&str> = report["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "expression-unresolved")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("keyVaultUrl")
            && m.contains("parameter 'vaultName' has no value: pass it with --parameters FILE")),
        "{messages:#?}"
    );
}

#[test]
fn fail_on_and_several_files_give_the_worst_exit() {
    assert_eq!(
        kvdiag(&["fixtures/lint/literal-value.yaml"]).status.code(),
        Some(0)
    );
    assert_eq!(
        kvdiag(&["fixtures/lint/literal-value.yaml", "--fail-on", "warning"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        kvdiag(&[
            "fixtures/lint/keyvault-url-malformed.yaml",
            "fixtures/lint/containerapp-full.yaml"
        ])
        .status
        .code(),
        Some(1)
    );
    let out = kvdiag(&[
        "fixtures/lint/containerapp-full.yaml",
        "fixtures/lint/malformed.yaml",
        "fixtures/lint/keyvault-url-malformed.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let report = json_of(&out);
    assert_eq!(
        report["files"].as_array().unwrap().len(),
        3,
        "every file is linted"
    );
    assert_eq!(report["files"][2]["findings"].as_array().unwrap().len(), 4);
}

#[test]
fn a_secret_value_is_never_printed() {
    for format in ["table", "json", "sarif"] {
        for fail_on in ["error", "warning", "note"] {
            let out = kvdiag(&[
                "fixtures/lint/literal-value.yaml",
                "-o",
                format,
                "--fail-on",
                fail_on,
            ]);
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert!(
                all.contains("orders-db-password"),
                "{format}: the secret is named"
            );
            assert!(!all.contains(CANARY), "{format}: the value leaked");
            assert!(
                !all.contains("7f3a9c"),
                "{format}: part of the value leaked"
            );
        }
    }
    // Through the library too, and through a template whose parameters file holds the value.
    let dir = std::env::temp_dir().join(format!("kvdiag-lint-canary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let template = dir.join("t.json");
    std::fs::write(&template, format!(r#"{{"parameters": {{"pw": {{"type": "securestring", "defaultValue": "{CANARY}"}}}},
      "resources": [{{"type": "Microsoft.App/containerApps", "name": "ca-orders-web", "properties": {{"configuration": {{"secrets": [
        {{"name": "db", "value": "[parameters('pw')]", "keyVaultUrl": "[parameters('pw')]"}}]}}, "template": {{}}}}}}]}}"#)).unwrap();
    let params = dir.join("p.json");
    std::fs::write(
        &params,
        format!(r#"{{"parameters": {{"pw": {{"value": "{CANARY}"}}}}}}"#),
    )
    .unwrap();
    for format in ["table", "json", "sarif"] {
        let out = kvdiag(&[
            template.to_str().unwrap(),
            "--parameters",
            params.to_str().unwrap(),
            "-o",
            format,
        ]);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains(CANARY), "{format}: {all}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Random edits of a fixture: deletions, duplications and JSON/YAML punctuation.
fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    const PUNCT: &[char] = &[
        '{', '}', '[', ']', ':', ',', '-', '"', '\'', '\n', ' ', '\t', '&', '*', '!', '|', '>',
        '#', '\\', 'é', '\u{0}',
    ];
    for (at, op, pick) in edits {
        if chars.is_empty() {
            break;
        }
        let i = at % chars.len();
        match op % 3 {
            0 => {
                let end = (i + usize::from(*pick % 16)).min(chars.len());
                chars.drain(i..end);
            }
            1 => chars.insert(i, PUNCT[usize::from(*pick) % PUNCT.len()]),
            _ => {
                let end = (i + usize::from(*pick % 32)).min(chars.len());
                let copy: Vec<char> = chars[i..end].to_vec();
                for (k, c) in copy.into_iter().enumerate() {
                    chars.insert(end + k, c);
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn fixture_texts() -> Vec<(String, String)> {
    fixtures()
        .into_iter()
        .map(|(p, _)| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), json in any::<bool>()) {
        let text = String::from_utf8_lossy(&bytes);
        let name = if json { "x.json" } else { "x.yaml" };
        let report = kvdiag::lint::lint_text(name, &text, None);
        prop_assert!(report.error.is_some() || report.findings.iter().all(|f| f.line >= 1 && f.column >= 1));
    }

    #[test]
    fn mutated_fixtures_never_panic(which in 0usize..64, edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..12)) {
        let texts = fixture_texts();
        let (name, text) = &texts[which % texts.len()];
        let mutated = mutate(text, &edits);
        let params = kvdiag::lint::Parameters::default();
        let report = kvdiag::lint::lint_text(name, &mutated, Some(&params));
        for f in &report.findings {
            prop_assert!(f.line >= 1 && f.column >= 1);
        }
        // The SARIF and JSON renderers take whatever lint produced.
        let r = kvdiag::lint::Report::new(vec![report]);
        let _ = kvdiag::lint::sarif::render(&r);
    }
}

/// The README's rule table lists every rule, with its default severity.
#[test]
fn readme_lists_every_rule() {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    for rule in kvdiag::lint::rules::RULES {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| [`{0}`](docs/rules/{0}.md) |", rule.id)))
            .unwrap_or_else(|| {
                panic!(
                    "README's rule table lacks `{0}` linked to docs/rules/{0}.md",
                    rule.id
                )
            });
        if rule.check.is_some() {
            let severity = format!("{:?}", rule.severity).to_ascii_lowercase();
            assert!(row.contains(&severity), "{}: {row}", rule.id);
        }
    }
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every rule has its page under docs/rules/, the page is the rule's SARIF help, it has the
/// sections the help and the docs promise, and every link in it leads to a file and heading
/// that exist.
#[test]
fn every_rule_has_its_page() {
    let docs = common::repo().join("docs/rules");
    let mut pages: Vec<String> = std::fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    pages.sort();
    let mut ids: Vec<String> = kvdiag::lint::rules::RULES
        .iter()
        .map(|r| format!("{}.md", r.id))
        .collect();
    ids.sort();
    assert_eq!(pages, ids, "one page per rule, and no page without a rule");
    for rule in kvdiag::lint::rules::RULES {
        let page = std::fs::read_to_string(docs.join(format!("{}.md", rule.id))).unwrap();
        assert_eq!(page, rule.help, "{}: the page is the rule's help", rule.id);
        assert!(
            page.starts_with(&format!("# `{}`\n", rule.id)),
            "{}",
            rule.id
        );
        for section in ["What it catches", "Azure rule", "Example", "How to fix"] {
            assert!(
                !rule.help_section(section).is_empty(),
                "{}: no \"## {section}\"",
                rule.id
            );
        }
        assert!(
            rule.help_section("Azure rule").contains("](../azure"),
            "{}: the Azure rule links into docs/",
            rule.id
        );
        let links = kvdiag::lint::sarif::inline_links(&page);
        assert!(!links.is_empty(), "{}: links into docs/", rule.id);
        for (_, _, target) in links {
            let target = &page[target];
            if target.contains("://") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let path = docs.join(file);
            let linked = std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("{}: {target} is not a file", rule.id));
            if !anchor.is_empty() {
                assert!(
                    linked
                        .lines()
                        .filter_map(|l| l.strip_prefix('#'))
                        .any(|h| slug(h.trim_start_matches('#')) == anchor),
                    "{}: {target} names no heading",
                    rule.id
                );
            }
        }
    }
}

fn sarif_of(file: &str, text: &str) -> Value {
    let report = kvdiag::lint::Report::new(vec![kvdiag::lint::lint_text(file, text, None)]);
    serde_json::from_str(&kvdiag::lint::sarif::render(&report)).unwrap()
}

fn fingerprints(sarif: &Value) -> Vec<(String, u64, String)> {
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
                r["partialFingerprints"][kvdiag::lint::sarif::FINGERPRINT]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

/// A result keeps its fingerprint when lines move, and two findings never share one.
#[test]
fn fingerprints_survive_line_moves() {
    let file = "fixtures/lint/bad-secret-name.yaml";
    let text = std::fs::read_to_string(common::repo().join(file)).unwrap();
    let before = fingerprints(&sarif_of(file, &text));
    assert!(before.len() >= 2, "{before:?}");
    for (_, _, hash) in &before {
        assert_eq!(hash.len(), 64, "{hash}");
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}");
    }
    let mut unique: Vec<&String> = before.iter().map(|(_, _, h)| h).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        before.len(),
        "two findings share a fingerprint"
    );

    // Three comment lines at the top and a blank line inside the secrets list.
    let moved = format!("# one\n# two\n# three\n{text}").replacen(
        "      - name: servicebus.connection",
        "\n      - name: servicebus.connection",
        1,
    );
    let after = fingerprints(&sarif_of(file, &moved));
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.0, a.0);
        assert!(a.1 >= b.1 + 3, "the line moved: {b:?} {a:?}");
        assert_eq!(b.2, a.2, "the fingerprint stays: {b:?} {a:?}");
    }
    // Another file, or another secret name, is another finding.
    let elsewhere = fingerprints(&sarif_of("other/bad-secret-name.yaml", &text));
    assert_ne!(before[0].2, elsewhere[0].2);
    let renamed = fingerprints(&sarif_of(
        file,
        &text.replace("Orders_DB_Password", "Orders_DB_Pass"),
    ));
    assert_ne!(before[0].2, renamed[0].2);
}

/// `kvdiag lint ARGS` with `input` on its standard input, bounded to 60 s.
fn kvdiag_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvdiag"))
        .arg("lint")
        .args(args)
        .current_dir(common::repo())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("kvdiag runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A thread, so a child that stops reading cannot block the test; dropping closes the pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kvdiag lint {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    writer.join().unwrap();
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

fn findings_of(report: &Value, index: usize) -> Vec<(String, u64, u64)> {
    report["files"][index]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// `kvdiag lint -` reads standard input, YAML or JSON by its content, as `<stdin>`.
#[test]
fn stdin_is_linted_by_content() {
    for (fixture, form) in [
        ("fixtures/lint/bad-secret-name.yaml", "cli-yaml"),
        ("fixtures/lint/arm-rest-example.json", "arm-template"),
    ] {
        let text = std::fs::read(common::repo().join(fixture)).unwrap();
        let piped = kvdiag_stdin(&["-", "-o", "json"], &text);
        let named = kvdiag(&[fixture, "-o", "json"]);
        assert_eq!(piped.status.code(), named.status.code(), "{fixture}");
        let (piped, named) = (json_of(&piped), json_of(&named));
        assert_eq!(piped["files"][0]["file"], kvdiag::lint::inputs::STDIN);
        assert_eq!(piped["files"][0]["resources"][0]["form"], form, "{fixture}");
        assert_eq!(findings_of(&piped, 0), findings_of(&named, 0), "{fixture}");
        assert!(!findings_of(&piped, 0).is_empty(), "{fixture}");
    }
    // Inline suppressions read the piped text too.
    let yaml =
        std::fs::read_to_string(common::repo().join("fixtures/lint/bad-secret-name.yaml")).unwrap();
    let accepted = yaml.replacen(
        "- name: Orders_DB_Password",
        "- name: Orders_DB_Password # kvdiag: ignore[secret-name-invalid] legacy name, renamed in the next release",
        1,
    );
    assert_ne!(accepted, yaml, "the fixture names the secret");
    let doc = json_of(&kvdiag_stdin(&["-", "-o", "json"], accepted.as_bytes()));
    let kinds: Vec<&str> = doc["suppressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["inline"], "{doc:#}");
    // Not a Container App, and not text: clear errors, exit 2.
    let out = kvdiag_stdin(&["-"], b"apiVersion: apps/v1\nkind: Deployment\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("<stdin>: not a Container App"),
        "{}",
        text(&out.stderr)
    );
    let out = kvdiag_stdin(&["-"], &[0xff, 0xfe, 0x00]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("standard input is not UTF-8 text"));
    // SARIF names it too.
    let yaml = std::fs::read(common::repo().join("fixtures/lint/bad-secret-name.yaml")).unwrap();
    let sarif = json_of(&kvdiag_stdin(&["-", "-o", "sarif"], &yaml));
    assert!(sarif_validator().iter_errors(&sarif).next().is_none());
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "%3Cstdin%3E"
    );
}

/// `kvdiag lint DIR` reads every *.yaml, *.yml and *.json below it in name order, skips (and
/// counts) what is not a Container App, and never enters hidden, target/ or node_modules/.
#[test]
fn a_directory_is_searched() {
    let repo = common::repo();
    let fixture =
        |name: &str| std::fs::read_to_string(repo.join("fixtures/lint").join(name)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let bad = fixture("bad-secret-name.yaml");
    write("apps/web.yaml", &bad);
    write("apps/worker/job.JSON", &fixture("job-scale-rule.json"));
    write("infra/main.json", &fixture("arm-rest-example.json"));
    write(
        "package.json",
        r#"{"name": "site", "version": "1.0.0", "scripts": {}}"#,
    );
    write("k8s/deploy.yml", &fixture("not-a-container-app.yaml"));
    write(
        "charts/web/templates/deploy.yaml",
        "metadata:\n  name: {{ .Release.Name }\n",
    );
    write("notes.md", &bad);
    for hidden in [
        ".github/workflows/app.yaml",
        "node_modules/x/app.yaml",
        "target/app.json",
    ] {
        write(hidden, &bad);
    }
    let shown = root.display().to_string();
    let out = kvdiag(&[&shown, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json_of(&out);
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    let under = |rel: &str| root.join(rel).display().to_string();
    assert_eq!(
        files,
        [
            under("apps/web.yaml"),
            under("apps/worker/job.JSON"),
            under("infra/main.json")
        ],
        "in name order, nothing hidden"
    );
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        [
            under("charts/web/templates/deploy.yaml"),
            under("k8s/deploy.yml"),
            under("package.json")
        ]
    );
    assert!(
        text(&out.stderr).is_empty(),
        "skipped files are not errors: {}",
        text(&out.stderr)
    );
    assert_eq!(
        kvdiag(&[&shown, "-o", "json"]).stdout,
        out.stdout,
        "deterministic"
    );
    let table = text(&kvdiag(&[&shown]).stdout);
    assert!(
        table.contains("in 3 file(s); 3 file(s) skipped (not a Container App)"),
        "{table}"
    );

    // A broken Container App file in the directory is an error, not skipped.
    write("apps/broken.yaml", &fixture("malformed.yaml"));
    let out = kvdiag(&[&shown, "-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("broken.yaml: malformed YAML at line 5"),
        "{}",
        text(&out.stderr)
    );

    // A directory with no app at all is an error: a gate that checks nothing does not pass.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("package.json"), "{}").unwrap();
    let out = kvdiag(&[&empty.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no Container App or job found under"),
        "{}",
        text(&out.stderr)
    );
}
