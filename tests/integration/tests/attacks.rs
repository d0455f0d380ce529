//! The attack corpus. Every known JWT/OAuth bearer attack is
//! sent to the real host over loopback and must get its expected status
//! (401/403/400) with the right `WWW-Authenticate` kind, never 200 and never
//! 5xx. Cases are named; every failure names its case.
//!
//! Every case runs against both HTTP fronts: warden's own poem host and the
//! axum embedding example (`crates/warden-tower/examples/axum.rs`) serving the
//! same configuration.
//!
//! Providers under attack: `kind = "jwt"` on a [`FakeIdp`] (RS256 + ES256,
//! `require_typ = "at+jwt"`), the embedded dev issuer, and an RFC 7662
//! introspection provider. The resource requires `news:read` with wildcard
//! scopes off, so scope smuggling is visible on every request.

#[path = "attacks/cases_jwt.rs"]
mod cases_jwt;
#[path = "attacks/cases_other.rs"]
mod cases_other;

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use warden_test_support::host::{Front, TestHost};
use warden_test_support::idp::{FakeIdp, Trap};
use warden_test_support::tokens::TestKey;

/// What a case must get back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// 401 with `error="invalid_token"`.
    InvalidToken,
    /// 401 without `error=` (no token was presented, RFC 6750 §3.1).
    NoToken,
    /// 403 `error="insufficient_scope"` naming `news:read`.
    InsufficientScope,
    /// 400 `error="invalid_request"`.
    BadRequest,
    /// 200: the control cases (e.g. lowercase `bearer`).
    Accepted,
}

/// One named request against the MCP endpoint.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub headers: Vec<(String, String)>,
    pub query: Option<String>,
    /// `(content-type, body)`; default: a JSON-RPC `initialize`.
    pub body: Option<(String, String)>,
    pub expect: Expect,
    /// Strings that must not be echoed back (the token).
    pub secret: Option<String>,
}

impl Case {
    /// `Authorization: Bearer <token>`.
    pub fn bearer(name: impl Into<String>, token: impl Into<String>, expect: Expect) -> Case {
        let token = token.into();
        Case::header(name, &format!("Bearer {token}"), expect).with_secret(token)
    }

    /// `Authorization: <value>` verbatim.
    pub fn header(name: impl Into<String>, value: &str, expect: Expect) -> Case {
        Case {
            name: name.into(),
            headers: vec![("authorization".into(), value.into())],
            query: None,
            body: None,
            expect,
            secret: None,
        }
    }

    /// No header at all (add what you need).
    pub fn bare(name: impl Into<String>, expect: Expect) -> Case {
        Case {
            name: name.into(),
            headers: Vec::new(),
            query: None,
            body: None,
            expect,
            secret: None,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Case {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn with_query(mut self, query: &str) -> Case {
        self.query = Some(query.into());
        self
    }

    pub fn with_body(mut self, content_type: &str, body: &str) -> Case {
        self.body = Some((content_type.into(), body.into()));
        self
    }

    pub fn with_secret(mut self, secret: impl Into<String>) -> Case {
        let secret = secret.into();
        if secret.len() >= 8 {
            self.secret = Some(secret);
        }
        self
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn www(&self) -> &str {
        self.headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn initialize_body() -> String {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "attacker", "version": "0"}}
    })
    .to_string()
}

/// Sends `case` to `mcp_url`.
pub async fn send(http: &reqwest::Client, mcp_url: &str, case: &Case) -> Reply {
    let url = match &case.query {
        Some(q) => format!("{mcp_url}?{q}"),
        None => mcp_url.to_owned(),
    };
    let (content_type, body) = case
        .body
        .clone()
        .unwrap_or_else(|| ("application/json".into(), initialize_body()));
    let mut req = http
        .post(url)
        .header("content-type", content_type)
        .header("accept", "application/json, text/event-stream")
        .body(body);
    for (name, value) in &case.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let resp = req.send().await.expect("request reaches warden");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// Checks one reply against its case; `None` when it is right.
pub fn verdict(case: &Case, reply: &Reply, host_url: &str) -> Option<String> {
    let name = &case.name;
    let www = reply.www();
    let problem = |what: String| {
        Some(format!(
            "[{name}] {what}; status {} WWW-Authenticate {www:?} body {}",
            reply.status, reply.body
        ))
    };
    if reply.status >= 500 {
        return problem("5xx for an attack".into());
    }
    if let Some(secret) = &case.secret {
        let headers = format!("{:?}", reply.headers);
        if reply.body.contains(secret.as_str()) || headers.contains(secret.as_str()) {
            return problem("the answer echoes the token".into());
        }
    }
    let metadata =
        format!("resource_metadata=\"{host_url}/.well-known/oauth-protected-resource/mcp\"");
    let error_code = serde_json::from_str::<Value>(&reply.body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_default();
    match case.expect {
        Expect::Accepted => {
            if reply.status != 200 {
                return problem("expected 200".into());
            }
        }
        _ if reply.status == 200 => return problem("ACCEPTED an attack (200)".into()),
        Expect::InvalidToken => {
            if reply.status != 401 {
                return problem("expected 401 invalid_token".into());
            }
            if !www.starts_with("Bearer ") || !www.contains("error=\"invalid_token\"") {
                return problem("expected a Bearer error=\"invalid_token\" challenge".into());
            }
            if !www.contains(&metadata) {
                return problem("challenge lacks resource_metadata".into());
            }
            if error_code != "invalid_token" {
                return problem("body error is not invalid_token".into());
            }
        }
        Expect::NoToken => {
            if reply.status != 401 {
                return problem("expected 401 without error=".into());
            }
            if !www.starts_with("Bearer ") || www.contains("error=") || !www.contains(&metadata) {
                return problem("expected a bare Bearer challenge with resource_metadata".into());
            }
        }
        Expect::InsufficientScope => {
            if reply.status != 403 {
                return problem("expected 403 insufficient_scope".into());
            }
            if !www.contains("error=\"insufficient_scope\"") || !www.contains("scope=\"news:read\"")
            {
                return problem(
                    "expected error=\"insufficient_scope\", scope=\"news:read\"".into(),
                );
            }
        }
        Expect::BadRequest => {
            if reply.status != 400 {
                return problem("expected 400 invalid_request".into());
            }
            if error_code != "invalid_request" {
                return problem("body error is not invalid_request".into());
            }
            if !www.is_empty() && !www.contains("error=\"invalid_request\"") {
                return problem("400 challenge is not invalid_request".into());
            }
        }
    }
    None
}

/// Runs every case in order and panics once, listing every failed case.
pub async fn run_cases(host: &TestHost, cases: &[Case]) {
    let http = reqwest::Client::new();
    let mcp = host.mcp_url();
    let mut failures = Vec::new();
    for case in cases {
        let reply = send(&http, &mcp, case).await;
        if let Some(failure) = verdict(case, &reply, &host.url) {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} attack cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Polls until `token` is accepted (keys fetched, provider ready), bounded.
pub async fn wait_accepted(host: &TestHost, token: &str) {
    let http = reqwest::Client::new();
    let case = Case::bearer("readiness", token, Expect::Accepted);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = send(&http, &host.mcp_url(), &case).await;
        if reply.status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "a valid token is still refused: {} {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The host under attack: jwt `corp` (require_typ at+jwt), `dev`, introspection `intro`.
pub fn config(idp: &FakeIdp) -> String {
    format!(
        r#"
[server]
stateless = true
[resource]
required_scopes = ["news:read"]
wildcard_scopes = false
[auth]
providers = ["corp", "dev", "intro"]
[providers.corp]
kind = "jwt"
issuer = "{issuer}"
jwks_url = "{jwks}"
require_typ = "at+jwt"
[providers.dev]
kind = "dev"
[providers.intro]
kind = "introspection"
introspection_url = "{introspect}"
issuer = "{issuer}"
client_id = "{client_id}"
client_secret = "{client_secret}"
[tools.news_sentiment]
enabled = false
"#,
        issuer = idp.issuer(),
        jwks = idp.jwks_url(),
        introspect = idp.introspection_url(),
        client_id = idp.client_id(),
        client_secret = idp.client_secret(),
    )
}

async fn idp() -> FakeIdp {
    FakeIdp::builder()
        .algs([
            jsonwebtoken::Algorithm::RS256,
            jsonwebtoken::Algorithm::ES256,
        ])
        .start()
        .await
}

#[tokio::test]
async fn jwt_provider_refuses_every_jwt_attack() {
    let idp = idp().await;
    for front in Front::ALL {
        let host = TestHost::start_on(front, &config(&idp)).await;
        let mcp = host.mcp_url();
        wait_accepted(&host, &idp.access_token(mcp.as_str(), "alice", "news:read")).await;
        let cases = cases_jwt::jwt_cases(&idp, &mcp);
        assert!(cases.len() >= 50, "corpus shrank to {}", cases.len());
        run_cases(&host, &cases).await;
    }
}

#[tokio::test]
async fn jku_x5u_and_embedded_jwk_headers_are_never_fetched() {
    let idp = idp().await;
    let trap = Trap::start().await;
    let host = TestHost::start(&config(&idp)).await;
    let mcp = host.mcp_url();
    wait_accepted(&host, &idp.access_token(mcp.as_str(), "alice", "news:read")).await;
    let attacker = TestKey::es256();
    // The trap serves the attacker's key, so fetching it would be exploitable.
    trap.serve_json(json!({ "keys": [attacker.public_jwk()] }));
    let cases = cases_jwt::key_header_cases(&idp, &mcp, &trap, &attacker);
    run_cases(&host, &cases).await;
    assert_eq!(
        trap.hits(),
        0,
        "warden fetched attacker-supplied key URLs: {:?}",
        trap.requests()
    );
}

#[tokio::test]
async fn huge_tokens_are_rejected_before_any_crypto_or_fetch() {
    let idp = idp().await;
    for front in Front::ALL {
        let host = TestHost::start_on(front, &config(&idp)).await;
        let mcp = host.mcp_url();
        wait_accepted(&host, &idp.access_token(mcp.as_str(), "alice", "news:read")).await;
        let before = idp.counts();
        let cases = cases_jwt::huge_token_cases(&idp, &mcp);
        run_cases(&host, &cases).await;
        let after = idp.counts();
        assert_eq!(after.jwks, before.jwks, "a huge token caused a JWKS fetch");
        assert_eq!(
            after.introspection, before.introspection,
            "a huge token was sent to introspection"
        );
        assert_eq!(
            after.total(),
            before.total(),
            "a huge token reached the IdP"
        );
    }
}

#[tokio::test]
async fn dev_provider_refuses_forgeries() {
    let idp = idp().await;
    for front in Front::ALL {
        let host = TestHost::start_on(front, &config(&idp)).await;
        wait_accepted(&host, &host.dev_token("alice", "news:read")).await;
        run_cases(&host, &cases_other::dev_cases(&host)).await;
    }
}

#[tokio::test]
async fn introspection_provider_refuses_non_access_and_foreign_tokens() {
    let idp = idp().await;
    for front in Front::ALL {
        let host = TestHost::start_on(front, &config(&idp)).await;
        let cases = cases_other::introspection_cases(&idp, &host.mcp_url());
        run_cases(&host, &cases).await;
    }
}

#[tokio::test]
async fn transport_attacks_header_query_cookie_body() {
    let idp = idp().await;
    for front in Front::ALL {
        let host = TestHost::start_on(front, &config(&idp)).await;
        let valid = host.dev_token("alice", "news:read");
        wait_accepted(&host, &valid).await;
        run_cases(&host, &cases_other::transport_cases(&valid)).await;
    }
}

#[tokio::test]
async fn tokens_replayed_to_a_host_without_their_provider() {
    // Host A trusts IdP A (and its own dev issuer); host B trusts only IdP B
    // and its own dev issuer. A's tokens, minted for B's audience, must fail at B.
    let idp_a = FakeIdp::builder()
        .algs([jsonwebtoken::Algorithm::ES256])
        .start()
        .await;
    let idp_b = idp().await;
    let host_a = TestHost::start(&config(&idp_a)).await;
    let host_b = TestHost::start(&config(&idp_b)).await;
    let mcp_b = host_b.mcp_url();
    wait_accepted(
        &host_b,
        &idp_b.access_token(mcp_b.as_str(), "alice", "news:read"),
    )
    .await;
    let cases = cases_other::replay_cases(&idp_a, &idp_b, &host_a, &host_b);
    run_cases(&host_b, &cases).await;
}

#[tokio::test]
async fn per_tool_scopes_cannot_be_smuggled_past_the_body_peek() {
    let idp = idp().await;
    let cfg = config(&idp).replace(
        "[tools.news_sentiment]",
        "[tools.whoami]\nrequired_scopes = [\"profile\"]\n[tools.news_sentiment]",
    );
    for front in Front::ALL {
        let host = TestHost::start_on(front, &cfg).await;
        let weak = host.dev_token("mallory", "news:read");
        wait_accepted(&host, &weak).await;
        let http = reqwest::Client::new();
        // Control: with the scope, the same stateless request shape runs the tool,
        // so a smuggled body that is merely "not understood" cannot pass as refused.
        let strong = host.dev_token("alice", "news:read profile");
        let control = Case::bearer("control", strong.as_str(), Expect::Accepted)
            .with_body("application/json", &cases_other::smuggled_tool_calls()[0].1);
        let reply = send(&http, &host.mcp_url(), &control).await;
        assert!(
            reply.status == 200 && reply.body.contains("alice"),
            "control tools/call did not run whoami: {} {}",
            reply.status,
            reply.body
        );
        let mut failures = Vec::new();
        for (name, body) in cases_other::smuggled_tool_calls() {
            let case = Case::bearer(name.as_str(), weak.as_str(), Expect::InsufficientScope)
                .with_body("application/json", &body);
            let reply = send(&http, &host.mcp_url(), &case).await;
            let parsed: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
            let ran = reply.body.contains("mallory")
                || parsed["result"]["structuredContent"].is_object()
                || parsed.as_array().is_some_and(|items| {
                    items
                        .iter()
                        .any(|m| m["result"]["structuredContent"].is_object())
                });
            if ran || reply.status >= 500 {
                failures.push(format!(
                    "[{name}] whoami ran without its scope (or 5xx): {} {}",
                    reply.status, reply.body
                ));
            }
        }
        assert!(failures.is_empty(), "{front:?}: {}", failures.join("\n"));
    }
}

/// A JSON object with `base`'s members, where `overrides` members replace
/// them and `null` members remove them.
pub fn merged(base: &Value, overrides: Value) -> Value {
    let mut out = base.clone();
    if let (Some(map), Value::Object(over)) = (out.as_object_mut(), overrides) {
        for (k, v) in over {
            if v.is_null() {
                map.remove(&k);
            } else {
                map.insert(k, v);
            }
        }
    }
    out
}

/// Fuzzing regression (`fuzz/regressions/mcp_peek/invalid-utf8-in-ignored-member`):
/// the MCP body peek skips ignored members without validating UTF-8, so it
/// sees a `tools/call` that a strict parser refuses. That direction must fail
/// safe: the tool's scope check still runs (403), nothing executes.
#[tokio::test]
async fn invalid_utf8_in_an_ignored_member_still_gets_the_tool_scope_check() {
    let body: &[u8] = b"{\"x\":\"\xff\xfe\",\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}";
    assert_eq!(
        warden_core::mcp_peek::peek_call(body),
        warden_core::mcp_peek::McpCall::ToolCall("whoami".into())
    );
    assert!(serde_json::from_slice::<Value>(body).is_err());
    let idp = idp().await;
    let cfg = config(&idp).replace(
        "[tools.news_sentiment]",
        "[tools.whoami]\nrequired_scopes = [\"profile\"]\n[tools.news_sentiment]",
    );
    let host = TestHost::start(&cfg).await;
    for (token, expect) in [
        (host.dev_token("mallory", "news:read"), 403),
        (host.dev_token("alice", "news:read profile"), 0),
    ] {
        let reply = reqwest::Client::new()
            .post(host.mcp_url())
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        let text = reply.text().await.unwrap_or_default();
        assert!(status < 500, "{status} {text}");
        if expect == 403 {
            assert_eq!(status, 403, "{text}");
        }
        assert!(!text.contains("mallory"), "whoami ran: {text}");
    }
}

#[path = "attacks/peek_properties.rs"]
mod peek_properties;
