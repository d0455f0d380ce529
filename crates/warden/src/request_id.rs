//! `x-request-id`: the id every answer carries and every access log line names.
//!
//! A request's own `x-request-id` is kept when it is sane — one header,
//! 1 to 128 bytes of visible ASCII (`!` to `~`) — and replaced otherwise; a
//! request without one gets a new random id (a UUID v4). The request goes on
//! with the id it is known by, so handlers see the same one.

use poem::http::{HeaderMap, HeaderName, HeaderValue};

/// The header's name.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest `x-request-id` accepted from a request, bytes.
pub const MAX_REQUEST_ID_BYTES: usize = 128;

/// Whether `value` is acceptable as a request id (see the module docs).
pub fn is_sane(value: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_BYTES
        && value.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// A new random request id: a lowercase, hyphenated UUID v4.
pub fn generate() -> HeaderValue {
    let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = uuid.hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(text).expect("a UUID is a valid header value")
}

/// The id of the request with `headers`: its own when sane (`true`), else a
/// new one (`false`).
pub fn of(headers: &HeaderMap) -> (HeaderValue, bool) {
    let mut values = headers.get_all(&X_REQUEST_ID).iter();
    match (values.next(), values.next()) {
        (Some(v), None) if is_sane(v.as_bytes()) => (v.clone(), true),
        _ => (generate(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanity() {
        assert!(is_sane(b"abc-123"));
        assert!(is_sane(&[b'a'; 128]));
        assert!(!is_sane(&[b'a'; 129]));
        assert!(!is_sane(b""));
        assert!(!is_sane(b"has space"));
        assert!(!is_sane(b"tab\there"));
        assert!(!is_sane("caf\u{e9}".as_bytes()));
    }

    #[test]
    fn generated_ids_are_uuids_and_differ() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        let text = a.to_str().unwrap();
        assert_eq!(text.len(), 36);
        assert_eq!(text.as_bytes()[14], b'4', "version 4: {text}");
    }

    #[test]
    fn keeps_a_sane_id_replaces_the_rest() {
        let mut headers = HeaderMap::new();
        assert!(!of(&headers).1);
        headers.insert(X_REQUEST_ID, HeaderValue::from_static("req-1"));
        assert_eq!(of(&headers), (HeaderValue::from_static("req-1"), true));
        headers.append(X_REQUEST_ID, HeaderValue::from_static("req-2"));
        assert!(!of(&headers).1, "two ids: replaced");
        headers.insert(X_REQUEST_ID, HeaderValue::from_static("a b"));
        let (id, kept) = of(&headers);
        assert!(!kept);
        assert_ne!(id, "a b");
    }
}
