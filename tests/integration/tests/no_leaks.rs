//! Drive every error path with logs captured at TRACE (JSON)
//! and prove that no token, client secret, admin token or Alpha Vantage API
//! key appears in the logs, in any HTTP answer (status line, headers, body),
//! in `/metrics`, or in the admin API (`/admin/v1/config`, `/providers`,
//! `/tokens/explain`, …). Tokens a token endpoint *issues* appear only in
//! that one issuing answer.

use std::time::Duration;

use reqwest::{Client, Method, RequestBuilder};
use serde_json::{json, Value};
use warden_test_support::alphavantage::{FakeAlphaVantage, Mode};
use warden_test_support::host::TestHost;
use warden_test_support::idp::{FakeIdp, IdpEndpoint};
use warden_test_support::logs;
use warden_test_support::tokens::{self, TestKey};

const INTROSPECTION_SECRET: &str = "NOLEAK-introspection-secret-5a1f0c";
const REJECTED_INTROSPECTION_SECRET: &str = "NOLEAK-rejected-introspection-secret-77e2";
const DEV_CLIENT_SECRET: &str = "NOLEAK-dev-client-secret-91b3";
const WRONG_DEV_SECRET: &str = "NOLEAK-wrong-dev-secret-c0de";
const ADMIN_TOKEN: &str = "NOLEAK-admin-token-4d2e9f7a";
const WRONG_ADMIN_TOKEN: &str = "NOLEAK-wrong-admin-token-6b8a";
const AV_KEY: &str = "NOLEAKAVKEY8C41";

/// Every answer seen, as text: `label`, status, headers and body.
#[derive(Default)]
struct Seen {
    answers: Vec<(String, String)>,
    /// Answers that legitimately carry a token they just issued.
    issuing: Vec<(String, String)>,
    /// Tokens presented by callers: never to be echoed or logged.
    tokens: Vec<String>,
}

impl Seen {
    async fn send(&mut self, label: &str, req: RequestBuilder) -> (u16, String) {
        let (status, text, body) = render(req).await;
        self.answers.push((label.to_owned(), text));
        (status, body)
    }

    async fn issue(&mut self, label: &str, req: RequestBuilder) -> (u16, Value) {
        let (status, text, body) = render(req).await;
        self.issuing.push((label.to_owned(), text));
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    fn token(&mut self, token: impl Into<String>) -> String {
        let token = token.into();
        self.tokens.push(token.clone());
        token
    }
}

async fn render(req: RequestBuilder) -> (u16, String, String) {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = format!("{:?}", resp.headers());
    let body = resp.text().await.unwrap_or_default();
    (status, format!("{status}\n{headers}\n{body}"), body)
}

fn mcp_post(http: &Client, url: &str, token: Option<&str>, body: Value) -> RequestBuilder {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req
}

fn rpc(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

fn initialize() -> Value {
    rpc(
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "no-leaks", "version": "0"}}),
    )
}

fn main_config(idp: &FakeIdp, av: &FakeAlphaVantage) -> String {
    format!(
        r#"
[server]
stateless = true
[auth]
providers = ["corp", "dev", "intro"]
[providers.corp]
kind = "jwt"
issuer = "{issuer}"
jwks_url = "{jwks}"
jwks_cooldown = "1s"
timeout = "1s"
[providers.dev]
kind = "dev"
clients = [{{ client_id = "noleak-dev-client", client_secret = "{DEV_CLIENT_SECRET}", scopes = ["news:read", "profile"] }}]
[providers.intro]
kind = "introspection"
introspection_url = "{introspect}"
client_id = "noleak-rs"
client_secret = "{INTROSPECTION_SECRET}"
timeout = "1s"
[tools.whoami]
required_scopes = ["profile"]
[tools.news_sentiment]
base_url = "{av}"
api_key = "{AV_KEY}"
timeout = "1s"
max_retries = 1
retry_backoff = "10ms"
cache_ttl = "0s"
[admin]
bind = "127.0.0.1:0"
token = "{ADMIN_TOKEN}"
[log]
level = "trace"
"#,
        issuer = idp.issuer(),
        jwks = idp.jwks_url(),
        introspect = idp.introspection_url(),
        av = av.url(),
    )
}

/// Rejected introspection credentials, JWKS down, Alpha Vantage unreachable.
fn broken_config(idp: &FakeIdp, closed: &str) -> String {
    format!(
        r#"
[server]
stateless = true
[auth]
providers = ["corp", "intro"]
[providers.corp]
kind = "jwt"
issuer = "{issuer}"
jwks_url = "{jwks}"
timeout = "1s"
[providers.intro]
kind = "introspection"
introspection_url = "{introspect}"
client_id = "noleak-rs"
client_secret = "{REJECTED_INTROSPECTION_SECRET}"
auth_method = "post"
timeout = "1s"
[tools.news_sentiment]
base_url = "{closed}"
api_key = "{AV_KEY}"
timeout = "1s"
max_retries = 0
[admin]
bind = "127.0.0.1:0"
token = "{ADMIN_TOKEN}"
"#,
        issuer = idp.issuer(),
        jwks = idp.jwks_url(),
        introspect = idp.introspection_url(),
    )
}

/// Every MCP error path (and the success path) with `tokens`.
async fn drive_mcp(seen: &mut Seen, host: &TestHost, label: &str, tokens: &[String]) {
    let http = Client::new();
    let mcp = host.mcp_url();
    seen.send(
        &format!("{label}: no token"),
        mcp_post(&http, &mcp, None, initialize()),
    )
    .await;
    for (i, t) in tokens.iter().enumerate() {
        let l = format!("{label} token {i}");
        seen.send(
            &format!("{l}: initialize"),
            mcp_post(&http, &mcp, Some(t), initialize()),
        )
        .await;
        for call in [
            rpc("tools/call", json!({"name": "whoami", "arguments": {}})),
            rpc(
                "tools/call",
                json!({"name": "news_sentiment", "arguments": {"ticker": "AAPL"}}),
            ),
            rpc(
                "tools/call",
                json!({"name": "news_sentiment", "arguments": {"ticker": "../etc"}}),
            ),
            rpc("tools/list", json!({})),
        ] {
            seen.send(
                &format!("{l}: {call}"),
                mcp_post(&http, &mcp, Some(t), call),
            )
            .await;
        }
        let query = mcp_post(
            &http,
            &format!("{mcp}?access_token={t}"),
            None,
            initialize(),
        );
        seen.send(&format!("{l}: query token"), query).await;
        let two = mcp_post(&http, &mcp, Some(t), initialize())
            .header("authorization", format!("Bearer {t}"));
        seen.send(&format!("{l}: two headers"), two).await;
        let cookie =
            mcp_post(&http, &mcp, None, initialize()).header("cookie", format!("access_token={t}"));
        seen.send(&format!("{l}: cookie"), cookie).await;
        let origin =
            mcp_post(&http, &mcp, Some(t), initialize()).header("origin", "http://evil.example");
        seen.send(&format!("{l}: bad origin"), origin).await;
        let big = http
            .post(&mcp)
            .bearer_auth(t)
            .header("content-type", "application/json")
            .body(" ".repeat(host.app().config.server.max_body_bytes + 1));
        seen.send(&format!("{l}: body too large"), big).await;
        let headers =
            mcp_post(&http, &mcp, Some(t), initialize()).header("x-pad", "p".repeat(20_000));
        seen.send(&format!("{l}: headers too large"), headers).await;
        let sse = http
            .get(format!("{}/sse", host.url))
            .bearer_auth(t)
            .timeout(Duration::from_millis(500));
        if let Ok(resp) = sse.send().await {
            let status = resp.status().as_u16();
            seen.answers.push((
                format!("{l}: legacy sse"),
                format!("{status}\n{:?}", resp.headers()),
            ));
        }
        let messages = mcp_post(
            &http,
            &format!("{}/messages?sessionId=nope", host.url),
            Some(t),
            initialize(),
        );
        seen.send(&format!("{l}: legacy messages"), messages).await;
    }
}

/// Every admin route, with no token, a wrong token and the right one.
async fn drive_admin(seen: &mut Seen, host: &TestHost, label: &str, providers: &[&str]) {
    let http = Client::new();
    let admin = host.admin_url();
    let get = |path: &str| http.get(format!("{admin}{path}"));
    for (who, token) in [
        ("anonymous", None),
        ("wrong token", Some(WRONG_ADMIN_TOKEN)),
        ("admin", Some(ADMIN_TOKEN)),
    ] {
        let auth = |req: RequestBuilder| match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let l = format!("{label} admin as {who}");
        for path in [
            "/admin/v1/health",
            "/admin/v1/ready",
            "/admin/v1/providers",
            "/admin/v1/tools",
            "/admin/v1/config",
            "/metrics",
            "/admin/openapi.json",
        ] {
            seen.send(&format!("{l}: GET {path}"), auth(get(path)))
                .await;
        }
        for name in providers {
            let refresh = http.request(
                Method::POST,
                format!("{admin}/admin/v1/providers/{name}/refresh"),
            );
            seen.send(&format!("{l}: refresh {name}"), auth(refresh))
                .await;
            let flush = http.request(
                Method::DELETE,
                format!("{admin}/admin/v1/providers/{name}/cache"),
            );
            seen.send(&format!("{l}: flush {name}"), auth(flush)).await;
        }
        let tokens = seen.tokens.clone();
        for t in tokens.iter().chain([&String::new(), &"x".repeat(9000)]) {
            let explain = http
                .post(format!("{admin}/admin/v1/tokens/explain"))
                .json(&json!({ "token": t }));
            seen.send(&format!("{l}: explain"), auth(explain)).await;
        }
        let bad_mint = http
            .post(format!("{admin}/admin/v1/dev/tokens"))
            .json(&json!({"ttl": "forever"}));
        seen.send(&format!("{l}: bad dev token request"), auth(bad_mint))
            .await;
    }
}

#[tokio::test]
async fn no_secret_or_token_leaks_anywhere() {
    let logs = logs::capture();
    let idp = FakeIdp::builder()
        .client("noleak-rs", INTROSPECTION_SECRET)
        .start()
        .await;
    let av = FakeAlphaVantage::start().await;
    av.expect_api_key(AV_KEY);
    let host = TestHost::start(&main_config(&idp, &av)).await;
    let mcp = host.mcp_url();
    let http = Client::new();
    let mut seen = Seen::default();

    // Tokens issued by the dev token endpoint (its answer is the only place they may appear).
    let form = |secret: &str| {
        http.post(format!("{}/dev/token", host.url))
            .basic_auth("noleak-dev-client", Some(secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "news:read profile"),
                ("resource", mcp.as_str()),
            ])
    };
    let (status, issued) = seen
        .issue("dev token endpoint", form(DEV_CLIENT_SECRET))
        .await;
    assert_eq!(status, 200, "{issued}");
    let dev_token = seen.token(issued["access_token"].as_str().unwrap());
    let (status, issued) = seen
        .issue(
            "admin dev token",
            http.post(format!("{}/admin/v1/dev/tokens", host.admin_url()))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({"sub": "carol", "scope": "profile"})),
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    seen.token(issued["access_token"].as_str().unwrap());
    seen.send("dev token, wrong secret", form(WRONG_DEV_SECRET))
        .await;
    let post_secret = http.post(format!("{}/dev/token", host.url)).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "noleak-dev-client"),
        ("client_secret", WRONG_DEV_SECRET),
    ]);
    seen.send("dev token, wrong secret in the body", post_secret)
        .await;
    let bad_grant = http
        .post(format!("{}/dev/token", host.url))
        .basic_auth("noleak-dev-client", Some(DEV_CLIENT_SECRET))
        .form(&[("grant_type", "password"), ("password", WRONG_DEV_SECRET)]);
    seen.send("dev token, unsupported grant", bad_grant).await;

    // Presented tokens: valid and every flavour of invalid.
    let now = tokens::now();
    let rs = idp.current_key();
    let claims = idp.claims(mcp.as_str(), "alice", "news:read profile");
    let mut expired = claims.clone();
    expired["exp"] = json!(now - 3600);
    let mut other_aud = claims.clone();
    other_aud["aud"] = json!("https://other.example/mcp");
    let weak = idp.claims(mcp.as_str(), "alice", "news:read");
    let presented = vec![
        seen.token(idp.access_token(mcp.as_str(), "alice", "news:read profile")),
        seen.token(idp.mint(&expired)),
        seen.token(idp.mint(&other_aud)),
        seen.token(idp.mint(&weak)),
        seen.token(tokens::corrupt_signature(&idp.mint(&claims))),
        seen.token(tokens::mint(
            &TestKey::es256(),
            json!({"kid": "unknown-kid"}),
            &claims,
        )),
        seen.token(tokens::hs_signed(
            "HS256",
            rs.public_key_pem().as_bytes(),
            json!({"kid": rs.kid()}),
            &claims,
        )),
        seen.token(tokens::unsigned(&json!({"alg": "none"}), &claims, "")),
        seen.token(idp.register_active("alice", "news:read profile", mcp.as_str())),
        seen.token(
            idp.register_opaque(json!({"active": true, "token_type": "refresh_token", "aud": mcp})),
        ),
        seen.token("opaque-unknown-token-0123456789abcdef"),
        seen.token(format!("{}{}", "A".repeat(9000), "tail")),
        dev_token.clone(),
    ];

    // Wait until the JWT provider has its keys.
    for _ in 0..200 {
        let (status, _, _) = render(mcp_post(&http, &mcp, Some(&presented[0]), initialize())).await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Alpha Vantage misbehaving in every way while tools are called.
    for mode in [
        Mode::InvalidKeyErrorMessage,
        Mode::RateLimitInformation,
        Mode::Status(500),
        Mode::MalformedJson,
        Mode::Slow(Duration::from_secs(2)),
        Mode::Normal,
    ] {
        av.set_mode(mode);
        drive_mcp(&mut seen, &host, "main", &presented[..1]).await;
    }
    drive_mcp(&mut seen, &host, "main", &presented).await;

    // A session used with another principal's token (stateful host).
    let stateful =
        TestHost::start(&main_config(&idp, &av).replace("stateless = true", "stateless = false"))
            .await;
    let smcp = stateful.mcp_url();
    let alice_token = seen.token(stateful.dev_token("alice", "profile"));
    let mallory_token = seen.token(stateful.dev_token("mallory", "profile"));
    let mut alice = warden_test_support::mcp::McpClient::new(smcp.clone(), Some(alice_token));
    assert_eq!(alice.initialize().await.status, 200);
    let hijack = mcp_post(
        &http,
        &smcp,
        Some(&mallory_token),
        rpc("tools/list", json!({})),
    )
    .header("mcp-session-id", alice.session.clone().unwrap());
    let (status, _) = seen.send("session hijack", hijack).await;
    assert_eq!(status, 403);

    // Identity provider down: JWKS and introspection.
    idp.set_all_down(true);
    let unknown_kid = seen.token(tokens::mint(
        &idp.rotate(),
        json!({"typ": "at+jwt"}),
        &claims,
    ));
    let fresh_opaque = seen.token(idp.register_active("bob", "profile", mcp.as_str()));
    drive_mcp(&mut seen, &host, "idp down", &[unknown_kid, fresh_opaque]).await;
    idp.set_all_down(false);
    drive_admin(&mut seen, &host, "main", &["corp", "dev", "intro", "nope"]).await;

    // A second host: credentials the IdP rejects, JWKS failing, Alpha Vantage unreachable.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    idp.set_status(IdpEndpoint::Jwks, Some(500));
    let broken = TestHost::start(&broken_config(&idp, &closed)).await;
    let broken_tokens = vec![
        seen.token(idp.access_token(broken.mcp_url().as_str(), "alice", "news:read")),
        seen.token(idp.register_active("alice", "news:read", broken.mcp_url().as_str())),
    ];
    drive_mcp(&mut seen, &broken, "broken", &broken_tokens).await;
    idp.clear_switches();
    let valid = seen.token(idp.access_token(broken.mcp_url().as_str(), "alice", "news:read"));
    drive_mcp(&mut seen, &broken, "broken, AV unreachable", &[valid]).await;
    drive_admin(&mut seen, &broken, "broken", &["corp", "intro"]).await;

    // The introspection endpoint did see warden's credentials (so they were really used).
    assert!(
        idp.introspections().iter().any(|c| c.credentials_ok),
        "introspection never authenticated"
    );
    assert!(
        av.requests() > 0 && av.violations().is_empty(),
        "{:?}",
        av.violations()
    );

    tokio::time::sleep(Duration::from_millis(200)).await;
    let captured = logs.contents();
    assert!(
        captured.contains("\"level\":\"TRACE\""),
        "TRACE logs were captured"
    );
    let secrets = [
        ("introspection client secret", INTROSPECTION_SECRET),
        (
            "rejected introspection client secret",
            REJECTED_INTROSPECTION_SECRET,
        ),
        ("dev client secret", DEV_CLIENT_SECRET),
        ("wrong dev client secret presented", WRONG_DEV_SECRET),
        ("admin token", ADMIN_TOKEN),
        ("wrong admin token presented", WRONG_ADMIN_TOKEN),
        ("Alpha Vantage API key", AV_KEY),
    ];
    let mut leaks = Vec::new();
    let mut check = |what: &str, needle: &str| {
        if captured.contains(needle) {
            let at = captured.find(needle).unwrap();
            let start = captured[..at].rfind('\n').map_or(0, |i| i + 1);
            let line: String = captured[start..]
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(400)
                .collect();
            leaks.push(format!("{what} in the logs: {line}"));
        }
        for (label, text) in &seen.answers {
            if text.contains(needle) {
                leaks.push(format!("{what} in the answer to [{label}]"));
            }
        }
    };
    for (what, secret) in secrets {
        check(what, secret);
    }
    for token in seen.tokens.clone() {
        check("a presented token", &token);
        if let Some(sig) = token
            .rsplit('.')
            .next()
            .filter(|s| s.len() >= 20 && token.contains('.'))
        {
            check("a token signature", sig);
        }
    }
    for (label, text) in &seen.issuing {
        for (what, secret) in secrets {
            if text.contains(secret) {
                leaks.push(format!("{what} in the issuing answer [{label}]"));
            }
        }
    }
    leaks.sort();
    leaks.dedup();
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    assert!(
        seen.answers.len() > 300,
        "only {} answers were checked",
        seen.answers.len()
    );
}
