//! The unverified JWT peek used to route tokens to a provider.
//!
//! Oracle: `peek` accepts only tokens of at most `MAX_TOKEN_BYTES` with three
//! non-empty dot-separated parts whose header and payload decode to JSON
//! objects, and agrees with `looks_like_jwt`; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::jwt_peek::{looks_like_jwt, peek, peek_issuer, MAX_TOKEN_BYTES};

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    let shaped = looks_like_jwt(&token);
    let same_as_peek = |token: &str| {
        let full = peek(token)
            .map(|p| p.issuer().map(str::to_owned))
            .map_err(|e| e.to_string());
        let fast = peek_issuer(token).map_err(|e| e.to_string());
        assert_eq!(full, fast, "peek_issuer disagrees on {token:?}");
    };
    same_as_peek(&token);
    if let Ok(p) = peek(&token) {
        assert!(token.len() <= MAX_TOKEN_BYTES);
        assert!(
            shaped,
            "peek accepted a token looks_like_jwt rejects: {token:?}"
        );
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| !p.is_empty()));
        // The accessors never panic and only return strings found in the maps.
        if let Some(iss) = p.issuer() {
            assert_eq!(p.claims.get("iss").and_then(|v| v.as_str()), Some(iss));
        }
        let _ = (p.alg(), p.kid());
    }
    // A well-formed three-part token made from the input always peeks.
    let b64 = |bytes: &[u8]| {
        use std::fmt::Write;
        // Minimal base64url without padding, to avoid a dependency.
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                let _ = write!(out, "{}", A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    };
    same_as_peek(&format!("{}.{}.sig", b64(br#"{"alg":"RS256"}"#), b64(data)));
    same_as_peek(&format!("{}.{}.sig", b64(data), b64(br#"{"iss":"a"}"#)));
    let claims = serde_json::json!({ "iss": token.as_ref() }).to_string();
    let built = format!(
        "{}.{}.sig",
        b64(br#"{"alg":"RS256"}"#),
        b64(claims.as_bytes())
    );
    if built.len() <= MAX_TOKEN_BYTES {
        let p = peek(&built).expect("a well-formed token peeks");
        assert_eq!(p.issuer(), Some(token.as_ref()));
    } else {
        assert!(peek(&built).is_err());
    }
});
