//! No secret value or token present in any fixture ever appears in any output format
//! (docs/design.md#read-only-and-secret-safe).
//!
//! The sensitive strings are collected from the raw fixture files, independently of kvdiag's
//! own redaction: secret `value`s, credential fields, authorization headers, `listSecrets`
//! answers, `value`s inside Key Vault version-list items, and plain env-var values (kvdiag never
//! needs to print those either). Strings that hold JSON (the activity log's `requestbody`,
//! `responseBody` and `statusMessage`) are opened and searched the same way.

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

/// The JSON object or array a string carries, if it carries one.
fn embedded_json(text: &str) -> Option<Value> {
    serde_json::from_str(text)
        .ok()
        .filter(|v: &Value| v.is_object() || v.is_array())
}

fn collect(value: &Value, parent_key: &str, in_secret_list: bool, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some(inner) = embedded_json(s) {
                collect(&inner, parent_key, in_secret_list, out);
            }
        }
        Value::Object(map) => {
            for (key, child) in map {
                let lower = key.to_ascii_lowercase();
                let is_value = lower == "value";
                if let Value::String(s) = child {
                    let sensitive =
                        CREDENTIAL_KEYS.contains(&lower.as_str()) || (is_value && in_secret_list);
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

/// Secret values and credentials of one raw fixture file: what no output and no written bundle
/// may hold.
fn secret_strings(raw: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for response in raw["responses"].as_array().into_iter().flatten() {
        collect(response, "", false, &mut out);
        if response["path"]
            .as_str()
            .is_some_and(|p| p.to_ascii_lowercase().ends_with("/listsecrets"))
        {
            collect_all_strings(&response["body"], &mut out);
        }
        if response["service"] == "keyvault" {
            // Version-list items never carry a value in real Key Vault; any one is a secret.
            match &response["body"]["value"] {
                Value::Array(items) => items.iter().for_each(|i| collect_values(i, &mut out)),
                Value::String(s) if s.len() >= 6 => out.push(s.clone()),
                _ => {}
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Sensitive strings of one raw fixture file: its secrets and its env-var values.
fn sensitive_strings(raw: &Value) -> Vec<String> {
    let mut out = secret_strings(raw);
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

/// Every string under a `value` key, at any depth (JSON-carrying strings opened).
fn collect_values(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match child {
                    Value::String(s) if key.eq_ignore_ascii_case("value") && s.len() >= 6 => {
                        out.push(s.clone())
                    }
                    _ => collect_values(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_values(v, out)),
        Value::String(s) => {
            if let Some(inner) = embedded_json(s) {
                collect_values(&inner, out);
            }
        }
        _ => {}
    }
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
        Value::String(s) => {
            if let Some(inner) = embedded_json(s) {
                walk_env(&inner, out);
            }
        }
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
                let out = render(
                    &verdict,
                    format,
                    Style {
                        color,
                        width: 100,
                        // Folding only breaks lines; unfolded, a leaked value is one substring.
                        wrap: false,
                    },
                );
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
    for canary in BUNDLE_CANARIES.iter().chain(&["CANARY-ENV-VALUE"]) {
        assert!(
            checked.iter().any(|s| s.contains(canary)),
            "no fixture plants {canary}: the leak test would prove nothing"
        );
    }
}

/// What the canary fixture plants that no bundle may keep (plain env-var values stay in a
/// bundle: they are configuration the checkers read).
const BUNDLE_CANARIES: &[&str] = &[
    "CANARY-SECRET-VALUE",
    "CANARY-SHARED-KEY",
    "CANARY-TOKEN",
    "CANARY-LISTED-VALUE",
    // A Container App PUT in an activity-log event's `properties.requestbody` (a JSON string).
    "CANARY-REQUESTBODY-VALUE",
    // The same in `properties.responseBody`.
    "CANARY-RESPONSEBODY-VALUE",
    // A `value` on a Key Vault version-list item.
    "CANARY-KV-ITEM-VALUE",
];

#[test]
fn a_loaded_bundle_holds_no_canary() {
    let path = common::repo().join("fixtures/scenarios/canary-redaction.json");
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let planted = secret_strings(&raw);
    for canary in BUNDLE_CANARIES {
        assert!(
            planted.iter().any(|s| s.contains(canary)),
            "the collector does not find {canary}: the test would prove nothing"
        );
    }
    let bundle = kvdiag::bundle::Bundle::load(&path).unwrap();
    // What `collect -o` writes: the text, through the same writer, read back from disk.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    kvdiag::bundle::write_file(&file, bundle.to_text().unwrap().as_bytes()).unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    for text in [serde_json::to_string(&bundle).unwrap(), written] {
        for canary in BUNDLE_CANARIES {
            assert!(
                !text.contains(canary),
                "redaction left {canary} in the bundle"
            );
        }
    }
}

#[test]
fn no_written_bundle_keeps_a_secret_value_or_token() {
    for (name, path) in common::scenarios() {
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let text = kvdiag::bundle::Bundle::load(&path)
            .unwrap()
            .to_text()
            .unwrap();
        for secret in secret_strings(&raw) {
            assert!(
                !text.contains(secret.as_str()),
                "{name}: a written bundle contains sensitive value {secret:?}"
            );
        }
    }
}
