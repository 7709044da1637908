//! Container Apps YAML (`az containerapp create|update --yaml`, `az containerapp job create
//! --yaml`) read with positions.
//!
//! The CLI accepts the full resource shape (`location`, `identity`, `properties:
//! {environmentId|managedEnvironmentId, configuration, template}`) and a short form where
//! those `properties` members sit at the top level; it moves them under `properties` before the
//! PUT (azure-cli `command_modules/containerapp/_decorator_utils.py`, `process_loaded_yaml`).
//! [`normalize`] does the same, so the engine's `Workload::parse` reads both.

use super::finding::Pos;
use super::source::{Spans, escape};
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

/// Documents nested deeper than this are refused (a resource is a dozen levels deep).
const MAX_DEPTH: usize = 128;

/// Parses YAML text into JSON with the position of every node.
pub fn parse(text: &str) -> Result<(Value, Spans), String> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| {
        format!(
            "malformed YAML at line {}, column {}: {}",
            e.marker().line(),
            e.marker().col() + 1,
            e.info()
        )
    })?;
    let Some(doc) = docs.first() else {
        return Err("the file is empty (no YAML document)".into());
    };
    let mut spans = Spans::default();
    spans.insert(String::new(), pos(doc));
    let value = convert(doc, "", &mut spans, 0)?;
    Ok((value, spans))
}

fn pos(node: &MarkedYaml) -> Pos {
    Pos {
        line: node.span.start.line().max(1),
        column: node.span.start.col() + 1,
    }
}

fn convert(node: &MarkedYaml, at: &str, spans: &mut Spans, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "the YAML nests more than {MAX_DEPTH} levels deep (line {})",
            pos(node).line
        ));
    }
    Ok(match &node.data {
        YamlData::Value(scalar) => scalar_value(scalar),
        YamlData::Representation(text, _, _) => Value::String(text.to_string()),
        YamlData::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let pointer = format!("{at}/{i}");
                spans.insert(pointer.clone(), pos(item));
                out.push(convert(item, &pointer, spans, depth + 1)?);
            }
            Value::Array(out)
        }
        YamlData::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter() {
                let key = key_text(k);
                let pointer = format!("{at}/{}", escape(&key));
                spans.insert(pointer.clone(), pos(k));
                let value = convert(v, &pointer, spans, depth + 1)?;
                out.insert(key, value);
            }
            Value::Object(out)
        }
        YamlData::Tagged(_, inner) => convert(inner, at, spans, depth + 1)?,
        YamlData::Alias(_) | YamlData::BadValue => Value::Null,
    })
}

fn scalar_value(scalar: &Scalar) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

fn key_text(key: &MarkedYaml) -> String {
    match &key.data {
        YamlData::Value(Scalar::String(s)) => s.to_string(),
        YamlData::Value(other) => match scalar_value(other) {
            Value::String(s) => s,
            v => v.to_string(),
        },
        YamlData::Representation(text, _, _) => text.to_string(),
        YamlData::Tagged(_, inner) => key_text(inner),
        _ => "<complex key>".to_string(),
    }
}

/// The members `az containerapp create --yaml` moves from the top level under `properties`
/// (azure-cli `_decorator_utils.py`, `process_loaded_yaml`).
const NESTED: &[&str] = &[
    "provisioningState",
    "managedEnvironmentId",
    "environmentId",
    "latestRevisionName",
    "latestRevisionFqdn",
    "customDomainVerificationId",
    "configuration",
    "template",
    "outboundIPAddresses",
    "workloadProfileName",
    "latestReadyRevisionName",
    "eventStreamEndpoint",
    "runningStatus",
];

/// The short form to the full resource shape, moving spans along. Returns true when the file
/// used the short form.
pub fn normalize(doc: &mut Value, spans: &mut Spans) -> bool {
    let Some(map) = doc.as_object_mut() else {
        return false;
    };
    let mut short = false;
    if !map.get("properties").is_some_and(Value::is_object) {
        map.insert("properties".into(), Value::Object(Map::new()));
    }
    for key in NESTED {
        if let Some(v) = map.remove(*key) {
            short = true;
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                props.insert((*key).to_string(), v);
            }
            spans.rename(&format!("/{key}"), &format!("/properties/{key}"));
        }
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_point_at_keys() {
        let (v, spans) =
            parse("name: a\nproperties:\n  configuration:\n    secrets:\n      - name: x\n")
                .unwrap();
        assert_eq!(v["properties"]["configuration"]["secrets"][0]["name"], "x");
        assert_eq!(
            spans.locate("/properties/configuration/secrets/0/name"),
            Pos { line: 5, column: 9 }
        );
        assert_eq!(spans.locate("/properties").line, 2);
    }

    #[test]
    fn the_short_form_moves_under_properties() {
        let (mut v, mut spans) =
            parse("name: a\nconfiguration:\n  secrets: []\ntemplate: {}\n").unwrap();
        assert!(normalize(&mut v, &mut spans));
        assert!(v["properties"]["configuration"]["secrets"].is_array());
        assert_eq!(spans.locate("/properties/configuration/secrets").line, 3);
    }

    #[test]
    fn malformed_yaml_says_where() {
        let e = parse("a: [1, 2\nb: }").unwrap_err();
        assert!(e.starts_with("malformed YAML at line"), "{e}");
    }
}
