//! Broken identity providers and a broken Alpha Vantage.
//! warden answers 503 + `Retry-After` when it cannot verify (never a false
//! 401), keeps serving what it can (cached keys and verdicts), and recovers
//! on its own. Waits are bounded polls; nothing asserts on timing.

use std::time::{Duration, Instant};

use serde_json::json;
use warden_test_support::alphavantage::{FakeAlphaVantage, Mode};
use warden_test_support::host::TestHost;
use warden_test_support::idp::{FakeIdp, Fault, IdpEndpoint};
use warden_test_support::mcp::{McpClient, McpReply};

/// One stateless `initialize` with `token`.
async fn call(host: &TestHost, token: &str) -> McpReply {
    McpClient::new(host.mcp_url(), Some(token.to_owned()))
        .request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "outages", "version": "0"}}),
        )
        .await
}

/// 503 with a positive integer `Retry-After` and no `invalid_token` verdict.
fn assert_unavailable(what: &str, reply: &McpReply) {
    assert_eq!(reply.status, 503, "{what}: {} {}", reply.status, reply.body);
    let retry = reply.header("retry-after").unwrap_or_default();
    assert!(
        retry.parse::<u64>().is_ok_and(|s| s > 0),
        "{what}: Retry-After {retry:?}"
    );
    assert!(
        !reply
            .www_authenticate()
            .unwrap_or("")
            .contains("invalid_token"),
        "{what}: a could-not-verify answer must not claim the token is invalid"
    );
}

fn assert_ok(what: &str, reply: &McpReply) {
    assert_eq!(reply.status, 200, "{what}: {} {}", reply.status, reply.body);
}

/// Polls until `token` gets 200 (bounded); every answer meanwhile is 503.
async fn wait_ok(what: &str, host: &TestHost, token: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let reply = call(host, token).await;
        if reply.status == 200 {
            return;
        }
        assert_unavailable(what, &reply);
        assert!(
            Instant::now() < deadline,
            "{what}: not recovered within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn jwt_config(idp: &FakeIdp, jwks_url: bool) -> String {
    let jwks = if jwks_url {
        format!("jwks_url = \"{}\"\n", idp.jwks_url())
    } else {
        String::new()
    };
    format!(
        "[server]\nstateless = true\n[auth]\nproviders = [\"corp\"]\n[providers.corp]\nkind = \"jwt\"\nissuer = \"{}\"\n{jwks}timeout = \"1s\"\njwks_cooldown = \"1s\"\n[tools.news_sentiment]\nenabled = false\n",
        idp.issuer()
    )
}

#[tokio::test]
async fn jwks_outage_known_keys_work_unknown_kid_503_then_recovers() {
    let idp = FakeIdp::start().await;
    let host = TestHost::start(&jwt_config(&idp, true)).await;
    let mcp = host.mcp_url();
    let mint = || idp.access_token(mcp.as_str(), "alice", "news:read");
    wait_ok("startup", &host, &mint(), Duration::from_secs(20)).await;

    // JWKS down for the rest of the test (until restored below).
    let old = idp.current_key();
    let new = idp.rotate(); // published, but warden has never seen it
    for (name, fault) in [
        ("503", Fault::Down),
        ("500", Fault::Status(500)),
        ("hang beyond the timeout", Fault::Hang),
        ("truncated body", Fault::Truncated),
        (
            "HTML instead of JSON",
            Fault::Respond {
                status: 200,
                content_type: "text/html".into(),
                body: "<html>maintenance</html>".into(),
            },
        ),
    ] {
        idp.set_fault(IdpEndpoint::Jwks, Some(fault));
        let known = tokens_with(&idp, &old, &mcp);
        assert_ok(
            &format!("JWKS {name}: fresh token, known kid"),
            &call(&host, &known).await,
        );
        let unknown = tokens_with(&idp, &new, &mcp);
        // The cooldown is 1 s: wait for at least one refetch attempt to fail.
        let before = idp.counts().jwks;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let reply = call(&host, &unknown).await;
            assert_unavailable(&format!("JWKS {name}: unknown kid"), &reply);
            if idp.counts().jwks > before || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(
            idp.counts().jwks > before,
            "JWKS {name}: warden never retried"
        );
        assert_unavailable(
            &format!("JWKS {name}: unknown kid after a failed refetch"),
            &call(&host, &unknown).await,
        );
        assert_ok(
            &format!("JWKS {name}: known kid again"),
            &call(&host, &known).await,
        );
    }

    // Restored: the new key is picked up without a restart.
    idp.set_fault(IdpEndpoint::Jwks, None);
    let unknown = tokens_with(&idp, &new, &mcp);
    wait_ok("JWKS restored", &host, &unknown, Duration::from_secs(20)).await;
    assert_ok(
        "old key still accepted",
        &call(&host, &tokens_with(&idp, &old, &mcp)).await,
    );
}

/// A fresh token (new jti, so no verified-cache hit) signed by `key`.
fn tokens_with(idp: &FakeIdp, key: &warden_test_support::tokens::TestKey, mcp: &str) -> String {
    warden_test_support::tokens::mint(
        key,
        json!({"typ": "at+jwt"}),
        idp.claims(mcp, "alice", "news:read"),
    )
}

#[tokio::test]
async fn introspection_timeout_is_503_and_cached_positives_are_served() {
    let idp = FakeIdp::start().await;
    let cfg = format!(
        "[server]\nstateless = true\n[auth]\nproviders = [\"intro\"]\n[providers.intro]\nkind = \"introspection\"\nintrospection_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\ntimeout = \"1s\"\n[tools.news_sentiment]\nenabled = false\n",
        idp.introspection_url(),
        idp.client_id(),
        idp.client_secret()
    );
    let host = TestHost::start(&cfg).await;
    let mcp = host.mcp_url();
    let cached = idp.register_active("alice", "news:read", mcp.as_str());
    assert_ok("first introspection", &call(&host, &cached).await);

    idp.set_delay(IdpEndpoint::Introspection, Duration::from_secs(3));
    let seen = idp.counts().introspection;
    assert_ok(
        "cached positive while the IdP is slow",
        &call(&host, &cached).await,
    );
    assert_eq!(
        idp.counts().introspection,
        seen,
        "the cached verdict was re-fetched"
    );

    let fresh = idp.register_active("bob", "news:read", mcp.as_str());
    assert_unavailable(
        "introspection slower than the timeout",
        &call(&host, &fresh).await,
    );

    idp.set_delay(IdpEndpoint::Introspection, Duration::ZERO);
    for (name, fault) in [
        ("503", Fault::Down),
        ("500", Fault::Status(500)),
        ("hang", Fault::Hang),
        (
            "not JSON",
            Fault::Respond {
                status: 200,
                content_type: "text/plain".into(),
                body: "ok".into(),
            },
        ),
    ] {
        idp.set_fault(IdpEndpoint::Introspection, Some(fault));
        assert_unavailable(&format!("introspection {name}"), &call(&host, &fresh).await);
        assert_ok(
            &format!("introspection {name}: cached positive"),
            &call(&host, &cached).await,
        );
    }

    // Failures were not cached as negatives: the token works once the IdP does.
    idp.clear_switches();
    assert_ok("introspection restored", &call(&host, &fresh).await);
}

#[tokio::test]
async fn userinfo_outage_is_503_and_cached_positives_are_served() {
    let idp = FakeIdp::builder().logto_style().start().await;
    let cfg = format!(
        "[server]\nstateless = true\n[auth]\nproviders = [\"logto\"]\n[providers.logto]\nkind = \"logto\"\nissuer = \"{}\"\ntimeout = \"1s\"\n[tools.news_sentiment]\nenabled = false\n",
        idp.issuer()
    );
    let host = TestHost::start(&cfg).await;
    let cached = idp.register_userinfo(json!({"sub": "alice", "name": "Alice"}));
    wait_ok("first userinfo", &host, &cached, Duration::from_secs(20)).await;

    let fresh = idp.register_userinfo(json!({"sub": "bob"}));
    for (name, fault, delay) in [
        ("503", Some(Fault::Down), Duration::ZERO),
        ("500", Some(Fault::Status(500)), Duration::ZERO),
        ("slower than the timeout", None, Duration::from_secs(3)),
        ("stopped answering", Some(Fault::Hang), Duration::ZERO),
    ] {
        idp.set_fault(IdpEndpoint::Userinfo, fault);
        idp.set_delay(IdpEndpoint::Userinfo, delay);
        assert_unavailable(&format!("userinfo {name}"), &call(&host, &fresh).await);
        assert_ok(
            &format!("userinfo {name}: cached positive"),
            &call(&host, &cached).await,
        );
    }
    idp.clear_switches();
    assert_ok("userinfo restored", &call(&host, &fresh).await);
    // A token userinfo rejects is a 401, not a 503.
    let unknown = "opaque-token-nobody-issued-0123456789";
    let reply = call(&host, unknown).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
}

#[tokio::test]
async fn alpha_vantage_outage_is_a_tool_error_and_the_session_survives() {
    let av = FakeAlphaVantage::start().await;
    av.expect_api_key("OUTAGE-AV-KEY-7");
    let cfg = format!(
        "[providers.dev]\nkind = \"dev\"\n[tools.news_sentiment]\nbase_url = \"{}\"\napi_key = \"OUTAGE-AV-KEY-7\"\ntimeout = \"1s\"\nmax_retries = 1\nretry_backoff = \"10ms\"\ncache_ttl = \"0s\"\n",
        av.url()
    );
    let host = TestHost::start(&cfg).await;
    let mut client = McpClient::new(
        host.mcp_url(),
        Some(host.dev_token("alice", "news:read profile")),
    );
    assert_ok("initialize", &client.initialize().await);
    assert!(client.session.is_some(), "stateful session expected");

    let tool_error = |what: &str, reply: &McpReply| {
        assert_eq!(reply.status, 200, "{what}: {}", reply.body);
        let result = reply.result();
        assert_eq!(result["isError"], true, "{what}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(
            !text.is_empty(),
            "{what}: an error result says what went wrong"
        );
        assert!(
            !text.contains("OUTAGE-AV-KEY-7"),
            "{what}: API key in the message"
        );
    };
    let session_alive = |what: &str, whoami: &McpReply, list: &McpReply| {
        assert_ok(&format!("{what}: whoami"), whoami);
        assert_eq!(
            whoami.result()["structuredContent"]["sub"],
            "alice",
            "{what}"
        );
        assert_ok(&format!("{what}: tools/list"), list);
    };

    for (name, mode) in [
        ("HTTP 503", Mode::Status(503)),
        ("HTTP 500", Mode::Status(500)),
        (
            "slower than the timeout",
            Mode::Slow(Duration::from_secs(3)),
        ),
        ("malformed JSON", Mode::MalformedJson),
        ("rate limited", Mode::RateLimitInformation),
    ] {
        av.set_mode(mode);
        let reply = client
            .call_tool("news_sentiment", json!({"ticker": "AAPL"}))
            .await;
        tool_error(&format!("Alpha Vantage {name}"), &reply);
        let whoami = client.call_tool("whoami", json!({})).await;
        let list = client.list_tools().await;
        session_alive(&format!("after Alpha Vantage {name}"), &whoami, &list);
    }

    // Back up: the same session gets a real result.
    av.set_mode(Mode::Normal);
    let reply = client
        .call_tool("news_sentiment", json!({"ticker": "AAPL"}))
        .await;
    assert_ok("Alpha Vantage restored", &reply);
    assert_ne!(reply.result()["isError"], true, "{}", reply.body);
    assert!(av.violations().is_empty(), "{:?}", av.violations());

    // Gone entirely: nothing listens at base_url (connection refused).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let gone = TestHost::start(&cfg.replace(&av.url(), &closed_url)).await;
    let mut client = McpClient::new(
        gone.mcp_url(),
        Some(gone.dev_token("alice", "news:read profile")),
    );
    assert_ok(
        "initialize (unreachable Alpha Vantage)",
        &client.initialize().await,
    );
    let reply = client
        .call_tool("news_sentiment", json!({"ticker": "MSFT"}))
        .await;
    tool_error("Alpha Vantage unreachable", &reply);
    let whoami = client.call_tool("whoami", json!({})).await;
    let list = client.list_tools().await;
    session_alive("after Alpha Vantage was unreachable", &whoami, &list);
}

#[tokio::test]
async fn idp_down_at_startup_then_up_without_restart() {
    // Refusing connections (not listening yet), JWKS URL configured.
    let refused = FakeIdp::builder().start_stopped().await;
    // Listening but answering 503 everywhere, JWKS discovered.
    let failing = FakeIdp::start_down().await;
    let host_a = TestHost::start(&jwt_config(&refused, true)).await;
    let host_b = TestHost::start(&jwt_config(&failing, false)).await;
    let token_a = refused.access_token(host_a.mcp_url().as_str(), "alice", "news:read");
    let token_b = failing.access_token(host_b.mcp_url().as_str(), "alice", "news:read");

    for _ in 0..3 {
        assert_unavailable("IdP refusing connections", &call(&host_a, &token_a).await);
        assert_unavailable("IdP answering 503", &call(&host_b, &token_b).await);
    }
    // The host itself is up: metadata is served meanwhile.
    for host in [&host_a, &host_b] {
        let prm = reqwest::get(format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            host.url
        ))
        .await
        .unwrap();
        assert_eq!(prm.status(), 200);
    }

    refused.restart().await;
    failing.set_all_down(false);
    wait_ok(
        "IdP came up (was refusing)",
        &host_a,
        &token_a,
        Duration::from_secs(30),
    )
    .await;
    wait_ok(
        "IdP came up (was 503)",
        &host_b,
        &token_b,
        Duration::from_secs(30),
    )
    .await;
}
