//! Request limits of the host — body cap (413), header cap
//! (431), per-request timeout (503/504 JSON), the optional per-subject /
//! per-client rate limit (429 + `Retry-After`), and graceful shutdown on a
//! real SIGTERM that lets in-flight requests finish.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use warden_test_support::alphavantage::{FakeAlphaVantage, Mode};
use warden_test_support::host::TestHost;
use warden_test_support::idp::FakeIdp;
use warden_test_support::mcp::{McpClient, McpReply};

const DEV: &str = "[server]\nstateless = true\n[providers.dev]\nkind = \"dev\"\n[tools.news_sentiment]\nenabled = false\n";

fn initialize_json() -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                      "clientInfo": {"name": "limits", "version": "0"}}})
    .to_string()
}

/// A valid `initialize` padded with leading whitespace to exactly `len` bytes.
fn padded_initialize(len: usize) -> String {
    let json = initialize_json();
    format!("{}{json}", " ".repeat(len - json.len()))
}

async fn post(host: &TestHost, token: &str, body: String, extra: &[(&str, String)]) -> McpReply {
    let mut req = reqwest::Client::new()
        .post(host.mcp_url())
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body);
    for (k, v) in extra {
        req = req.header(*k, v.as_str());
    }
    McpClient::reply(req.send().await.expect("request")).await
}

fn assert_json_error(what: &str, reply: &McpReply, status: u16) {
    assert_eq!(
        reply.status, status,
        "{what}: {} {}",
        reply.status, reply.body
    );
    assert!(
        reply.content_type.starts_with("application/json"),
        "{what}: {}",
        reply.content_type
    );
    let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    assert!(
        body["error"].is_string(),
        "{what}: JSON error body expected: {}",
        reply.body
    );
}

#[tokio::test]
async fn body_cap_defaults_to_4_mib_and_answers_413_beyond() {
    let host = TestHost::start(DEV).await;
    assert_eq!(host.app().config.server.max_body_bytes, 4 * 1024 * 1024);
    let token = host.dev_token("alice", "profile");
    let at_cap = post(&host, &token, padded_initialize(4 * 1024 * 1024), &[]).await;
    assert_eq!(
        at_cap.status, 200,
        "a body of exactly 4 MiB: {}",
        at_cap.body
    );
    let over = post(&host, &token, padded_initialize(4 * 1024 * 1024 + 1), &[]).await;
    assert_json_error("4 MiB + 1 byte", &over, 413);

    let small =
        TestHost::start(&DEV.replace("[server]\n", "[server]\nmax_body_bytes = 2048\n")).await;
    let token = small.dev_token("alice", "profile");
    assert_eq!(
        post(&small, &token, padded_initialize(2048), &[])
            .await
            .status,
        200
    );
    assert_json_error(
        "configured cap + 1",
        &post(&small, &token, padded_initialize(2049), &[]).await,
        413,
    );
    // Without a valid token the body is never read: 401, not 413.
    let anonymous = post(&small, "not-a-token", padded_initialize(100_000), &[]).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
}

#[tokio::test]
async fn header_cap_defaults_to_16_kib_and_answers_431_beyond() {
    let host = TestHost::start(DEV).await;
    assert_eq!(host.app().config.limits.max_header_bytes, 16 * 1024);
    let token = host.dev_token("alice", "profile");
    let ok = post(
        &host,
        &token,
        initialize_json(),
        &[("x-padding", "p".repeat(8 * 1024))],
    )
    .await;
    assert_eq!(ok.status, 200, "8 KiB of extra headers: {}", ok.body);
    for size in [17 * 1024, 64 * 1024] {
        let reply = post(
            &host,
            &token,
            initialize_json(),
            &[("x-padding", "p".repeat(size))],
        )
        .await;
        assert_json_error(&format!("one {size}-byte header"), &reply, 431);
    }
    let many: Vec<(&str, String)> = (0..20).map(|_| ("x-many", "m".repeat(1024))).collect();
    assert_json_error(
        "20 headers of 1 KiB",
        &post(&host, &token, initialize_json(), &many).await,
        431,
    );
    // The cap covers unauthenticated requests too, before any verification.
    let reply = post(
        &host,
        "x",
        initialize_json(),
        &[("x-padding", "p".repeat(20 * 1024))],
    )
    .await;
    assert_json_error("oversized anonymous request", &reply, 431);

    let small = TestHost::start(&format!("{DEV}[limits]\nmax_header_bytes = 4096\n")).await;
    let token = small.dev_token("alice", "profile");
    let reply = post(
        &small,
        &token,
        initialize_json(),
        &[("x-padding", "p".repeat(5000))],
    )
    .await;
    assert_json_error("configured header cap", &reply, 431);
}

#[tokio::test]
async fn request_timeout_answers_json_503_or_504_and_the_host_keeps_serving() {
    let av = FakeAlphaVantage::start().await;
    av.set_mode(Mode::Slow(Duration::from_secs(4)));
    let cfg = format!(
        "[server]\nstateless = true\n[providers.dev]\nkind = \"dev\"\n[tools.news_sentiment]\nbase_url = \"{}\"\napi_key = \"LIMITS-AV-KEY\"\ntimeout = \"10s\"\nmax_retries = 0\n[limits]\nrequest_timeout = \"1s\"\n",
        av.url()
    );
    let host = TestHost::start(&cfg).await;
    assert_eq!(
        host.app().config.limits.request_timeout,
        Duration::from_secs(1)
    );
    let client = McpClient::new(
        host.mcp_url(),
        Some(host.dev_token("alice", "news:read profile")),
    );
    let reply = client
        .call_tool("news_sentiment", json!({"ticker": "AAPL"}))
        .await;
    assert!(
        reply.status == 503 || reply.status == 504,
        "slow tool call: {} {}",
        reply.status,
        reply.body
    );
    assert_json_error("timed-out request", &reply, reply.status);
    assert!(!reply.body.contains("LIMITS-AV-KEY"));
    let whoami = client.call_tool("whoami", json!({})).await;
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    assert_eq!(whoami.result()["structuredContent"]["sub"], "alice");
    assert_eq!(
        TestHost::start(DEV)
            .await
            .app()
            .config
            .limits
            .request_timeout,
        Duration::from_secs(30)
    );
}

/// Sends `n` requests with `token`, returning the statuses.
async fn burst(host: &TestHost, token: &str, n: usize) -> Vec<McpReply> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(post(host, token, initialize_json(), &[]).await);
    }
    out
}

fn assert_429(what: &str, reply: &McpReply) {
    assert_json_error(what, reply, 429);
    let retry = reply.header("retry-after").unwrap_or_default();
    assert!(
        retry.parse::<u64>().is_ok_and(|s| s >= 1),
        "{what}: Retry-After {retry:?}"
    );
}

#[tokio::test]
async fn rate_limit_is_off_by_default() {
    let host = TestHost::start(DEV).await;
    assert!(!host.app().config.limits.rate_limit.enabled);
    let token = host.dev_token("alice", "profile");
    let statuses: Vec<u16> = burst(&host, &token, 80)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test]
async fn rate_limit_per_subject_answers_429_with_retry_after() {
    let host = TestHost::start(&format!(
        "{DEV}[limits.rate_limit]\nenabled = true\nkey = \"subject\"\nper_minute = 6\nburst = 3\n"
    ))
    .await;
    let alice = host.dev_token("alice", "profile");
    let replies = burst(&host, &alice, 4).await;
    for (i, r) in replies[..3].iter().enumerate() {
        assert_eq!(
            r.status, 200,
            "alice request {i} within the burst: {}",
            r.body
        );
    }
    assert_429("alice beyond the burst", &replies[3]);
    // Another token of the same subject shares the bucket.
    assert_429(
        "alice with a fresh token",
        &post(
            &host,
            &host.dev_token("alice", "profile"),
            initialize_json(),
            &[],
        )
        .await,
    );
    // Another subject is not affected.
    assert_eq!(
        burst(&host, &host.dev_token("bob", "profile"), 1).await[0].status,
        200
    );
    // Authentication comes first: bad or missing tokens are 401, never 429.
    assert_eq!(
        post(&host, "garbage-token", initialize_json(), &[])
            .await
            .status,
        401
    );
    let anonymous = reqwest::Client::new()
        .post(host.mcp_url())
        .body(initialize_json())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn rate_limit_per_client_shares_one_bucket_across_subjects() {
    let idp = FakeIdp::start().await;
    let cfg = format!(
        "[server]\nstateless = true\n[auth]\nproviders = [\"corp\"]\n[providers.corp]\nkind = \"jwt\"\nissuer = \"{}\"\njwks_url = \"{}\"\n[tools.news_sentiment]\nenabled = false\n[limits.rate_limit]\nenabled = true\nkey = \"client\"\nper_minute = 6\nburst = 2\n",
        idp.issuer(),
        idp.jwks_url()
    );
    let host = TestHost::start(&cfg).await;
    let mcp = host.mcp_url();
    let token = |sub: &str, client: &str| {
        let mut claims = idp.claims(mcp.as_str(), sub, "profile");
        claims["client_id"] = json!(client);
        idp.mint(claims)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    // The first request may race the JWKS warm-up (503); it does not count.
    loop {
        let r = post(
            &host,
            &token("warmup", "warmup-client"),
            initialize_json(),
            &[],
        )
        .await;
        if r.status == 200 || Instant::now() > deadline {
            assert_eq!(r.status, 200, "{}", r.body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        post(&host, &token("alice", "app-1"), initialize_json(), &[])
            .await
            .status,
        200
    );
    assert_eq!(
        post(&host, &token("bob", "app-1"), initialize_json(), &[])
            .await
            .status,
        200
    );
    assert_429(
        "carol, third caller of app-1",
        &post(&host, &token("carol", "app-1"), initialize_json(), &[]).await,
    );
    assert_eq!(
        post(&host, &token("alice", "app-2"), initialize_json(), &[])
            .await
            .status,
        200
    );
}

/// Sends SIGTERM to this test process (the `warden serve` code path handles it).
fn sigterm_self() {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

async fn dev_token_from_endpoint(base: &str) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/dev/token"))
        .basic_auth("warden-dev-client", Some("warden-dev-secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "news:read profile"),
            ("resource", &format!("{base}/mcp")),
        ])
        .send()
        .await
        .expect("token endpoint")
        .json()
        .await
        .expect("token JSON");
    answer["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// `warden serve` (the CLI code path, in-process) gets SIGTERM while a slow
/// tool call is in flight: the call completes, new connections are refused,
/// and `serve` returns cleanly.
async fn sigterm_round(stateless: bool) {
    let av = FakeAlphaVantage::start().await;
    av.set_mode(Mode::Slow(Duration::from_secs(2)));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("warden-sigterm-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("warden.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nbind = \"127.0.0.1:{port}\"\npublic_url = \"{base}\"\nstateless = {stateless}\ndata_dir = \"{}\"\n[admin]\nenabled = false\n[providers.dev]\nkind = \"dev\"\n[tools.news_sentiment]\nbase_url = \"{}\"\napi_key = \"SIGTERM-AV-KEY\"\ntimeout = \"10s\"\nmax_retries = 0\n[log]\nlevel = \"warn\"\n",
            dir.display(),
            av.url()
        ),
    )
    .unwrap();
    let cli = warden::cli::Cli {
        command: warden::cli::Command::Serve {
            config: Some(config),
            json_logs: false,
        },
    };
    let server = tokio::spawn(warden::cli::run(cli));
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{base}/healthz"))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
        != 200
    {
        assert!(Instant::now() < deadline, "warden serve did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mode = if stateless {
        "stateless"
    } else {
        "stateful (SSE)"
    };
    let mut client = McpClient::new(
        format!("{base}/mcp"),
        Some(dev_token_from_endpoint(&base).await),
    );
    if !stateless {
        assert_eq!(client.initialize().await.status, 200);
    }
    let in_flight = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call_tool("news_sentiment", json!({"ticker": "AAPL"}))
                .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while av.requests() == 0 {
        assert!(
            Instant::now() < deadline,
            "{mode}: the tool call never reached Alpha Vantage"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Repeat until serve has installed its handler and stopped accepting.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        sigterm_self();
        tokio::time::sleep(Duration::from_millis(100)).await;
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{mode}: still accepting connections after SIGTERM"
        );
    }
    let reply = tokio::time::timeout(Duration::from_secs(15), in_flight)
        .await
        .expect("the in-flight request ends")
        .expect("request task");
    assert_eq!(reply.status, 200, "{mode}: in-flight call: {}", reply.body);
    let result = reply.result();
    assert_eq!(
        result["structuredContent"]["ticker"], "AAPL",
        "{mode}: in-flight call was cut: {}",
        reply.body
    );
    assert_ne!(result["isError"], true, "{mode}: {result}");
    let outcome = tokio::time::timeout(Duration::from_secs(15), server)
        .await
        .expect("serve returns after SIGTERM")
        .expect("serve task");
    assert!(outcome.is_ok(), "{mode}: serve failed: {outcome:?}");
    let _ = std::fs::remove_dir_all(&dir);
    client.session = None;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests() {
    // Our own handler first: from here on SIGTERM cannot kill the test process.
    let _guard = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    sigterm_round(false).await;
    sigterm_round(true).await;
}
