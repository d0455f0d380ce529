//! The axum embedding example (`crates/warden-tower/examples/axum.rs`) serving
//! the guard and tools of a configured host, against warden's own poem host
//! with the same configuration: the spine checks must get the same statuses,
//! challenges and error codes from both, and the example's REST route is
//! protected by `BearerLayer`. The attack corpus runs against both fronts in
//! `attacks.rs`.

use serde_json::{json, Value};
use warden_test_support::host::{Front, TestHost};
use warden_test_support::mcp::{McpClient, McpReply};

const CONFIG: &str = r#"
[resource]
scopes_supported = ["news:read", "profile"]
[providers.dev]
kind = "dev"
[tools.whoami]
required_scopes = ["profile"]
[tools.news_sentiment]
enabled = false
"#;

/// What must be equal between the fronts: status, the challenge (with each
/// front's own URL written as `{url}`), the media type and the error code.
#[derive(Debug, PartialEq)]
struct Seen {
    status: u16,
    www_authenticate: String,
    content_type: String,
    error: Value,
    retry_after: Option<String>,
}

fn seen(reply: &McpReply, url: &str) -> Seen {
    let body: Value = reply
        .message
        .clone()
        .or_else(|| serde_json::from_str(&reply.body).ok())
        .unwrap_or(Value::Null);
    Seen {
        status: reply.status,
        www_authenticate: reply.www_authenticate().unwrap_or("").replace(url, "{url}"),
        content_type: reply
            .content_type
            .split(';')
            .next()
            .unwrap_or("")
            .to_owned(),
        error: match &body["error"] {
            Value::Object(e) => json!({"code": e["code"], "message": e["message"]}),
            other => other.clone(),
        },
        retry_after: reply.header("retry-after").map(str::to_owned),
    }
}

/// A stateless MCP 2026-07-28 `tools/call whoami` with the required `_meta`.
fn modern_call(id: u64) -> String {
    json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {
            "name": "whoami", "arguments": {},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"}
            }
        }
    })
    .to_string()
}

/// One request shape, sent to a host by a fresh client.
type Probe = fn(&TestHost) -> std::pin::Pin<Box<dyn std::future::Future<Output = McpReply> + '_>>;

fn probes() -> Vec<(&'static str, Probe)> {
    vec![
        ("no token", |h| {
            Box::pin(async move {
                McpClient::new(h.mcp_url(), None)
                    .request("initialize", json!({}))
                    .await
            })
        }),
        ("garbage token", |h| {
            Box::pin(async move {
                McpClient::new(h.mcp_url(), Some("not.a.jwt".into()))
                    .request("tools/list", json!({}))
                    .await
            })
        }),
        ("expired token", |h| {
            Box::pin(async move {
                let t =
                    h.dev_token_with("alice", "profile", std::time::Duration::from_secs(1), None);
                tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
                McpClient::new(h.mcp_url(), Some(t))
                    .request("tools/list", json!({}))
                    .await
            })
        }),
        ("token for another resource", |h| {
            Box::pin(async move {
                let t = h.dev_token_with(
                    "alice",
                    "profile",
                    std::time::Duration::from_secs(600),
                    Some("https://elsewhere.example/mcp".into()),
                );
                McpClient::new(h.mcp_url(), Some(t))
                    .request("tools/list", json!({}))
                    .await
            })
        }),
        ("two authorization headers", |h| {
            Box::pin(async move {
                let c = McpClient::new(h.mcp_url(), None);
                let resp = reqwest::Client::new()
                    .post(h.mcp_url())
                    .header("authorization", "Bearer a.b.c")
                    .header("authorization", "Bearer d.e.f")
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .body(json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}).to_string())
                    .send()
                    .await
                    .unwrap();
                drop(c);
                McpClient::reply(resp).await
            })
        }),
        ("tool scope step-up", |h| {
            Box::pin(async move {
                McpClient::new(h.mcp_url(), Some(h.dev_token("mallory", "news:read")))
                    .call_tool("whoami", json!({}))
                    .await
            })
        }),
        ("tool call with its scope", |h| {
            Box::pin(async move {
                let mut c = McpClient::new(h.mcp_url(), Some(h.dev_token("alice", "profile")));
                let init = c.initialize().await;
                assert_eq!(init.status, 200, "{}", init.body);
                c.call_tool("whoami", json!({})).await
            })
        }),
        ("another user's session", |h| {
            Box::pin(async move {
                let mut alice = McpClient::new(h.mcp_url(), Some(h.dev_token("alice", "profile")));
                assert_eq!(alice.initialize().await.status, 200);
                let mut bob = McpClient::new(h.mcp_url(), Some(h.dev_token("bob", "profile")));
                bob.session = alice.session.clone();
                bob.list_tools().await
            })
        }),
        ("a session id never handed out", |h| {
            Box::pin(async move {
                let mut c = McpClient::new(h.mcp_url(), Some(h.dev_token("alice", "profile")));
                c.session = Some("0123456789abcdef".into());
                c.list_tools().await
            })
        }),
        ("body over the limit", |h| {
            Box::pin(async move {
                let c = McpClient::new(h.mcp_url(), Some(h.dev_token("alice", "profile")));
                let big = "x".repeat(5 * 1024 * 1024);
                c.post_raw(
                    json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad": big}})
                        .to_string(),
                    &[],
                    false,
                )
                .await
            })
        }),
        ("disallowed Origin", |h| {
            Box::pin(async move {
                McpClient::new(h.mcp_url(), Some(h.dev_token("alice", "profile")))
                    .post_raw(
                        json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}).to_string(),
                        &[("origin", "https://evil.example")],
                        false,
                    )
                    .await
            })
        }),
        ("2026-07-28: Mcp-Name disagrees with the body", |h| {
            Box::pin(async move {
                McpClient::new(h.mcp_url(), Some(h.dev_token("alice", "profile")))
                    .post_raw(
                        modern_call(7),
                        &[
                            ("mcp-protocol-version", "2026-07-28"),
                            ("mcp-method", "tools/call"),
                            ("mcp-name", "news_sentiment"),
                        ],
                        false,
                    )
                    .await
            })
        }),
        ("2026-07-28: headers mirror the body", |h| {
            Box::pin(async move {
                McpClient::new(h.mcp_url(), Some(h.dev_token("alice", "profile")))
                    .post_raw(
                        modern_call(9),
                        &[
                            ("mcp-protocol-version", "2026-07-28"),
                            ("mcp-method", "tools/call"),
                            ("mcp-name", "whoami"),
                        ],
                        false,
                    )
                    .await
            })
        }),
        ("2026-07-28: Mcp-Method missing", |h| {
            Box::pin(async move {
                McpClient::new(h.mcp_url(), Some(h.dev_token("alice", "profile")))
                    .post_raw(
                        modern_call(8),
                        &[
                            ("mcp-protocol-version", "2026-07-28"),
                            ("mcp-name", "whoami"),
                        ],
                        false,
                    )
                    .await
            })
        }),
    ]
}

#[tokio::test]
async fn the_axum_app_answers_the_spine_as_the_poem_host_does() {
    let poem = TestHost::start_on(Front::Poem, CONFIG).await;
    let axum = TestHost::start_on(Front::Axum, CONFIG).await;
    let mut differences = Vec::new();
    for (name, probe) in probes() {
        let (a, b) = (probe(&poem).await, probe(&axum).await);
        let (a, b) = (seen(&a, &poem.url), seen(&b, &axum.url));
        if a != b {
            differences.push(format!("[{name}]\n  poem: {a:?}\n  axum: {b:?}"));
        }
        assert_ne!(a.status, 500, "[{name}] {a:?}");
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[tokio::test]
async fn spine_through_the_axum_app() {
    let host = TestHost::start_on(Front::Axum, CONFIG).await;
    let expect = |reply: &McpReply, status: u16, what: &str| {
        assert_eq!(reply.status, status, "{what}: {}", reply.body);
    };
    // No token: a bare challenge pointing at the metadata, with scopes, no error=.
    let reply = McpClient::new(host.mcp_url(), None)
        .request("initialize", json!({}))
        .await;
    expect(&reply, 401, "no token");
    let www = reply.www_authenticate().unwrap();
    assert!(
        www.contains(&format!(
            "resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
            host.url
        )) && www.contains("scope=\"news:read profile\"")
            && !www.contains("error="),
        "{www}"
    );
    // The metadata documents are public.
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let doc: Value = reqwest::get(format!("{}{path}", host.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["resource"], host.mcp_url(), "{path}: {doc}");
        assert_eq!(doc["authorization_servers"][0], format!("{}/dev", host.url));
    }
    // The full flow, stateful, with step-up for the tool's scope.
    let mut weak = McpClient::new(host.mcp_url(), Some(host.dev_token("mallory", "news:read")));
    expect(&weak.initialize().await, 200, "initialize");
    let step_up = weak.call_tool("whoami", json!({})).await;
    expect(&step_up, 403, "step-up");
    assert!(step_up
        .www_authenticate()
        .unwrap()
        .contains("error=\"insufficient_scope\", scope=\"profile\""));
    let mut alice = McpClient::new(host.mcp_url(), Some(host.dev_token("alice", "profile")));
    let init = alice.initialize().await;
    expect(&init, 200, "initialize");
    assert!(alice.session.is_some());
    let list = alice.list_tools().await;
    expect(&list, 200, "tools/list");
    assert!(list.result()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "whoami"));
    let call = alice.call_tool("whoami", json!({})).await;
    expect(&call, 200, "tools/call");
    assert_eq!(call.result()["structuredContent"]["sub"], "alice");
    // DELETE ends the session with 204; then it is gone.
    let resp = reqwest::Client::new()
        .delete(host.mcp_url())
        .bearer_auth(host.dev_token("alice", "profile"))
        .header("mcp-session-id", alice.session.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    expect(&alice.list_tools().await, 404, "ended session");
}

#[tokio::test]
async fn rest_route_behind_bearer_layer() {
    let host = TestHost::start_on(Front::Axum, CONFIG).await;
    let url = format!("{}/api/hello", host.url);
    let http = reqwest::Client::new();
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer resource_metadata="));
    let resp = http
        .get(&url)
        .bearer_auth(host.dev_token("mallory", "news:read"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "the route requires profile");
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("scope=\"profile\""));
    let resp = http
        .get(&url)
        .bearer_auth(host.dev_token("alice", "profile"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "hello alice");
}
