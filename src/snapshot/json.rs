//! Tolerant reads from raw Azure JSON.
//!
//! Bodies are read by JSON pointer rather than by strict serde models, so a new field, a
//! renamed enum value or a `null` where an array was expected never breaks a diagnosis
//! (docs/bundle.md#how-responses-are-found: unknown fields are kept and ignored).

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

/// An integer at `pointer`; accepts numbers written as strings. A fraction is cut off (`50.0`
/// is 50); a number outside `i64` is no integer, not `i64::MAX` (which `as` would make of it).
pub fn integer(value: &Value, pointer: &str) -> Option<i64> {
    match value.pointer(pointer)? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .map(f64::trunc)
                // 2^63 is the first float `i64` cannot hold; -2^63 is `i64::MIN` itself.
                .filter(|f| (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(f))
                .map(|f| f as i64)
        }),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A time field as read: absent, a moment, or present but no moment kvdiag can use (not a time,
/// or outside the calendar `time` holds, years -9999 to 9999 in UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stamp {
    /// Missing, `null` or empty: Azure did not say.
    Absent,
    At(OffsetDateTime),
    /// What the field held, shortened for a gap's one line.
    Unusable(String),
}

impl Stamp {
    pub fn at(&self) -> Option<OffsetDateTime> {
        match self {
            Stamp::At(t) => Some(*t),
            _ => None,
        }
    }
}

/// The RFC 3339 (or offset-less) time at `pointer`.
pub fn stamp(value: &Value, pointer: &str) -> Stamp {
    match value.pointer(pointer) {
        None | Some(Value::Null) => Stamp::Absent,
        Some(Value::String(s)) if s.trim().is_empty() => Stamp::Absent,
        Some(Value::String(s)) => match crate::azure::time::parse(s) {
            Some(t) => Stamp::At(t),
            None => Stamp::Unusable(shown(&Value::String(s.clone()))),
        },
        Some(other) => Stamp::Unusable(shown(other)),
    }
}

/// The unix seconds at `pointer` (Key Vault attributes).
pub fn unix_stamp(value: &Value, pointer: &str) -> Stamp {
    match value.pointer(pointer) {
        None | Some(Value::Null) => Stamp::Absent,
        Some(Value::String(s)) if s.trim().is_empty() => Stamp::Absent,
        Some(other) => match integer(value, pointer).and_then(crate::azure::time::from_unix) {
            Some(t) => Stamp::At(t),
            None => Stamp::Unusable(shown(other)),
        },
    }
}

/// An RFC 3339 (or offset-less) time at `pointer`; `None` when absent or unusable.
pub fn time(value: &Value, pointer: &str) -> Option<OffsetDateTime> {
    stamp(value, pointer).at()
}

/// Unix seconds at `pointer` (Key Vault attributes); `None` when absent or unusable.
pub fn unix_time(value: &Value, pointer: &str) -> Option<OffsetDateTime> {
    unix_stamp(value, pointer).at()
}

/// A time field that is present but unusable, as `field 'value'` for a gap: `field` is
/// `pointer` read as a path (`value[0].properties.createdOn`).
pub fn unusable(value: &Value, pointer: &str, unix: bool) -> Option<String> {
    let found = if unix {
        unix_stamp(value, pointer)
    } else {
        stamp(value, pointer)
    };
    match found {
        Stamp::Unusable(raw) => Some(format!("{} {raw}", path(pointer))),
        _ => None,
    }
}

/// `/value/0/properties/createdOn` as `value[0].properties.createdOn`.
pub fn path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

/// A value quoted for one line of gap text.
fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    };
    crate::logs::one_line(&text, 60)
}
