//! Browser `Origin`s are compared with `public_url` and
//! `[server] allowed_origins` as RFC 6454 (scheme, host, port) tuples, a
//! scheme's default port being the same as no port — on the real host, for the
//! MCP endpoint (requests and CORS preflights) and the legacy SSE endpoints.

use serde_json::{json, Value};
use warden_test_support::host::TestHost;

/// `public_url` spelled with the default port; an extra origin with the
/// default port and a trailing slash.
const CONFIG: &str = "[server]\npublic_url = \"https://mcp.example.com:443\"\nallowed_origins = [\"https://app.example.com:443/\"]\nstateless = true\n[providers.dev]\nkind = \"dev\"\n[tools.news_sentiment]\nenabled = false\n";

fn initialize() -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                      "clientInfo": {"name": "origin-tuples", "version": "0"}}})
    .to_string()
}

/// POSTs `initialize` to the MCP endpoint with a valid token and `origin`;
/// returns the status, the `Access-Control-Allow-Origin` value and the body.
async fn post_mcp(host: &TestHost, origin: &str) -> (u16, Option<String>, String) {
    let resp = reqwest::Client::new()
        .post(host.mcp_url())
        .bearer_auth(host.dev_token("alice", "profile"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("origin", origin)
        .body(initialize())
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let acao = resp
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, acao, resp.text().await.unwrap_or_default())
}

/// A CORS preflight for a POST to the MCP endpoint.
async fn preflight(host: &TestHost, origin: &str) -> (u16, Option<String>) {
    let resp = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, host.mcp_url())
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("preflight");
    let acao = resp
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned());
    (resp.status().as_u16(), acao)
}

fn assert_forbidden(what: &str, status: u16, body: &str) {
    assert_eq!(status, 403, "{what}: {body}");
    let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    assert_eq!(body["error"], "forbidden", "{what}: {body}");
}

#[tokio::test]
async fn default_ports_are_normalised_for_public_url_and_allowed_origins() {
    let host = TestHost::start(CONFIG).await;
    assert_eq!(
        host.app().config.server.public_url,
        "https://mcp.example.com:443"
    );

    for origin in [
        // What a browser on https://mcp.example.com:443 sends (RFC 6454
        // omits the default port), and the same origin spelled otherwise.
        "https://mcp.example.com",
        "https://mcp.example.com:443",
        "https://MCP.example.com",
        // allowed_origins = ["https://app.example.com:443/"]
        "https://app.example.com",
        "https://app.example.com:443",
    ] {
        let (status, acao, body) = post_mcp(&host, origin).await;
        assert_eq!(status, 200, "Origin {origin}: {body}");
        assert_eq!(acao.as_deref(), Some(origin), "Origin {origin}");
        let (status, acao) = preflight(&host, origin).await;
        assert!((200..300).contains(&status), "preflight {origin}: {status}");
        assert_eq!(acao.as_deref(), Some(origin), "preflight {origin}");
    }

    for origin in [
        // Another scheme or port is another origin.
        "http://mcp.example.com",
        "http://mcp.example.com:443",
        "https://mcp.example.com:8443",
        "https://app.example.com:8443",
        "http://app.example.com",
        // Not serialized origins.
        "https://mcp.example.com/mcp",
        "https://user@mcp.example.com",
        "null",
    ] {
        let (status, acao, body) = post_mcp(&host, origin).await;
        assert_forbidden(&format!("Origin {origin}"), status, &body);
        assert_eq!(acao, None, "Origin {origin}");
        let (status, acao) = preflight(&host, origin).await;
        assert_eq!(status, 403, "preflight {origin}");
        assert_eq!(acao, None, "preflight {origin}");
    }
}

/// The legacy HTTP+SSE endpoints apply the same policy (before
/// authentication: an allowed Origin without a token gets 401, a refused one 403).
#[tokio::test]
async fn legacy_sse_endpoints_use_the_same_tuples() {
    let host = TestHost::start(CONFIG).await;
    let http = reqwest::Client::new();
    for (origin, allowed) in [
        ("https://mcp.example.com", true),
        ("https://app.example.com", true),
        ("http://mcp.example.com", false),
        ("https://app.example.com:8443", false),
    ] {
        let expected = if allowed { 401 } else { 403 };
        let sse = http
            .get(format!("{}/sse", host.url))
            .header("origin", origin)
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(sse.status().as_u16(), expected, "GET /sse, Origin {origin}");
        let messages = http
            .post(format!("{}/messages?sessionId=x", host.url))
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(initialize())
            .send()
            .await
            .unwrap();
        assert_eq!(
            messages.status().as_u16(),
            expected,
            "POST /messages, Origin {origin}"
        );
    }
}

/// Without a port in `public_url` the tuple is the same: an explicit default
/// port in the `Origin` matches, another scheme does not.
#[tokio::test]
async fn explicit_default_port_in_the_origin_header_matches() {
    let host = TestHost::start(
        "[server]\npublic_url = \"http://mcp.example.com\"\nstateless = true\n[providers.dev]\nkind = \"dev\"\n[tools.news_sentiment]\nenabled = false\n",
    )
    .await;
    let (status, _, body) = post_mcp(&host, "http://mcp.example.com:80").await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = post_mcp(&host, "https://mcp.example.com").await;
    assert_forbidden("https Origin for an http public_url", status, &body);
    // Loopback origins stay allowed whatever public_url says.
    let (status, _, body) = post_mcp(&host, "http://localhost:6274").await;
    assert_eq!(status, 200, "{body}");
}
