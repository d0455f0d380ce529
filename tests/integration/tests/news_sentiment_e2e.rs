//! End to end: `news_sentiment` through the real host over MCP, with a
//! `news:read` dev token, against the fake Alpha Vantage; and the 403 step-up without it.

use serde_json::json;
use warden_test_support::alphavantage::{FakeAlphaVantage, Mode};
use warden_test_support::host::TestHost;
use warden_test_support::mcp::McpClient;

fn config(av: &FakeAlphaVantage) -> String {
    format!(
        "[providers.dev]\nkind = \"dev\"\n[tools.news_sentiment]\nbase_url = \"{}\"\napi_key = \"E2E-AV-KEY-42\"\nretry_backoff = \"10ms\"\ntimeout = \"2s\"\n",
        av.url()
    )
}

#[tokio::test]
async fn news_sentiment_over_mcp() {
    let av = FakeAlphaVantage::start().await;
    av.expect_api_key("E2E-AV-KEY-42");
    let host = TestHost::start(&config(&av)).await;

    // Without news:read: HTTP 403 with the tool's scope, and no upstream call.
    let mut weak = McpClient::new(host.mcp_url(), Some(host.dev_token("alice", "profile")));
    assert_eq!(weak.initialize().await.status, 200);
    let denied = weak
        .call_tool("news_sentiment", json!({"ticker": "AAPL"}))
        .await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    let www = denied.www_authenticate().unwrap();
    assert!(
        www.contains("error=\"insufficient_scope\"") && www.contains("scope=\"news:read\""),
        "{www}"
    );
    assert_eq!(av.requests(), 0);

    // With news:read: a structured result.
    let token = host.dev_token("alice", "news:read");
    let mut client = McpClient::new(host.mcp_url(), Some(token.clone()));
    assert_eq!(client.initialize().await.status, 200);
    let tools = client.list_tools().await;
    let spec = tools.result()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "news_sentiment")
        .cloned()
        .expect("listed");
    assert_eq!(spec["inputSchema"]["required"], json!(["ticker"]));
    assert_eq!(
        spec["_meta"]["io.warden/requiredScopes"],
        json!(["news:read"])
    );

    let reply = client
        .call_tool("news_sentiment", json!({"ticker": " aapl ", "limit": 2}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let sc = &reply.result()["structuredContent"];
    assert_eq!(sc["ticker"], "AAPL", "{sc}");
    assert_eq!(sc["sentiment_label"], "Neutral");
    assert_eq!(sc["articles_analyzed"], 4);
    assert_eq!(sc["top_articles"].as_array().unwrap().len(), 2);
    assert!((sc["sentiment_score"].as_f64().unwrap() - 0.140008).abs() < 1e-6);
    assert_ne!(reply.result()["isError"], true);

    // Cached: a second call makes no request.
    let again = client
        .call_tool("news_sentiment", json!({"ticker": "AAPL"}))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(av.requests(), 1);

    // Invalid ticker: a JSON-RPC invalid-params error, no upstream call.
    let bad = client
        .call_tool("news_sentiment", json!({"ticker": "AAPL$"}))
        .await;
    assert_eq!(
        bad.message.as_ref().unwrap()["error"]["code"],
        -32602,
        "{}",
        bad.body
    );
    assert_eq!(av.requests(), 1);

    // Rate limited upstream: a tool error result the user can act on; the session keeps working.
    av.set_mode(Mode::RateLimitInformation);
    let limited = client
        .call_tool("news_sentiment", json!({"ticker": "MSFT"}))
        .await;
    assert_eq!(limited.status, 200);
    assert_eq!(limited.result()["isError"], true, "{}", limited.body);
    let text = limited.result()["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.to_lowercase().contains("rate limit"), "{text}");
    assert!(!text.contains("E2E-AV-KEY-42"));
    let who = client.call_tool("whoami", json!({})).await;
    assert_eq!(who.status, 200);

    // The caller's token never went upstream, and the key only as `apikey`.
    assert!(av.violations().is_empty(), "{:?}", av.violations());
}
