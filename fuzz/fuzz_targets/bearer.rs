//! `Authorization` header parsing: `parse_authorization` on any string and
//! `bearer_token` on any header bytes and query string.
//!
//! Oracle: an accepted token is a non-empty slice of the input, at most
//! `MAX_TOKEN_BYTES` long, in the RFC 6750 `b64token` alphabet, and follows a
//! case-insensitive `Bearer` scheme; a query with `access_token` is never
//! accepted; nothing panics.
#![no_main]

use http::{header::AUTHORIZATION, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use warden_core::bearer::{bearer_token, parse_authorization};
use warden_core::jwt_peek::MAX_TOKEN_BYTES;

fn check_token(input: &str, token: &str) {
    assert!(!token.is_empty(), "empty token accepted from {input:?}");
    assert!(token.len() <= MAX_TOKEN_BYTES, "oversized token accepted");
    let body = token.trim_end_matches('=');
    assert!(!body.is_empty(), "only padding accepted: {input:?}");
    assert!(
        body.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)),
        "token outside b64token: {token:?}"
    );
    let trimmed = input.trim();
    assert!(
        trimmed.len() > 6 && trimmed[..6].eq_ignore_ascii_case("bearer"),
        "accepted without the Bearer scheme: {input:?}"
    );
    assert!(
        trimmed.ends_with(token),
        "token is not the tail of {input:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    // First byte: how many of the following bytes form the query string.
    let (split, rest) = match data.split_first() {
        Some((n, rest)) => (usize::from(*n).min(rest.len()), rest),
        None => (0, data),
    };
    let (query, header) = rest.split_at(split);

    if let Ok(s) = std::str::from_utf8(header) {
        if let Ok(token) = parse_authorization(s) {
            check_token(s, token);
        }
    }

    let query = std::str::from_utf8(query).ok();
    let mut headers = HeaderMap::new();
    // Up to two header values, separated by a NUL byte.
    for part in header.splitn(2, |b| *b == 0) {
        if let Ok(value) = HeaderValue::from_bytes(part) {
            headers.append(AUTHORIZATION, value);
        }
    }
    let count = headers.get_all(AUTHORIZATION).iter().count();
    if let Ok(token) = bearer_token(&headers, query) {
        assert_eq!(count, 1, "accepted with {count} Authorization headers");
        let has_query_token = query.is_some_and(|q| {
            q.split('&')
                .any(|kv| kv.split('=').next() == Some("access_token"))
        });
        assert!(!has_query_token, "accepted with access_token in the query");
        let value = headers.get(AUTHORIZATION).unwrap().to_str().unwrap();
        check_token(value, token);
    }
});
