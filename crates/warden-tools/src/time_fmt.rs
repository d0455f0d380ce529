//! Time conversions: Unix seconds and Alpha Vantage timestamps to RFC 3339.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Unix seconds as RFC 3339 in UTC (`2026-01-01T00:00:00Z`); `None` when out of range.
pub(crate) fn unix_to_rfc3339(secs: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// Parses Alpha Vantage's `YYYYMMDDTHHMMSS` (or `YYYYMMDDTHHMM`) as UTC.
pub(crate) fn parse_av_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let parsed = match s.len() {
        15 => PrimitiveDateTime::parse(
            s,
            format_description!("[year][month][day]T[hour][minute][second]"),
        ),
        13 => PrimitiveDateTime::parse(s, format_description!("[year][month][day]T[hour][minute]")),
        _ => return None,
    };
    parsed.ok().map(PrimitiveDateTime::assume_utc)
}

/// RFC 3339 in UTC.
pub(crate) fn to_rfc3339(t: OffsetDateTime) -> Option<String> {
    t.format(&Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_alpha_vantage_timestamps() {
        let t = parse_av_time("20250314T153000").unwrap();
        assert_eq!(to_rfc3339(t).unwrap(), "2025-03-14T15:30:00Z");
        let t = parse_av_time("20250314T1530").unwrap();
        assert_eq!(to_rfc3339(t).unwrap(), "2025-03-14T15:30:00Z");
        for bad in [
            "",
            "2025-03-14",
            "20251314T153000",
            "20250314T256000",
            "x".repeat(15).as_str(),
        ] {
            assert!(parse_av_time(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn converts_unix_seconds() {
        assert_eq!(unix_to_rfc3339(0).unwrap(), "1970-01-01T00:00:00Z");
        assert!(unix_to_rfc3339(i64::MAX).is_none());
    }
}
