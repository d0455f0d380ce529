//! Every introspection and discovery request is bounded: a server that never
//! answers costs the configured timeout, a 50 MB answer is refused after the cap.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use warden_core::{ProviderFactory, Verifier};
use warden_introspection::IntrospectionFactory;
use warden_upstream::testing::{TestServer, FIFTY_MB};

/// Generous: "ended long before the server would have", not a timing assertion.
const BOUND: Duration = Duration::from_secs(5);

fn provider(endpoint: (&str, String), recorder: Arc<Recorder>) -> Arc<dyn Verifier> {
    IntrospectionFactory
        .build(
            &ctx_with(recorder),
            json!({
                endpoint.0: endpoint.1,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "timeout": "300ms",
            }),
        )
        .unwrap()
}

/// Verifies `token`, expects "could not verify" within [`BOUND`], returns the reason.
async fn unavailable(v: &dyn Verifier, token: &str) -> String {
    let started = Instant::now();
    let result = v.verify(token).await;
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
    expect_unavailable(result, token).0
}

fn upstream_events(recorder: &Recorder) -> Vec<String> {
    recorder
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.starts_with("upstream:"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn introspection_that_never_answers_times_out() {
    let server = TestServer::silent().await;
    let recorder = Arc::new(Recorder::default());
    let v = provider(
        ("introspection_url", server.url("/introspect")),
        recorder.clone(),
    );
    let reason = unavailable(v.as_ref(), "tok-silent").await;
    assert_eq!(reason, "introspection timed out after 300ms");
    assert_eq!(upstream_events(&recorder), ["upstream:idp:corp:timeout"]);
}

#[tokio::test]
async fn introspection_answer_of_fifty_megabytes_is_refused() {
    let server = TestServer::huge(FIFTY_MB).await;
    let recorder = Arc::new(Recorder::default());
    let v = provider(
        ("introspection_url", server.url("/introspect")),
        recorder.clone(),
    );
    let reason = unavailable(v.as_ref(), "tok-huge").await;
    assert_eq!(
        reason,
        "invalid introspection response: introspection answer is larger than 1048576 bytes"
    );
    assert!(server.body_bytes_sent() < FIFTY_MB / 2);
    assert_eq!(
        upstream_events(&recorder),
        ["upstream:idp:corp:invalid_response"]
    );
}

#[tokio::test]
async fn discovery_that_never_answers_times_out() {
    let server = TestServer::silent().await;
    let recorder = Arc::new(Recorder::default());
    let v = provider(("issuer", server.origin()), recorder.clone());
    let reason = unavailable(v.as_ref(), "tok-silent").await;
    assert!(
        reason.contains("discovery timed out after 300ms"),
        "{reason}"
    );
    // One event per request: a server that does not answer is not asked
    // for the RFC 8414 document as well.
    assert_eq!(upstream_events(&recorder), ["upstream:idp:corp:timeout"]);
}

#[tokio::test]
async fn discovery_document_of_fifty_megabytes_is_refused() {
    let server = TestServer::huge_with_length(FIFTY_MB).await;
    let recorder = Arc::new(Recorder::default());
    let v = provider(("issuer", server.origin()), recorder.clone());
    let reason = unavailable(v.as_ref(), "tok-huge").await;
    assert!(
        reason.contains("discovery answer is larger than 1048576 bytes"),
        "{reason}"
    );
}
