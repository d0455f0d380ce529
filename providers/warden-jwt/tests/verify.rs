//! JwtVerifier over static keys: algorithms, header rules, claim checks,
//! the verified-token cache and `explain`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{json, Value};
use warden_core::{now_unix, AuthError, KeyInfo, Verifier};
use warden_jwt::{JwtSettings, JwtVerifier, KeySource, KeySourceConfig, StaticKeys};
use warden_test_support::idp::Trap;
use warden_test_support::tokens::{self, TestKey};

/// Static keys that count lookups (each lookup precedes one signature check).
struct Counting {
    inner: StaticKeys,
    lookups: AtomicUsize,
}

#[async_trait]
impl KeySource for Counting {
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<DecodingKey>, AuthError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.key(kid, alg).await
    }
    fn keys(&self) -> Vec<KeyInfo> {
        self.inner.keys()
    }
}

fn settings(keys: Arc<dyn KeySource>) -> JwtSettings {
    JwtSettings {
        issuers: vec![ISSUER.into()],
        key_source: KeySourceConfig::Provided(keys),
        required_typ: Some("at+jwt".into()),
        ..Default::default()
    }
}

fn verifier_for(keys: &[&TestKey]) -> Arc<JwtVerifier> {
    let source = Arc::new(StaticKeys::from_jwks(&jwks(keys)).unwrap());
    JwtVerifier::new(
        &ctx_with("corp", Arc::new(Recorder::default())),
        settings(source),
    )
    .unwrap()
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    if value.is_null() {
        claims.as_object_mut().unwrap().remove(key);
    } else {
        claims[key] = value;
    }
    claims
}

#[tokio::test]
async fn accepts_every_default_algorithm() {
    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let key = signing_key(alg, &format!("{alg:?}-1"));
        let v = verifier_for(&[&key]);
        let info = v
            .verify(&sign(&key, &claims()))
            .await
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(info.subject.as_deref(), Some("alice"), "{alg:?}");
    }
}

#[tokio::test]
async fn builds_auth_info_from_claims() {
    let key = signing_key(Algorithm::ES256, "k1");
    let v = verifier_for(&[&key]);
    let mut c = claims();
    c["aud"] = json!(["other", RESOURCE]);
    c["scopes"] = json!(["extra"]);
    let info = v.verify(&sign(&key, &c)).await.unwrap();
    assert_eq!(info.issuer.as_deref(), Some(ISSUER));
    assert_eq!(info.client_id.as_deref(), Some("cli-1"));
    assert_eq!(info.audiences, ["other", RESOURCE]);
    assert_eq!(info.scopes, ["news:read", "profile", "extra"]);
    assert_eq!(info.expires_at, c["exp"].as_i64());
    assert_eq!(info.provider, "corp");
    assert_eq!(info.claim_str("jti"), c["jti"].as_str());

    // azp stands in for a missing client_id.
    let c = with(
        with(claims(), "client_id", Value::Null),
        "azp",
        json!("spa"),
    );
    let info = v.verify(&sign(&key, &c)).await.unwrap();
    assert_eq!(info.client_id.as_deref(), Some("spa"));
}

#[tokio::test]
async fn rejects_alg_none_in_any_casing() {
    let key = signing_key(Algorithm::ES256, "k1");
    let v = verifier_for(&[&key]);
    let body = b64(claims().to_string().as_bytes());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(json!({"alg": alg, "kid": "k1", "typ": "at+jwt"})
            .to_string()
            .as_bytes());
        let token = format!("{header}.{body}.AAAA");
        assert_eq!(
            v.verify(&token).await.unwrap_err(),
            AuthError::AlgorithmNotAllowed { alg: alg.into() }
        );
        // An empty signature part never verifies either.
        assert!(v.verify(&format!("{header}.{body}.")).await.is_err());
    }
}

#[tokio::test]
async fn rejects_hmac_signed_with_the_public_key() {
    let key = signing_key(Algorithm::RS256, "k1");
    let v = verifier_for(&[&key]);
    // The classic confusion attack: HMAC keyed with the public key material.
    for secret in [
        key.public_jwk()["n"].as_str().unwrap().as_bytes().to_vec(),
        key.public_jwk().to_string().into_bytes(),
    ] {
        let token = tokens::hs_signed(
            "HS256",
            &secret,
            json!({"kid": "k1", "typ": "at+jwt"}),
            claims(),
        );
        assert_eq!(
            v.verify(&token).await.unwrap_err(),
            AuthError::AlgorithmNotAllowed {
                alg: "HS256".into()
            }
        );
    }
}

#[tokio::test]
async fn rejects_algorithms_outside_the_allow_list() {
    let key = signing_key(Algorithm::ES384, "k1");
    let source = Arc::new(StaticKeys::from_jwks(&jwks(&[&key])).unwrap());
    let v = JwtVerifier::new(
        &ctx_with("corp", Arc::new(Recorder::default())),
        JwtSettings {
            algorithms: vec![Algorithm::ES256],
            ..settings(source)
        },
    )
    .unwrap();
    assert_eq!(
        v.verify(&sign(&key, &claims())).await.unwrap_err(),
        AuthError::AlgorithmNotAllowed {
            alg: "ES384".into()
        }
    );
}

#[tokio::test]
async fn header_rules() {
    let key = signing_key(Algorithm::ES256, "k1");
    let v = verifier_for(&[&key]);
    let c = claims();

    let mut crit = header(&key);
    crit["crit"] = json!(["exp"]);
    assert!(matches!(
        v.verify(&tokens::sign_with_header(&key, &crit, &c)).await,
        Err(AuthError::BadHeader { .. })
    ));

    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/AT+JWT",
    ] {
        let mut h = header(&key);
        h["typ"] = json!(typ);
        assert!(
            v.verify(&tokens::sign_with_header(&key, &h, &c))
                .await
                .is_ok(),
            "{typ}"
        );
    }
    let mut jwt = header(&key);
    jwt["typ"] = json!("JWT");
    assert_eq!(
        v.verify(&tokens::sign_with_header(&key, &jwt, &c))
            .await
            .unwrap_err(),
        AuthError::WrongTokenType {
            token_type: "JWT".into()
        }
    );
    let mut untyped = header(&key);
    untyped.as_object_mut().unwrap().remove("typ");
    assert!(matches!(
        v.verify(&tokens::sign_with_header(&key, &untyped, &c))
            .await,
        Err(AuthError::WrongTokenType { .. })
    ));

    let mut no_alg = header(&key);
    no_alg.as_object_mut().unwrap().remove("alg");
    assert!(matches!(
        v.verify(&tokens::sign_with_header(&key, &no_alg, &c)).await,
        Err(AuthError::BadHeader { .. })
    ));
}

#[tokio::test]
async fn claim_checks() {
    let key = signing_key(Algorithm::ES256, "k1");
    let v = verifier_for(&[&key]);
    let now = now_unix();
    let verify = |c: Value| {
        let v = v.clone();
        let token = sign(&key, &c);
        async move { v.verify(&token).await }
    };
    assert_eq!(
        verify(with(claims(), "iss", json!("https://evil.test")))
            .await
            .unwrap_err(),
        AuthError::WrongIssuer {
            issuer: "https://evil.test".into()
        }
    );
    assert_eq!(
        verify(with(claims(), "aud", json!("https://other.test/mcp")))
            .await
            .unwrap_err(),
        AuthError::WrongAudience {
            audiences: vec!["https://other.test/mcp".into()]
        }
    );
    assert!(matches!(
        verify(with(claims(), "aud", Value::Null)).await,
        Err(AuthError::WrongAudience { .. })
    ));
    // Canonical comparison of the resource URL.
    assert!(
        verify(with(claims(), "aud", json!("HTTP://127.0.0.1:8080/mcp/")))
            .await
            .is_ok()
    );
    assert_eq!(
        verify(with(claims(), "exp", json!(now - 120)))
            .await
            .unwrap_err(),
        AuthError::Expired { exp: now - 120 }
    );
    // Within the 60 s leeway.
    assert!(verify(with(claims(), "exp", json!(now - 10))).await.is_ok());
    assert_eq!(
        verify(with(claims(), "exp", Value::Null))
            .await
            .unwrap_err(),
        AuthError::Expired { exp: 0 }
    );
    assert!(matches!(
        verify(with(claims(), "exp", json!("tomorrow"))).await,
        Err(AuthError::Malformed { .. })
    ));
    assert_eq!(
        verify(with(claims(), "nbf", json!(now + 600)))
            .await
            .unwrap_err(),
        AuthError::NotYetValid { nbf: now + 600 }
    );
    assert!(matches!(
        verify(with(claims(), "iat", json!(now + 600))).await,
        Err(AuthError::NotYetValid { .. })
    ));
    assert!(verify(with(claims(), "nbf", json!(now + 30))).await.is_ok());
}

#[tokio::test]
async fn signature_and_key_errors() {
    let key = signing_key(Algorithm::ES256, "k1");
    let impostor = signing_key(Algorithm::ES256, "k1");
    let v = verifier_for(&[&key]);
    assert_eq!(
        v.verify(&sign(&impostor, &claims())).await.unwrap_err(),
        AuthError::BadSignature
    );
    let stranger = signing_key(Algorithm::ES256, "k9");
    assert_eq!(
        v.verify(&sign(&stranger, &claims())).await.unwrap_err(),
        AuthError::UnknownKey { kid: "k9".into() }
    );
    // Payload swapped under a valid signature.
    let good = sign(&key, &claims());
    let forged_claims = b64(with(claims(), "sub", json!("mallory"))
        .to_string()
        .as_bytes());
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
    assert_eq!(
        v.verify(&forged).await.unwrap_err(),
        AuthError::BadSignature
    );
    // Oversized and garbage tokens.
    let huge = format!("{}.{}.sig", header(&key), "A".repeat(9000));
    assert!(matches!(
        v.verify(&huge).await,
        Err(AuthError::Malformed { .. })
    ));
    assert!(matches!(
        v.verify("not-a-jwt").await,
        Err(AuthError::Malformed { .. })
    ));
}

#[tokio::test]
async fn kidless_token_uses_the_only_fitting_key() {
    let key = signing_key(Algorithm::ES256, "unused");
    let source = {
        let mut jwk = key.public_jwk().clone();
        jwk.as_object_mut().unwrap().remove("kid");
        Arc::new(StaticKeys::from_jwks(&json!({"keys": [jwk]})).unwrap())
    };
    let v = JwtVerifier::new(
        &ctx_with("corp", Arc::new(Recorder::default())),
        settings(source),
    )
    .unwrap();
    let mut h = header(&key);
    h.as_object_mut().unwrap().remove("kid");
    assert!(v
        .verify(&tokens::sign_with_header(&key, &h, claims()))
        .await
        .is_ok());
}

#[tokio::test]
async fn jku_x5u_and_embedded_jwk_are_never_fetched_or_trusted() {
    let trap = Trap::start().await;
    let key = signing_key(Algorithm::ES256, "k1");
    let attacker = signing_key(Algorithm::ES256, "evil");
    let v = verifier_for(&[&key]);
    let mut hostile = header(&attacker);
    hostile["jku"] = json!(trap.url_for("/jwks"));
    hostile["x5u"] = json!(trap.url_for("/cert.pem"));
    hostile["jwk"] = attacker.public_jwk().clone();
    assert_eq!(
        v.verify(&tokens::sign_with_header(&attacker, &hostile, claims()))
            .await
            .unwrap_err(),
        AuthError::UnknownKey { kid: "evil".into() }
    );
    // The attacker's key under a trusted kid: the trusted key decides.
    hostile["kid"] = json!("k1");
    assert_eq!(
        v.verify(&tokens::sign_with_header(&attacker, &hostile, claims()))
            .await
            .unwrap_err(),
        AuthError::BadSignature
    );
    // A legitimate token with a jku is accepted; the jku is ignored.
    let mut legit = header(&key);
    legit["jku"] = json!(trap.url_for("/jwks"));
    assert!(v
        .verify(&tokens::sign_with_header(&key, &legit, claims()))
        .await
        .is_ok());
    assert_eq!(trap.hits(), 0, "{:?}", trap.requests());
}

#[tokio::test]
async fn verified_cache_skips_the_signature_but_not_the_clock() {
    let key = signing_key(Algorithm::ES256, "k1");
    let counting = Arc::new(Counting {
        inner: StaticKeys::from_jwks(&jwks(&[&key])).unwrap(),
        lookups: AtomicUsize::new(0),
    });
    let recorder = Arc::new(Recorder::default());
    let v = JwtVerifier::new(
        &ctx_with("corp", recorder.clone()),
        JwtSettings {
            leeway: Some(Duration::ZERO),
            ..settings(counting.clone())
        },
    )
    .unwrap();
    let token = sign(&key, &claims());
    let first = v.verify(&token).await.unwrap();
    let second = v.verify(&token).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(counting.lookups.load(Ordering::SeqCst), 1);
    assert_eq!(recorder.count("cache corp verified miss"), 1);
    assert_eq!(recorder.count("cache corp verified hit"), 1);
    let stats = &v.status().caches[0];
    assert_eq!(
        (stats.name.as_str(), stats.hits, stats.misses),
        ("verified", 1, 1)
    );

    v.flush_caches();
    v.verify(&token).await.unwrap();
    assert_eq!(counting.lookups.load(Ordering::SeqCst), 2);

    // A cached token that expires is rejected on its next use.
    let short = sign(&key, &with(claims(), "exp", json!(now_unix() + 1)));
    v.verify(&short).await.unwrap();
    let exp = now_unix() + 1;
    assert!(eventually(5, async || now_unix() > exp).await);
    assert!(matches!(
        v.verify(&short).await,
        Err(AuthError::Expired { .. })
    ));
}

#[tokio::test]
async fn explain_reports_each_check_without_the_token() {
    let key = signing_key(Algorithm::ES256, "k1");
    let v = verifier_for(&[&key]);
    let token = sign(&key, &claims());
    let (checks, result) = v.explain(&token).await;
    assert!(result.is_ok());
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "format",
            "header",
            "typ",
            "key",
            "signature",
            "issuer",
            "audience",
            "expiry",
            "not_before"
        ]
    );
    assert!(checks.iter().all(|c| c.passed));

    let bad = sign(&key, &with(claims(), "aud", json!("https://other.test")));
    let (checks, result) = v.explain(&bad).await;
    assert!(matches!(result, Err(AuthError::WrongAudience { .. })));
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(failed, ["audience"]);
    assert_eq!(checks.len(), 9, "claim checks all run: {checks:?}");

    let sig = token.rsplit('.').next().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let (checks, _) = v
        .explain(&sign(&signing_key(Algorithm::ES256, "zz"), &claims()))
        .await;
    assert_eq!(checks.last().unwrap().name, "key");
    for c in checks.iter() {
        assert!(!c.detail.contains(sig) && !c.detail.contains(payload));
    }
    // explain does not fill the verified cache.
    assert_eq!(v.status().caches[0].misses, 0);
}

#[tokio::test]
async fn descriptor_and_status() {
    let key = signing_key(Algorithm::EdDSA, "ed");
    let v = verifier_for(&[&key]);
    let d = v.descriptor();
    assert_eq!(d.name, "corp");
    assert_eq!(d.kind, "jwt");
    assert_eq!(d.issuers, [ISSUER]);
    assert_eq!(d.authorization_servers, [ISSUER]);
    assert_eq!(d.audiences, [RESOURCE, "http://127.0.0.1:8080/sse"]);
    assert!(!d.accepts_opaque);
    let status = v.status();
    assert!(status.ready);
    assert_eq!(
        status.keys,
        [KeyInfo {
            kid: "ed".into(),
            alg: "EdDSA".into()
        }]
    );
}
