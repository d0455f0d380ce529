//! At the HTTP level: the legacy HTTP+SSE transport
//! (2024-11-05) behind the same guard, and the AS-metadata mirror on the MCP origin.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use warden_test_support::host::TestHost;

struct SseStream {
    events: std::pin::Pin<Box<dyn futures::Stream<Item = (String, String)> + Send>>,
}

impl SseStream {
    async fn open(url: &str, token: &str) -> (u16, Option<SseStream>) {
        let resp = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        if status != 200 {
            return (status, None);
        }
        let events =
            futures::stream::unfold((resp, String::new()), |(mut resp, mut buf)| async move {
                loop {
                    if let Some(end) = buf.find("\n\n") {
                        let block: String = buf.drain(..end + 2).collect();
                        let mut event = "message".to_owned();
                        let mut data = String::new();
                        for line in block.lines() {
                            if let Some(e) = line.strip_prefix("event:") {
                                event = e.trim().to_owned();
                            } else if let Some(d) = line.strip_prefix("data:") {
                                data.push_str(d.trim_start());
                            }
                        }
                        if data.is_empty() {
                            continue;
                        }
                        return Some(((event, data), (resp, buf)));
                    }
                    match resp.chunk().await {
                        Ok(Some(chunk)) => buf.push_str(&String::from_utf8_lossy(&chunk)),
                        _ => return None,
                    }
                }
            });
        (
            status,
            Some(SseStream {
                events: Box::pin(events),
            }),
        )
    }

    async fn next(&mut self) -> (String, String) {
        tokio::time::timeout(Duration::from_secs(10), self.events.next())
            .await
            .expect("event within 10 s")
            .expect("stream open")
    }
}

async fn post(url: &str, token: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn legacy_sse_transport_behind_the_guard() {
    let host = TestHost::start(
        "[providers.dev]\nkind = \"dev\"\n[tools.whoami]\nrequired_scopes = [\"profile\"]\n[tools.news_sentiment]\nenabled = false\n",
    )
    .await;
    // No token: 401 with the challenge.
    let anon = reqwest::Client::new()
        .get(format!("{}/sse", host.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    assert!(anon.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("resource_metadata="));

    let alice = host.dev_token("alice", "profile");
    let (status, stream) = SseStream::open(&format!("{}/sse", host.url), &alice).await;
    assert_eq!(status, 200);
    let mut stream = stream.unwrap();
    let (event, endpoint) = stream.next().await;
    assert_eq!(event, "endpoint");
    assert!(endpoint.starts_with("/messages?sessionId="), "{endpoint}");
    let messages = format!("{}{endpoint}", host.url);

    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"legacy","version":"0"}}});
    assert_eq!(post(&messages, &alice, init).await.status(), 202);
    let (event, data) = stream.next().await;
    assert_eq!(event, "message");
    let reply: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(reply["id"], 1);
    assert_eq!(reply["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(
        post(
            &messages,
            &alice,
            json!({"jsonrpc":"2.0","method":"notifications/initialized"})
        )
        .await
        .status(),
        202
    );

    let call = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}});
    assert_eq!(post(&messages, &alice, call.clone()).await.status(), 202);
    let (_, data) = stream.next().await;
    let reply: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(reply["id"], 2);
    assert_eq!(
        reply["result"]["structuredContent"]["sub"], "alice",
        "{reply}"
    );

    // Bob's valid token on alice's session: refused.
    let bob = host.dev_token("bob", "profile");
    assert_eq!(post(&messages, &bob, call.clone()).await.status(), 403);
    // A token without the tool's scope: HTTP 403 step-up challenge.
    let weak = host.dev_token("alice", "news:read");
    let denied = post(&messages, &weak, call.clone()).await;
    assert_eq!(denied.status(), 403);
    assert!(denied.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("scope=\"profile\""));
    // Invalid token on the messages endpoint: 401.
    assert_eq!(post(&messages, "garbage", call.clone()).await.status(), 401);
    // Unknown session: 404.
    let unknown = format!("{}/messages?sessionId=nope", host.url);
    assert_eq!(post(&unknown, &alice, call).await.status(), 404);
}

#[tokio::test]
async fn as_metadata_mirror_on_the_mcp_origin() {
    let host = TestHost::start("[providers.dev]\nkind = \"dev\"\n").await;
    let http = reqwest::Client::new();
    let mirror: Value = http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            host.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        mirror["issuer"],
        format!("{}/dev", host.url),
        "issuer unchanged"
    );
    let token_endpoint = mirror["token_endpoint"].as_str().unwrap().to_owned();
    // A 2025-03-26 client that only knows this path gets a token and uses it.
    let token: Value = http
        .post(&token_endpoint)
        .basic_auth("warden-dev-client", Some("warden-dev-secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "profile"),
            ("resource", &host.mcp_url()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().expect("access token");
    let mut client =
        warden_test_support::mcp::McpClient::new(host.mcp_url(), Some(access.to_owned()));
    client.protocol_version = "2025-03-26".into();
    assert_eq!(client.initialize().await.status, 200);
    assert_eq!(client.call_tool("whoami", json!({})).await.status, 200);
}

#[tokio::test]
async fn as_metadata_mirror_of_a_remote_provider() {
    let idp = warden_test_support::idp::FakeIdp::start().await;
    let host = TestHost::start(&format!(
        "[auth]\nproviders = [\"corp\"]\n[providers.corp]\nkind = \"jwt\"\nissuer = \"{}\"\n",
        idp.issuer()
    ))
    .await;
    let mirror: Value = reqwest::get(format!(
        "{}/.well-known/oauth-authorization-server",
        host.url
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(mirror["issuer"], idp.issuer());
    assert_eq!(mirror["jwks_uri"], idp.jwks_url());
}

/// SSE clients that discover auth from `GET /sse` (TypeScript SDK `SSEClientTransport`
/// with an auth provider, Inspector `--transport sse`) check that the metadata they are
/// pointed at names the URL they connected to, then ask for a token for it.
#[tokio::test]
async fn legacy_sse_is_its_own_protected_resource() {
    let host = TestHost::start(
        "[providers.dev]\nkind = \"dev\"\n[tools.news_sentiment]\nenabled = false\n",
    )
    .await;
    let client = reqwest::Client::new();
    let sse_url = format!("{}/sse", host.url);
    let prm_url = format!("{}/.well-known/oauth-protected-resource/sse", host.url);
    for (method, url) in [
        ("GET", sse_url.clone()),
        ("POST", format!("{}/messages?sessionId=x", host.url)),
    ] {
        let anon = client
            .request(method.parse().unwrap(), &url)
            .send()
            .await
            .unwrap();
        assert_eq!(anon.status(), 401, "{method} {url}");
        let challenge = anon.headers()["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.contains(&format!("resource_metadata=\"{prm_url}\"")),
            "{method} {url}: {challenge}"
        );
    }
    // The streamable endpoint keeps pointing at its own document.
    let mcp = client.post(host.mcp_url()).send().await.unwrap();
    let challenge = mcp.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("/.well-known/oauth-protected-resource/mcp\""),
        "{challenge}"
    );

    let prm: Value = client
        .get(&prm_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["resource"], sse_url.as_str(), "{prm}");
    assert!(prm["authorization_servers"][0].is_string(), "{prm}");

    // A token issued for the SSE resource opens the stream.
    let token = host.dev_token_with(
        "alice",
        "profile",
        Duration::from_secs(600),
        Some(sse_url.clone()),
    );
    let (status, stream) = SseStream::open(&sse_url, &token).await;
    assert_eq!(status, 200);
    let (event, _) = stream.unwrap().next().await;
    assert_eq!(event, "endpoint");
    // Another server's audience still does not.
    let foreign = host.dev_token_with(
        "alice",
        "profile",
        Duration::from_secs(600),
        Some("http://elsewhere.example/sse".into()),
    );
    assert_eq!(SseStream::open(&sse_url, &foreign).await.0, 401);
}
