//! kind = "logto": opaque access tokens through userinfo (and its cache), or
//! through introspection when client credentials are configured — against
//! the fake IdP over loopback HTTP.

mod common;

use std::time::Duration;

use common::{http_status, logto_idp, profile, provider, provider_with, API};
use futures::future::join_all;
use serde_json::json;
use warden_core::{AuthError, ProviderSet, Verifier};
use warden_test_support::idp::{Fault, IdpEndpoint};

#[tokio::test]
async fn userinfo_claims_become_the_identity() {
    let idp = logto_idp().await;
    let (v, recorder) = provider(&idp);
    let token = idp.register_userinfo(profile("user_1"));
    let set = ProviderSet::new(vec![v.clone()]);
    let info = set.verify(&token).await.unwrap();
    assert_eq!(info.subject.as_deref(), Some("user_1"));
    assert_eq!(info.issuer.as_deref(), Some(idp.issuer().as_str()));
    assert_eq!(info.claim_str("name"), Some("Ada Lovelace"));
    assert_eq!(info.claim_str("username"), Some("ada"));
    assert_eq!(info.claim_str("email"), Some("ada@example.com"));
    assert!(info.audiences.is_empty());
    assert!(info.scopes.is_empty());
    assert_eq!(info.provider, "logto");

    let call = idp
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(IdpEndpoint::Userinfo))
        .unwrap();
    assert_eq!(call.path, "/oidc/me");
    assert_eq!(call.method, "GET");
    assert_eq!(
        call.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert!(
        recorder.count("upstream:idp:logto:ok") >= 2,
        "{:?}",
        recorder.events()
    );
}

#[tokio::test]
async fn userinfo_401_means_invalid_token() {
    let idp = logto_idp().await;
    let (v, _) = provider(&idp);
    let err = v.verify("never-issued-token").await.unwrap_err();
    assert_eq!(err, AuthError::Inactive);
    assert_eq!(http_status(&err), 401);

    let revoked = idp.register_userinfo(profile("user_1"));
    idp.revoke(&revoked);
    assert_eq!(v.verify(&revoked).await.unwrap_err(), AuthError::Inactive);

    idp.set_status(IdpEndpoint::Userinfo, Some(403));
    let err = v.verify("another-token").await.unwrap_err();
    assert_eq!(err, AuthError::Inactive);

    let err = v.verify("not a token!").await.unwrap_err();
    assert!(matches!(err, AuthError::Malformed { .. }));
    assert_eq!(
        idp.counts().userinfo,
        3,
        "malformed tokens never leave warden"
    );
}

#[tokio::test]
async fn userinfo_failures_are_unavailable_and_never_cached() {
    let idp = logto_idp().await;
    let (v, recorder) = provider_with(&idp, json!({"timeout": "300ms"}));
    v.refresh().await.unwrap();
    let token = idp.register_userinfo(profile("user_1"));

    idp.set_down(IdpEndpoint::Userinfo, true);
    let err = v.verify(&token).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(http_status(&err), 503);
    assert!(recorder.count("upstream:idp:logto:http_5xx") >= 1);

    idp.set_status(IdpEndpoint::Userinfo, Some(404));
    assert!(v.verify(&token).await.unwrap_err().is_unavailable());

    idp.set_fault(IdpEndpoint::Userinfo, Some(Fault::Hang));
    let err = v.verify(&token).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(recorder.count("upstream:idp:logto:timeout") >= 1);

    idp.set_fault(
        IdpEndpoint::Userinfo,
        Some(Fault::Respond {
            status: 200,
            content_type: "text/html".into(),
            body: "<html>login</html>".into(),
        }),
    );
    assert!(v.verify(&token).await.unwrap_err().is_unavailable());

    idp.stop().await;
    let err = v.verify(&token).await.unwrap_err();
    assert!(err.is_unavailable(), "connection refused: {err:?}");

    idp.restart().await;
    idp.clear_switches();
    let before = idp.counts().userinfo;
    assert!(v.verify(&token).await.is_ok(), "failures were not cached");
    assert_eq!(idp.counts().userinfo, before + 1);
}

#[tokio::test]
async fn a_cached_answer_makes_no_second_call() {
    let idp = logto_idp().await;
    let (v, recorder) = provider(&idp);
    let token = idp.register_userinfo(profile("user_1"));
    let first = v.verify(&token).await.unwrap();
    let second = v.verify(&token).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(idp.counts().userinfo, 1);
    assert_eq!(recorder.count("cache:logto:userinfo:false"), 1);
    assert_eq!(recorder.count("cache:logto:userinfo:true"), 1);

    // Negative answers are cached too.
    for _ in 0..3 {
        assert_eq!(
            v.verify("unknown-token").await.unwrap_err(),
            AuthError::Inactive
        );
    }
    assert_eq!(idp.counts().userinfo, 2);

    let userinfo = v
        .status()
        .caches
        .into_iter()
        .find(|c| c.name == "userinfo")
        .unwrap();
    assert_eq!((userinfo.hits, userinfo.misses), (3, 2));

    v.flush_caches();
    v.verify(&token).await.unwrap();
    assert_eq!(
        idp.counts().userinfo,
        3,
        "flush_caches empties the userinfo cache"
    );
}

#[tokio::test]
async fn fifty_concurrent_requests_with_a_new_token_make_one_call() {
    let idp = logto_idp().await;
    idp.set_delay(IdpEndpoint::Userinfo, Duration::from_millis(100));
    let (v, _) = provider(&idp);
    v.refresh().await.unwrap();
    let token = idp.register_userinfo(profile("user_1"));
    let results = join_all((0..50).map(|_| v.verify(&token))).await;
    assert!(results.iter().all(|r| r.is_ok()));
    assert_eq!(idp.counts().userinfo, 1);
}

#[tokio::test]
async fn a_zero_ttl_turns_the_cache_off() {
    let idp = logto_idp().await;
    let (v, recorder) = provider_with(&idp, json!({"userinfo_cache_ttl": "0s"}));
    let token = idp.register_userinfo(profile("user_1"));
    v.verify(&token).await.unwrap();
    v.verify(&token).await.unwrap();
    assert_eq!(idp.counts().userinfo, 2);
    assert_eq!(recorder.count("cache:"), 0);
    assert!(v.status().caches.iter().all(|c| c.name != "userinfo"));
}

#[tokio::test]
async fn positive_entries_never_outlive_exp() {
    let idp = logto_idp().await;
    let (v, _) = provider(&idp);
    let mut claims = profile("user_1");
    claims["exp"] = json!(warden_core::now_unix() + 1);
    let token = idp.register_userinfo(claims);
    v.verify(&token).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // Past exp: the entry is gone, userinfo is asked again (and the answer's exp is honoured with leeway).
    let _ = v.verify(&token).await;
    assert_eq!(idp.counts().userinfo, 2);
}

#[tokio::test]
async fn client_credentials_switch_opaque_tokens_to_introspection() {
    let idp = logto_idp().await;
    let (v, recorder) = provider_with(
        &idp,
        json!({"client_id": idp.client_id(), "client_secret": idp.client_secret()}),
    );
    let token = idp.register_active("user_1", "read:news", API);
    idp.register_userinfo_token(&token, profile("user_1"));

    let info = v.verify(&token).await.unwrap();
    assert_eq!(info.subject.as_deref(), Some("user_1"));
    assert_eq!(info.scopes, ["read:news"]);
    assert_eq!(info.audiences, [API]);
    v.verify(&token).await.unwrap();
    let counts = idp.counts();
    assert_eq!((counts.introspection, counts.userinfo), (1, 0));
    assert_eq!(recorder.count("cache:logto:introspection:true"), 1);
    let call = idp.introspections().pop().unwrap();
    assert!(call.credentials_ok);
    assert_eq!(call.client_id.as_deref(), Some(idp.client_id().as_str()));

    // Audience and activity now apply.
    let other = idp.register_active("user_1", "read:news", "https://other.example.com");
    assert!(matches!(
        v.verify(&other).await.unwrap_err(),
        AuthError::WrongAudience { .. }
    ));
    let inactive = idp.register_opaque(json!({"active": false}));
    assert_eq!(v.verify(&inactive).await.unwrap_err(), AuthError::Inactive);

    assert!(v.status().caches.iter().any(|c| c.name == "introspection"));
    assert_eq!(idp.counts().userinfo, 0);
}

#[tokio::test]
async fn wrong_client_credentials_are_unavailable_not_invalid() {
    let idp = logto_idp().await;
    let (v, _) = provider_with(
        &idp,
        json!({"client_id": idp.client_id(), "client_secret": "wrong"}),
    );
    let token = idp.register_active("user_1", "read:news", API);
    assert!(v.verify(&token).await.unwrap_err().is_unavailable());
}

#[tokio::test]
async fn explain_reports_the_userinfo_checks() {
    let idp = logto_idp().await;
    let (v, _) = provider(&idp);
    let token = idp.register_userinfo(profile("user_1"));
    let (checks, result) = v.explain(&token).await;
    assert_eq!(result.unwrap().subject.as_deref(), Some("user_1"));
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["format", "discovery", "userinfo", "audience"]);
    assert!(checks.iter().all(|c| c.passed));
    assert!(checks.iter().all(|c| !c.detail.contains(&token)));

    let (checks, result) = v.explain("unknown-token").await;
    assert_eq!(result.unwrap_err(), AuthError::Inactive);
    assert!(!checks.last().unwrap().passed);

    let (v, _) = provider_with(
        &idp,
        json!({"client_id": idp.client_id(), "client_secret": idp.client_secret()}),
    );
    let token = idp.register_active("user_1", "read:news", API);
    let (checks, result) = v.explain(&token).await;
    assert!(result.is_ok());
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.contains(&"introspection") && names.contains(&"audience"),
        "{names:?}"
    );
}
