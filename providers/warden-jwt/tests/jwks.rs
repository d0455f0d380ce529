//! JwksCache against a real HTTP server on loopback: lazy first fetch,
//! single-flight refetch, cooldown, max-age refresh, rotation,
//! stale-if-error, discovery, and the `kind = "jwt"` factory end to end.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;
use warden_core::{AuthError, ProviderFactory, Verifier};
use warden_jwt::{
    JwksCacheSettings, JwtProviderFactory, JwtSettings, JwtVerifier, KeySourceConfig,
    VerifiedCacheSettings,
};

fn settings(source: KeySourceConfig, jwks: JwksCacheSettings) -> JwtSettings {
    JwtSettings {
        issuers: vec![ISSUER.into()],
        key_source: source,
        jwks,
        timeout: Duration::from_millis(500),
        // Every verification goes to the key source in these tests.
        verified_cache: VerifiedCacheSettings {
            ttl: Duration::ZERO,
            max_entries: 0,
        },
        ..Default::default()
    }
}

fn quiet() -> JwksCacheSettings {
    JwksCacheSettings {
        cooldown: Duration::from_secs(30),
        min_refresh: Duration::from_secs(60),
        max_refresh: Duration::from_secs(3600),
    }
}

fn verifier(url: &str, jwks: JwksCacheSettings) -> (Arc<JwtVerifier>, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let v = JwtVerifier::new(
        &ctx_with("corp", recorder.clone()),
        settings(KeySourceConfig::JwksUrl(url.into()), jwks),
    )
    .unwrap();
    (v, recorder)
}

#[tokio::test]
async fn first_use_fetches_lazily_and_reports_status() {
    let k1 = SigningKey::generate(Algorithm::ES256, "k1");
    let (idp, server) = start_idp(&[&k1]).await;
    let (v, recorder) = verifier(&idp.jwks_url(), quiet());
    let status = v.status();
    assert!(!status.ready);
    assert_eq!(status.state, "jwks not loaded");
    assert_eq!(idp.hits(), 0, "building does no I/O");

    v.verify(&k1.sign(&claims())).await.unwrap();
    assert_eq!(idp.hits(), 1);
    v.verify(&k1.sign(&claims())).await.unwrap();
    assert_eq!(idp.hits(), 1, "keys are cached");

    let status = v.status();
    assert!(status.ready);
    assert_eq!(status.state, "ready");
    assert_eq!(status.keys.len(), 1);
    assert_eq!(status.keys[0].kid, "k1");
    assert!(status.last_refresh.is_some());
    assert!(status.last_error.is_none());
    assert_eq!(recorder.count("keys corp ok 1"), 1);
    assert_eq!(recorder.count("upstream idp:corp ok"), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_kid_refetches_once_for_fifty_concurrent_requests() {
    let k1 = SigningKey::generate(Algorithm::ES256, "k1");
    let k2 = SigningKey::generate(Algorithm::ES256, "k2");
    let (idp, server) = start_idp(&[&k1]).await;
    let (v, _) = verifier(&idp.jwks_url(), quiet());
    v.refresh().await.unwrap();
    assert_eq!(idp.hits(), 1);

    idp.set_keys(&[&k1, &k2]);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let v = v.clone();
            let token = k2.sign(&claims());
            tokio::spawn(async move { v.verify(&token).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(idp.hits(), 2, "exactly one refetch for the new kid");
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_kid_storm_costs_one_fetch_per_cooldown() {
    let k1 = SigningKey::generate(Algorithm::ES256, "k1");
    let (idp, server) = start_idp(&[&k1]).await;
    let cooldown = Duration::from_millis(1500);
    let (v, _) = verifier(
        &idp.jwks_url(),
        JwksCacheSettings {
            cooldown,
            ..quiet()
        },
    );
    v.refresh().await.unwrap();
    let storm = |n: usize| {
        let v = v.clone();
        async move {
            let tasks: Vec<_> = (0..n)
                .map(|i| {
                    let v = v.clone();
                    let token =
                        SigningKey::generate(Algorithm::ES256, &format!("random-{i}-{}", uuid()))
                            .sign(&claims());
                    tokio::spawn(async move { v.verify(&token).await })
                })
                .collect();
            for t in tasks {
                assert!(matches!(
                    t.await.unwrap(),
                    Err(AuthError::UnknownKey { .. })
                ));
            }
        }
    };
    storm(20).await;
    assert_eq!(idp.hits(), 2);
    storm(20).await;
    assert_eq!(idp.hits(), 2, "inside the cooldown no request is made");
    tokio::time::sleep(cooldown + Duration::from_millis(100)).await;
    storm(20).await;
    assert_eq!(idp.hits(), 3, "one refetch per cooldown window");
    // Known keys keep working throughout.
    v.verify(&k1.sign(&claims())).await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn background_refresh_honours_max_age() {
    let k1 = SigningKey::generate(Algorithm::ES256, "k1");
    let (idp, server) = start_idp(&[&k1]).await;
    *idp.cache_control.lock().unwrap() = Some("public, max-age=1".into());
    let (v, _) = verifier(
        &idp.jwks_url(),
        JwksCacheSettings {
            min_refresh: Duration::from_millis(100),
            ..quiet()
        },
    );
    v.refresh().await.unwrap();
    assert!(
        eventually(10, async || idp.hits() >= 3).await,
        "max-age=1 drives refreshes"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn max_age_is_clamped_to_max_refresh() {
    let k1 = SigningKey::generate(Algorithm::ES256, "k1");
    let (idp, server) = start_idp(&[&k1]).await;
    *idp.cache_control.lock().unwrap() = Some("max-age=86400".into());
    let (v, _) = verifier(
        &idp.jwks_url(),
        JwksCacheSettings {
            min_refresh: Duration::from_millis(50),
            max_refresh: Duration::from_millis(200),
            ..quiet()
        },
    );
    v.refresh().await.unwrap();
    assert!(eventually(10, async || idp.hits() >= 3).await);
    server.shutdown().await;
}

#[tokio::test]
async fn key_rotation_without_restart() {
    let old = SigningKey::generate(Algorithm::RS256, "old");
    let new = SigningKey::generate(Algorithm::ES384, "new");
    let (idp, server) = start_idp(&[&old]).await;
    let (v, _) = verifier(
        &idp.jwks_url(),
        JwksCacheSettings {
            min_refresh: Duration::from_millis(100),
            max_refresh: Duration::from_millis(300),
            cooldown: Duration::from_millis(100),
        },
    );
    v.verify(&old.sign(&claims())).await.unwrap();
    idp.set_keys(&[&new]);
    // The new key is picked up (by the unknown-kid refetch or the periodic refresh) …
    v.verify(&new.sign(&claims())).await.unwrap();
    // … and the removed one stops verifying once a refresh has seen it gone.
    assert!(
        eventually(10, async || matches!(
            v.verify(&old.sign(&claims())).await,
            Err(AuthError::UnknownKey { .. })
        ))
        .await
    );
    assert_eq!(v.status().keys[0].kid, "new");
    server.shutdown().await;
}

#[tokio::test]
async fn stale_if_error_on_5xx_and_recovery() {
    let k1 = SigningKey::generate(Algorithm::ES256, "k1");
    let (idp, server) = start_idp(&[&k1]).await;
    let cooldown = Duration::from_millis(200);
    let (v, recorder) = verifier(
        &idp.jwks_url(),
        JwksCacheSettings {
            cooldown,
            ..quiet()
        },
    );
    v.refresh().await.unwrap();
    idp.set_mode(Mode::Status(503));

    v.verify(&k1.sign(&claims())).await.unwrap();
    let stranger = SigningKey::generate(Algorithm::ES256, "k2");
    let err = v.verify(&stranger.sign(&claims())).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(recorder.count("upstream idp:corp http_5xx"), 1);
    assert_eq!(recorder.count("keys corp error 1"), 1);
    // Inside the cooldown: still unavailable, without a request.
    let hits = idp.hits();
    assert!(v
        .verify(&stranger.sign(&claims()))
        .await
        .unwrap_err()
        .is_unavailable());
    assert_eq!(idp.hits(), hits);
    let status = v.status();
    assert!(status.ready, "cached keys still serve");
    assert!(status.last_error.unwrap().contains("HTTP 503"));
    assert!(v.refresh().await.unwrap_err().is_unavailable());
    // Known keys still verify.
    v.verify(&k1.sign(&claims())).await.unwrap();

    idp.set_mode(Mode::Serve);
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    assert_eq!(
        v.verify(&stranger.sign(&claims())).await.unwrap_err(),
        AuthError::UnknownKey { kid: "k2".into() }
    );
    assert!(v.status().last_error.is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn stale_if_error_on_timeout() {
    let k1 = SigningKey::generate(Algorithm::ES256, "k1");
    let (idp, server) = start_idp(&[&k1]).await;
    let (v, recorder) = verifier(&idp.jwks_url(), quiet());
    v.refresh().await.unwrap();
    idp.set_mode(Mode::Hang(Duration::from_secs(3)));
    let err = v
        .verify(&SigningKey::generate(Algorithm::ES256, "k2").sign(&claims()))
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(recorder.count("upstream idp:corp timeout"), 1);
    v.verify(&k1.sign(&claims())).await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn stale_if_error_when_the_idp_is_gone() {
    let k1 = SigningKey::generate(Algorithm::ES256, "k1");
    let (idp, server) = start_idp(&[&k1]).await;
    let (v, _) = verifier(&idp.jwks_url(), quiet());
    v.refresh().await.unwrap();
    server.shutdown().await;
    assert!(
        v.refresh().await.unwrap_err().is_unavailable(),
        "connection refused"
    );
    v.verify(&k1.sign(&claims())).await.unwrap();
    let err = v
        .verify(&SigningKey::generate(Algorithm::ES256, "k2").sign(&claims()))
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn not_ready_until_the_first_successful_fetch() {
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", closed.local_addr().unwrap());
    drop(closed);
    let k1 = SigningKey::generate(Algorithm::ES256, "k1");
    let (v, recorder) = verifier(&url, quiet());
    for _ in 0..3 {
        let err = v.verify(&k1.sign(&claims())).await.unwrap_err();
        assert!(err.is_unavailable(), "{err:?}");
    }
    assert_eq!(
        recorder.count("upstream idp:corp"),
        1,
        "after a failed first load, retries wait for the cooldown"
    );
    assert!(v.refresh().await.unwrap_err().is_unavailable());
    let status = v.status();
    assert!(!status.ready);
    assert!(status.last_error.unwrap().contains("connection failed"));

    // An endpoint that answers 500 is no better.
    let (idp, server) = start_idp(&[&k1]).await;
    idp.set_mode(Mode::Status(500));
    let (v, _) = verifier(&idp.jwks_url(), quiet());
    assert!(v
        .verify(&k1.sign(&claims()))
        .await
        .unwrap_err()
        .is_unavailable());
    idp.set_mode(Mode::Serve);
    v.refresh().await.unwrap();
    v.verify(&k1.sign(&claims())).await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn discovers_jwks_uri_via_openid_configuration() {
    let k1 = SigningKey::generate(Algorithm::PS256, "k1");
    let (idp, server) = start_idp(&[&k1]).await;
    idp.add_document(
        "/.well-known/openid-configuration",
        json!({"issuer": idp.base, "jwks_uri": idp.jwks_url()}),
    );
    let recorder = Arc::new(Recorder::default());
    let v = JwtVerifier::new(
        &ctx_with("corp", recorder),
        JwtSettings {
            issuers: vec![idp.base.clone()],
            ..settings(KeySourceConfig::Discover, quiet())
        },
    )
    .unwrap();
    let mut c = claims();
    c["iss"] = json!(idp.base);
    v.verify(&k1.sign(&c)).await.unwrap();
    assert_eq!(idp.oidc_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(idp.hits(), 1);
    // The discovered URL is remembered.
    v.refresh().await.unwrap();
    assert_eq!(idp.oidc_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn discovery_falls_back_to_rfc8414_with_the_issuer_path() {
    let k1 = SigningKey::generate(Algorithm::ES256, "k1");
    let (idp, server) = start_idp(&[&k1]).await;
    let issuer = format!("{}/tenant", idp.base);
    idp.add_document(
        "/.well-known/oauth-authorization-server/tenant",
        json!({"issuer": issuer, "jwks_uri": "/jwks"}),
    );
    let v = JwtVerifier::new(
        &ctx_with("corp", Arc::new(Recorder::default())),
        JwtSettings {
            issuers: vec![issuer.clone()],
            ..settings(KeySourceConfig::Discover, quiet())
        },
    )
    .unwrap();
    let mut c = claims();
    c["iss"] = json!(issuer);
    v.verify(&k1.sign(&c)).await.unwrap();
    assert_eq!(idp.oidc_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        idp.rfc8414_hits.load(std::sync::atomic::Ordering::SeqCst),
        1
    );

    // A document for another issuer is refused.
    let (idp2, server2) = start_idp(&[&k1]).await;
    idp2.add_document(
        "/.well-known/openid-configuration",
        json!({"issuer": "https://elsewhere.test", "jwks_uri": idp2.jwks_url()}),
    );
    let v2 = JwtVerifier::new(
        &ctx_with("corp", Arc::new(Recorder::default())),
        JwtSettings {
            issuers: vec![idp2.base.clone()],
            ..settings(KeySourceConfig::Discover, quiet())
        },
    )
    .unwrap();
    let err = v2.refresh().await.unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    assert_eq!(idp2.hits(), 0);
    server.shutdown().await;
    server2.shutdown().await;
}

#[tokio::test]
async fn factory_builds_a_working_provider_from_a_table() {
    let k1 = SigningKey::generate(Algorithm::EdDSA, "k1");
    let (idp, server) = start_idp(&[&k1]).await;
    let recorder = Arc::new(Recorder::default());
    let v = JwtProviderFactory
        .build(
            &ctx_with("corp", recorder.clone()),
            json!({
                "issuer": ISSUER,
                "jwks_url": idp.jwks_url(),
                "audience": ["api://mcp", RESOURCE],
                "algorithms": ["EdDSA"],
                "require_typ": "at+jwt",
                "timeout": "1s",
            }),
        )
        .unwrap();
    assert_eq!(v.descriptor().kind, "jwt");
    v.refresh().await.unwrap();
    let token = k1.sign(&claims());
    let info = v.verify(&token).await.unwrap();
    assert_eq!(info.provider, "corp");
    v.verify(&token).await.unwrap();
    assert_eq!(recorder.count("cache corp verified hit"), 1);
    assert_eq!(v.status().caches[0].hits, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn removing_a_key_revokes_cached_verdicts() {
    let old = SigningKey::generate(Algorithm::ES256, "old");
    let new = SigningKey::generate(Algorithm::ES256, "new");
    let (idp, server) = start_idp(&[&old]).await;
    let recorder = Arc::new(Recorder::default());
    let v = JwtVerifier::new(
        &ctx_with("corp", recorder.clone()),
        JwtSettings {
            verified_cache: VerifiedCacheSettings::default(),
            ..settings(KeySourceConfig::JwksUrl(idp.jwks_url()), quiet())
        },
    )
    .unwrap();
    let token = old.sign(&claims());
    v.verify(&token).await.unwrap();
    v.verify(&token).await.unwrap();
    assert_eq!(recorder.count("cache corp verified hit"), 1);

    idp.set_keys(&[&new]);
    v.refresh().await.unwrap();
    assert_eq!(
        v.verify(&token).await.unwrap_err(),
        AuthError::UnknownKey { kid: "old".into() }
    );
    assert_eq!(recorder.count("cache corp verified hit"), 1);
    server.shutdown().await;
}
