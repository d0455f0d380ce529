//! Every JWKS and discovery request is bounded: a server that never answers
//! costs the configured timeout, a 50 MB answer is refused after the cap.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Recorder;
use warden_core::SharedObserver;
use warden_jwt::{JwksCache, JwksCacheSettings, JwksLocation, KeySource};
use warden_upstream::testing::{TestServer, FIFTY_MB};

const TIMEOUT: Duration = Duration::from_millis(300);
/// Generous: "ended long before the server would have", not a timing assertion.
const BOUND: Duration = Duration::from_secs(5);

fn cache(location: JwksLocation) -> (JwksCache, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let observer: SharedObserver = recorder.clone();
    let cache = JwksCache::new(
        "corp",
        location,
        JwksCacheSettings::default(),
        TIMEOUT,
        observer,
    )
    .unwrap();
    (cache, recorder)
}

/// Refreshes, expects "unavailable" within [`BOUND`], returns the last error.
async fn failed_refresh(cache: &JwksCache) -> String {
    let started = Instant::now();
    let err = cache.refresh().await.unwrap_err();
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
    assert!(err.is_unavailable(), "{err:?}");
    cache.status().last_error.expect("last error")
}

#[tokio::test]
async fn jwks_that_never_answers_times_out() {
    let server = TestServer::silent().await;
    let (cache, recorder) = cache(JwksLocation::Url(server.url("/jwks")));
    let error = failed_refresh(&cache).await;
    assert_eq!(
        error,
        format!("GET {}: no answer within 300ms", server.url("/jwks"))
    );
    assert_eq!(recorder.count("upstream idp:corp timeout"), 1);
}

#[tokio::test]
async fn jwks_of_fifty_megabytes_is_refused() {
    let server = TestServer::huge(FIFTY_MB).await;
    let (cache, recorder) = cache(JwksLocation::Url(server.url("/jwks")));
    let error = failed_refresh(&cache).await;
    assert!(error.contains("document is larger than"), "{error}");
    assert!(server.body_bytes_sent() < FIFTY_MB / 2);
    assert_eq!(recorder.count("upstream idp:corp invalid_response"), 1);
}

#[tokio::test]
async fn discovery_that_never_answers_times_out() {
    let server = TestServer::silent().await;
    let (cache, recorder) = cache(JwksLocation::Discover {
        issuer: server.origin(),
    });
    let error = failed_refresh(&cache).await;
    // A server that is down is not a reason to try the RFC 8414 document.
    assert_eq!(
        error,
        format!(
            "GET {}: no answer within 300ms",
            server.url("/.well-known/openid-configuration")
        )
    );
    assert_eq!(recorder.count("upstream idp:corp"), 1);
}

#[tokio::test]
async fn discovery_of_fifty_megabytes_is_refused() {
    let server = TestServer::huge_with_length(FIFTY_MB).await;
    let (cache, recorder) = cache(JwksLocation::Discover {
        issuer: server.origin(),
    });
    let error = failed_refresh(&cache).await;
    assert!(error.contains("document is larger than"), "{error}");
    // Both discovery documents were tried, neither read.
    assert_eq!(recorder.count("upstream idp:corp invalid_response"), 2);
}
