//! kind = "logto": discovery (issuer with an `/oidc` path), JWT access
//! tokens for API resources, startup with the IdP down — against the fake
//! IdP over loopback HTTP.

mod common;

use common::{http_status, logto_idp, profile, provider, provider_with, API, MCP};
use serde_json::json;
use warden_core::{AuthError, ProviderSet, Verifier};
use warden_jwt::Algorithm;
use warden_test_support::idp::{FakeIdp, Fault, IdpEndpoint, MetadataDocument};

#[tokio::test]
async fn discovery_finds_the_endpoints_under_the_oidc_path() {
    let idp = logto_idp().await;
    assert!(idp.issuer().ends_with("/oidc"));
    let (v, recorder) = provider(&idp);
    assert!(v.endpoints().is_none());
    v.refresh().await.unwrap();
    let e = v.endpoints().unwrap();
    assert_eq!(e.jwks_uri, idp.jwks_url());
    assert!(e.jwks_uri.ends_with("/oidc/jwks"));
    assert_eq!(e.userinfo.unwrap().as_str(), idp.userinfo_url());
    assert_eq!(e.introspection.unwrap().as_str(), idp.introspection_url());
    let status = v.status();
    assert!(status.ready, "{status:?}");
    assert_eq!(status.keys.len(), 1);
    assert_eq!(status.keys[0].alg, "ES384");
    let counts = idp.counts();
    assert_eq!((counts.discovery, counts.jwks), (1, 1));
    assert!(idp.unexpected_requests().is_empty());
    let discovery_path = idp
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(IdpEndpoint::Discovery))
        .unwrap()
        .path;
    assert_eq!(discovery_path, "/oidc/.well-known/openid-configuration");
    assert!(recorder.count("upstream:idp:logto:ok") >= 1);

    let d = v.descriptor();
    assert_eq!(d.kind, "logto");
    assert_eq!(d.issuers, [idp.issuer()]);
    assert!(d.accepts_opaque);
    assert_eq!(d.authorization_servers, [idp.issuer()]);
    assert_eq!(d.audiences, [API]);
}

#[tokio::test]
async fn es384_api_resource_tokens_are_verified_like_kind_jwt() {
    let idp = logto_idp().await;
    let (v, _) = provider(&idp);
    let mut claims = idp.claims(API, "user_1", "read:news write:news");
    claims["organization_id"] = json!("org_1");
    let token = idp.mint_with(Algorithm::ES384, json!({"typ": "at+jwt"}), &claims);

    // Lazily: no refresh() first; discovery and JWKS happen on first use.
    let set = ProviderSet::new(vec![v.clone()]);
    let info = set.verify(&token).await.unwrap();
    assert_eq!(info.subject.as_deref(), Some("user_1"));
    assert_eq!(info.issuer.as_deref(), Some(idp.issuer().as_str()));
    assert_eq!(info.audiences, [API]);
    assert_eq!(info.scopes, ["read:news", "write:news"]);
    assert_eq!(info.claim_str("organization_id"), Some("org_1"));
    assert_eq!(info.provider, "logto");
    assert_eq!(idp.counts().userinfo, 0, "JWTs never reach userinfo");

    let other_aud = idp.mint(idp.claims("https://other.example.com", "user_1", "read:news"));
    let err = v.verify(&other_aud).await.unwrap_err();
    assert!(matches!(err, AuthError::WrongAudience { .. }), "{err:?}");
    assert_eq!(http_status(&err), 401);

    let mcp_aud = idp.mint(idp.claims(MCP, "user_1", ""));
    assert!(matches!(
        v.verify(&mcp_aud).await.unwrap_err(),
        AuthError::WrongAudience { .. }
    ));
}

#[tokio::test]
async fn rs256_is_allowed_by_default_and_algorithms_are_an_allow_list() {
    let idp = FakeIdp::builder()
        .logto_style()
        .algs([Algorithm::ES384, Algorithm::RS256, Algorithm::ES256])
        .start()
        .await;
    let (v, _) = provider(&idp);
    let claims = idp.claims(API, "user_1", "");
    for alg in [Algorithm::ES384, Algorithm::RS256] {
        let token = idp.mint_with(alg, json!({}), &claims);
        assert!(v.verify(&token).await.is_ok(), "{alg:?}");
    }
    let es256 = idp.mint_with(Algorithm::ES256, json!({}), &claims);
    assert!(matches!(
        v.verify(&es256).await.unwrap_err(),
        AuthError::AlgorithmNotAllowed { .. }
    ));

    let (only_rs, _) = provider_with(&idp, json!({"algorithms": ["RS256"]}));
    let es384 = idp.mint_with(Algorithm::ES384, json!({}), &claims);
    assert!(matches!(
        only_rs.verify(&es384).await.unwrap_err(),
        AuthError::AlgorithmNotAllowed { .. }
    ));
}

#[tokio::test]
async fn default_audience_is_the_canonical_mcp_url() {
    let idp = logto_idp().await;
    let recorder = std::sync::Arc::new(common::Recorder::default());
    let v = warden_logto::LogtoFactory
        .build_verifier(&common::ctx(recorder), json!({"issuer": idp.issuer()}))
        .unwrap();
    // The MCP URL, then the legacy SSE endpoint of the same server.
    assert_eq!(
        v.descriptor().audiences,
        [MCP, "http://127.0.0.1:10000/sse"]
    );
    let token = idp.mint(idp.claims(MCP, "user_1", ""));
    assert!(v.verify(&token).await.is_ok());
}

#[tokio::test]
async fn discovery_down_at_startup_is_unavailable_until_the_idp_comes_up() {
    let idp = FakeIdp::builder().logto_style().start_stopped().await;
    let (v, _) = provider_with(&idp, json!({"jwks_cooldown": "0s"}));
    let err = v.refresh().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let status = v.status();
    assert!(!status.ready);
    assert_eq!(status.state, "discovery pending");
    assert!(status.last_error.is_some());

    let jwt = idp.mint(idp.claims(API, "user_1", ""));
    let opaque = idp.register_userinfo(profile("user_2"));
    for token in [&jwt, &opaque] {
        let err = v.verify(token).await.unwrap_err();
        assert!(err.is_unavailable(), "{err:?}");
        assert_eq!(http_status(&err), 503);
    }

    idp.restart().await;
    // No refresh(), no rebuild: the next requests discover lazily.
    assert_eq!(
        v.verify(&jwt).await.unwrap().subject.as_deref(),
        Some("user_1")
    );
    assert_eq!(
        v.verify(&opaque).await.unwrap().subject.as_deref(),
        Some("user_2")
    );
    assert!(v.status().ready);
}

#[tokio::test]
async fn after_a_failure_lazy_discovery_waits_for_the_cooldown_but_refresh_does_not() {
    let idp = FakeIdp::builder().logto_style().down().start().await;
    let (v, _) = provider(&idp); // default cooldown 30 s
    assert!(v.refresh().await.unwrap_err().is_unavailable());
    assert_eq!(idp.counts().discovery, 1);
    idp.set_all_down(false);
    let token = idp.mint(idp.claims(API, "user_1", ""));
    for _ in 0..5 {
        assert!(v.verify(&token).await.unwrap_err().is_unavailable());
    }
    assert_eq!(
        idp.counts().discovery,
        1,
        "no hammering within the cooldown"
    );
    v.refresh().await.unwrap();
    assert!(v.verify(&token).await.is_ok());
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_refused() {
    let idp = logto_idp().await;
    let mut doc = idp.discovery_document();
    doc["issuer"] = json!("https://evil.example/oidc");
    idp.set_fault(
        IdpEndpoint::Discovery,
        Some(Fault::Respond {
            status: 200,
            content_type: "application/json".into(),
            body: doc.to_string(),
        }),
    );
    let (v, _) = provider(&idp);
    let err = v.refresh().await.unwrap_err();
    assert!(err.is_unavailable());
    assert!(err.to_string().contains("does not match"), "{err}");
    assert_eq!(
        idp.counts().jwks,
        0,
        "keys are never fetched from an unverified document"
    );
}

#[tokio::test]
async fn discovery_falls_back_to_rfc8414_like_every_provider() {
    let idp = logto_idp().await;
    idp.set_metadata_documents(&[MetadataDocument::OAuthPathInserted]);
    // The document may name the issuer with a trailing slash.
    let mut doc = idp.discovery_document();
    doc["issuer"] = json!(format!("{}/", idp.issuer()));
    idp.set_discovery_document(Some(doc));
    let (v, _) = provider(&idp);
    v.refresh().await.unwrap();
    assert_eq!(v.endpoints().unwrap().jwks_uri, idp.jwks_url());
    let paths: Vec<String> = idp
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(IdpEndpoint::Discovery))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths,
        [
            "/oidc/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server/oidc"
        ]
    );
    let token = idp.mint(idp.claims(API, "user_1", ""));
    assert!(v.verify(&token).await.is_ok());
}

#[tokio::test]
async fn jwks_outage_after_discovery_keeps_known_keys() {
    let idp = logto_idp().await;
    let (v, _) = provider(&idp);
    v.refresh().await.unwrap();
    idp.set_down(IdpEndpoint::Jwks, true);
    idp.set_down(IdpEndpoint::Discovery, true);
    assert!(v.refresh().await.is_err());
    let token = idp.mint(idp.claims(API, "user_1", ""));
    assert!(v.verify(&token).await.is_ok(), "stale-if-error");
    assert!(v.status().last_error.is_some());
}

#[tokio::test]
async fn explain_reports_the_jwt_checks() {
    let idp = logto_idp().await;
    let (v, _) = provider(&idp);
    let token = idp.mint(idp.claims("https://other.example.com", "user_1", ""));
    let (checks, result) = v.explain(&token).await;
    assert!(result.is_err());
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.contains(&"signature") && names.contains(&"audience"),
        "{names:?}"
    );
    let audience = checks.iter().find(|c| c.name == "audience").unwrap();
    assert!(!audience.passed);
}
