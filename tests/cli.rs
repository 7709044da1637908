//! The binary's contract: first screen, exit codes, formats, and clear errors on bad input.

mod common;

use std::process::{Command, Output};

fn kvdiag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvdiag"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output()
        .expect("kvdiag runs")
}

fn scenario(name: &str) -> String {
    common::repo()
        .join(format!("fixtures/scenarios/{name}.json"))
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn the_lab_names_the_missing_role_first_with_its_fix() {
    let out = kvdiag(&["check", "--from", &scenario("managed-identity-no-role")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let first: Vec<&str> = text.lines().take(7).collect();
    assert_eq!(first[2], "TOP CAUSE: keyvault_access (confirmed)", "{text}");
    let vault = "/subscriptions/3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90/resourceGroups/rg-orders/providers/Microsoft.KeyVault/vaults/kv-orders-shared";
    assert_eq!(first[4], "FIX:", "{text}");
    assert!(
        first[6].starts_with(
            "  az role assignment create --assignee-object-id 9c4e2b71-5a3d-4f08-b6e1-2d7a9f0c3e15"
        ),
        "{text}"
    );
    assert!(first[6].ends_with(&format!("--scope {vault}")), "{text}");
}

#[test]
fn exit_codes_follow_fail_on() {
    let cases: [(&str, &[&str], i32); 7] = [
        ("healthy", &[], 0),
        ("managed-identity-no-role", &[], 1),
        ("role-assignments-forbidden", &[], 3),
        ("app-not-found", &[], 3),
        ("secret-expired", &[], 0),
        ("secret-expired", &["--fail-on", "possible"], 1),
        ("plain-secret-changed", &["--fail-on", "confirmed"], 0),
    ];
    for (name, extra, code) in cases {
        let path = scenario(name);
        let mut args = vec!["check", "--from", path.as_str(), "-o", "json"];
        args.extend_from_slice(extra);
        let out = kvdiag(&args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{name} {extra:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn json_is_the_documented_contract() {
    let out = kvdiag(&[
        "check",
        "--from",
        &scenario("role-assignments-forbidden"),
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "kvdiag/verdict/v1");
    assert_eq!(v["target"]["app"], "ca-orders-web");
    let hypotheses = v["hypotheses"].as_array().unwrap();
    for (i, h) in hypotheses.iter().enumerate() {
        assert_eq!(h["rank"], i + 1);
        for field in ["id", "status", "summary", "evidence", "remediation"] {
            assert!(!h[field].is_null(), "{field} missing in {h}");
        }
        for e in h["evidence"].as_array().unwrap() {
            assert!(e["effect"] == "supports" || e["effect"] == "weakens", "{e}");
            assert!(
                e["observation"].is_string() && e["source"].is_string(),
                "{e}"
            );
        }
    }
    let gap = &v["gaps"][0];
    for field in ["request", "status", "why", "needs"] {
        assert!(gap.get(field).is_some(), "gap lacks {field}: {gap}");
    }
    assert_eq!(gap["status"], 403);
}

#[test]
fn markdown_is_ready_to_paste() {
    let out = kvdiag(&[
        "check",
        "--from",
        &scenario("secretref-case-mismatch"),
        "-o",
        "markdown",
    ]);
    let text = stdout(&out);
    assert!(
        text.starts_with("### kvdiag — Top cause: `secret_ref` (confirmed)"),
        "{text}"
    );
    assert!(text.contains("| 1 | `secret_ref` | confirmed |"), "{text}");
    assert!(text.contains("```sh"), "{text}");
}

#[test]
fn as_of_moves_now() {
    // Five minutes after the grant the role may not have propagated; an hour later it has.
    let path = scenario("role-assigned-minutes-ago");
    let now: serde_json::Value =
        serde_json::from_slice(&kvdiag(&["check", "--from", &path, "-o", "json"]).stdout).unwrap();
    let later: serde_json::Value = serde_json::from_slice(
        &kvdiag(&[
            "check",
            "--from",
            &path,
            "-o",
            "json",
            "--as-of",
            "2026-11-20T11:30:00Z",
        ])
        .stdout,
    )
    .unwrap();
    let status = |v: &serde_json::Value| {
        v["hypotheses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == "keyvault_access")
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status(&now), "possible");
    assert_eq!(status(&later), "ruled_out");
    assert_eq!(later["as_of"], "2026-11-20T11:30:00Z");
}

#[test]
fn bad_input_is_a_clear_one_line_error_with_exit_2() {
    let dir = std::env::temp_dir().join(format!("kvdiag-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let cases = [
        (
            dir.join("absent.json").display().to_string(),
            "cannot read bundle",
        ),
        (
            write("truncated.json", "{\"kvdiag_bundle\": 1, \"target\": {"),
            "is not valid JSON (line 1",
        ),
        (
            write("array.json", "[1, 2]"),
            "top level is not a JSON object",
        ),
        (
            write("other.json", "{\"name\": \"x\"}"),
            "no \"kvdiag_bundle\" version field",
        ),
        (
            write("future.json", "{\"kvdiag_bundle\": 2}"),
            "is bundle version 2",
        ),
        (write("binary.json", "\u{0}\u{1}\u{2}"), "is not valid JSON"),
        (write("empty.json", ""), "is not valid JSON"),
    ];
    for (path, expected) in cases {
        let out = kvdiag(&["check", "--from", &path]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{path}: {err}");
        assert!(
            err.starts_with("kvdiag: error: ") && err.contains(expected),
            "{path}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(
            err.matches("(os error").count() <= 1,
            "the OS reason is said once: {err}"
        );
        assert!(
            out.stdout.is_empty(),
            "nothing on stdout for an input error"
        );
    }
    let out = kvdiag(&["check", "--from", &scenario("healthy"), "--as-of", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--as-of 'soon' is not an RFC 3339 time"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn usage_errors_exit_2_and_help_lists_exit_codes() {
    assert_eq!(kvdiag(&["check"]).status.code(), Some(2));
    assert_eq!(
        kvdiag(&["check", "--from", "x", "-o", "yaml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(kvdiag(&["frobnicate"]).status.code(), Some(2));
    let help = kvdiag(&["check", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("3  evidence too incomplete to decide"));
}

#[test]
fn completions_cover_every_command_and_flag() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = kvdiag(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        for word in ["check", "collect", "app", "rg", "auth", "since"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
}

/// Runs kvdiag with a scrubbed environment (no credential, no endpoint override of the
/// developer's shell) plus `env`.
fn kvdiag_env(args: &[&str], env: &[(String, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kvdiag"));
    command
        .args(args)
        .env("NO_COLOR", "1")
        .env("HOME", std::env::temp_dir())
        .env_remove("COLUMNS");
    for key in common::SCRUBBED {
        command.env_remove(key);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("kvdiag runs")
}

/// Flags at or beyond the ends of the calendar are exit 2 with one line on stderr, for every
/// command that takes them, before any credential or request.
#[test]
fn out_of_range_time_flags_are_one_line_and_exit_2() {
    let healthy = scenario("healthy");
    let lint_file = common::repo().join("fixtures/lint");
    let lint_file = std::fs::read_dir(&lint_file)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "yaml"))
        .unwrap()
        .display()
        .to_string();
    let live = common::LAB_TARGET;
    let flags: [(&[&str], &str); 6] = [
        (
            &["--since", "20000y"],
            "for '--since <DURATION>': at most 12y",
        ),
        (
            &["--since", "18446744073709551615s"],
            "for '--since <DURATION>': at most 12y",
        ),
        (
            &["--timeout", "18446744073709551615s"],
            "for '--timeout <DURATION>': at most 1h",
        ),
        (
            &["--timeout", "2h"],
            "for '--timeout <DURATION>': at most 1h",
        ),
        (
            &["--as-of", "9999-12-31T23:59:59-05:00"],
            "--as-of '9999-12-31T23:59:59-05:00' is outside the calendar in UTC",
        ),
        (
            &["--as-of", "+999999-12-31T23:59:59Z"],
            "is not an RFC 3339 time",
        ),
    ];
    for (flag, expected) in flags {
        let commands: Vec<Vec<&str>> = if flag[0] == "--as-of" {
            vec![
                vec!["check", "--from", &healthy],
                [&["check"][..], &live].concat(),
                [&["collect"][..], &live].concat(),
            ]
        } else {
            vec![
                vec!["check", "--from", &healthy],
                [&["check"][..], &live].concat(),
                [&["collect"][..], &live].concat(),
                vec!["lint", &lint_file, "--live", "--subscription", live[5]],
            ]
        };
        for command in commands {
            let args = [&command[..], flag].concat();
            let out = kvdiag_env(&args, &[]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
            assert!(
                err.starts_with("kvdiag: error: ") && err.contains(expected),
                "{args:?}: {err}"
            );
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
}

/// The ends of the calendar are accepted `--as-of` moments: a replay judges the evidence then,
/// and the longest `--since` still has a window.
#[test]
fn as_of_at_the_ends_of_the_calendar_replays() {
    for as_of in [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59.999999999Z",
        "0000-01-01T00:00:00Z",
    ] {
        for (name, _) in common::scenarios() {
            let path = scenario(&name);
            let out = kvdiag(&[
                "check", "--from", &path, "-o", "json", "--as-of", as_of, "--since", "12y",
            ]);
            let err = stderr(&out);
            assert!(
                matches!(out.status.code(), Some(0 | 1 | 3)),
                "{name} --as-of {as_of}: {err}"
            );
            assert!(err.is_empty(), "{name} --as-of {as_of}: {err}");
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["as_of"], as_of.replace(".999999999", ""));
        }
    }
}

/// Live reads with `--as-of` at the end of the calendar and the longest `--since`: the window
/// reaches from 9987 to 9999 and nothing panics; `collect` writes a bundle that replays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reads_at_the_end_of_the_calendar_never_panic() {
    let bundle = common::repo().join("fixtures/scenarios/healthy.json");
    let mock = common::mock_azure::MockAzure::serve(&bundle).await;
    let az = common::fake_az::FakeAz::new("calendar-end");
    let mut env = mock.env();
    env.push(("PATH".into(), az.path()));
    let out_file =
        std::env::temp_dir().join(format!("kvdiag-calendar-end-{}.json", std::process::id()));
    let live = [
        common::LAB_TARGET.as_slice(),
        &[
            "--auth",
            "azure-cli",
            "--as-of",
            "9999-12-31T23:59:59Z",
            "--since",
            "12y",
        ],
    ]
    .concat();
    let path = out_file.display().to_string();
    let runs: [Vec<&str>; 2] = [
        [&["check"][..], &live, &["-o", "json"]].concat(),
        [&["collect"][..], &live, &["-o", &path]].concat(),
    ];
    for args in runs {
        let env = env.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            kvdiag_env(&args, &env)
        })
        .await
        .unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{err}");
        assert!(matches!(out.status.code(), Some(0 | 1 | 3)), "{err}");
    }
    let replay = kvdiag(&["check", "--from", &path, "-o", "json"]);
    assert!(
        matches!(replay.status.code(), Some(0 | 1 | 3)),
        "{}",
        stderr(&replay)
    );
    let v: serde_json::Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(v["as_of"], "9999-12-31T23:59:59Z");
    std::fs::remove_file(&out_file).ok();
}

#[test]
fn version_names_the_release_and_the_commit() {
    let out = kvdiag(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = format!("kvdiag {} (", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected), "{text}");
    let commit = text
        .trim_end()
        .trim_end_matches(')')
        .rsplit('(')
        .next()
        .unwrap_or_default();
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
}
