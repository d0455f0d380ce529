//! The spine: the bearer guard, PRM, MCP over Streamable HTTP, whoami, step-up,
//! session binding, Origin/CORS — against the real host on loopback.

use serde_json::{json, Value};
use warden_test_support::host::TestHost;
use warden_test_support::mcp::McpClient;
use warden_test_support::tokens;

const DEV: &str = r#"
[resource]
scopes_supported = ["news:read", "profile"]
[providers.dev]
kind = "dev"
[tools.news_sentiment]
enabled = false
[tools.secret]
"#;

fn dev_config() -> String {
    // `[tools.secret]` is not a real tool table; strip it (kept above only to show intent).
    DEV.replace("[tools.secret]\n", "")
}

fn assert_metadata_param(www: &str, host: &TestHost) {
    let expected = format!(
        "resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
        host.url
    );
    assert!(www.contains(&expected), "{www}");
}

#[tokio::test]
async fn no_token_is_401_with_metadata_and_scope_but_no_error() {
    let host = TestHost::start(&dev_config()).await;
    let client = McpClient::new(host.mcp_url(), None);
    let reply = client.request("initialize", json!({})).await;
    assert_eq!(reply.status, 401);
    let www = reply.www_authenticate().expect("WWW-Authenticate");
    assert!(www.starts_with("Bearer "), "{www}");
    assert_metadata_param(www, &host);
    assert!(www.contains("scope=\"news:read profile\""), "{www}");
    assert!(!www.contains("error="), "{www}");
    let body = reply.json();
    assert!(
        body["error"].is_string() && body["error_description"].is_string(),
        "{body}"
    );
    assert!(reply.content_type.starts_with("application/json"));
}

async fn status_of(host: &TestHost, token: &str) -> (u16, String, Value) {
    let client = McpClient::new(host.mcp_url(), Some(token.to_owned()));
    let reply = client
        .request(
            "initialize",
            json!({"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}),
        )
        .await;
    (
        reply.status,
        reply.www_authenticate().unwrap_or("").to_owned(),
        reply.json(),
    )
}

#[tokio::test]
async fn invalid_tokens_are_401_invalid_token() {
    let host = TestHost::start(&dev_config()).await;
    let issuer = host.app().dev.as_ref().unwrap().issuer().to_owned();
    let aud = host.mcp_url();
    let now = tokens::now();
    let good_claims = |extra: Value| {
        let mut c = json!({"iss": issuer, "aud": aud, "sub": "mallory", "exp": now + 600, "iat": now, "scope": "news:read"});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let dev = host.app().dev.as_ref().unwrap();
    let dev_key =
        jsonwebtoken::EncodingKey::from_ec_pem(&std::fs::read(dev.key_path()).unwrap()).unwrap();
    let resign = |claims: Value| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(dev.kid().to_owned());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, &claims, &dev_key).unwrap()
    };
    let foreign = tokens::TestKey::es256();
    let cases: Vec<(&str, String)> = vec![
        ("malformed", "not-a-jwt".to_owned()),
        ("three garbage parts", "aaa.bbb.ccc".to_owned()),
        (
            "bad signature (other key, same kid)",
            tokens::mint(
                &foreign,
                json!({"kid": dev.kid(), "typ": "at+jwt"}),
                good_claims(json!({})),
            ),
        ),
        (
            "expired",
            resign(good_claims(json!({"exp": now - 3600, "iat": now - 7200}))),
        ),
        (
            "not yet valid",
            resign(good_claims(json!({"nbf": now + 3600}))),
        ),
        (
            "wrong audience",
            resign(good_claims(json!({"aud": "https://other.example/mcp"}))),
        ),
        (
            "wrong issuer",
            tokens::mint(
                &foreign,
                json!({"typ": "at+jwt"}),
                good_claims(json!({"iss": "https://evil.example"})),
            ),
        ),
        ("missing exp", resign(good_claims(json!({"exp": null})))),
    ];
    for (name, token) in cases {
        let (status, www, body) = status_of(&host, &token).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert!(www.contains("error=\"invalid_token\""), "{name}: {www}");
        assert_metadata_param(&www, &host);
        assert_eq!(body["error"], "invalid_token", "{name}");
        assert!(
            !body.to_string().contains(&token),
            "{name}: body echoes the token"
        );
    }
}

#[tokio::test]
async fn missing_required_scope_is_403_insufficient_scope() {
    let host = TestHost::start(&format!(
        "{}\n",
        dev_config().replace(
            "scopes_supported = [\"news:read\", \"profile\"]",
            "scopes_supported = [\"news:read\", \"profile\"]\nrequired_scopes = [\"profile\"]",
        )
    ))
    .await;
    let token = host.dev_token("alice", "news:read");
    let (status, www, body) = status_of(&host, &token).await;
    assert_eq!(status, 403, "{body}");
    assert!(www.contains("error=\"insufficient_scope\""), "{www}");
    assert!(www.contains("scope=\"profile\""), "{www}");
    assert_eq!(body["error"], "insufficient_scope");
    let ok = host.dev_token("alice", "profile");
    assert_eq!(status_of(&host, &ok).await.0, 200);
}

#[tokio::test]
async fn protected_resource_metadata_at_both_paths() {
    let host = TestHost::start(&dev_config()).await;
    let http = reqwest::Client::new();
    for (path, resource) in [
        (
            "/.well-known/oauth-protected-resource/mcp",
            format!("{}/mcp", host.url),
        ),
        ("/.well-known/oauth-protected-resource", host.url.clone()),
    ] {
        let resp = http
            .get(format!("{}{path}", host.url))
            .header("origin", "http://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["access-control-allow-origin"], "*");
        let doc: Value = resp.json().await.unwrap();
        assert_eq!(doc["resource"], resource.as_str(), "{path}");
        assert_eq!(
            doc["authorization_servers"],
            json!([format!("{}/dev", host.url)])
        );
        assert_eq!(doc["scopes_supported"], json!(["news:read", "profile"]));
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
        assert_eq!(doc["resource_name"], "warden");
    }
    let as_meta: Value = http
        .get(format!(
            "{}/.well-known/oauth-authorization-server/dev",
            host.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(as_meta["issuer"], format!("{}/dev", host.url));
}

async fn full_flow(stateless: bool, accept: &str) {
    let cfg = format!("{}\n[server]\nstateless = {stateless}\n", dev_config());
    let host = TestHost::start(&cfg).await;
    let token = host.dev_token("alice", "news:read profile");
    let mut client = McpClient::new(host.mcp_url(), Some(token));
    client.accept = accept.to_owned();
    let init = client.initialize().await;
    assert_eq!(init.status, 200, "{}", init.body);
    assert_eq!(init.result()["serverInfo"]["name"], "warden");
    if stateless {
        assert!(
            init.content_type.starts_with("application/json"),
            "{}",
            init.content_type
        );
        assert!(client.session.is_none());
    } else {
        assert!(
            client.session.is_some(),
            "stateful mode issues a session id"
        );
        assert!(
            init.content_type.starts_with("text/event-stream"),
            "stateful answers are SSE: {}",
            init.content_type
        );
    }
    let list = client.list_tools().await;
    assert_eq!(list.status, 200, "{}", list.body);
    let tools = list.result()["tools"].as_array().unwrap().clone();
    let whoami = tools
        .iter()
        .find(|t| t["name"] == "whoami")
        .expect("whoami listed");
    assert!(
        whoami["_meta"]["io.warden/requiredScopes"].is_array(),
        "{whoami}"
    );
    let call = client.call_tool("whoami", json!({})).await;
    assert_eq!(call.status, 200, "{}", call.body);
    let result = call.result();
    let sc = &result["structuredContent"];
    assert_eq!(sc["sub"], "alice", "{result}");
    assert_eq!(sc["issuer"], format!("{}/dev", host.url));
    assert_eq!(sc["scopes"], json!(["news:read", "profile"]));
    assert!(sc["expires_at"].is_number());
    assert!(sc["client_id"].is_string());
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("alice"), "{text}");
}

#[tokio::test]
async fn full_flow_stateful_sse() {
    full_flow(false, "application/json, text/event-stream").await;
}

#[tokio::test]
async fn full_flow_stateless_json() {
    full_flow(true, "application/json, text/event-stream").await;
}

#[tokio::test]
async fn lenient_accept_headers() {
    full_flow(true, "application/json").await;
    full_flow(false, "*/*").await;
}

#[tokio::test]
async fn trailing_slash_works_without_redirect() {
    let host = TestHost::start(&dev_config()).await;
    let token = host.dev_token("alice", "profile");
    let mut client = McpClient::new(format!("{}/", host.mcp_url()), Some(token));
    let init = client.initialize().await;
    assert_eq!(init.status, 200, "{}", init.body);
    assert_eq!(client.list_tools().await.status, 200);
}

#[tokio::test]
async fn tool_scopes_step_up_with_403() {
    let cfg = format!(
        "{}\n[tools.whoami]\nrequired_scopes = [\"profile\"]\n",
        dev_config()
    );
    let host = TestHost::start(&cfg).await;
    let mut weak = McpClient::new(host.mcp_url(), Some(host.dev_token("alice", "news:read")));
    assert_eq!(weak.initialize().await.status, 200);
    // tools/list shows every tool with its scopes, so clients can step up.
    let list = weak.list_tools().await;
    let names: Vec<_> = list.result()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert!(names.contains(&json!("whoami")));
    let call = weak.call_tool("whoami", json!({})).await;
    assert_eq!(call.status, 403, "{}", call.body);
    let www = call.www_authenticate().unwrap();
    assert!(
        www.contains("error=\"insufficient_scope\"") && www.contains("scope=\"profile\""),
        "{www}"
    );
    // Step up: a token with the scope succeeds.
    let mut strong = McpClient::new(
        host.mcp_url(),
        Some(host.dev_token("alice", "news:read profile")),
    );
    strong.initialize().await;
    assert_eq!(strong.call_tool("whoami", json!({})).await.status, 200);
}

#[tokio::test]
async fn list_tools_authorized_mode_hides_uncallable_tools() {
    let cfg = format!(
        "{}\n[tools.whoami]\nrequired_scopes = [\"profile\"]\n",
        dev_config().replace("[resource]\n", "[resource]\nlist_tools = \"authorized\"\n")
    );
    let host = TestHost::start(&cfg).await;
    let mut weak = McpClient::new(host.mcp_url(), Some(host.dev_token("alice", "news:read")));
    weak.initialize().await;
    let tools = weak.list_tools().await.result()["tools"].clone();
    assert!(
        !tools
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "whoami"),
        "{tools}"
    );
    let mut strong = McpClient::new(host.mcp_url(), Some(host.dev_token("alice", "profile")));
    strong.initialize().await;
    let tools = strong.list_tools().await.result()["tools"].clone();
    assert!(
        tools
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "whoami"),
        "{tools}"
    );
}

#[tokio::test]
async fn sessions_are_bound_to_their_user() {
    let host = TestHost::start(&dev_config()).await;
    let mut alice = McpClient::new(host.mcp_url(), Some(host.dev_token("alice", "profile")));
    assert_eq!(alice.initialize().await.status, 200);
    let mut bob = alice.clone().with_token(host.dev_token("bob", "profile"));
    bob.session = alice.session.clone();
    let hijack = bob.call_tool("whoami", json!({})).await;
    assert!(
        hijack.status == 403 || hijack.status == 404,
        "{} {}",
        hijack.status,
        hijack.body
    );
    assert!(!hijack.body.contains("alice") && !hijack.body.contains("\"bob\""));
    // Alice's own session keeps working, with a fresh token too.
    let alice2 = alice.clone().with_token(host.dev_token("alice", "profile"));
    let mine = alice2.call_tool("whoami", json!({})).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.result()["structuredContent"]["sub"], "alice");
}

#[tokio::test]
async fn delete_ends_the_session_with_204() {
    let host = TestHost::start(&dev_config()).await;
    let alice_token = host.dev_token("alice", "profile");
    let mut alice = McpClient::new(host.mcp_url(), Some(alice_token.clone()));
    assert_eq!(alice.initialize().await.status, 200);
    let sid = alice.session.clone().expect("session id");
    let delete = |token: String| {
        let (url, sid) = (host.mcp_url(), sid.clone());
        async move {
            reqwest::Client::new()
                .delete(url)
                .bearer_auth(token)
                .header("mcp-session-id", sid)
                .header("mcp-protocol-version", "2025-11-25")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let mut second = McpClient::new(host.mcp_url(), Some(alice_token.clone()));
    assert_eq!(second.initialize().await.status, 200);
    assert_eq!(host.app().active_sessions().await, 2);
    // Another user cannot end alice's session.
    assert_eq!(delete(host.dev_token("bob", "profile")).await, 403);
    assert_eq!(delete(alice_token).await, 204);
    // The session is gone, and no longer counted.
    let after = alice.call_tool("whoami", json!({})).await;
    assert_eq!(after.status, 404, "{}", after.body);
    assert_eq!(host.app().active_sessions().await, 1);
}

#[tokio::test]
async fn a_session_id_warden_did_not_hand_out_is_404() {
    let host = TestHost::start(&dev_config()).await;
    let mut client = McpClient::new(host.mcp_url(), Some(host.dev_token("alice", "profile")));
    client.session = Some("00000000-0000-4000-8000-000000000000".into());
    let reply = client.call_tool("whoami", json!({})).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert_eq!(reply.json()["error"], "session_not_found");
}

#[tokio::test]
async fn origin_validation_and_cors() {
    let host = TestHost::start(&dev_config()).await;
    let http = reqwest::Client::new();
    let token = host.dev_token("alice", "profile");
    let evil = http
        .post(host.mcp_url())
        .bearer_auth(&token)
        .header("origin", "http://evil.example")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let body: Value = evil.json().await.unwrap();
    assert_eq!(body["error"], "forbidden");

    let preflight = http
        .request(reqwest::Method::OPTIONS, host.mcp_url())
        .header("origin", "http://localhost:6274")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let allow = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "authorization",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
        "last-event-id",
    ] {
        assert!(allow.contains(h), "{allow}");
    }
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://localhost:6274"
    );

    // The 401 carries CORS headers that expose WWW-Authenticate.
    let unauth = http
        .post(host.mcp_url())
        .header("origin", "http://localhost:6274")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status(), 401);
    let expose = unauth.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        expose.contains("www-authenticate") && expose.contains("mcp-session-id"),
        "{expose}"
    );
    assert_eq!(
        unauth.headers()["access-control-allow-origin"],
        "http://localhost:6274"
    );
}

/// `[server] allowed_origins` / `allowed_hosts` extend what the MCP endpoint
/// accepts; `[resource] documentation_url` reaches the metadata.
#[tokio::test]
async fn configured_origins_hosts_and_documentation() {
    let cfg = format!(
        "{}\n[server]\nallowed_origins = [\"https://app.example\"]\nallowed_hosts = [\"mcp.internal\"]\n[resource]\ndocumentation_url = \"https://docs.example/warden\"\n",
        dev_config().replace("[resource]\nscopes_supported = [\"news:read\", \"profile\"]\n", "")
    );
    let host = TestHost::start(&cfg).await;
    let token = host.dev_token("alice", "profile");
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let post = |origin: Option<&str>, host_header: Option<&str>| {
        let mut req = reqwest::Client::new()
            .post(host.mcp_url())
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(init.to_string());
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(h) = host_header {
            req = req.header("host", h);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(Some("https://app.example"), None).await, 200);
    assert_eq!(post(Some("https://other.example"), None).await, 403);
    assert_eq!(post(None, Some("mcp.internal")).await, 200);
    let foreign_host = post(None, Some("evil.example")).await;
    assert!(foreign_host == 403 || foreign_host == 421, "{foreign_host}");

    let prm: Value = reqwest::get(format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        host.url
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(prm["resource_documentation"], "https://docs.example/warden");
}

#[tokio::test]
async fn admin_listener_can_be_disabled() {
    let host = TestHost::start(&format!("{}\n[admin]\nenabled = false\n", dev_config())).await;
    assert!(host.running.as_ref().unwrap().admin_addr.is_none());
    // The MCP side is unaffected.
    let mut client = McpClient::new(host.mcp_url(), Some(host.dev_token("alice", "profile")));
    assert_eq!(client.initialize().await.status, 200);
}
