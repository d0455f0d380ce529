//! Every Alpha Vantage request is bounded: a server that never answers costs
//! the configured timeout, a 50 MB answer is refused after the cap.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{args, caller, test_config, Recorder, KEY};
use serde_json::json;
use warden_core::{Tool, ToolError};
use warden_tools::NewsSentimentTool;
use warden_upstream::testing::{TestServer, FIFTY_MB};

/// Generous: "ended long before the server would have", not a timing assertion.
const BOUND: Duration = Duration::from_secs(5);

/// Calls the tool against `server` (one attempt) and returns (kind, message, outcomes).
async fn fail_against(server: &TestServer) -> (&'static str, String, Vec<&'static str>) {
    let mut cfg = test_config(server.origin());
    cfg.timeout = Duration::from_millis(300);
    cfg.max_retries = 0;
    let recorder = Arc::new(Recorder::default());
    let tool = NewsSentimentTool::new(&cfg, recorder.clone()).unwrap();
    let started = Instant::now();
    let result = tool.call(args(json!({"ticker": "AAPL"})), &caller()).await;
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
    let outcomes = recorder
        .upstream
        .lock()
        .unwrap()
        .iter()
        .map(|(_, o)| *o)
        .collect();
    match result {
        Err(ToolError::Failed { kind, message }) => {
            assert!(!message.contains(KEY), "key leaked: {message}");
            (kind, message, outcomes)
        }
        other => panic!("expected a tool failure, got {other:?}"),
    }
}

#[tokio::test]
async fn alpha_vantage_that_never_answers_times_out() {
    let server = TestServer::silent().await;
    let (kind, message, outcomes) = fail_against(&server).await;
    assert_eq!(kind, "timeout");
    assert!(message.contains("300ms"), "{message}");
    assert_eq!(outcomes, ["timeout"]);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn alpha_vantage_answer_of_fifty_megabytes_is_refused() {
    let server = TestServer::huge(FIFTY_MB).await;
    let (kind, message, outcomes) = fail_against(&server).await;
    assert_eq!(kind, "malformed_response");
    assert!(message.contains("larger than 8 MiB"), "{message}");
    assert_eq!(outcomes, ["malformed"]);
    assert!(server.body_bytes_sent() < FIFTY_MB / 2);
}
