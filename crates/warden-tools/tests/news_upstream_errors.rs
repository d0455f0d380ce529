//! news_sentiment failure handling against a fake Alpha Vantage: Alpha
//! Vantage's HTTP-200 error bodies, retries, timeouts, and key hygiene.

mod common;

use std::time::Duration;

use common::{caller, harness, harness_with, test_config, KEY};
use serde_json::json;
use warden_core::{Tool, ToolError};
use warden_test_support::alphavantage::Mode;
use warden_tools::NewsSentimentTool;

#[tokio::test]
async fn rate_limit_information_is_not_retried() {
    let h = harness().await;
    h.av.set_mode(Mode::RateLimitInformation);
    let (kind, message) = h.fail(json!({"ticker": "AAPL"})).await;
    assert_eq!(kind, "rate_limited");
    assert!(message.contains("rate limit"), "{message}");
    assert!(message.contains("25 requests per day"), "{message}");
    assert!(message.contains("premium"), "{message}");
    assert_eq!(h.av.requests(), 1);
    assert_eq!(h.outcomes(), ["rate_limited"]);
    h.assert_clean();
}

#[tokio::test]
async fn legacy_rate_limit_note() {
    let h = harness().await;
    h.av.set_mode(Mode::RateLimitNote);
    let (kind, _) = h.fail(json!({"ticker": "AAPL"})).await;
    assert_eq!(kind, "rate_limited");
    assert_eq!(h.av.requests(), 1);
    h.assert_clean();
}

#[tokio::test]
async fn http_429_is_a_rate_limit_and_4xx_is_not_retried() {
    let h = harness().await;
    h.av.set_mode(Mode::Status(429));
    assert_eq!(h.fail(json!({"ticker": "AAPL"})).await.0, "rate_limited");
    h.av.set_mode(Mode::Status(404));
    let (kind, message) = h.fail(json!({"ticker": "AAPL"})).await;
    assert_eq!(kind, "upstream_error");
    assert!(message.contains("404"));
    assert_eq!(h.av.requests(), 2);
    assert_eq!(h.outcomes(), ["rate_limited", "http_4xx"]);
    h.assert_clean();
}

#[tokio::test]
async fn invalid_key_via_error_message_and_information() {
    for mode in [Mode::InvalidKeyErrorMessage, Mode::InvalidKeyInformation] {
        let h = harness().await;
        h.av.set_mode(mode.clone());
        let (kind, message) = h.fail(json!({"ticker": "AAPL"})).await;
        assert_eq!(kind, "invalid_key", "{mode:?}");
        assert!(message.contains("ALPHA_VANTAGE_API_KEY"), "{message}");
        assert!(
            message.contains("[tools.news_sentiment] api_key"),
            "{message}"
        );
        assert_eq!(h.av.requests(), 1);
        assert_eq!(h.outcomes(), ["invalid_key"]);
        h.assert_clean();
    }
}

#[tokio::test]
async fn bad_request_quotes_alpha_vantage() {
    let h = harness().await;
    h.av.set_mode(Mode::BadRequest);
    let (kind, message) = h.fail(json!({"ticker": "ZZZZ"})).await;
    assert_eq!(kind, "bad_request");
    assert!(message.contains("ZZZZ"), "{message}");
    assert!(message.contains("Invalid inputs"), "{message}");
    assert_eq!(h.av.requests(), 1);
    h.assert_clean();
}

#[tokio::test]
async fn echoed_key_is_scrubbed_from_quoted_text() {
    let h = harness().await;
    let body = json!({"Error Message": format!("Unknown symbol in request tickers=ZZZZ&k={KEY}")});
    h.av.set_mode(Mode::Custom {
        status: 200,
        body: body.to_string(),
    });
    let (kind, message) = h.fail(json!({"ticker": "ZZZZ"})).await;
    assert_eq!(kind, "bad_request");
    assert!(message.contains("<redacted>"), "{message}");
    h.assert_clean();
}

#[tokio::test]
async fn malformed_json_is_a_tool_error() {
    let h = harness().await;
    h.av.set_mode(Mode::MalformedJson);
    let (kind, message) = h.fail(json!({"ticker": "AAPL"})).await;
    assert_eq!(kind, "malformed_response");
    assert!(message.contains("not valid JSON"), "{message}");
    h.av.set_mode(Mode::Custom {
        status: 200,
        body: r#"{"items":"1"}"#.into(),
    });
    assert_eq!(
        h.fail(json!({"ticker": "AAPL"})).await.0,
        "malformed_response"
    );
    assert_eq!(h.av.requests(), 2);
    h.assert_clean();
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let h = harness().await;
    h.av.fail_next(1, 500);
    let out = h.call(json!({"ticker": "AAPL"})).await.unwrap();
    assert_eq!(out.structured["articles_analyzed"], 4);
    assert_eq!(h.av.requests(), 2);
    assert_eq!(h.outcomes(), ["http_5xx", "ok"]);
    h.assert_clean();
}

#[tokio::test]
async fn persistent_server_errors_give_up_after_max_retries() {
    let h = harness().await;
    h.av.set_mode(Mode::Status(503));
    let (kind, message) = h.fail(json!({"ticker": "AAPL"})).await;
    assert_eq!(kind, "upstream_unavailable");
    assert!(
        message.contains("503") && message.contains("3 attempt"),
        "{message}"
    );
    assert_eq!(h.av.requests(), 3);
    assert_eq!(h.outcomes(), ["http_5xx", "http_5xx", "http_5xx"]);

    let none = harness_with(|c| c.max_retries = 0).await;
    none.av.fail_next(1, 502);
    assert_eq!(
        none.fail(json!({"ticker": "AAPL"})).await.0,
        "upstream_unavailable"
    );
    assert_eq!(none.av.requests(), 1);
    h.assert_clean();
    none.assert_clean();
}

#[tokio::test]
async fn slow_upstream_times_out_after_retries() {
    let h = harness_with(|c| {
        c.timeout = Duration::from_millis(200);
        c.max_retries = 1;
    })
    .await;
    h.av.set_mode(Mode::Slow(Duration::from_secs(30)));
    let (kind, message) = h.fail(json!({"ticker": "AAPL"})).await;
    assert_eq!(kind, "timeout");
    assert!(
        message.contains("200ms") && message.contains("2 attempt"),
        "{message}"
    );
    assert_eq!(h.av.requests(), 2);
    assert_eq!(h.outcomes(), ["timeout", "timeout"]);
    h.assert_clean();
}

/// With defaults, 3 attempts of 10 s would outlast the host's 30 s request
/// timeout; `total_timeout` bounds the whole call, retries included.
#[tokio::test]
async fn total_timeout_bounds_the_call_including_retries() {
    let h = harness_with(|c| {
        c.timeout = Duration::from_millis(400);
        c.max_retries = 10;
        c.retry_backoff = Duration::from_millis(10);
        c.total_timeout = Duration::from_millis(1000);
    })
    .await;
    h.av.set_mode(Mode::Slow(Duration::from_secs(30)));
    let (kind, message) = h.fail(json!({"ticker": "AAPL"})).await;
    assert_eq!(kind, "timeout");
    // 400 ms attempts in a 1 s budget: two full attempts, no third start (it
    // could not get 400 ms before the deadline), far from the 11 allowed.
    let requests = h.av.requests();
    assert!(
        (2..=3).contains(&requests),
        "{requests} requests; {message}"
    );
    assert!(
        message.contains(&format!("{requests} attempt")),
        "{message}"
    );
    h.assert_clean();
}

#[tokio::test]
async fn unreachable_upstream_is_retried_and_reported_without_the_key() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cfg = test_config(format!("http://127.0.0.1:{port}"));
    let recorder = std::sync::Arc::new(common::Recorder::default());
    let tool = NewsSentimentTool::new(&cfg, recorder.clone()).unwrap();
    match tool
        .call(common::args(json!({"ticker": "AAPL"})), &caller())
        .await
    {
        Err(ToolError::Failed { kind, message }) => {
            assert_eq!(kind, "upstream_unavailable");
            assert!(message.contains("3 attempt"), "{message}");
            assert!(!message.contains(KEY), "{message}");
            assert!(!message.contains("apikey"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let outcomes: Vec<_> = recorder
        .upstream
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(outcomes, ["error", "error", "error"]);
}

#[tokio::test]
async fn no_error_message_ever_contains_the_key() {
    let modes = [
        Mode::RateLimitInformation,
        Mode::RateLimitNote,
        Mode::InvalidKeyErrorMessage,
        Mode::InvalidKeyInformation,
        Mode::BadRequest,
        Mode::MalformedJson,
        Mode::Status(500),
        Mode::Status(401),
        Mode::Custom {
            status: 200,
            body: format!("{{\"Information\":\"{KEY}\"}}"),
        },
        Mode::Custom {
            status: 200,
            body: format!("not json {KEY}"),
        },
    ];
    let h = harness_with(|c| c.max_retries = 0).await;
    for mode in modes {
        h.av.set_mode(mode.clone());
        let err = h.call(json!({"ticker": "AAPL"})).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(KEY), "{mode:?}: {shown}");
    }
    let shown = format!("{:?}", h.tool);
    assert!(!shown.contains(KEY), "{shown}");
    h.assert_clean();
}
