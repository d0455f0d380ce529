//! Rendering auth errors carrying attacker-chosen values (kid, issuer,
//! audience, typ) as HTTP challenges.
//!
//! Oracle: the `WWW-Authenticate` value is always a valid header value (no
//! CR/LF/control characters: no header injection), its quoted strings stay
//! balanced, and the JSON body always parses.
#![no_main]

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use warden_core::{AuthError, ChallengeContext};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ctx = ChallengeContext {
        resource_metadata: "https://mcp.example/.well-known/oauth-protected-resource/mcp".into(),
        scopes: text.split('|').take(3).map(str::to_owned).collect(),
    };
    let errors = [
        AuthError::UnknownKey {
            kid: text.to_string(),
        },
        AuthError::WrongIssuer {
            issuer: text.to_string(),
        },
        AuthError::WrongAudience {
            audiences: vec![text.to_string(), "x".into()],
        },
        AuthError::WrongTokenType {
            token_type: text.to_string(),
        },
        AuthError::AlgorithmNotAllowed {
            alg: text.to_string(),
        },
        AuthError::malformed(text.to_string()),
        AuthError::InvalidRequest {
            reason: text.to_string(),
        },
        AuthError::InsufficientScope {
            required: vec![text.to_string()],
            missing: vec![text.to_string()],
        },
        AuthError::unavailable(text.to_string(), text.to_string()),
        AuthError::MissingToken,
    ];
    for err in errors {
        let c = err.challenge(&ctx);
        assert!(matches!(c.status, 400 | 401 | 403 | 503), "{}", c.status);
        if let Some(www) = &c.www_authenticate {
            assert!(
                HeaderValue::from_str(www).is_ok(),
                "invalid header value {www:?}"
            );
            assert!(www.starts_with("Bearer "));
            // Unescaped quotes come in pairs.
            let mut quotes = 0;
            let mut escaped = false;
            for ch in www.chars() {
                match ch {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => quotes += 1,
                    _ => escaped = false,
                }
                if ch != '\\' {
                    escaped = false;
                }
            }
            assert_eq!(quotes % 2, 0, "unbalanced quotes in {www:?}");
        }
        let body: serde_json::Value =
            serde_json::from_str(&c.body.to_json()).expect("challenge body is JSON");
        assert!(body["error"].is_string());
    }
});
