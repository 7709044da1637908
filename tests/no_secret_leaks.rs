//! No secret value or token present in any fixture ever appears in any output format
//! (DESIGN.md, "Read-only and secret-safe").
//!
//! The sensitive strings are collected from the raw fixture files, independently of kvdiag's
//! own redaction: secret `value`s, credential fields, authorization headers, `listSecrets`
//! answers, and plain env-var values (kvdiag never needs to print those either).

mod common;

use kvdiag::render::{Format, Style, render};
use serde_json::Value;

const CREDENTIAL_KEYS: &[&str] = &[
    "sharedkey",
    "accesstoken",
    "access_token",
    "refresh_token",
    "token",
    "clientsecret",
    "client_secret",
    "password",
    "certificatepassword",
    "authorization",
];

fn collect(value: &Value, parent_key: &str, in_secret_list: bool, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let lower = key.to_ascii_lowercase();
                let is_value = lower == "value";
                if let Value::String(s) = child {
                    let sensitive = CREDENTIAL_KEYS.contains(&lower.as_str())
                        || (is_value && (in_secret_list || parent_key == "env"));
                    if sensitive && s.len() >= 6 {
                        out.push(s.clone());
                    }
                }
                collect(child, &lower, lower == "secrets" || in_secret_list, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| {
            collect(
                i,
                parent_key,
                in_secret_list || parent_key == "secrets",
                out,
            )
        }),
        _ => {}
    }
}

/// Sensitive strings of one raw fixture file.
fn sensitive_strings(raw: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for response in raw["responses"].as_array().into_iter().flatten() {
        collect(response, "", false, &mut out);
        if response["path"]
            .as_str()
            .is_some_and(|p| p.to_ascii_lowercase().ends_with("/listsecrets"))
        {
            collect_all_strings(&response["body"], &mut out);
        }
    }
    // Env var values are objects {name, value} inside an `env` array.
    for env in raw
        .pointer("/responses")
        .into_iter()
        .flat_map(|r| r.as_array().unwrap())
    {
        walk_env(env, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn walk_env(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(vars)) = map.get("env") {
                out.extend(
                    vars.iter()
                        .filter_map(|v| v["value"].as_str())
                        .filter(|s| s.len() >= 6)
                        .map(str::to_string),
                );
            }
            map.values().for_each(|v| walk_env(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| walk_env(v, out)),
        _ => {}
    }
}

fn collect_all_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.len() >= 6 && !s.contains("registry-password") => out.push(s.clone()),
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| k.as_str() == "value")
            .for_each(|(_, v)| collect_all_strings(v, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_all_strings(v, out)),
        _ => {}
    }
}

#[test]
fn no_output_format_prints_a_secret_value_or_token() {
    let mut checked = Vec::new();
    for (name, path) in common::scenarios() {
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let secrets = sensitive_strings(&raw);
        let verdict = common::verdict_of(&path);
        for format in [Format::Table, Format::Json, Format::Markdown] {
            for color in [false, true] {
                let out = render(&verdict, format, Style { color, width: 100 });
                for secret in &secrets {
                    assert!(
                        !out.contains(secret.as_str()),
                        "{name} {format:?}: output contains sensitive value {secret:?}"
                    );
                }
            }
        }
        checked.extend(secrets);
    }
    // The test has teeth: the canary fixture plants one of each kind.
    for canary in [
        "CANARY-SECRET-VALUE",
        "CANARY-SHARED-KEY",
        "CANARY-TOKEN",
        "CANARY-LISTED-VALUE",
        "CANARY-ENV-VALUE",
    ] {
        assert!(
            checked.iter().any(|s| s.contains(canary)),
            "no fixture plants {canary}: the leak test would prove nothing"
        );
    }
}

#[test]
fn a_loaded_bundle_holds_no_canary() {
    let path = common::repo().join("fixtures/scenarios/canary-redaction.json");
    let bundle = kvdiag::bundle::Bundle::load(&path).unwrap();
    let text = serde_json::to_string(&bundle).unwrap();
    for canary in [
        "CANARY-SECRET-VALUE",
        "CANARY-SHARED-KEY",
        "CANARY-TOKEN",
        "CANARY-LISTED-VALUE",
    ] {
        assert!(
            !text.contains(canary),
            "redaction left {canary} in the bundle"
        );
    }
}
