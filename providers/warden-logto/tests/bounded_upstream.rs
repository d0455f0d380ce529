//! Every discovery and userinfo request is bounded: a server that never
//! answers costs the configured timeout, a 50 MB answer is refused after the cap.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ctx, logto_idp, profile, provider_with, Recorder, API};
use serde_json::json;
use warden_core::{AuthError, Verifier};
use warden_logto::{LogtoFactory, LogtoVerifier};
use warden_test_support::idp::{Fault, IdpEndpoint};
use warden_upstream::testing::{TestServer, FIFTY_MB};

/// Generous: "ended long before the server would have", not a timing assertion.
const BOUND: Duration = Duration::from_secs(5);

fn provider_for(issuer: String) -> (Arc<LogtoVerifier>, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let table = json!({"issuer": issuer, "audience": [API], "timeout": "300ms"});
    let v = LogtoFactory
        .build_verifier(&ctx(recorder.clone()), table)
        .unwrap();
    (v, recorder)
}

/// Runs `call`, expects "could not verify" within [`BOUND`], returns the reason.
async fn unavailable(call: impl std::future::Future<Output = Result<(), AuthError>>) -> String {
    let started = Instant::now();
    let err = call.await.unwrap_err();
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
    match err {
        AuthError::Unavailable { reason, .. } => reason,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn discovery_that_never_answers_times_out() {
    let server = TestServer::silent().await;
    let (v, recorder) = provider_for(server.url("/oidc"));
    let reason = unavailable(v.refresh()).await;
    assert!(
        reason.contains(&format!(
            "{}: no answer within 300ms",
            server.url("/oidc/.well-known/openid-configuration")
        )),
        "{reason}"
    );
    assert_eq!(recorder.count("upstream:idp:logto:timeout"), 1);
}

#[tokio::test]
async fn discovery_document_of_fifty_megabytes_is_refused() {
    let server = TestServer::huge(FIFTY_MB).await;
    let (v, recorder) = provider_for(server.url("/oidc"));
    let reason = unavailable(v.refresh()).await;
    assert!(
        reason.contains("answer is larger than 262144 bytes"),
        "{reason}"
    );
    assert!(server.body_bytes_sent() < FIFTY_MB / 2);
    // An oversized document is unusable, not a server that is down: each of
    // the three metadata URLs of an issuer with a path is asked, none is read.
    assert_eq!(recorder.count("upstream:idp:logto:invalid_response"), 3);
}

#[tokio::test]
async fn userinfo_that_never_answers_times_out() {
    let idp = logto_idp().await;
    let (v, recorder) = provider_with(&idp, json!({"timeout": "300ms"}));
    v.refresh().await.unwrap();
    let token = idp.register_userinfo(profile("user_1"));
    idp.set_fault(IdpEndpoint::Userinfo, Some(Fault::Hang));
    let reason = unavailable(async { v.verify(&token).await.map(drop) }).await;
    assert!(
        reason.contains(&format!("{}: no answer within 300ms", idp.userinfo_url())),
        "{reason}"
    );
    assert!(!reason.contains(&token));
    assert_eq!(recorder.count("upstream:idp:logto:timeout"), 1);
}

#[tokio::test]
async fn userinfo_answer_of_fifty_megabytes_is_refused() {
    let idp = logto_idp().await;
    let (v, recorder) = provider_with(&idp, json!({"timeout": "5s"}));
    v.refresh().await.unwrap();
    let token = idp.register_userinfo(profile("user_1"));
    idp.set_fault(
        IdpEndpoint::Userinfo,
        Some(Fault::Respond {
            status: 200,
            content_type: "application/json".into(),
            body: " ".repeat(FIFTY_MB as usize),
        }),
    );
    let reason = unavailable(async { v.verify(&token).await.map(drop) }).await;
    assert!(
        reason.contains("answer is larger than 262144 bytes"),
        "{reason}"
    );
    assert_eq!(recorder.count("upstream:idp:logto:invalid_response"), 1);
}
