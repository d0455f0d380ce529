//! `Retry-After` and `Cache-Control: max-age`.

use std::time::{Duration, SystemTime};

/// The longest `Retry-After` passed on (one hour).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Parses `Retry-After` (delta-seconds or HTTP-date), clamped to 1 s … [`MAX_RETRY_AFTER`].
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use warden_upstream::parse_retry_after;
///
/// let now = SystemTime::now();
/// assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
/// assert_eq!(parse_retry_after("0", now), Some(Duration::from_secs(1)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(delay.clamp(Duration::from_secs(1), MAX_RETRY_AFTER))
}

/// Reads `max-age` from one `Cache-Control` value; `no-cache`/`no-store` count as 0.
///
/// ```
/// use std::time::Duration;
/// use warden_upstream::parse_max_age;
///
/// assert_eq!(parse_max_age("public, max-age=300"), Some(Duration::from_secs(300)));
/// assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
/// assert_eq!(parse_max_age("public"), None);
/// ```
pub fn parse_max_age(header: &str) -> Option<Duration> {
    let mut found = None;
    for directive in header.split(',') {
        let directive = directive.trim();
        let (name, value) = directive
            .split_once('=')
            .map_or((directive, None), |(n, v)| (n.trim(), Some(v.trim())));
        if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            found = value
                .map(|v| v.trim_matches('"'))
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs);
        }
    }
    found
}

/// `Retry-After` of a header map, if present and valid.
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// `Cache-Control: max-age` of a header map (the first value that has one).
pub(crate) fn max_age(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get_all(http::header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(parse_max_age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after("999999", now), Some(MAX_RETRY_AFTER));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(120))
        );
        let much_later = httpdate::fmt_http_date(now + Duration::from_secs(86_400));
        assert_eq!(parse_retry_after(&much_later, now), Some(MAX_RETRY_AFTER));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(120));
        assert_eq!(
            parse_retry_after(&earlier, now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn max_age_parsing() {
        assert_eq!(
            parse_max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            parse_max_age("Max-Age=\"60\""),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("max-age=60, no-cache"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }

    #[test]
    fn header_maps() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        assert_eq!(max_age(&h), None);
        h.insert(http::header::RETRY_AFTER, "12".parse().unwrap());
        h.append(http::header::CACHE_CONTROL, "public".parse().unwrap());
        h.append(http::header::CACHE_CONTROL, "max-age=9".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(12)));
        assert_eq!(max_age(&h), Some(Duration::from_secs(9)));
    }
}
