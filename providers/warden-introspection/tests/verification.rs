//! Verdicts, client authentication, discovery and explain, against a real
//! loopback introspection server.

mod common;

use std::sync::Arc;

use common::*;
use serde_json::{json, Value};
use warden_core::{AuthError, ProviderFactory};
use warden_introspection::{IntrospectionConfig, IntrospectionFactory};
use warden_test_support::idp::{ClientAuth, MetadataDocument};

fn with(mut answer: Value, key: &str, value: Value) -> Value {
    if value.is_null() {
        answer.as_object_mut().unwrap().remove(key);
    } else {
        answer[key] = value;
    }
    answer
}

#[tokio::test]
async fn active_token_with_scope_string_and_aud_string_is_accepted() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-good", good_answer());
    let v = build(&fake, json!({}));
    let info = v.verify("tok-good").await.unwrap();
    assert_eq!(info.subject.as_deref(), Some("alice"));
    assert_eq!(info.client_id.as_deref(), Some("mcp-client"));
    assert_eq!(info.scopes, ["news:read", "profile"]);
    assert_eq!(info.audiences, [RESOURCE]);
    assert_eq!(info.provider, "corp");
    assert_eq!(info.claim_str("username"), Some("alice@example.com"));
    assert!(!info.claims.contains_key("active"));
    assert!(info.expires_at.is_some());
    let seen = last_seen(&fake);
    assert_eq!(seen.token.as_deref(), Some("tok-good"));
    assert_eq!(seen.token_type_hint.as_deref(), Some("access_token"));
}

#[tokio::test]
async fn scope_array_and_aud_list_are_accepted() {
    let fake = start_idp().await;
    let answer = with(good_answer(), "scope", json!(["news:read", "mcp:*"]));
    let answer = with(
        answer,
        "aud",
        json!(["https://api.other.example", RESOURCE]),
    );
    fake.register_opaque_token("tok-array", answer);
    let info = build(&fake, json!({})).verify("tok-array").await.unwrap();
    assert_eq!(info.scopes, ["news:read", "mcp:*"]);
    assert_eq!(info.audiences.len(), 2);
}

#[tokio::test]
async fn configured_audience_replaces_the_default() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-api", with(good_answer(), "aud", json!("api://news")));
    let strict = build(&fake, json!({}));
    assert!(matches!(
        strict.verify("tok-api").await,
        Err(AuthError::WrongAudience { .. })
    ));
    let custom = build(&fake, json!({"audience": ["api://news", "api://other"]}));
    assert!(custom.verify("tok-api").await.is_ok());
    assert_eq!(custom.descriptor().audiences, ["api://news", "api://other"]);
}

#[tokio::test]
async fn inactive_token_is_rejected() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-revoked", json!({"active": false}));
    let v = build(&fake, json!({}));
    assert_eq!(
        v.verify("tok-revoked").await.unwrap_err(),
        AuthError::Inactive
    );
    // Unknown tokens get `active: false` too.
    assert_eq!(
        v.verify("tok-unknown").await.unwrap_err(),
        AuthError::Inactive
    );
}

#[tokio::test]
async fn refresh_token_is_rejected_even_when_active() {
    let fake = start_idp().await;
    fake.register_opaque_token(
        "tok-refresh",
        with(good_answer(), "token_type", json!("refresh_token")),
    );
    fake.register_opaque_token("tok-na", with(good_answer(), "token_type", json!("N_A")));
    fake.register_opaque_token(
        "tok-untyped",
        with(good_answer(), "token_type", Value::Null),
    );
    let v = build(&fake, json!({}));
    let err = v.verify("tok-refresh").await.unwrap_err();
    assert_eq!(
        err,
        AuthError::WrongTokenType {
            token_type: "refresh_token".into()
        }
    );
    no_leak(&err, "tok-refresh");
    assert!(v.verify("tok-na").await.is_ok());
    assert!(v.verify("tok-untyped").await.is_ok());
}

#[tokio::test]
async fn active_token_for_another_resource_is_rejected() {
    let fake = start_idp().await;
    fake.register_opaque_token(
        "tok-elsewhere",
        with(good_answer(), "aud", json!("https://other.example/mcp")),
    );
    let err = build(&fake, json!({}))
        .verify("tok-elsewhere")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AuthError::WrongAudience {
            audiences: vec!["https://other.example/mcp".into()]
        }
    );
}

#[tokio::test]
async fn missing_audience_is_rejected_unless_allowed() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-noaud", with(good_answer(), "aud", Value::Null));
    let err = build(&fake, json!({}))
        .verify("tok-noaud")
        .await
        .unwrap_err();
    assert_eq!(err, AuthError::WrongAudience { audiences: vec![] });
    let lenient = build(&fake, json!({"allow_missing_audience": true}));
    assert!(lenient.verify("tok-noaud").await.is_ok());
}

#[tokio::test]
async fn wrong_issuer_is_rejected_when_an_issuer_is_configured() {
    let fake = start_idp().await;
    let issuer = fake.issuer();
    fake.register_opaque_token("tok-ours", with(good_answer(), "iss", json!(issuer)));
    fake.register_opaque_token(
        "tok-theirs",
        with(good_answer(), "iss", json!("https://evil.example")),
    );
    fake.register_opaque_token("tok-noiss", good_answer());
    let v = build(&fake, json!({"issuer": issuer}));
    assert_eq!(
        v.verify("tok-ours").await.unwrap().issuer.as_deref(),
        Some(issuer.as_str())
    );
    assert_eq!(
        v.verify("tok-theirs").await.unwrap_err(),
        AuthError::WrongIssuer {
            issuer: "https://evil.example".into()
        }
    );
    // An answer without `iss` is the server's own word.
    assert!(v.verify("tok-noiss").await.is_ok());
    // Without a configured issuer any `iss` passes.
    assert!(build(&fake, json!({})).verify("tok-theirs").await.is_ok());
}

#[tokio::test]
async fn expired_token_is_rejected() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-old", with(good_answer(), "exp", json!(now() - 10)));
    fake.register_opaque_token("tok-future", with(good_answer(), "nbf", json!(now() + 600)));
    let v = build(&fake, json!({}));
    assert!(matches!(
        v.verify("tok-old").await,
        Err(AuthError::Expired { .. })
    ));
    assert!(matches!(
        v.verify("tok-future").await,
        Err(AuthError::NotYetValid { .. })
    ));
}

#[tokio::test]
async fn basic_auth_form_encodes_special_characters() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-basic", good_answer());
    let v = build(&fake, json!({"auth_method": "basic"}));
    v.verify("tok-basic").await.unwrap();
    let seen = last_seen(&fake);
    assert_eq!(seen.auth, ClientAuth::Basic);
    assert_eq!(seen.client_id.as_deref(), Some(CLIENT_ID));
    assert_eq!(seen.client_secret.as_deref(), Some(CLIENT_SECRET));
}

#[tokio::test]
async fn post_auth_sends_credentials_in_the_body() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-post", good_answer());
    let v = build(&fake, json!({"auth_method": "post"}));
    v.verify("tok-post").await.unwrap();
    let seen = last_seen(&fake);
    assert_eq!(seen.auth, ClientAuth::Post);
    assert_eq!(seen.client_id.as_deref(), Some(CLIENT_ID));
    assert_eq!(seen.client_secret.as_deref(), Some(CLIENT_SECRET));
    assert_eq!(seen.token.as_deref(), Some("tok-post"));
}

#[tokio::test]
async fn rejected_client_credentials_are_unavailable_not_401() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-cred", good_answer());
    let v = build(&fake, json!({"client_secret": "wrong-secret"}));
    let (reason, retry_after) = expect_unavailable(v.verify("tok-cred").await, "tok-cred");
    assert!(
        reason.contains("rejected warden's client credentials"),
        "{reason}"
    );
    assert!(!reason.contains("wrong-secret"));
    assert_eq!(retry_after.as_secs(), 5);
    let status = v.status();
    let last = status.last_error.unwrap();
    assert!(last.contains("client credentials") && !last.contains("wrong-secret"));
}

#[tokio::test]
async fn discovery_finds_the_endpoint_via_openid_configuration() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-disc", good_answer());
    let v = build(
        &fake,
        json!({"introspection_url": null, "issuer": fake.issuer()}),
    );
    assert!(!v.status().ready, "no network I/O at build time");
    assert_eq!(fake.counts().discovery, 0);
    v.refresh().await.unwrap();
    let status = v.status();
    assert!(status.ready);
    assert!(status.last_refresh.is_some());
    assert!(v.verify("tok-disc").await.is_ok());
    assert_eq!(fake.counts().introspection, 1);
    assert_eq!(v.descriptor().authorization_servers, [fake.issuer()]);
}

#[tokio::test]
async fn discovery_falls_back_to_rfc8414_and_runs_lazily() {
    let fake = start_idp().await;
    fake.set_metadata_documents(&[MetadataDocument::OAuthPathInserted]);
    fake.register_opaque_token("tok-lazy", good_answer());
    let v = build(
        &fake,
        json!({"introspection_url": null, "issuer": fake.issuer()}),
    );
    // No refresh(): the first verification discovers.
    assert!(v.verify("tok-lazy").await.is_ok());
    assert!(v.status().ready);
    assert_eq!(fake.counts().discovery, 2, "OIDC (404) then RFC 8414");
}

#[tokio::test]
async fn failed_discovery_is_unavailable_until_it_succeeds() {
    let fake = start_idp().await;
    fake.set_metadata_documents(&[]);
    fake.register_opaque_token("tok-wait", good_answer());
    let v = build(
        &fake,
        json!({"introspection_url": null, "issuer": fake.issuer()}),
    );
    assert!(v.refresh().await.is_err());
    let (reason, _) = expect_unavailable(v.verify("tok-wait").await, "tok-wait");
    assert!(reason.contains("not discovered"), "{reason}");
    assert!(!v.status().ready);
    assert!(v.status().last_error.is_some());
    assert_eq!(fake.counts().introspection, 0);

    fake.set_metadata_documents(&[MetadataDocument::OpenIdConfiguration]);
    assert!(v.verify("tok-wait").await.is_ok());
    assert!(v.status().ready);
    assert!(v.status().last_error.is_none());
}

#[tokio::test]
async fn explain_reports_each_check_without_the_token() {
    let fake = start_idp().await;
    fake.register_opaque_token(
        "tok-explain-secret",
        with(good_answer(), "aud", json!("https://other.example")),
    );
    let v = build(&fake, json!({}));
    let (checks, result) = v.explain("tok-explain-secret").await;
    assert!(matches!(result, Err(AuthError::WrongAudience { .. })));
    let names: Vec<_> = checks.iter().map(|c| (c.name.as_str(), c.passed)).collect();
    assert_eq!(
        names,
        [
            ("introspection", true),
            ("token_type", true),
            ("issuer", true),
            ("audience", false),
            ("expiry", true),
        ]
    );
    assert!(checks[0]
        .detail
        .contains("answered by the introspection endpoint"));
    let (checks, _) = v.explain("tok-explain-secret").await;
    assert!(
        checks[0].detail.contains("answered from cache"),
        "{:?}",
        checks[0]
    );
    for c in &checks {
        assert!(!c.detail.contains("tok-explain-secret"));
    }
}

#[tokio::test]
async fn invalid_config_names_the_key_and_debug_hides_the_secret() {
    let err = IntrospectionFactory
        .build(
            &ctx(),
            json!({"introspection_url": "http://127.0.0.1:1/i", "client_id": "w",
                   "client_secret": "x", "auth_method": "bogus"}),
        )
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "providers.corp: auth_method: unknown variant `bogus`, expected `basic` or `post`"
    );
    let config = IntrospectionConfig::from_value(
        "corp",
        json!({"introspection_url": "http://127.0.0.1:1/i", "client_id": "w",
               "client_secret": CLIENT_SECRET}),
    )
    .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains(CLIENT_SECRET), "{debug}");
    assert!(!debug.contains("s3cr3t"), "{debug}");
}

#[tokio::test]
async fn descriptor_routes_opaque_tokens_only() {
    let fake = start_idp().await;
    let v: Arc<dyn warden_core::Verifier> = build(
        &fake,
        json!({"issuer": fake.issuer(), "authorization_server": "https://as.example"}),
    );
    let d = v.descriptor();
    assert_eq!(d.kind, "introspection");
    assert!(d.accepts_opaque);
    assert!(d.issuers.is_empty());
    assert_eq!(d.authorization_servers, ["https://as.example"]);
    assert!(v.status().ready, "configured URL: ready at once");
}
