//! Tolerant reads from raw Azure JSON.
//!
//! Bodies are read by JSON pointer rather than by strict serde models, so a new field, a
//! renamed enum value or a `null` where an array was expected never breaks a diagnosis
//! (DESIGN.md: unknown fields are kept and ignored).

use serde_json::Value;
use time::OffsetDateTime;

/// A string at `pointer`, if present and non-empty.
pub fn string(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The items of an array at `pointer`; empty when absent or `null`.
pub fn array<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Strings of an array at `pointer`, skipping non-strings.
pub fn strings(value: &Value, pointer: &str) -> Vec<String> {
    array(value, pointer)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// A boolean at `pointer`; accepts `"true"`/`"false"` strings (older Log Analytics rows).
pub fn boolean(value: &Value, pointer: &str) -> Option<bool> {
    match value.pointer(pointer)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// An integer at `pointer`; accepts numbers written as strings.
pub fn integer(value: &Value, pointer: &str) -> Option<i64> {
    match value.pointer(pointer)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// An RFC 3339 (or offset-less) time at `pointer`.
pub fn time(value: &Value, pointer: &str) -> Option<OffsetDateTime> {
    string(value, pointer).and_then(|s| crate::azure::time::parse(&s))
}

/// Unix seconds at `pointer` (Key Vault attributes).
pub fn unix_time(value: &Value, pointer: &str) -> Option<OffsetDateTime> {
    integer(value, pointer).and_then(crate::azure::time::from_unix)
}
