//! The stateless fast path against rmcp: the same corpus of requests goes to a
//! host with `[server] fast_path = true` and to one with `fast_path = false`
//! (everything through rmcp), both verifying the same IdP's tokens. Every
//! answer must be identical — status, `content-type`, every `mcp-*` header
//! and the body byte for byte — and each case must have been answered by the
//! lane it names (the fast host's answer counter), so the parity is not
//! vacuous.

use std::sync::atomic::Ordering;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};
use warden_test_support::alphavantage::{FakeAlphaVantage, Mode};
use warden_test_support::host::TestHost;
use warden_test_support::idp::FakeIdp;

const PUBLIC_URL: &str = "http://mcp.parity.test";
const MODERN: &str = "2026-07-28";

fn config(idp: &FakeIdp, av: &FakeAlphaVantage, fast_path: bool, list_tools: &str) -> String {
    format!(
        r#"
[server]
stateless = true
public_url = "{PUBLIC_URL}"
fast_path = {fast_path}
[resource]
list_tools = "{list_tools}"
[auth]
providers = ["corp"]
[providers.corp]
kind = "jwt"
issuer = "{issuer}"
jwks_url = "{jwks}"
[tools.whoami]
required_scopes = ["profile"]
[tools.news_sentiment]
base_url = "{av}"
api_key = "PARITY-AV-KEY"
retry_backoff = "10ms"
timeout = "2s"
"#,
        issuer = idp.issuer(),
        jwks = idp.jwks_url(),
        av = av.url(),
    )
}

/// Which path must answer a case on the fast host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Fast,
    Rmcp,
}

struct Case {
    name: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    lane: Lane,
    /// Set the fake Alpha Vantage's mode before sending.
    av: Option<Mode>,
}

impl Case {
    fn new(name: &'static str, lane: Lane, body: impl Into<Vec<u8>>) -> Self {
        Self {
            name,
            headers: vec![
                ("content-type", "application/json".into()),
                ("accept", "application/json, text/event-stream".into()),
            ],
            body: body.into(),
            lane,
            av: None,
        }
    }

    fn json(name: &'static str, lane: Lane, body: Value) -> Self {
        Self::new(name, lane, body.to_string())
    }

    /// A 2026-07-28 request: version header, `Mcp-Method` (and `Mcp-Name`
    /// for a call) matching the body.
    fn modern(name: &'static str, lane: Lane, body: Value) -> Self {
        let method = body["method"].as_str().unwrap_or_default().to_owned();
        let tool = body["params"]["name"].as_str().map(str::to_owned);
        let mut case = Self::json(name, lane, body)
            .header("mcp-protocol-version", MODERN)
            .header("mcp-method", &method);
        if let Some(tool) = tool {
            case = case.header("mcp-name", &tool);
        }
        case
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.to_owned()));
        self
    }

    fn also_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn without(mut self, name: &'static str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self
    }

    fn av(mut self, mode: Mode) -> Self {
        self.av = Some(mode);
        self
    }
}

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

fn call(id: Value, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
}

fn modern_call(id: Value, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments, "_meta": meta()}})
}

fn list(id: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"})
}

fn modern_list(id: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": {"_meta": meta()}})
}

fn corpus() -> Vec<Case> {
    use Lane::{Fast, Rmcp};
    let whoami = || call(json!(1), "whoami", json!({}));
    vec![
        // Valid calls and lists, plain lane.
        Case::json("whoami, no version header", Fast, whoami()),
        Case::json("whoami, 2024-11-05", Fast, whoami()).header("mcp-protocol-version", "2024-11-05"),
        Case::json("whoami, 2025-03-26", Fast, whoami()).header("mcp-protocol-version", "2025-03-26"),
        Case::json("whoami, 2025-06-18", Fast, whoami()).header("mcp-protocol-version", "2025-06-18"),
        Case::json("whoami, 2025-11-25", Fast, whoami()).header("mcp-protocol-version", "2025-11-25"),
        Case::json("whoami, no arguments member", Fast,
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami"}})),
        Case::json("whoami, arguments null", Fast,
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "whoami", "arguments": null}})),
        Case::json("tools/list", Fast, list(json!(4))),
        Case::json("tools/list with a cursor", Fast,
            json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {"cursor": "abc"}})),
        Case::json("tools/list, 2025-06-18", Fast, list(json!(6))).header("mcp-protocol-version", "2025-06-18"),
        Case::json("news_sentiment AAPL", Fast, call(json!(7), "news_sentiment", json!({"ticker": "AAPL", "limit": 2}))),
        // The 2026-07-28 lane.
        Case::modern("modern whoami", Fast, modern_call(json!(8), "whoami", json!({}))),
        Case::modern("modern tools/list", Fast, modern_list(json!(9))),
        Case::modern("modern news_sentiment MSFT", Fast, modern_call(json!(10), "news_sentiment", json!({"ticker": "MSFT"}))),
        Case::modern("modern unknown tool", Fast, modern_call(json!(11), "nope", json!({}))),
        Case::modern("modern invalid params", Fast, modern_call(json!(12), "news_sentiment", json!({}))),
        // Invalid params, unknown tools, tool errors.
        Case::json("news_sentiment without ticker", Fast, call(json!(13), "news_sentiment", json!({}))),
        Case::json("news_sentiment ticker not a string", Fast, call(json!(14), "news_sentiment", json!({"ticker": 7}))),
        Case::json("news_sentiment unknown argument", Fast, call(json!(15), "news_sentiment", json!({"ticker": "IBM", "x": 1}))),
        Case::json("unknown tool", Fast, call(json!(16), "nope", json!({}))),
        Case::json("upstream rate limit", Fast, call(json!(17), "news_sentiment", json!({"ticker": "RLA"})))
            .av(Mode::RateLimitNote),
        Case::modern("upstream invalid key, modern", Fast, modern_call(json!(18), "news_sentiment", json!({"ticker": "IKB"})))
            .av(Mode::InvalidKeyErrorMessage),
        Case::json("upstream 500", Fast, call(json!(19), "news_sentiment", json!({"ticker": "FIV"})))
            .av(Mode::Status(500)),
        Case::json("upstream malformed", Fast, call(json!(20), "news_sentiment", json!({"ticker": "MAL"})))
            .av(Mode::MalformedJson),
        // Protocol version header and `_meta`.
        Case::json("unknown version header", Rmcp, whoami()).header("mcp-protocol-version", "2099-01-01"),
        Case::json("version header with spaces (HTTP trims them)", Fast, whoami()).header("mcp-protocol-version", " 2025-06-18"),
        Case::json("modern header, no _meta", Rmcp, whoami())
            .header("mcp-protocol-version", MODERN).header("mcp-method", "tools/call").header("mcp-name", "whoami"),
        Case::json("modern _meta, no version header", Rmcp, modern_call(json!(21), "whoami", json!({}))),
        Case::modern("modern, _meta without protocolVersion", Rmcp, json!({"jsonrpc": "2.0", "id": 22, "method": "tools/call",
            "params": {"name": "whoami", "arguments": {}, "_meta": {"io.modelcontextprotocol/clientCapabilities": {}}}})),
        Case::modern("modern, _meta without clientCapabilities", Rmcp, json!({"jsonrpc": "2.0", "id": 23, "method": "tools/call",
            "params": {"name": "whoami", "arguments": {}, "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}}})),
        Case::modern("modern, empty _meta", Rmcp, json!({"jsonrpc": "2.0", "id": 24, "method": "tools/call",
            "params": {"name": "whoami", "arguments": {}, "_meta": {}}})),
        Case::modern("modern, clientCapabilities not an object", Rmcp, json!({"jsonrpc": "2.0", "id": 25, "method": "tools/call",
            "params": {"name": "whoami", "arguments": {}, "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": 5}}})),
        Case::json("older version negotiated in _meta", Rmcp, json!({"jsonrpc": "2.0", "id": 26, "method": "tools/call",
            "params": {"name": "nope", "_meta": {"io.modelcontextprotocol/protocolVersion": "2025-06-18"}}}))
            .header("mcp-protocol-version", "2025-06-18"),
        Case::modern("header and _meta versions differ", Rmcp, modern_call(json!(27), "whoami", json!({})))
            .header("mcp-protocol-version", "2025-11-25"),
        // SEP-2243 headers against the body.
        Case::modern("Mcp-Method disagrees", Rmcp, modern_call(json!(28), "whoami", json!({})))
            .header("mcp-method", "tools/list"),
        Case::modern("Mcp-Name disagrees", Rmcp, modern_call(json!(29), "whoami", json!({})))
            .header("mcp-name", "news_sentiment"),
        Case::modern("Mcp-Name missing", Rmcp, modern_call(json!(30), "whoami", json!({}))).without("mcp-name"),
        Case::modern("Mcp-Method missing", Rmcp, modern_call(json!(31), "whoami", json!({}))).without("mcp-method"),
        Case::modern("Mcp-Name in Base64", Rmcp, modern_call(json!(32), "whoami", json!({})))
            .header("mcp-name", "=?base64?d2hvYW1p?="),
        Case::modern("Mcp-Method twice", Rmcp, modern_call(json!(33), "whoami", json!({})))
            .also_header("mcp-method", "tools/call"),
        // Notifications, responses, batches, other methods.
        Case::json("notification", Rmcp, json!({"jsonrpc": "2.0", "method": "notifications/initialized"})),
        Case::modern("modern notification", Rmcp,
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}})),
        Case::json("a response posted by the client", Rmcp, json!({"jsonrpc": "2.0", "id": 1, "result": {}})),
        Case::json("batch", Rmcp, json!([whoami(), list(json!(2))])),
        Case::json("empty batch", Rmcp, json!([])),
        Case::json("ping", Rmcp, json!({"jsonrpc": "2.0", "id": 34, "method": "ping"})),
        Case::json("prompts/list", Rmcp, json!({"jsonrpc": "2.0", "id": 35, "method": "prompts/list"})),
        Case::json("initialize", Rmcp, json!({"jsonrpc": "2.0", "id": 36, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "parity", "version": "1"}}})),
        Case::json("tools/call without params", Rmcp, json!({"jsonrpc": "2.0", "id": 37, "method": "tools/call"})),
        Case::json("tools/call, arguments an array", Rmcp, call(json!(38), "whoami", json!([1]))),
        Case::json("tools/call, name a number", Rmcp,
            json!({"jsonrpc": "2.0", "id": 39, "method": "tools/call", "params": {"name": 5}})),
        // Ids.
        Case::json("string id", Fast, call(json!("abc"), "whoami", json!({}))),
        Case::json("escaped string id", Fast, call(json!("a\u{e9}\"/\\\u{1}"), "whoami", json!({}))),
        Case::json("unicode id", Fast, call(json!("ü-🦀-\u{2028}"), "whoami", json!({}))),
        Case::json("zero id", Fast, call(json!(0), "whoami", json!({}))),
        Case::json("negative id", Fast, call(json!(-42), "whoami", json!({}))),
        Case::json("largest i64 id", Fast, call(json!(i64::MAX), "whoami", json!({}))),
        Case::new("float id", Fast, r#"{"jsonrpc":"2.0","id":15.0,"method":"tools/call","params":{"name":"whoami"}}"#),
        Case::new("exponent id", Fast, r#"{"jsonrpc":"2.0","id":1e3,"method":"tools/list"}"#),
        Case::json("id above i64", Rmcp, call(json!(u64::MAX), "whoami", json!({}))),
        Case::json("null id", Rmcp, call(Value::Null, "whoami", json!({}))),
        Case::json("unicode arguments", Fast, call(json!(40), "news_sentiment", json!({"ticker": "日本\u{2028}"}))),
        // Bodies and media types.
        Case::new("trailing garbage", Rmcp, format!("{} x", whoami())),
        Case::new("empty body", Rmcp, ""),
        Case::new("not JSON", Rmcp, "{\"jsonrpc\":"),
        Case::new("duplicate id key", Rmcp, r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}"#),
        Case::json("jsonrpc 1.0", Rmcp, json!({"jsonrpc": "1.0", "id": 41, "method": "tools/list"})),
        Case::json("text/plain content type", Rmcp, whoami()).header("content-type", "text/plain"),
        Case::json("json with charset", Fast, whoami()).header("content-type", "Application/JSON ; charset=utf-8"),
        Case::json("no content type", Rmcp, whoami()).without("content-type"),
        Case::json("Accept: application/json only", Fast, whoami()).header("accept", "application/json"),
        Case::json("Accept: event stream refused by q=0", Rmcp, whoami())
            .header("accept", "application/json, text/event-stream;q=0"),
        Case::json("Accept: */*", Fast, whoami()).header("accept", "*/*"),
        Case::json("a session id in stateless mode", Fast, whoami()).header("mcp-session-id", "not-a-session"),
    ]
}

#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    mcp_headers: Vec<(String, String)>,
    body: String,
}

async fn send(http: &reqwest::Client, url: &str, token: &str, case: &Case) -> Answer {
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    for (name, value) in &case.headers {
        headers.append(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let resp = http
        .post(url)
        .headers(headers)
        .body(case.body.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let mut mcp_headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .filter(|(n, _)| n.as_str().starts_with("mcp-") || n.as_str() == "www-authenticate")
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or("<bytes>").to_owned(),
            )
        })
        .collect();
    mcp_headers.sort();
    let body = resp.text().await.unwrap();
    Answer {
        status,
        content_type,
        mcp_headers,
        body,
    }
}

async fn pair(idp: &FakeIdp, av: &FakeAlphaVantage, list_tools: &str) -> (TestHost, TestHost) {
    let fast = TestHost::start(&config(idp, av, true, list_tools)).await;
    let rmcp = TestHost::start(&config(idp, av, false, list_tools)).await;
    (fast, rmcp)
}

fn answered(host: &TestHost) -> u64 {
    host.app().fast_path_answers.load(Ordering::Relaxed)
}

#[tokio::test]
async fn fast_path_answers_exactly_as_rmcp() {
    let idp = FakeIdp::start().await;
    let av = FakeAlphaVantage::start().await;
    let (fast, rmcp) = pair(&idp, &av, "all").await;
    let token = idp.access_token(format!("{PUBLIC_URL}/mcp"), "alice", "profile news:read");
    let http = reqwest::Client::new();
    let cases = corpus();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());

    let mut differences = Vec::new();
    let (mut fast_cases, mut rmcp_cases) = (0, 0);
    for case in &cases {
        av.set_mode(case.av.clone().unwrap_or(Mode::Normal));
        let before = answered(&fast);
        let a = send(&http, &fast.mcp_url(), &token, case).await;
        let took_fast = answered(&fast) > before;
        let b = send(&http, &rmcp.mcp_url(), &token, case).await;
        if a != b {
            differences.push(format!("{}:\n  fast: {a:?}\n  rmcp: {b:?}", case.name));
        }
        let expected_fast = case.lane == Lane::Fast;
        if took_fast != expected_fast {
            differences.push(format!(
                "{}: expected the {:?} lane, fast path answered = {took_fast} ({a:?})",
                case.name, case.lane
            ));
        }
        if expected_fast {
            fast_cases += 1;
        } else {
            rmcp_cases += 1;
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert_eq!(
        answered(&rmcp),
        0,
        "fast_path = false must send everything to rmcp"
    );
    assert_eq!(answered(&fast), fast_cases);
    assert!(
        fast_cases >= 20 && rmcp_cases >= 20,
        "{fast_cases} fast, {rmcp_cases} through rmcp"
    );
    fast.stop().await;
    rmcp.stop().await;
}

#[tokio::test]
async fn fast_path_lists_only_authorized_tools_as_rmcp_does() {
    let idp = FakeIdp::start().await;
    let av = FakeAlphaVantage::start().await;
    let (fast, rmcp) = pair(&idp, &av, "authorized").await;
    let http = reqwest::Client::new();
    for scope in ["profile", "profile news:read", "news:read"] {
        let token = idp.access_token(format!("{PUBLIC_URL}/mcp"), "bob", scope);
        for case in [
            Case::json("tools/list", Lane::Fast, list(json!(1))),
            Case::modern("modern tools/list", Lane::Fast, modern_list(json!(2))),
        ] {
            let a = send(&http, &fast.mcp_url(), &token, &case).await;
            let b = send(&http, &rmcp.mcp_url(), &token, &case).await;
            assert_eq!(a, b, "{} with scope {scope}", case.name);
            if a.status == 200 {
                let listed: Value = serde_json::from_str(&a.body).unwrap();
                let names: Vec<&str> = listed["result"]["tools"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["name"].as_str().unwrap())
                    .collect();
                assert_eq!(
                    names.contains(&"news_sentiment"),
                    scope.contains("news:read"),
                    "{names:?}"
                );
            }
        }
    }
    assert!(answered(&fast) >= 4);
    assert_eq!(answered(&rmcp), 0);
    fast.stop().await;
    rmcp.stop().await;
}
