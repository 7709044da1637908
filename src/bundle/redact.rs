//! Redaction: what a bundle must never carry, removed before anything reads it.
//!
//! Producers (live collection, a support engineer's script, a hand-made fixture) may leave
//! secret material in a bundle: a `value` on an app secret (a PUT body saved by mistake), a
//! `listSecrets` answer, a Log Analytics `sharedKey`, a bearer token in a header. Loading always
//! redacts, so no checker and no renderer can leak one (DESIGN.md, "Read-only and secret-safe").

use super::{Bundle, Response, Service};
use serde_json::Value;

/// Header names kept in a bundle; everything else (authorization, cookies) is dropped.
pub(crate) const KEPT_HEADERS: &[&str] = &[
    "retry-after",
    "x-ms-request-id",
    "x-ms-correlation-request-id",
    "x-ms-client-request-id",
    "x-ms-routing-request-id",
    "x-ms-user-quota-remaining",
    "x-ms-user-quota-resets-after",
    "content-type",
    "date",
];

/// Keys whose values are credentials wherever they appear (compared without case).
const CREDENTIAL_KEYS: &[&str] = &[
    "sharedkey",
    "primarysharedkey",
    "secondarysharedkey",
    "accesstoken",
    "access_token",
    "refreshtoken",
    "refresh_token",
    "id_token",
    "token",
    "clientsecret",
    "client_secret",
    "password",
    "certificatepassword",
    "certificatevalue",
];

const REDACTED: &str = "<redacted by kvdiag>";

/// Removes every secret value and credential from a bundle, in place.
pub fn redact(bundle: &mut Bundle) {
    for response in &mut bundle.responses {
        redact_response(response);
    }
}

fn redact_response(response: &mut Response) {
    if let Some(headers) = &mut response.headers {
        headers.retain(|name, _| {
            let name = name.to_ascii_lowercase();
            KEPT_HEADERS.contains(&name.as_str()) || name.starts_with("x-ms-ratelimit-remaining")
        });
    }
    if returns_secret_values(response) {
        if response.body.is_some() {
            response.body = Some(Value::String(REDACTED.into()));
        }
        return;
    }
    for value in [&mut response.body, &mut response.request_body]
        .into_iter()
        .flatten()
    {
        scrub(value);
    }
}

/// Calls that answer with secret values: `listSecrets` on an app, job or Dapr component, and a
/// Key Vault data-plane `GET /secrets/{name}[/{version}]` (the version *list* is metadata only).
fn returns_secret_values(response: &Response) -> bool {
    let path = response.path.to_ascii_lowercase();
    let path = path.trim_end_matches('/');
    if path.ends_with("/listsecrets") {
        return true;
    }
    if response.service == Service::Keyvault {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        return matches!(segments.as_slice(), ["secrets", _] | ["secrets", _, _])
            && !path.ends_with("/versions");
    }
    false
}

fn scrub(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let lower = key.to_ascii_lowercase();
                if CREDENTIAL_KEYS.contains(&lower.as_str()) && !child.is_null() {
                    *child = Value::String(REDACTED.into());
                    continue;
                }
                if lower == "secrets" {
                    // Container Apps / Dapr secret lists: drop each item's value.
                    if let Value::Array(items) = child {
                        for item in items.iter_mut().filter_map(Value::as_object_mut) {
                            item.remove("value");
                        }
                    }
                }
                scrub(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::bundle::Bundle;

    #[test]
    fn strips_values_tokens_and_secret_reads() {
        let text = r#"{"kvdiag_bundle":1,"target":{"subscription":"s","resource_group":"rg","app":"a"},
          "collected_at":"2026-11-20T10:30:00Z","responses":[
          {"method":"GET","service":"arm","path":"/app","status":200,
           "headers":{"Authorization":"Bearer T0KEN","x-ms-request-id":"r1","Set-Cookie":"c"},
           "body":{"properties":{"configuration":{"secrets":[{"name":"n","value":"V4LUE"}]},
                   "appLogsConfiguration":{"logAnalyticsConfiguration":{"sharedKey":"SH4RED"}}}}},
          {"method":"POST","service":"arm","path":"/app/listSecrets","status":200,"body":{"value":[{"name":"n","value":"L1STED"}]}},
          {"method":"GET","service":"keyvault","host":"kv.vault.azure.net","path":"/secrets/n","status":200,"body":{"value":"KV-V4LUE"}},
          {"method":"GET","service":"keyvault","host":"kv.vault.azure.net","path":"/secrets/n/versions","status":200,"body":{"value":[{"id":"kept"}]}}
          ]}"#;
        let bundle = Bundle::parse(text, "t").unwrap();
        let out = serde_json::to_string(&bundle).unwrap();
        for leaked in [
            "T0KEN",
            "V4LUE",
            "SH4RED",
            "L1STED",
            "KV-V4LUE",
            "Set-Cookie",
        ] {
            assert!(!out.contains(leaked), "{leaked} survived: {out}");
        }
        assert!(out.contains("\"x-ms-request-id\":\"r1\""));
        assert!(
            out.contains("\"id\":\"kept\""),
            "version lists are metadata and stay"
        );
    }
}
