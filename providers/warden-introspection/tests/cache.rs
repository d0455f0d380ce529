//! The answer cache and upstream failures, against a real loopback server.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use warden_core::{AuthError, ProviderFactory};
use warden_introspection::IntrospectionFactory;
use warden_test_support::idp::{Fault, IdpEndpoint};

#[tokio::test]
async fn cache_hit_makes_no_second_call() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-cached", good_answer());
    let v = build(&fake, json!({}));
    let first = v.verify("tok-cached").await.unwrap();
    let second = v.verify("tok-cached").await.unwrap();
    assert_eq!(first, second);
    assert_eq!(fake.counts().introspection, 1);
    let stats = &v.status().caches[0];
    assert_eq!(stats.name, "introspection");
    assert_eq!((stats.hits, stats.misses), (1, 1));
}

#[tokio::test]
async fn negative_answers_are_cached() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-dead", json!({"active": false}));
    fake.register_opaque_token(
        "tok-other-aud",
        json!({"active": true, "aud": "https://other.example", "token_type": "access_token"}),
    );
    let v = build(&fake, json!({}));
    for _ in 0..3 {
        assert_eq!(v.verify("tok-dead").await.unwrap_err(), AuthError::Inactive);
        assert!(matches!(
            v.verify("tok-other-aud").await,
            Err(AuthError::WrongAudience { .. })
        ));
    }
    assert_eq!(fake.counts().introspection, 2);
}

#[tokio::test]
async fn negative_ttl_is_separate_from_the_positive_one() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-neg", json!({"active": false}));
    fake.register_opaque_token("tok-pos", good_answer());
    let v = build(
        &fake,
        json!({"negative_cache_ttl": "300ms", "cache_ttl": "60s"}),
    );
    assert!(v.verify("tok-neg").await.is_err());
    assert!(v.verify("tok-pos").await.is_ok());
    assert_eq!(fake.counts().introspection, 2);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(v.verify("tok-neg").await.is_err());
    assert!(v.verify("tok-pos").await.is_ok());
    assert_eq!(
        fake.counts().introspection,
        3,
        "only the negative entry expired"
    );
}

#[tokio::test]
async fn fifty_concurrent_requests_for_one_token_make_one_call() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-herd", good_answer());
    fake.set_delay(IdpEndpoint::Introspection, Duration::from_millis(300));
    let v = build(&fake, json!({}));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let v = v.clone();
        tasks.spawn(async move { v.verify("tok-herd").await });
    }
    while let Some(result) = tasks.join_next().await {
        assert_eq!(result.unwrap().unwrap().subject.as_deref(), Some("alice"));
    }
    assert_eq!(fake.counts().introspection, 1);
    let stats = &v.status().caches[0];
    assert_eq!(stats.hits + stats.misses, 50);
    assert_eq!(stats.misses, 1);
}

#[tokio::test]
async fn server_errors_are_unavailable_with_retry_after_and_not_cached() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-5xx", good_answer());
    let v = build(&fake, json!({}));

    fake.set_fault(
        IdpEndpoint::Introspection,
        Some(Fault::RetryAfter {
            status: 503,
            retry_after: "7".into(),
        }),
    );
    let (reason, retry_after) = expect_unavailable(v.verify("tok-5xx").await, "tok-5xx");
    assert!(reason.contains("HTTP 503"), "{reason}");
    assert_eq!(retry_after, Duration::from_secs(7));

    fake.set_status(IdpEndpoint::Introspection, Some(500));
    let (_, retry_after) = expect_unavailable(v.verify("tok-5xx").await, "tok-5xx");
    assert_eq!(retry_after, Duration::from_secs(5));

    fake.set_fault(
        IdpEndpoint::Introspection,
        Some(Fault::RetryAfter {
            status: 429,
            retry_after: "12".into(),
        }),
    );
    let (_, retry_after) = expect_unavailable(v.verify("tok-5xx").await, "tok-5xx");
    assert_eq!(retry_after, Duration::from_secs(12));

    fake.set_fault(
        IdpEndpoint::Introspection,
        Some(Fault::Respond {
            status: 200,
            content_type: "text/html".into(),
            body: "<html>maintenance</html>".into(),
        }),
    );
    let (reason, _) = expect_unavailable(v.verify("tok-5xx").await, "tok-5xx");
    assert!(
        reason.contains("invalid introspection response"),
        "{reason}"
    );
    assert_eq!(fake.counts().introspection, 4);
    assert!(v.status().last_error.unwrap().contains("invalid"));

    fake.set_fault(IdpEndpoint::Introspection, None);
    assert!(v.verify("tok-5xx").await.is_ok());
    assert_eq!(fake.counts().introspection, 5, "failures were not cached");
    assert!(v.status().last_error.is_none());
}

#[tokio::test]
async fn timeout_is_unavailable_and_not_cached() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-slow", good_answer());
    fake.set_delay(IdpEndpoint::Introspection, Duration::from_secs(3));
    let v = build(&fake, json!({"timeout": "300ms"}));
    let (reason, retry_after) = expect_unavailable(v.verify("tok-slow").await, "tok-slow");
    assert!(reason.contains("timed out"), "{reason}");
    assert_eq!(retry_after, Duration::from_secs(5));
    fake.set_delay(IdpEndpoint::Introspection, Duration::ZERO);
    assert!(v.verify("tok-slow").await.is_ok());
    assert_eq!(fake.counts().introspection, 2);
}

#[tokio::test]
async fn connection_refused_is_unavailable_and_not_cached() {
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let recorder = Arc::new(Recorder::default());
    let v = IntrospectionFactory
        .build(
            &ctx_with(recorder.clone()),
            json!({"introspection_url": format!("http://127.0.0.1:{closed}/introspect"),
                   "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        )
        .unwrap();
    for _ in 0..2 {
        let (reason, retry_after) =
            expect_unavailable(v.verify("tok-refused").await, "tok-refused");
        assert!(reason.contains("request failed"), "{reason}");
        assert_eq!(retry_after, Duration::from_secs(5));
    }
    let events = recorder.events.lock().unwrap().clone();
    let upstream: Vec<_> = events
        .iter()
        .filter(|e| e.starts_with("upstream:"))
        .collect();
    assert_eq!(
        upstream,
        ["upstream:idp:corp:error", "upstream:idp:corp:error"]
    );
}

#[tokio::test]
async fn zero_cache_ttl_sends_every_call_upstream() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-nocache", good_answer());
    let v = build(&fake, json!({"cache_ttl": "0s"}));
    for _ in 0..3 {
        assert!(v.verify("tok-nocache").await.is_ok());
    }
    assert_eq!(fake.counts().introspection, 3);
    assert!(v.status().caches.is_empty());
}

#[tokio::test]
async fn positive_entries_never_outlive_exp() {
    let fake = start_idp().await;
    let exp = now() + 2;
    fake.register_opaque_token(
        "tok-short",
        json!({"active": true, "aud": RESOURCE, "exp": exp}),
    );
    let v = build(&fake, json!({"cache_ttl": "60s"}));
    assert!(v.verify("tok-short").await.is_ok());
    assert!(v.verify("tok-short").await.is_ok());
    assert_eq!(fake.counts().introspection, 1);
    eventually(|| now() > exp).await;
    // The entry expired with the token: the server is asked again (and its
    // answer now fails the expiry check).
    assert!(matches!(
        v.verify("tok-short").await,
        Err(AuthError::Expired { .. })
    ));
    assert_eq!(fake.counts().introspection, 2);
}

#[tokio::test]
async fn flush_empties_the_cache() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-flush", good_answer());
    let v = build(&fake, json!({}));
    v.verify("tok-flush").await.unwrap();
    v.verify("tok-flush").await.unwrap();
    assert_eq!(fake.counts().introspection, 1);
    v.flush_caches();
    v.verify("tok-flush").await.unwrap();
    assert_eq!(fake.counts().introspection, 2);
}

#[tokio::test]
async fn events_report_cache_lookups_and_upstream_calls() {
    let fake = start_idp().await;
    fake.register_opaque_token("tok-events", good_answer());
    let recorder = Arc::new(Recorder::default());
    let v = IntrospectionFactory
        .build(&ctx_with(recorder.clone()), table(&fake, json!({})))
        .unwrap();
    v.verify("tok-events").await.unwrap();
    v.verify("tok-events").await.unwrap();
    let events = recorder.events.lock().unwrap().clone();
    assert_eq!(
        events,
        [
            "upstream:idp:corp:ok",
            "cache:corp:introspection:false",
            "cache:corp:introspection:true",
        ]
    );
    for e in &events {
        assert!(!e.contains("tok-events"));
    }
}
