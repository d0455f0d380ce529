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
use warden_test_support::idp::{FakeIdp, IdpEndpoint, MetadataDocument};
use warden_test_support::tokens::TestKey;

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
    let k1 = signing_key(Algorithm::ES256, "k1");
    let idp = start_idp(&[&k1]).await;
    let (v, recorder) = verifier(&idp.jwks_url(), quiet());
    let status = v.status();
    assert!(!status.ready);
    assert_eq!(status.state, "jwks not loaded");
    assert_eq!(idp.counts().jwks, 0, "building does no I/O");

    v.verify(&sign(&k1, &claims())).await.unwrap();
    assert_eq!(idp.counts().jwks, 1);
    v.verify(&sign(&k1, &claims())).await.unwrap();
    assert_eq!(idp.counts().jwks, 1, "keys are cached");

    let status = v.status();
    assert!(status.ready);
    assert_eq!(status.state, "ready");
    assert_eq!(status.keys.len(), 1);
    assert_eq!(status.keys[0].kid, "k1");
    assert!(status.last_refresh.is_some());
    assert!(status.last_error.is_none());
    assert_eq!(recorder.count("keys corp ok 1"), 1);
    assert_eq!(recorder.count("upstream idp:corp ok"), 1);
    idp.stop().await;
}

#[tokio::test]
async fn unknown_kid_refetches_once_for_fifty_concurrent_requests() {
    let k1 = signing_key(Algorithm::ES256, "k1");
    let k2 = signing_key(Algorithm::ES256, "k2");
    let idp = start_idp(&[&k1]).await;
    let (v, _) = verifier(&idp.jwks_url(), quiet());
    v.refresh().await.unwrap();
    assert_eq!(idp.counts().jwks, 1);

    idp.set_keys(vec![k1.clone(), k2.clone()]);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let v = v.clone();
            let token = sign(&k2, &claims());
            tokio::spawn(async move { v.verify(&token).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(idp.counts().jwks, 2, "exactly one refetch for the new kid");
    idp.stop().await;
}

#[tokio::test]
async fn unknown_kid_storm_costs_one_fetch_per_cooldown() {
    let k1 = signing_key(Algorithm::ES256, "k1");
    let idp = start_idp(&[&k1]).await;
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
                .map(|_| {
                    let v = v.clone();
                    // A fresh random kid every time.
                    let token = sign(&TestKey::es256(), &claims());
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
    assert_eq!(idp.counts().jwks, 2);
    storm(20).await;
    assert_eq!(
        idp.counts().jwks,
        2,
        "inside the cooldown no request is made"
    );
    tokio::time::sleep(cooldown + Duration::from_millis(100)).await;
    storm(20).await;
    assert_eq!(idp.counts().jwks, 3, "one refetch per cooldown window");
    // Known keys keep working throughout.
    v.verify(&sign(&k1, &claims())).await.unwrap();
    idp.stop().await;
}

#[tokio::test]
async fn background_refresh_honours_max_age() {
    let k1 = signing_key(Algorithm::ES256, "k1");
    let idp = start_idp(&[&k1]).await;
    idp.set_jwks_cache_control(Some("public, max-age=1"));
    let (v, _) = verifier(
        &idp.jwks_url(),
        JwksCacheSettings {
            min_refresh: Duration::from_millis(100),
            ..quiet()
        },
    );
    v.refresh().await.unwrap();
    assert!(
        eventually(10, async || idp.counts().jwks >= 3).await,
        "max-age=1 drives refreshes"
    );
    idp.stop().await;
}

#[tokio::test]
async fn max_age_is_clamped_to_max_refresh() {
    let k1 = signing_key(Algorithm::ES256, "k1");
    let idp = start_idp(&[&k1]).await;
    idp.set_jwks_cache_control(Some("max-age=86400"));
    let (v, _) = verifier(
        &idp.jwks_url(),
        JwksCacheSettings {
            min_refresh: Duration::from_millis(50),
            max_refresh: Duration::from_millis(200),
            ..quiet()
        },
    );
    v.refresh().await.unwrap();
    assert!(eventually(10, async || idp.counts().jwks >= 3).await);
    idp.stop().await;
}

#[tokio::test]
async fn key_rotation_without_restart() {
    let old = signing_key(Algorithm::RS256, "old");
    let new = signing_key(Algorithm::ES384, "new");
    let idp = start_idp(&[&old]).await;
    let (v, _) = verifier(
        &idp.jwks_url(),
        JwksCacheSettings {
            min_refresh: Duration::from_millis(100),
            max_refresh: Duration::from_millis(300),
            cooldown: Duration::from_millis(100),
        },
    );
    v.verify(&sign(&old, &claims())).await.unwrap();
    idp.set_keys(vec![new.clone()]);
    // The new key is picked up (by the unknown-kid refetch or the periodic refresh) …
    v.verify(&sign(&new, &claims())).await.unwrap();
    // … and the removed one stops verifying once a refresh has seen it gone.
    assert!(
        eventually(10, async || matches!(
            v.verify(&sign(&old, &claims())).await,
            Err(AuthError::UnknownKey { .. })
        ))
        .await
    );
    assert_eq!(v.status().keys[0].kid, "new");
    idp.stop().await;
}

#[tokio::test]
async fn stale_if_error_on_5xx_and_recovery() {
    let k1 = signing_key(Algorithm::ES256, "k1");
    let idp = start_idp(&[&k1]).await;
    let cooldown = Duration::from_millis(200);
    let (v, recorder) = verifier(
        &idp.jwks_url(),
        JwksCacheSettings {
            cooldown,
            ..quiet()
        },
    );
    v.refresh().await.unwrap();
    idp.set_status(IdpEndpoint::Jwks, Some(503));

    v.verify(&sign(&k1, &claims())).await.unwrap();
    let stranger = signing_key(Algorithm::ES256, "k2");
    let err = v.verify(&sign(&stranger, &claims())).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(recorder.count("upstream idp:corp http_5xx"), 1);
    assert_eq!(recorder.count("keys corp error 1"), 1);
    // Inside the cooldown: still unavailable, without a request.
    let hits = idp.counts().jwks;
    assert!(v
        .verify(&sign(&stranger, &claims()))
        .await
        .unwrap_err()
        .is_unavailable());
    assert_eq!(idp.counts().jwks, hits);
    let status = v.status();
    assert!(status.ready, "cached keys still serve");
    assert!(status.last_error.unwrap().contains("HTTP 503"));
    assert!(v.refresh().await.unwrap_err().is_unavailable());
    // Known keys still verify.
    v.verify(&sign(&k1, &claims())).await.unwrap();

    idp.set_status(IdpEndpoint::Jwks, None);
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    assert_eq!(
        v.verify(&sign(&stranger, &claims())).await.unwrap_err(),
        AuthError::UnknownKey { kid: "k2".into() }
    );
    assert!(v.status().last_error.is_none());
    idp.stop().await;
}

#[tokio::test]
async fn stale_if_error_on_timeout() {
    let k1 = signing_key(Algorithm::ES256, "k1");
    let idp = start_idp(&[&k1]).await;
    let (v, recorder) = verifier(&idp.jwks_url(), quiet());
    v.refresh().await.unwrap();
    idp.set_delay(IdpEndpoint::Jwks, Duration::from_secs(3));
    let err = v
        .verify(&sign(&signing_key(Algorithm::ES256, "k2"), &claims()))
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(recorder.count("upstream idp:corp timeout"), 1);
    v.verify(&sign(&k1, &claims())).await.unwrap();
    idp.stop().await;
}

#[tokio::test]
async fn stale_if_error_when_the_idp_is_gone() {
    let k1 = signing_key(Algorithm::ES256, "k1");
    let idp = start_idp(&[&k1]).await;
    let (v, _) = verifier(&idp.jwks_url(), quiet());
    v.refresh().await.unwrap();
    idp.stop().await;
    assert!(
        v.refresh().await.unwrap_err().is_unavailable(),
        "connection refused"
    );
    v.verify(&sign(&k1, &claims())).await.unwrap();
    let err = v
        .verify(&sign(&signing_key(Algorithm::ES256, "k2"), &claims()))
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
    let k1 = signing_key(Algorithm::ES256, "k1");
    let (v, recorder) = verifier(&url, quiet());
    for _ in 0..3 {
        let err = v.verify(&sign(&k1, &claims())).await.unwrap_err();
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
    let idp = start_idp(&[&k1]).await;
    idp.set_status(IdpEndpoint::Jwks, Some(500));
    let (v, _) = verifier(&idp.jwks_url(), quiet());
    assert!(v
        .verify(&sign(&k1, &claims()))
        .await
        .unwrap_err()
        .is_unavailable());
    idp.set_status(IdpEndpoint::Jwks, None);
    v.refresh().await.unwrap();
    v.verify(&sign(&k1, &claims())).await.unwrap();
    idp.stop().await;
}

#[tokio::test]
async fn discovers_jwks_uri_via_openid_configuration() {
    let k1 = signing_key(Algorithm::PS256, "k1");
    let idp = start_idp(&[&k1]).await;
    idp.set_metadata_documents(&[MetadataDocument::OpenIdConfiguration]);
    idp.set_discovery_document(Some(
        json!({"issuer": idp.issuer(), "jwks_uri": idp.jwks_url()}),
    ));
    let recorder = Arc::new(Recorder::default());
    let v = JwtVerifier::new(
        &ctx_with("corp", recorder),
        JwtSettings {
            issuers: vec![idp.issuer()],
            ..settings(KeySourceConfig::Discover, quiet())
        },
    )
    .unwrap();
    let mut c = claims();
    c["iss"] = json!(idp.issuer());
    v.verify(&sign(&k1, &c)).await.unwrap();
    assert_eq!(requests_to(&idp, "openid-configuration"), 1);
    assert_eq!(idp.counts().jwks, 1);
    // The discovered URL is remembered.
    v.refresh().await.unwrap();
    assert_eq!(requests_to(&idp, "openid-configuration"), 1);
    idp.stop().await;
}

#[tokio::test]
async fn discovery_falls_back_to_rfc8414_with_the_issuer_path() {
    let k1 = signing_key(Algorithm::ES256, "k1");
    let idp = FakeIdp::builder()
        .keys([k1.clone()])
        .issuer_path("/tenant")
        .jwks_path("/jwks")
        .start()
        .await;
    let issuer = idp.issuer();
    assert!(issuer.ends_with("/tenant"));
    idp.set_metadata_documents(&[MetadataDocument::OAuthPathInserted]);
    idp.set_discovery_document(Some(json!({"issuer": issuer, "jwks_uri": "/jwks"})));
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
    v.verify(&sign(&k1, &c)).await.unwrap();
    assert_eq!(requests_to(&idp, "openid-configuration"), 1);
    assert_eq!(requests_to(&idp, "oauth-authorization-server"), 1);

    // A document for another issuer is refused.
    let idp2 = start_idp(&[&k1]).await;
    idp2.set_metadata_documents(&[MetadataDocument::OpenIdConfiguration]);
    idp2.set_discovery_document(Some(
        json!({"issuer": "https://elsewhere.test", "jwks_uri": idp2.jwks_url()}),
    ));
    let v2 = JwtVerifier::new(
        &ctx_with("corp", Arc::new(Recorder::default())),
        JwtSettings {
            issuers: vec![idp2.issuer()],
            ..settings(KeySourceConfig::Discover, quiet())
        },
    )
    .unwrap();
    let err = v2.refresh().await.unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    assert_eq!(idp2.counts().jwks, 0);
    idp.stop().await;
    idp2.stop().await;
}

#[tokio::test]
async fn factory_builds_a_working_provider_from_a_table() {
    let k1 = signing_key(Algorithm::EdDSA, "k1");
    let idp = start_idp(&[&k1]).await;
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
    let token = sign(&k1, &claims());
    let info = v.verify(&token).await.unwrap();
    assert_eq!(info.provider, "corp");
    v.verify(&token).await.unwrap();
    assert_eq!(recorder.count("cache corp verified hit"), 1);
    assert_eq!(v.status().caches[0].hits, 1);
    idp.stop().await;
}

#[tokio::test]
async fn removing_a_key_revokes_cached_verdicts() {
    let old = signing_key(Algorithm::ES256, "old");
    let new = signing_key(Algorithm::ES256, "new");
    let idp = start_idp(&[&old]).await;
    let recorder = Arc::new(Recorder::default());
    let v = JwtVerifier::new(
        &ctx_with("corp", recorder.clone()),
        JwtSettings {
            verified_cache: VerifiedCacheSettings::default(),
            ..settings(KeySourceConfig::JwksUrl(idp.jwks_url()), quiet())
        },
    )
    .unwrap();
    let token = sign(&old, &claims());
    v.verify(&token).await.unwrap();
    v.verify(&token).await.unwrap();
    assert_eq!(recorder.count("cache corp verified hit"), 1);

    idp.set_keys(vec![new.clone()]);
    v.refresh().await.unwrap();
    assert_eq!(
        v.verify(&token).await.unwrap_err(),
        AuthError::UnknownKey { kid: "old".into() }
    );
    assert_eq!(recorder.count("cache corp verified hit"), 1);
    idp.stop().await;
}
