//! Operating end to end: the admin listener of the real host, its auth, redaction,
//! `/metrics` after driving every path, the dashboards' and alerts' series
//! checked against a real scrape, and a real Prometheus scraping warden.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use warden_test_support::alphavantage::{FakeAlphaVantage, Mode};
use warden_test_support::host::TestHost;
use warden_test_support::idp::FakeIdp;
use warden_test_support::mcp::McpClient;

const ADMIN_TOKEN: &str = "ADMIN-SECRET-0b7e";
const CLIENT_SECRET: &str = "INTROSPECTION-SECRET-91d2";
const AV_KEY: &str = "AV-KEY-SECRET-5c1a";

async fn start(idp: &FakeIdp, av: &FakeAlphaVantage) -> TestHost {
    TestHost::start(&format!(
        r#"
[auth]
providers = ["dev", "corp", "opaque"]
[providers.dev]
kind = "dev"
[providers.corp]
kind = "jwt"
issuer = "{issuer}"
[providers.opaque]
kind = "introspection"
introspection_url = "{introspect}"
client_id = "{client_id}"
client_secret = "{secret}"
[tools.news_sentiment]
base_url = "{av}"
api_key = "{AV_KEY}"
retry_backoff = "10ms"
[admin]
bind = "127.0.0.1:0"
token = "{ADMIN_TOKEN}"
"#,
        issuer = idp.issuer(),
        introspect = idp.introspection_url(),
        client_id = idp.client_id(),
        secret = CLIENT_SECRET,
        av = av.url(),
    ))
    .await
}

async fn idp_with_secret() -> FakeIdp {
    FakeIdp::builder()
        .client("warden-test", CLIENT_SECRET)
        .start()
        .await
}

fn admin(host: &TestHost, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().get(format!("{}{path}", host.admin_url()))
}

/// The admin listener's `/metrics` text.
async fn scrape(host: &TestHost) -> String {
    admin(host, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The sum of the samples of `family` whose labels contain every `key="value"` of `labels`.
fn sample_sum(scrape: &str, family: &str, labels: &[&str]) -> f64 {
    scrape
        .lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .filter(|l| labels.iter().all(|kv| l.contains(kv)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Drives every path that produces a metric; returns the tokens used.
async fn drive_everything(host: &TestHost, idp: &FakeIdp, av: &FakeAlphaVantage) -> Vec<String> {
    let dev = host.dev_token("alice", "news:read profile");
    let corp = idp.access_token(host.mcp_url().as_str(), "bob", "news:read");
    let opaque = idp.register_active("carol", "profile", host.mcp_url().as_str());
    let expired = {
        let mut c = idp.claims(host.mcp_url().as_str(), "bob", "news:read");
        c["exp"] = json!(warden_test_support::tokens::now() - 3600);
        idp.mint(c)
    };
    let wrong_aud = idp.access_token("https://elsewhere.example/mcp", "bob", "news:read");
    let mut tokens = vec![
        dev.clone(),
        corp.clone(),
        opaque.clone(),
        expired.clone(),
        wrong_aud.clone(),
    ];
    for t in [&dev, &corp, &opaque] {
        let mut c = McpClient::new(host.mcp_url(), Some(t.clone()));
        assert_eq!(c.initialize().await.status, 200);
        c.list_tools().await;
        assert_eq!(c.call_tool("whoami", json!({})).await.status, 200);
        // Twice: the second hits the verified/introspection caches.
        assert_eq!(c.call_tool("whoami", json!({})).await.status, 200);
    }
    let mut news = McpClient::new(host.mcp_url(), Some(dev.clone()));
    news.initialize().await;
    assert_eq!(
        news.call_tool("news_sentiment", json!({"ticker": "AAPL"}))
            .await
            .status,
        200
    );
    av.set_mode(Mode::RateLimitInformation);
    news.call_tool("news_sentiment", json!({"ticker": "MSFT"}))
        .await;
    news.call_tool("news_sentiment", json!({"ticker": "bad$"}))
        .await;
    av.set_mode(Mode::Normal);
    let weak = McpClient::new(host.mcp_url(), Some(host.dev_token("alice", "profile")));
    assert_eq!(
        weak.call_tool("news_sentiment", json!({"ticker": "AAPL"}))
            .await
            .status,
        403
    );
    for t in [
        &expired,
        &wrong_aud,
        &"garbage.token.here".to_owned(),
        &"opaque-unknown-token".to_owned(),
    ] {
        let s = McpClient::new(host.mcp_url(), Some(t.clone()))
            .list_tools()
            .await
            .status;
        assert_eq!(s, 401);
    }
    assert_eq!(
        McpClient::new(host.mcp_url(), None)
            .list_tools()
            .await
            .status,
        401
    );
    // An IdP outage for an unknown kid: 503 (unavailable).
    idp.set_down(warden_test_support::idp::IdpEndpoint::Jwks, true);
    let unknown_kid = idp.mint_with(
        jsonwebtoken::Algorithm::RS256,
        json!({"kid": "never-seen"}),
        idp.claims(host.mcp_url().as_str(), "bob", "news:read"),
    );
    tokens.push(unknown_kid.clone());
    let s = McpClient::new(host.mcp_url(), Some(unknown_kid))
        .list_tools()
        .await
        .status;
    assert!(s == 503 || s == 401, "{s}");
    idp.set_down(warden_test_support::idp::IdpEndpoint::Jwks, false);
    reqwest::get(format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        host.url
    ))
    .await
    .unwrap();
    // Let the gauge task run once.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    tokens
}

#[tokio::test]
async fn admin_auth_and_redaction_through_the_host() {
    let idp = idp_with_secret().await;
    let av = FakeAlphaVantage::start().await;
    let host = start(&idp, &av).await;
    assert_eq!(
        admin(&host, "/admin/v1/health")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for path in ["/admin/v1/providers", "/admin/v1/tools", "/admin/v1/config"] {
        assert_eq!(
            admin(&host, path).send().await.unwrap().status(),
            401,
            "{path} without token"
        );
        assert_eq!(
            admin(&host, path)
                .bearer_auth("wrong")
                .send()
                .await
                .unwrap()
                .status(),
            401,
            "{path} wrong token"
        );
        let ok = admin(&host, path)
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{path}");
        let body = ok.text().await.unwrap();
        for secret in [ADMIN_TOKEN, CLIENT_SECRET, AV_KEY, "warden-dev-secret"] {
            assert!(!body.contains(secret), "{path} leaks a secret");
        }
    }
    let providers: Value = admin(&host, "/admin/v1/providers")
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<_> = providers
        .as_array()
        .or(providers["providers"].as_array())
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, [json!("dev"), json!("corp"), json!("opaque")]);

    // explain: a token of the JWT provider, then an expired one.
    let token = idp.access_token(host.mcp_url().as_str(), "bob", "news:read");
    let explain: Value = reqwest::Client::new()
        .post(format!("{}/admin/v1/tokens/explain", host.admin_url()))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(explain["accepted"], true, "{explain}");
    assert_eq!(explain["provider"], "corp");
    assert!(!explain.to_string().contains(&token));

    // Dev tokens minted by the admin API are accepted by the MCP endpoint.
    let minted: Value = reqwest::Client::new()
        .post(format!("{}/admin/v1/dev/tokens", host.admin_url()))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"sub": "dora", "scope": "profile"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let minted = minted["access_token"]
        .as_str()
        .or(minted["token"].as_str())
        .expect("minted token")
        .to_owned();
    let mut c = McpClient::new(host.mcp_url(), Some(minted));
    assert_eq!(c.initialize().await.status, 200);
}

fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("warden_") {
        let start = i + pos;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        if boundary {
            let mut name = text[start..end].to_string();
            for suffix in ["_bucket", "_sum", "_count"] {
                if let Some(base) = name.strip_suffix(suffix) {
                    name = base.to_owned();
                }
            }
            out.insert(name);
        }
        i = end.max(start + 1);
    }
    out
}

#[tokio::test]
async fn every_dashboard_and_alert_series_exists_in_a_real_scrape() {
    let idp = idp_with_secret().await;
    let av = FakeAlphaVantage::start().await;
    let host = start(&idp, &av).await;
    let tokens = drive_everything(&host, &idp, &av).await;
    let scrape = scrape(&host).await;
    let exported: BTreeSet<String> = scrape
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    // Series that exist (have at least one sample), not just declared families.
    let sampled: BTreeSet<String> = scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(|n| metric_names(n).into_iter().next().unwrap_or_default())
        .collect();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dashboards/");
    let mut referenced = BTreeSet::new();
    for file in ["warden-overview.json", "alerts.yml"] {
        referenced.extend(metric_names(
            &std::fs::read_to_string(format!("{root}{file}")).unwrap(),
        ));
    }
    assert!(referenced.len() >= 10, "{referenced:?}");
    let missing: Vec<_> = referenced
        .iter()
        .filter(|m| !sampled.contains(*m))
        .collect();
    assert!(missing.is_empty(), "referenced by dashboards/alerts but no series in the scrape: {missing:?}\nexported families: {exported:?}");
    // No token, secret, subject or client id in any label or value.
    for t in &tokens {
        assert!(!scrape.contains(t.as_str()));
    }
    for s in [
        ADMIN_TOKEN,
        CLIENT_SECRET,
        AV_KEY,
        "alice",
        "carol",
        "\"bob\"",
        "warden-tests",
    ] {
        assert!(!scrape.contains(s), "metrics contain {s}");
    }
    // The series the alerts select on were recorded, not only pre-created at zero.
    for (family, labels) in [
        ("warden_auth_decisions_total", &["outcome=\"accepted\""][..]),
        (
            "warden_auth_decisions_total",
            &["outcome=\"missing_token\""],
        ),
        ("warden_auth_decisions_total", &["outcome=\"expired\""]),
        (
            "warden_auth_decisions_total",
            &["outcome=\"wrong_audience\""],
        ),
        (
            "warden_auth_decisions_total",
            &["outcome=\"insufficient_scope\""],
        ),
        ("warden_auth_decisions_total", &["outcome=\"unavailable\""]),
        ("warden_jwks_refresh_total", &["result=\"error\""]),
        ("warden_jwks_refresh_total", &["result=\"ok\""]),
        (
            "warden_upstream_requests_total",
            &["upstream=\"alphavantage\"", "outcome=\"rate_limited\""],
        ),
        ("warden_tool_calls_total", &["tool=\"news_sentiment\""]),
    ] {
        assert!(
            sample_sum(&scrape, family, labels) > 0.0,
            "{family}{labels:?} has no recorded samples"
        );
    }
    if let Ok(promtool) = which("promtool") {
        let mut child = std::process::Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .output_with_stdin(scrape.as_bytes());
        assert!(
            child.status.success(),
            "promtool check metrics: {}",
            String::from_utf8_lossy(&child.stdout)
        );
        let _ = &mut child;
    }
}

fn which(bin: &str) -> Result<String, ()> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| format!("{d}/{bin}"))
        .find(|p| std::path::Path::new(p).is_file())
        .ok_or(())
}

trait OutputWithStdin {
    fn output_with_stdin(&mut self, input: &[u8]) -> std::process::Output;
}

impl OutputWithStdin for std::process::Command {
    fn output_with_stdin(&mut self, input: &[u8]) -> std::process::Output {
        use std::io::Write;
        let mut child = self
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }
}

/// A real Prometheus on loopback scrapes warden's admin listener; its HTTP API
/// then has a `warden_` series. Needs Debian's `prometheus` (installed by `.ci/run`);
/// without it the test says so and passes unless `WARDEN_REQUIRE_PROMETHEUS=1`.
#[tokio::test]
async fn a_real_prometheus_scrapes_warden() {
    let Ok(prometheus) = which("prometheus") else {
        assert!(
            std::env::var("WARDEN_REQUIRE_PROMETHEUS").is_err(),
            "prometheus is required but not installed"
        );
        eprintln!("SKIPPED: prometheus not installed (apt-get install prometheus)");
        return;
    };
    let host =
        TestHost::start("[providers.dev]\nkind = \"dev\"\n[admin]\nbind = \"127.0.0.1:0\"\n").await;
    let admin_addr = host.admin_url().trim_start_matches("http://").to_owned();
    let dir = tempfile_dir();
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: warden\n    static_configs:\n      - targets: ['{admin_addr}']\n"
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(prometheus)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut found = Value::Null;
    for _ in 0..120 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Ok(resp) = reqwest::get(format!(
            "http://127.0.0.1:{port}/api/v1/query?query=warden_build_info"
        ))
        .await
        else {
            continue;
        };
        let Ok(v) = resp.json::<Value>().await else {
            continue;
        };
        if v["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            found = v;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        found["data"]["result"][0]["metric"]["__name__"], "warden_build_info",
        "{found}"
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-prom-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        warden_test_support::tokens::now()
    )
}

/// `warden_verify_duration_seconds{cache}` tells answers from a token cache
/// (verified JWTs, introspection verdicts) from full verifications.
#[tokio::test]
async fn verify_duration_is_labelled_by_cache_hit() {
    let idp = idp_with_secret().await;
    let av = FakeAlphaVantage::start().await;
    let host = start(&idp, &av).await;
    let jwt = idp.mint(idp.claims(host.mcp_url().as_str(), "bob", "profile"));
    let opaque = idp.register_active("carol", "profile", host.mcp_url().as_str());
    for token in [&jwt, &jwt, &jwt, &opaque, &opaque] {
        let mut client = McpClient::new(host.mcp_url(), Some(token.clone()));
        assert_eq!(client.initialize().await.status, 200);
    }
    let scrape = scrape(&host).await;
    let count = |provider: &str, cache: &str| {
        sample_sum(
            &scrape,
            "warden_verify_duration_seconds_count",
            &[
                &format!("provider=\"{provider}\""),
                &format!("cache=\"{cache}\""),
            ],
        ) as u64
    };
    // Each initialize is two authenticated requests (initialize, initialized):
    // only the very first sight of each token is a full verification.
    assert_eq!(count("corp", "miss"), 1, "{scrape}");
    assert_eq!(count("corp", "hit"), 5, "{scrape}");
    assert_eq!(count("opaque", "miss"), 1, "{scrape}");
    assert_eq!(count("opaque", "hit"), 3, "{scrape}");
}

/// Exactly one auth decision per request: a `tools/call` refused for its tool's
/// scope counts once (`insufficient_scope`), not also as `accepted`; an allowed
/// call counts once as `accepted`; a missing token once as `missing_token`.
#[tokio::test]
async fn one_auth_decision_per_request() {
    let idp = idp_with_secret().await;
    let av = FakeAlphaVantage::start().await;
    let host = start(&idp, &av).await;
    let decisions = |scrape: &str| {
        let n = |outcome: &str| {
            sample_sum(
                scrape,
                "warden_auth_decisions_total",
                &[&format!("outcome=\"{outcome}\"")],
            ) as u64
        };
        (
            n("accepted"),
            n("insufficient_scope"),
            n("missing_token"),
            sample_sum(scrape, "warden_auth_decisions_total", &[]) as u64,
        )
    };
    let mut weak = McpClient::new(host.mcp_url(), Some(host.dev_token("alice", "profile")));
    assert_eq!(weak.initialize().await.status, 200);
    let before = decisions(&scrape(&host).await);
    let refused = weak
        .call_tool("news_sentiment", json!({"ticker": "AAPL"}))
        .await;
    assert_eq!(refused.status, 403);
    let after_refusal = decisions(&scrape(&host).await);
    assert_eq!(
        (
            after_refusal.0 - before.0,
            after_refusal.1 - before.1,
            after_refusal.3 - before.3
        ),
        (0, 1, 1),
        "a tool-scope refusal is one decision: insufficient_scope"
    );
    let allowed = weak.call_tool("whoami", json!({})).await;
    assert_eq!(allowed.status, 200);
    let after_call = decisions(&scrape(&host).await);
    assert_eq!(
        (
            after_call.0 - after_refusal.0,
            after_call.3 - after_refusal.3
        ),
        (1, 1),
        "an allowed call is one decision: accepted"
    );
    let anonymous = McpClient::new(host.mcp_url(), None).list_tools().await;
    assert_eq!(anonymous.status, 401);
    let after_anonymous = decisions(&scrape(&host).await);
    assert_eq!(
        (
            after_anonymous.2 - after_call.2,
            after_anonymous.3 - after_call.3
        ),
        (1, 1),
        "no token is one decision: missing_token"
    );
}

/// `DELETE /admin/v1/providers/{name}/cache` through the host empties the real
/// introspection cache: the next request with the same token asks the IdP again.
#[tokio::test]
async fn admin_cache_flush_reaches_the_real_provider() {
    let idp = idp_with_secret().await;
    let av = FakeAlphaVantage::start().await;
    let host = start(&idp, &av).await;
    let opaque = idp.register_active("carol", "profile", host.mcp_url().as_str());
    let use_token = || async {
        let mut client = McpClient::new(host.mcp_url(), Some(opaque.clone()));
        assert_eq!(client.initialize().await.status, 200);
    };
    use_token().await;
    use_token().await;
    assert_eq!(idp.counts().introspection, 1, "cached after the first call");
    let flush = reqwest::Client::new()
        .delete(format!(
            "{}/admin/v1/providers/opaque/cache",
            host.admin_url()
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(flush.status().is_success(), "{}", flush.status());
    use_token().await;
    assert_eq!(idp.counts().introspection, 2, "asked again after the flush");
}
