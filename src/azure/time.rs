//! Azure timestamps come in several dialects; this module reads them all as UTC.
//!
//! * Microsoft.App `systemData` on GET: no offset at all (`2025-04-14T05:58:59.7509518`),
//!   which is UTC.
//! * Revisions: `+00:00`; Key Vault, Authorization, activity log, Log Analytics: `Z`, with up
//!   to 7 fractional digits.
//! * Key Vault secret attributes: unix seconds.
//!
//! Times come from Azure answers, bundles and flags, so any of them may sit at an end of the
//! calendar (`9999-12-31T23:59:59Z` is .NET's `DateTime.MaxValue`, a common "never"). Rules
//! therefore never add to or subtract from a time they were given: they compare the [`elapsed`]
//! time between two moments with a window, which cannot overflow. Where a moment must be moved
//! ([`shift`]), the result is checked.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Parses an RFC 3339 timestamp, or one without an offset (taken as UTC). `None` also for a
/// well-formed time whose offset moves it outside the calendar (`9999-12-31T23:59:59-05:00` is
/// in year 10000 in UTC).
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return t.checked_to_offset(UtcOffset::UTC);
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

/// Formats as `2026-11-20T10:11:06Z`: whole seconds, always UTC, for evidence text. A moment
/// that has no UTC form inside the calendar keeps its own offset.
pub fn display(t: OffsetDateTime) -> String {
    let Some(t) = t.checked_to_offset(UtcOffset::UTC) else {
        return t.to_string();
    };
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&format).unwrap_or_else(|_| t.to_string())
}

/// How long after `then` `now` is; negative when `then` is later.
///
/// Total: the distance between any two moments `time` can hold (at most about 20,000 years,
/// under 10^12 seconds) fits a [`Duration`] (about 9.2 × 10^18 seconds), so rules compare
/// `elapsed(a, b) > window` instead of `a > b + window`, which overflows when `b` is at the end
/// of the calendar.
pub fn elapsed(now: OffsetDateTime, then: OffsetDateTime) -> Duration {
    now - then
}

/// `t` moved by `d`, or `None` when that leaves the calendar.
pub fn shift(t: OffsetDateTime, d: Duration) -> Option<OffsetDateTime> {
    t.checked_add(d)
}

/// Says how long ago `then` was, relative to `now`, in the unit a person would use.
pub fn ago(now: OffsetDateTime, then: OffsetDateTime) -> String {
    let d = elapsed(now, then);
    if d < Duration::ZERO {
        // `abs` saturates at `Duration::MAX` where `-d` would panic on `Duration::MIN`.
        return format!("{} in the future", span(d.abs()));
    }
    format!("{} ago", span(d))
}

/// A duration in its largest sensible unit (`45 s`, `12 min`, `5 h`, `3 days`); a negative
/// one counts as its size.
pub fn span(d: Duration) -> String {
    let secs = d.whole_seconds().unsigned_abs();
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
    fn reads_the_ends_of_the_calendar_and_nothing_beyond() {
        let last = parse("9999-12-31T23:59:59Z").unwrap();
        assert_eq!(from_unix(253402300799), Some(last));
        assert_eq!(display(last), "9999-12-31T23:59:59Z");
        assert_eq!(
            display(parse("9999-12-31T23:59:59.9999999Z").unwrap()),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            display(from_unix(-62135596800).unwrap()),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(
            display(parse("0000-01-01T00:30:00+01:00").unwrap()),
            "-0001-12-31T23:30:00Z"
        );
        // In UTC these are in year 10000, or further out than any date.
        assert_eq!(parse("9999-12-31T23:59:59-05:00"), None);
        assert_eq!(parse("+999999-12-31T23:59:59Z"), None);
        assert_eq!(from_unix(i64::MAX), None);
        assert_eq!(from_unix(i64::MIN), None);
    }

    #[test]
    fn elapsed_and_shift_never_overflow() {
        let last = parse("9999-12-31T23:59:59.999999999Z").unwrap();
        let first = parse("0000-01-01T00:00:00Z").unwrap();
        let now = parse("2026-11-20T10:30:00Z").unwrap();
        assert!(elapsed(last, first) > Duration::days(3_650_000));
        assert_eq!(elapsed(first, last), -elapsed(last, first));
        assert!(elapsed(now, last) < Duration::ZERO);
        assert_eq!(shift(last, Duration::minutes(2)), None);
        assert_eq!(
            shift(first, Duration::minutes(-2)).map(display).as_deref(),
            Some("-0001-12-31T23:58:00Z")
        );
        assert_eq!(shift(first, Duration::MIN), None);
        assert_eq!(
            shift(now, Duration::minutes(5)),
            parse("2026-11-20T10:35:00Z")
        );
        assert!(ago(now, last).ends_with(" days in the future"));
        assert!(ago(last, first).ends_with(" days ago"));
        assert_eq!(
            span(Duration::MIN),
            format!("{} days", i64::MIN.unsigned_abs() / 86400)
        );
        assert_eq!(span(Duration::MAX), format!("{} days", i64::MAX / 86400));
        assert_eq!(span(Duration::seconds(-45)), "45 s");
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
