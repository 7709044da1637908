//! Azure timestamps come in several dialects; this module reads them all as UTC.
//!
//! * Microsoft.App `systemData` on GET: no offset at all (`2025-04-14T05:58:59.7509518`),
//!   which is UTC.
//! * Revisions: `+00:00`; Key Vault, Authorization, activity log, Log Analytics: `Z`, with up
//!   to 7 fractional digits.
//! * Key Vault secret attributes: unix seconds.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Parses an RFC 3339 timestamp, or one without an offset (taken as UTC).
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t.to_offset(UtcOffset::UTC));
    }
    // No offset: Microsoft.App systemData. Only add one when the time part has none.
    let time_part = text.split_once('T').map(|(_, t)| t)?;
    if time_part.contains(['Z', 'z', '+', '-']) {
        return None;
    }
    OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339).ok()
}

/// Reads unix seconds (Key Vault attributes).
pub fn from_unix(seconds: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// Formats as `2026-11-20T10:11:06Z`: whole seconds, always UTC, for evidence text.
pub fn display(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&format).unwrap_or_else(|_| t.to_string())
}

/// Says how long ago `then` was, relative to `now`, in the unit a person would use.
pub fn ago(now: OffsetDateTime, then: OffsetDateTime) -> String {
    let d = now - then;
    if d < Duration::ZERO {
        return format!("{} in the future", span(-d));
    }
    format!("{} ago", span(d))
}

/// A duration in its largest sensible unit (`45 s`, `12 min`, `5 h`, `3 days`).
pub fn span(d: Duration) -> String {
    let secs = d.whole_seconds();
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_dialect_as_utc() {
        let expected = parse("2025-04-14T05:58:59Z").unwrap();
        assert_eq!(
            parse("2025-04-14T05:58:59.7509518")
                .unwrap()
                .unix_timestamp(),
            expected.unix_timestamp()
        );
        assert_eq!(parse("2025-04-14T05:58:59+00:00").unwrap(), expected);
        assert_eq!(parse("2025-04-14T07:58:59+02:00").unwrap(), expected);
        assert_eq!(
            parse("2025-04-14T05:58:59.7509518Z")
                .unwrap()
                .unix_timestamp(),
            expected.unix_timestamp()
        );
        assert_eq!(
            from_unix(1795018929).map(display).unwrap(),
            "2026-11-18T16:22:09Z"
        );
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        assert!(parse("yesterday").is_none());
        assert!(parse("").is_none());
        assert!(parse("2025-13-40T00:00:00Z").is_none());
    }

    #[test]
    fn speaks_in_human_units() {
        let now = parse("2026-11-20T10:30:00Z").unwrap();
        assert_eq!(
            ago(now, parse("2026-11-20T10:25:00Z").unwrap()),
            "5 min ago"
        );
        assert_eq!(
            ago(now, parse("2026-11-18T10:30:00Z").unwrap()),
            "2 days ago"
        );
        assert_eq!(
            ago(now, parse("2026-11-20T10:30:30Z").unwrap()),
            "30 s in the future"
        );
    }
}
