//! Redaction: what a bundle must never carry, removed before anything reads it.
//!
//! Producers (live collection, a support engineer's script, a hand-made fixture) may leave
//! secret material in a bundle: a `value` on an app secret (a PUT body saved by mistake), a
//! `listSecrets` answer, a Log Analytics `sharedKey`, a bearer token in a header. Loading always
//! redacts, and so does live collection before `collect` writes a bundle, so no checker, no
//! renderer and no bundle file can leak one (README, "Security model").
//!
//! The rules, applied to every response body and request body (key names compare without case,
//! since Azure spells the same field `requestbody` in one place and `requestBody` in another):
//!
//! * **Headers**: only [`KEPT_HEADERS`] and `x-ms-ratelimit-remaining*` stay.
//! * **Secret reads**: the whole body of `listSecrets` and of a Key Vault
//!   `GET /secrets/{name}[/{version}]` becomes the marker.
//! * **Credential keys** ([`CREDENTIAL_KEYS`]) anywhere: the value becomes the marker.
//! * **Secret lists**: each item of a `secrets` array (Container Apps apps and jobs, Dapr
//!   components) loses its `value`; `name`, `keyVaultUrl` and `identity` stay for the checkers.
//! * **`properties.value` that is a string**: the PFX blob of an environment certificate upload,
//!   the value of an ARM `Microsoft.KeyVault/vaults/secrets` PUT. No answer kvdiag reads keeps
//!   anything else there.
//! * **Dapr component metadata** (an object with `componentType`): a `metadata[]` item's `value`
//!   becomes the marker when the item also names a `secretRef` or its `name` reads like a
//!   credential (`password`, `key`, `secret`, `token`, `connectionString`, ...); other metadata is
//!   configuration and stays.
//! * **Key Vault data plane** (service `keyvault`): a version list never carries a value in real
//!   Key Vault, so every `value` inside the items of the top-level `value` list is removed (at any
//!   depth); a top-level `value` that is not a list (a secret GET under an unexpected path) becomes
//!   the marker.
//! * **Activity-log events of a secret-listing action** (`…/listSecrets/action`,
//!   `…/listKeys/action`, `…/sharedKeys/action`): `properties.responseBody` becomes the marker.
//! * **JSON carried in strings**: the activity log records request and response bodies as JSON
//!   *strings* (`properties.requestbody`, `properties.responseBody`) and the ARM error of a failed
//!   write as one (`properties.statusMessage`); a Container App PUT inside `requestbody` holds
//!   `configuration.secrets[].value`. Any string that parses as a JSON object or array is parsed,
//!   scrubbed with the same rules and, only when something was removed, stored back as compact
//!   JSON (keys sorted, values unchanged). Deeper than [`MAX_NESTING`] strings, such a string is
//!   replaced by the marker. A string with nothing to remove stays byte for
//!   byte, so the readers of these strings (`src/snapshot/events.rs`, `src/refusals.rs`) see the
//!   same text as before.
//!
//! **What redaction cannot do**: a secret inside free text is not recognisable as one. An ARM
//! error message that quotes template content, a log line that prints a connection string, a
//! plain environment variable's `value`, a string that is only partly JSON: these stay as
//! received. Redaction knows *where* Azure puts secret values, not what a secret looks like.
//! A redaction is idempotent: redacting a redacted bundle changes nothing.

use super::{Bundle, Response, Service};
use serde_json::{Map, Value};

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
    // A managed environment's telemetry credentials (Application Insights ingestion keys for
    // Dapr and the environment's OpenTelemetry export): nothing kvdiag decides reads them.
    "dapraiinstrumentationkey",
    "dapraiconnectionstring",
    "instrumentationkey",
    "connectionstring",
];

/// Fragments of a Dapr metadata item's `name` that make its `value` a credential (lower case).
const DAPR_CREDENTIAL_NAMES: &[&str] = &[
    "password",
    "secret",
    "key",
    "token",
    "connectionstring",
    "credential",
    "certificate",
    "sas",
];

/// Activity-log operations whose response lists secrets or keys (suffixes, lower case).
const SECRET_ACTIONS: &[&str] = &[
    "/listsecrets/action",
    "/listkeys/action",
    "/sharedkeys/action",
];

/// How many strings deep JSON carried in strings is opened (a JSON string holding an ARM error
/// whose message is itself JSON is two). Each level doubles the escaping, so real payloads stop
/// long before; the bound keeps a hostile bundle from making redaction expensive.
const MAX_NESTING: u8 = 4;

const REDACTED: &str = "<redacted by kvdiag>";

/// Removes every secret value and credential from a bundle, in place (see the module doc for
/// the rules). Idempotent.
pub fn redact(bundle: &mut Bundle) {
    for response in &mut bundle.responses {
        redact_response(response);
    }
}

/// True for a header a bundle keeps: [`KEPT_HEADERS`] and the `x-ms-ratelimit-remaining*`
/// counters (compared without case).
pub(crate) fn is_kept_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    KEPT_HEADERS.contains(&name.as_str()) || name.starts_with("x-ms-ratelimit-remaining")
}

fn redact_response(response: &mut Response) {
    if let Some(headers) = &mut response.headers {
        headers.retain(|name, _| is_kept_header(name));
    }
    if returns_secret_values(response) {
        if response.body.is_some() {
            response.body = Some(redacted());
        }
        return;
    }
    if let Some(body) = &mut response.body {
        if response.service == Service::Keyvault {
            scrub_keyvault(body);
        } else {
            scrub(body, Scope::TOP);
        }
    }
    if let Some(request_body) = &mut response.request_body {
        scrub(request_body, Scope::TOP);
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

fn redacted() -> Value {
    Value::String(REDACTED.into())
}

/// Where the walk is: how many JSON-carrying strings deep, and whether inside a Key Vault list
/// item (where every `value` goes).
#[derive(Debug, Clone, Copy)]
struct Scope {
    nesting: u8,
    key_vault_item: bool,
}

impl Scope {
    const TOP: Scope = Scope {
        nesting: 0,
        key_vault_item: false,
    };
    const KEY_VAULT_ITEM: Scope = Scope {
        nesting: 0,
        key_vault_item: true,
    };
}

/// A Key Vault data-plane answer: the top-level `value` list stays (it is the item list), every
/// `value` inside its items goes; any other top-level `value` is a secret.
fn scrub_keyvault(body: &mut Value) {
    match body {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if !key.eq_ignore_ascii_case("value") {
                    scrub(child, Scope::TOP);
                    continue;
                }
                match child {
                    Value::Array(items) => {
                        for item in items {
                            if item.is_string() {
                                *item = redacted();
                            } else {
                                scrub(item, Scope::KEY_VAULT_ITEM);
                            }
                        }
                    }
                    Value::Null => {}
                    other => *other = redacted(),
                }
            }
        }
        other => scrub(other, Scope::KEY_VAULT_ITEM),
    }
}

fn scrub(value: &mut Value, scope: Scope) {
    match value {
        Value::Object(map) => scrub_object(map, scope),
        Value::Array(items) => items.iter_mut().for_each(|item| scrub(item, scope)),
        Value::String(text) => scrub_embedded_json(text, scope),
        _ => {}
    }
}

fn scrub_object(map: &mut Map<String, Value>, scope: Scope) {
    if scope.key_vault_item {
        map.retain(|key, _| !key.eq_ignore_ascii_case("value"));
    }
    if lists_secrets(map) {
        for (key, child) in map.iter_mut() {
            if let (true, Value::Object(properties)) =
                (key.eq_ignore_ascii_case("properties"), child)
            {
                for (name, body) in properties.iter_mut() {
                    if name.eq_ignore_ascii_case("responsebody") && !body.is_null() {
                        *body = redacted();
                    }
                }
            }
        }
    }
    let dapr_component = map
        .keys()
        .any(|key| key.eq_ignore_ascii_case("componentType"));
    for (key, child) in map.iter_mut() {
        let lower = key.to_ascii_lowercase();
        if CREDENTIAL_KEYS.contains(&lower.as_str()) && !child.is_null() {
            *child = redacted();
            continue;
        }
        match (lower.as_str(), &mut *child) {
            // Container Apps / Dapr secret lists: drop each item's value.
            ("secrets", Value::Array(items)) => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.retain(|key, _| !key.eq_ignore_ascii_case("value"));
                }
            }
            ("properties", Value::Object(properties)) => {
                for (name, value) in properties.iter_mut() {
                    if name.eq_ignore_ascii_case("value") && value.is_string() {
                        *value = redacted();
                    }
                }
            }
            ("metadata", Value::Array(items)) if dapr_component => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    if is_credential_metadata(item) {
                        for (name, value) in item.iter_mut() {
                            if name.eq_ignore_ascii_case("value") && !value.is_null() {
                                *value = redacted();
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        scrub(child, scope);
    }
}

/// True for an activity-log event whose operation (`operationName.value`) lists secrets or keys.
fn lists_secrets(event: &Map<String, Value>) -> bool {
    event
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case("operationName"))
        .filter_map(|(_, operation)| match operation {
            Value::Object(o) => o
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .and_then(|(_, v)| v.as_str()),
            other => other.as_str(),
        })
        .any(|name| {
            let name = name.to_ascii_lowercase();
            SECRET_ACTIONS.iter().any(|action| name.ends_with(action))
        })
}

/// A Dapr metadata item `{name, value, secretRef}` whose value is a credential.
fn is_credential_metadata(item: &Map<String, Value>) -> bool {
    item.iter().any(|(key, value)| {
        (key.eq_ignore_ascii_case("secretRef") && !value.is_null())
            || (key.eq_ignore_ascii_case("name")
                && value.as_str().is_some_and(|name| {
                    let name = name.to_ascii_lowercase();
                    DAPR_CREDENTIAL_NAMES.iter().any(|part| name.contains(part))
                }))
    })
}

/// A string that holds a JSON object or array is scrubbed as JSON; it is rewritten (compact)
/// only when the scrub removed something, so every other string stays byte for byte. Deeper
/// than [`MAX_NESTING`] (never seen in Azure) such a string is replaced whole: fail closed.
fn scrub_embedded_json(text: &mut String, scope: Scope) {
    if !text.trim_start().starts_with(['{', '[']) {
        return;
    }
    let Ok(mut inner) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if scope.nesting >= MAX_NESTING {
        *text = REDACTED.into();
        return;
    }
    let before = inner.clone();
    scrub(
        &mut inner,
        Scope {
            nesting: scope.nesting + 1,
            ..scope
        },
    );
    if inner != before {
        *text = serde_json::to_string(&inner).unwrap_or_else(|_| REDACTED.into());
    }
}

#[cfg(test)]
mod tests {
    use super::{REDACTED, redact};
    use crate::bundle::Bundle;
    use serde_json::{Value, json};

    /// A bundle of the given responses, parsed (and so redacted) the way `check --from` loads it.
    fn load(responses: Value) -> Bundle {
        let text = json!({"kvdiag_bundle": 1,
            "target": {"subscription": "s", "resource_group": "rg", "app": "a"},
            "collected_at": "2026-11-20T10:30:00Z", "responses": responses})
        .to_string();
        Bundle::parse(&text, "t").unwrap()
    }

    fn body(bundle: &Bundle, i: usize) -> &Value {
        bundle.responses[i].body.as_ref().unwrap()
    }

    /// An activity-log list whose one event carries `properties`.
    fn activity(operation: &str, properties: Value) -> Value {
        json!({"method": "GET", "service": "arm",
            "path": "/subscriptions/s/providers/Microsoft.Insights/eventtypes/management/values",
            "status": 200,
            "body": {"value": [{"operationName": {"value": operation}, "status": {"value": "Failed"},
                                "eventTimestamp": "2026-11-20T10:02:15Z", "properties": properties}]}})
    }

    fn versions(body: Value) -> Value {
        json!({"method": "GET", "service": "keyvault", "host": "kv.vault.azure.net",
               "path": "/secrets/n/versions", "status": 200, "body": body})
    }

    /// A field of the first event's `properties`, parsed from its JSON string.
    fn embedded(bundle: &Bundle, field: &str) -> Value {
        let text = body(bundle, 0)["value"][0]["properties"][field]
            .as_str()
            .unwrap();
        serde_json::from_str(text).unwrap()
    }

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

    #[test]
    fn a_put_body_in_requestbody_loses_its_secret_values() {
        let put = json!({"location": "westeurope", "properties": {"configuration": {"secrets": [
            {"name": "db", "value": "PUT-V4LUE"},
            {"name": "kv", "keyVaultUrl": "https://kv.vault.azure.net/secrets/kv", "identity": "system"}]},
            "template": {"containers": [{"name": "c", "env": [{"name": "DB", "secretRef": "db"}]}]}}});
        let bundle = load(json!([activity(
            "Microsoft.App/containerApps/write",
            json!({"requestbody": put.to_string(), "statusCode": "BadRequest"})
        )]));
        let out = serde_json::to_string(&bundle).unwrap();
        assert!(!out.contains("PUT-V4LUE"), "{out}");
        // Still a JSON string, with everything but the value intact.
        let mut expected = put;
        expected["properties"]["configuration"]["secrets"][0]
            .as_object_mut()
            .unwrap()
            .remove("value");
        assert_eq!(embedded(&bundle, "requestbody"), expected);
        assert_eq!(
            body(&bundle, 0)["value"][0]["properties"]["statusCode"],
            "BadRequest"
        );
    }

    #[test]
    fn response_bodies_and_status_messages_are_scrubbed_as_json() {
        let response = json!({"id": "/x", "properties": {"configuration": {"Secrets": [
            {"Name": "db", "Value": "RESP-V4LUE"}]},
            "appLogsConfiguration": {"logAnalyticsConfiguration": {"SharedKey": "RESP-SH4RED"}}}});
        // The message itself is JSON (as some Container Apps errors are): two strings deep.
        let inner = json!({"template": {"secrets": [{"name": "db", "value": "MSG-V4LUE"}]}});
        let status = json!({"error": {"code": "ContainerAppOperationError",
                                      "message": inner.to_string()}});
        let bundle = load(json!([activity(
            "Microsoft.App/containerApps/write",
            json!({"responseBody": response.to_string(), "statusMessage": status.to_string()})
        )]));
        let out = serde_json::to_string(&bundle).unwrap();
        for leaked in ["RESP-V4LUE", "RESP-SH4RED", "MSG-V4LUE"] {
            assert!(!out.contains(leaked), "{leaked} survived: {out}");
        }
        let response = embedded(&bundle, "responseBody");
        assert_eq!(
            response["properties"]["configuration"]["Secrets"][0],
            json!({"Name": "db"})
        );
        assert_eq!(
            response["properties"]["appLogsConfiguration"]["logAnalyticsConfiguration"]["SharedKey"],
            REDACTED
        );
        let status = embedded(&bundle, "statusMessage");
        assert_eq!(status["error"]["code"], "ContainerAppOperationError");
        let message: Value =
            serde_json::from_str(status["error"]["message"].as_str().unwrap()).unwrap();
        assert_eq!(message, json!({"template": {"secrets": [{"name": "db"}]}}));
    }

    #[test]
    fn key_case_does_not_matter() {
        let bundle = load(json!([activity(
            "Microsoft.App/containerApps/write",
            json!({"RequestBody": json!({"PROPERTIES": {"Configuration": {"SECRETS": [
                {"NAME": "db", "VALUE": "CASE-V4LUE"}]}, "Password": "CASE-PW"}}).to_string()})
        )]));
        let out = serde_json::to_string(&bundle).unwrap();
        assert!(!out.contains("CASE-V4LUE"), "{out}");
        assert!(!out.contains("CASE-PW"), "{out}");
        assert!(out.contains("NAME"), "the secret's name stays: {out}");
    }

    #[test]
    fn strings_that_are_not_json_objects_stay_byte_for_byte() {
        let kept = [
            "SecretRef 'db' defined for container 'web' not found.",
            "{not json",
            "[1, 2",
            "42",
            "\"quoted\"",
            "{ \"error\" : { \"code\" : \"X\" } }",
        ];
        let properties: serde_json::Map<String, Value> = kept
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("k{i}"), json!(s)))
            .collect();
        let bundle = load(json!([activity(
            "Microsoft.App/containerApps/write",
            Value::Object(properties)
        )]));
        let properties = &body(&bundle, 0)["value"][0]["properties"];
        for (i, s) in kept.iter().enumerate() {
            assert_eq!(
                properties[format!("k{i}")],
                *s,
                "JSON with nothing to remove is kept as written"
            );
        }
    }

    #[test]
    fn the_role_assignment_bodies_the_timeline_reads_survive() {
        let create = r#"{"Id":"a1","Properties":{"PrincipalId":"p1","RoleDefinitionId":"/x/roleDefinitions/r1","Scope":"/v"}}"#;
        let delete = r#"{"properties":{"principalId":"p1","roleDefinitionId":"/x/roleDefinitions/r1"},"id":"/v/a1"}"#;
        let bundle = load(json!([activity(
            "Microsoft.Authorization/roleAssignments/write",
            json!({"requestbody": create, "responseBody": delete})
        )]));
        let properties = &body(&bundle, 0)["value"][0]["properties"];
        assert_eq!(properties["requestbody"], create);
        assert_eq!(properties["responseBody"], delete);
    }

    #[test]
    fn a_key_vault_version_list_item_never_carries_a_value() {
        let bundle = load(json!([versions(json!({"value": [
            {"id": "https://kv.vault.azure.net/secrets/n/v1", "value": "ITEM-V4LUE",
             "attributes": {"enabled": true, "created": 1, "value": "NESTED-V4LUE"},
             "tags": {"note": "{\"Value\":\"TAG-V4LUE\"}"}},
            "BARE-V4LUE"],
            "nextLink": null}))]));
        let out = serde_json::to_string(&bundle).unwrap();
        for leaked in ["ITEM-V4LUE", "NESTED-V4LUE", "TAG-V4LUE", "BARE-V4LUE"] {
            assert!(!out.contains(leaked), "{leaked} survived: {out}");
        }
        let list = body(&bundle, 0);
        assert_eq!(list["nextLink"], Value::Null);
        assert_eq!(
            list["value"][0],
            json!({"id": "https://kv.vault.azure.net/secrets/n/v1",
                   "attributes": {"enabled": true, "created": 1}, "tags": {"note": "{}"}})
        );
    }

    #[test]
    fn a_key_vault_answer_with_a_top_level_string_value_is_redacted() {
        let bundle = load(json!([versions(json!({"value": "TOP-V4LUE",
            "id": "https://kv.vault.azure.net/secrets/n/v1", "attributes": {"enabled": true}}))]));
        let answer = body(&bundle, 0);
        assert_eq!(answer["value"], REDACTED);
        assert_eq!(answer["id"], "https://kv.vault.azure.net/secrets/n/v1");
        assert_eq!(answer["attributes"]["enabled"], true);
    }

    #[test]
    fn certificates_dapr_metadata_and_secret_listing_events() {
        let cert = json!({"method": "GET", "service": "arm",
            "path": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/e/certificates/c",
            "status": 200,
            "body": {"properties": {"password": "CERT-PW", "value": "CERT-PFX-BLOB", "thumbprint": "T1"}}});
        let dapr = json!({"method": "GET", "service": "arm",
            "path": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/e/daprComponents/d",
            "status": 200,
            "body": {"properties": {"componentType": "state.azure.blobstorage",
                "secrets": [{"name": "k", "value": "DAPR-SECRET"}],
                "metadata": [{"name": "accountName", "value": "storeacct"},
                             {"name": "accountKey", "value": "DAPR-KEY"},
                             {"name": "containerName", "value": "state"},
                             {"name": "other", "secretRef": "k", "value": "DAPR-REF-VALUE"}]}}});
        let listed = activity(
            "Microsoft.App/containerApps/listSecrets/action",
            json!({"responseBody": "{\"value\":[{\"name\":\"db\",\"value\":\"EVENT-L1STED\"}]}"}),
        );
        let bundle = load(json!([cert, dapr, listed]));
        let out = serde_json::to_string(&bundle).unwrap();
        for leaked in [
            "CERT-PW",
            "CERT-PFX-BLOB",
            "DAPR-SECRET",
            "DAPR-KEY",
            "DAPR-REF-VALUE",
            "EVENT-L1STED",
        ] {
            assert!(!out.contains(leaked), "{leaked} survived: {out}");
        }
        assert_eq!(body(&bundle, 0)["properties"]["thumbprint"], "T1");
        let metadata = &body(&bundle, 1)["properties"]["metadata"];
        assert_eq!(metadata[0]["value"], "storeacct", "configuration stays");
        assert_eq!(metadata[2]["value"], "state");
        assert_eq!(metadata[3]["secretRef"], "k");
    }

    #[test]
    fn json_nested_too_deep_is_replaced_whole() {
        let mut text = json!({"note": "nothing secret"}).to_string();
        for _ in 0..6 {
            text = json!({"inner": text}).to_string();
        }
        let bundle = load(json!([activity(
            "Microsoft.App/containerApps/write",
            json!({"requestbody": text})
        )]));
        let out = serde_json::to_string(&bundle).unwrap();
        assert!(!out.contains("nothing secret"), "{out}");
        assert!(out.contains(REDACTED));
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        let put = json!({"properties": {"configuration": {"secrets": [{"name": "db", "value": "V"}]},
                                        "value": "BLOB", "token": "T"}});
        let status = json!({"error": {"code": "X", "message": json!({"password": "P", "n": 1.5e3}).to_string()}});
        let mut bundle = load(json!([
            activity(
                "Microsoft.App/containerApps/write",
                json!({"requestbody": put.to_string(), "statusMessage": status.to_string()})
            ),
            activity(
                "Microsoft.App/jobs/listSecrets/action",
                json!({"responseBody": "[1]"})
            ),
            versions(json!({"value": [{"id": "i", "value": "V"}], "nextLink": null})),
            versions(json!({"value": "V"})),
        ]));
        let once = serde_json::to_string(&bundle).unwrap();
        redact(&mut bundle);
        assert_eq!(serde_json::to_string(&bundle).unwrap(), once);
        let again = Bundle::parse(&once, "again").unwrap();
        assert_eq!(serde_json::to_string(&again).unwrap(), once);
    }

    #[test]
    fn environment_telemetry_keys_are_credentials() {
        let text = r#"{"kvdiag_bundle":1,"target":{"subscription":"s","resource_group":"rg","app":"a"},
          "collected_at":"2026-11-20T10:30:00Z","responses":[
          {"method":"GET","service":"arm","path":"/env","status":200,
           "body":{"properties":{"daprAIInstrumentationKey":"DAPR-IK","daprAIConnectionString":"InstrumentationKey=DAPR-CS",
                   "appInsightsConfiguration":{"connectionString":"InstrumentationKey=AI-CS"},"workloadProfiles":null}}}]}"#;
        let out = serde_json::to_string(&crate::bundle::Bundle::parse(text, "t").unwrap()).unwrap();
        for leaked in ["DAPR-IK", "DAPR-CS", "AI-CS"] {
            assert!(!out.contains(leaked), "{leaked} survived: {out}");
        }
        assert!(out.contains("\"workloadProfiles\":null"));
    }
}
