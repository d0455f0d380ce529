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

fn decode_bytes(part: &str, what: &str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| AuthError::malformed(format!("JWT {what} is not base64url")))
}

fn not_an_object(what: &str) -> AuthError {
    AuthError::malformed(format!("JWT {what} is not a JSON object"))
}

fn decode_part(part: &str, what: &str) -> Result<Map<String, Value>, AuthError> {
    match serde_json::from_slice::<Value>(&decode_bytes(part, what)?) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(not_an_object(what)),
    }
}

/// The three parts of a compact JWS, after the size and shape checks.
fn split(token: &str) -> Result<[&str; 3], AuthError> {
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
    Ok([h, c, s])
}

/// Decodes header and claims without verifying anything.
pub fn peek(token: &str) -> Result<JwtPeek, AuthError> {
    let [h, c, _] = split(token)?;
    Ok(JwtPeek {
        header: decode_part(h, "header")?,
        claims: decode_part(c, "payload")?,
    })
}

/// Just the `iss` claim (when a string), for routing on every request: the
/// same checks and errors as [`peek`] (`peek_issuer(t)` is `peek(t)` mapped
/// through [`JwtPeek::issuer`]), without building the header and claims maps.
pub fn peek_issuer(token: &str) -> Result<Option<String>, AuthError> {
    let [h, c, _] = split(token)?;
    serde_json::from_slice::<object::Issuer>(&decode_bytes(h, "header")?)
        .map_err(|_| not_an_object("header"))?;
    serde_json::from_slice::<object::Issuer>(&decode_bytes(c, "payload")?)
        .map(|claims| claims.0)
        .map_err(|_| not_an_object("payload"))
}

/// Deserializers that accept exactly the JSON a `serde_json::Value` accepts
/// (they drive the same `deserialize_any` paths: UTF-8 and escape checks,
/// number ranges, nesting limit) but keep nothing except the last `iss`.
mod object {
    use std::fmt;

    use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::Value;

    /// A JSON object's last `iss` member, when it is a string.
    pub(super) struct Issuer(pub Option<String>);

    impl<'de> Deserialize<'de> for Issuer {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(ObjectVisitor)
        }
    }

    struct ObjectVisitor;

    impl<'de> Visitor<'de> for ObjectVisitor {
        type Value = Issuer;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Issuer, A::Error> {
            let mut iss = None;
            while let Some(IsIss(is_iss)) = map.next_key()? {
                if is_iss {
                    iss = match map.next_value::<Value>()? {
                        Value::String(s) => Some(s),
                        _ => None,
                    };
                } else {
                    map.next_value::<Skip>()?;
                }
            }
            Ok(Issuer(iss))
        }
    }

    /// A member name, compared with `iss` without keeping it.
    struct IsIss(bool);

    impl<'de> Deserialize<'de> for IsIss {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(KeyVisitor)
        }
    }

    struct KeyVisitor;

    impl Visitor<'_> for KeyVisitor {
        type Value = IsIss;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a member name")
        }
        fn visit_str<E>(self, v: &str) -> Result<IsIss, E> {
            Ok(IsIss(v == "iss"))
        }
    }

    /// Any JSON value, checked as `Value` would check it, then dropped
    /// (its own visitor: there is nothing to build).
    struct Skip;

    impl<'de> Deserialize<'de> for Skip {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(Skip)
        }
    }

    impl<'de> Visitor<'de> for Skip {
        type Value = Skip;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_unit<E>(self) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
            while seq.next_element::<Skip>()?.is_some() {}
            Ok(Skip)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
            while map.next_key::<Skip>()?.is_some() {
                map.next_value::<Skip>()?;
            }
            Ok(Skip)
        }
    }
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

    /// `peek_issuer` is `peek` mapped to `issuer()`: same verdict, same error text.
    fn assert_same_as_peek(token: &str) {
        let full = peek(token)
            .map(|p| p.issuer().map(str::to_owned))
            .map_err(|e| e.to_string());
        let fast = peek_issuer(token).map_err(|e| e.to_string());
        assert_eq!(full, fast, "token {token:?}");
    }

    fn with_payload(payload: &[u8]) -> String {
        format!(
            "{}.{}.sig",
            enc(r#"{"alg":"ES256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn issuer_peek_agrees_with_the_full_peek_on_edge_cases() {
        let nested = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        let payloads: &[&[u8]] = &[
            br#"{"iss":"https://a"}"#,
            br#"{"iss":"https://a","iss":"https://b"}"#,
            br#"{"iss":"https://a","iss":7}"#,
            br#"{"iss":7,"iss":"https://b"}"#,
            br#"{"i\u0073s":"https://escaped-key"}"#,
            br#"{"iss":"\ud800"}"#,
            br#"{"iss":"a","x":"\ud800"}"#,
            br#"{"x":1e400,"iss":"a"}"#,
            br#"{"x":-0.0,"y":18446744073709551616,"iss":"a"}"#,
            br#"{"x":[1,{"iss":"inner"},null,true],"iss":"outer"}"#,
            br#"{"x":{"iss":"inner"}}"#,
            br#"{"iss":null}"#,
            br#"{}"#,
            br#"[]"#,
            br#""iss""#,
            br#"{"iss":"a"} x"#,
            br#"{"iss":"a",}"#,
            b"{\"iss\":\"\xff\"}",
            b"{\"\xff\":1}",
            nested.as_bytes(),
        ];
        for payload in payloads {
            assert_same_as_peek(&with_payload(payload));
        }
        for token in [
            "a.b",
            "a.b.c.d",
            "..",
            "x.y.",
            "!!.e30.s",
            &"A".repeat(MAX_TOKEN_BYTES + 1),
        ] {
            assert_same_as_peek(token);
        }
        assert_same_as_peek(&format!("{}.{}.s", enc("[]"), enc(r#"{"iss":"a"}"#)));
        assert_same_as_peek(&format!(
            "{}.{}.s",
            enc(r#"{"a":1e999}"#),
            enc(r#"{"iss":"a"}"#)
        ));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = peek(&s);
            assert_same_as_peek(&s);
        }

        #[test]
        fn issuer_peek_agrees_on_json_like_payloads(payload in r#"[{}\[\]",:0-9a-z.eE+\\-\\u ]{0,60}"#) {
            assert_same_as_peek(&with_payload(payload.as_bytes()));
            assert_same_as_peek(&with_payload(format!("{{\"iss\":\"a\",{payload}").as_bytes()));
            assert_same_as_peek(&with_payload(format!("{{\"iss\":{payload}}}").as_bytes()));
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
