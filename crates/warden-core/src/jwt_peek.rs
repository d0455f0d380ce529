//! Unverified look at a JWT, for routing and diagnostics only.
//!
//! Nothing read here is trusted: it picks the provider whose keys then
//! verify the token, and it feeds `explain`. It never allocates more than the
//! token's own size and rejects oversized tokens up front.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::AuthError;

/// Largest token accepted anywhere in warden (bytes). Larger ones are rejected
/// before any decoding or crypto.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The decoded (unverified) header and claims of a compact JWS.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtPeek {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
}

impl JwtPeek {
    /// The `iss` claim, if a string.
    pub fn issuer(&self) -> Option<&str> {
        self.claims.get("iss").and_then(Value::as_str)
    }
    /// The `alg` header, if a string.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }
    /// The `kid` header, if a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// Whether the token has the shape of a compact JWS (three dot-separated parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

fn decode_part(part: &str, what: &str) -> Result<Map<String, Value>, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| AuthError::malformed(format!("JWT {what} is not base64url")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AuthError::malformed(format!(
            "JWT {what} is not a JSON object"
        ))),
    }
}

/// Decodes header and claims without verifying anything.
pub fn peek(token: &str) -> Result<JwtPeek, AuthError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::malformed("token is too large"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::malformed("a JWT has three dot-separated parts"));
    };
    if h.is_empty() || c.is_empty() || s.is_empty() {
        return Err(AuthError::malformed("a JWT part is empty"));
    }
    Ok(JwtPeek {
        header: decode_part(h, "header")?,
        claims: decode_part(c, "payload")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    #[test]
    fn peeks_header_and_claims() {
        let t = format!(
            "{}.{}.sig",
            enc(r#"{"alg":"ES256","kid":"k1"}"#),
            enc(r#"{"iss":"https://a"}"#)
        );
        let p = peek(&t).unwrap();
        assert_eq!(p.alg(), Some("ES256"));
        assert_eq!(p.kid(), Some("k1"));
        assert_eq!(p.issuer(), Some("https://a"));
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(peek("a.b").is_err());
        assert!(peek("a.b.c.d").is_err());
        assert!(peek("..").is_err());
        assert!(peek(&format!("{}.{}.x", enc("[]"), enc("{}"))).is_err());
        assert!(peek(&format!("{}.{}.x", enc("{}"), "!!!")).is_err());
        let huge = format!("{}.{}.x", enc("{}"), "A".repeat(MAX_TOKEN_BYTES));
        assert!(peek(&huge).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = peek(&s);
        }

        #[test]
        fn never_panics_on_dotted(a in "[A-Za-z0-9_=-]{0,80}", b in "[A-Za-z0-9_=-]{0,80}", c in "[A-Za-z0-9_=-]{0,20}") {
            let _ = peek(&format!("{a}.{b}.{c}"));
        }

        #[test]
        fn roundtrips_objects(k in "[a-z]{1,8}", v in "[ -~]{0,20}") {
            let header = serde_json::json!({"alg": "RS256"}).to_string();
            let claims = serde_json::json!({ k.clone(): v.clone() }).to_string();
            let t = format!("{}.{}.s", enc(&header), enc(&claims));
            let p = peek(&t).unwrap();
            prop_assert_eq!(p.claims.get(&k).and_then(Value::as_str), Some(v.as_str()));
        }
    }
}
