//! Extracting the bearer token from a request (RFC 6750 §2.1, header only).

use http::HeaderMap;

use crate::{jwt_peek::MAX_TOKEN_BYTES, AuthError};

/// Extracts the bearer token from the `Authorization` header.
///
/// * no `Authorization` header, or one with another scheme → [`AuthError::MissingToken`];
/// * two `Authorization` headers → [`AuthError::InvalidRequest`] (400);
/// * an `access_token` query parameter → [`AuthError::InvalidRequest`]
///   (OAuth 2.1 forbids tokens in URIs);
/// * a token over 8 KiB or outside the `b64token` alphabet → [`AuthError::Malformed`].
///
/// The scheme is matched case-insensitively (`bearer` works). Cookies are ignored.
pub fn bearer_token<'h>(headers: &'h HeaderMap, query: Option<&str>) -> Result<&'h str, AuthError> {
    if let Some(q) = query {
        if q.split('&')
            .any(|kv| kv.split('=').next() == Some("access_token"))
        {
            return Err(AuthError::InvalidRequest {
                reason: "tokens are not accepted in the query string; use the Authorization header"
                    .into(),
            });
        }
    }
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(AuthError::MissingToken);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest {
            reason: "more than one Authorization header".into(),
        });
    }
    let value = value
        .to_str()
        .map_err(|_| AuthError::malformed("Authorization header is not visible ASCII"))?;
    parse_authorization(value)
}

/// Parses one `Authorization` header value (`Bearer <token>`).
pub fn parse_authorization(value: &str) -> Result<&str, AuthError> {
    let value = value.trim();
    let (scheme, rest) = match value.split_once(' ') {
        Some((s, r)) => (s, r),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MissingToken);
    }
    let token = rest.trim_start_matches(' ').trim_end();
    if token.is_empty() {
        return Err(AuthError::malformed("empty bearer token"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::malformed("token is too large"));
    }
    if !is_b64token(token) {
        return Err(AuthError::malformed(
            "token has characters outside the b64token alphabet",
        ));
    }
    Ok(token)
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
///
/// Runs on every request over the whole token, so the byte test is branch-free
/// and the loop has no early exit: the compiler turns it into SIMD compares
/// (a few hundred instructions for a typical JWT, against several thousand
/// for a per-byte `match`).
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.bytes().fold(true, |ok, b| ok & is_b64token_byte(b))
}

/// `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`, without branches:
/// `b | 0x20` folds upper- onto lowercase letters (and no other byte onto
/// `a..=z`), and `-`, `.`, `/` and the digits are the one range `0x2D..=0x39`.
#[inline]
fn is_b64token_byte(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    let dash_dot_slash_digit = b.wrapping_sub(b'-') < 13;
    letter | dash_dot_slash_digit | (b == b'_') | (b == b'~') | (b == b'+')
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn b64token_bytes_are_exactly_the_rfc_6750_alphabet() {
        for b in 0..=u8::MAX {
            let expected =
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
            assert_eq!(is_b64token_byte(b), expected, "byte {b:#04x}");
        }
    }

    #[test]
    fn extracts() {
        assert_eq!(
            bearer_token(&headers(&["Bearer abc.def.ghi"]), None).unwrap(),
            "abc.def.ghi"
        );
        assert_eq!(
            bearer_token(&headers(&["bearer abc"]), None).unwrap(),
            "abc"
        );
        assert_eq!(
            bearer_token(&headers(&["BEARER   abc=="]), None).unwrap(),
            "abc=="
        );
    }

    #[test]
    fn rejects() {
        assert_eq!(
            bearer_token(&headers(&[]), None),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            bearer_token(&headers(&["Basic dXNlcg=="]), None),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            bearer_token(&headers(&["abc.def.ghi"]), None),
            Err(AuthError::MissingToken)
        );
        assert!(matches!(
            bearer_token(&headers(&["Bearer a", "Bearer b"]), None),
            Err(AuthError::InvalidRequest { .. })
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer a"]), Some("x=1&access_token=a")),
            Err(AuthError::InvalidRequest { .. })
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer "]), None),
            Err(AuthError::Malformed { .. })
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer a b"]), None),
            Err(AuthError::Malformed { .. })
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer a\"b"]), None),
            Err(AuthError::Malformed { .. })
        ));
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert!(matches!(
            bearer_token(&headers(&[&huge]), None),
            Err(AuthError::Malformed { .. })
        ));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,200}") {
            let _ = parse_authorization(&s);
        }

        #[test]
        fn accepted_tokens_are_b64token(s in "[ -~]{0,100}") {
            if let Ok(t) = parse_authorization(&s) {
                prop_assert!(is_b64token(t));
                prop_assert!(t.len() <= MAX_TOKEN_BYTES);
            }
        }

        #[test]
        fn valid_tokens_roundtrip(t in "[A-Za-z0-9._~+/-]{1,100}={0,2}", scheme in "(?i)bearer") {
            let header = format!("{scheme} {t}");
            prop_assert_eq!(parse_authorization(&header).unwrap(), t.as_str());
        }
    }
}
