//! `x-request-id` on every answer of both listeners, W3C `traceparent` (HTTP
//! header or MCP `params._meta`) in the access log, and probes kept out of
//! the access log at INFO — through the real host over loopback.

use std::collections::HashSet;

use serde_json::{json, Value};
use warden_test_support::host::TestHost;
use warden_test_support::idp::{FakeIdp, Fault, IdpEndpoint};
use warden_test_support::logs;

const CONFIG: &str = "[server]\nstateless = true\nmax_body_bytes = 2048\n\
[providers.dev]\nkind = \"dev\"\n\
[tools.whoami]\nrequired_scopes = [\"profile\"]\n\
[tools.news_sentiment]\nenabled = false\n\
[limits.rate_limit]\nenabled = true\nkey = \"subject\"\nper_minute = 6\nburst = 3\n\
[admin]\nbind = \"127.0.0.1:0\"\ntoken = \"tracing-admin-token\"\n";

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn traceparent(trace: &str) -> String {
    format!("00-{trace}-00f067aa0ba902b7-01")
}

fn call(tool: &str, meta: Option<&str>) -> String {
    let mut params = json!({ "name": tool, "arguments": {} });
    if let Some(tp) = meta {
        params["_meta"] = json!({ "traceparent": tp });
    }
    json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params }).to_string()
}

fn mcp_post(
    http: &reqwest::Client,
    host: &TestHost,
    token: Option<&str>,
    body: String,
) -> reqwest::RequestBuilder {
    let req = http
        .post(host.mcp_url())
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body);
    match token {
        Some(t) => req.bearer_auth(t),
        None => req,
    }
}

/// The `x-request-id` of an answer (asserting there is exactly one).
fn request_id(what: &str, resp: &reqwest::Response) -> String {
    let all: Vec<_> = resp.headers().get_all("x-request-id").iter().collect();
    assert_eq!(all.len(), 1, "{what}: one x-request-id, got {all:?}");
    all[0].to_str().unwrap().to_owned()
}

fn is_generated(id: &str) -> bool {
    id.len() == 36 && id.as_bytes()[14] == b'4' && id.bytes().filter(|b| *b == b'-').count() == 4
}

#[tokio::test]
async fn every_answer_of_both_listeners_carries_a_fresh_request_id() {
    let host = TestHost::start(CONFIG).await;
    let http = reqwest::Client::new();
    let alice = host.dev_token("alice", "profile");
    let no_profile = host.dev_token("bob", "news:read");
    let mut seen = Vec::new();
    let mut check = |what: &str, resp: reqwest::Response, status: u16| {
        assert_eq!(resp.status(), status, "{what}");
        let id = request_id(what, &resp);
        assert!(is_generated(&id), "{what}: {id}");
        seen.push(id);
    };

    let r = http
        .get(format!("{}/healthz", host.url))
        .send()
        .await
        .unwrap();
    check("healthz", r, 200);
    let r = http
        .get(format!("{}/no-such-path", host.url))
        .send()
        .await
        .unwrap();
    check("unknown path", r, 404);
    let r = mcp_post(&http, &host, None, call("whoami", None))
        .send()
        .await
        .unwrap();
    check("no token", r, 401);
    let r = mcp_post(&http, &host, Some(&no_profile), call("whoami", None))
        .send()
        .await
        .unwrap();
    check("missing tool scope", r, 403);
    let r = mcp_post(&http, &host, Some(&alice), " ".repeat(4096))
        .send()
        .await
        .unwrap();
    check("body over the cap", r, 413);
    // The fast path answers a stateless tools/call itself.
    let before = host
        .app()
        .fast_path_answers
        .load(std::sync::atomic::Ordering::Relaxed);
    let r = mcp_post(&http, &host, Some(&alice), call("whoami", None))
        .send()
        .await
        .unwrap();
    check("fast path", r, 200);
    assert!(
        host.app()
            .fast_path_answers
            .load(std::sync::atomic::Ordering::Relaxed)
            > before
    );
    // alice's burst is 3 (per minute 6): calls beyond it are refused.
    let mut limited = None;
    for _ in 0..5 {
        let r = mcp_post(&http, &host, Some(&alice), call("whoami", None))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        check("within the rate limit", r, 200);
    }
    check("rate limited", limited.expect("a 429"), 429);

    // The admin listener.
    let admin = host.admin_url();
    let r = http
        .get(format!("{admin}/admin/v1/config"))
        .send()
        .await
        .unwrap();
    check("admin without token", r, 401);
    let r = http
        .get(format!("{admin}/admin/v1/config"))
        .bearer_auth("tracing-admin-token")
        .send()
        .await
        .unwrap();
    check("admin config", r, 200);
    let r = http.get(format!("{admin}/metrics")).send().await.unwrap();
    check("metrics", r, 200);

    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "ids are unique: {seen:?}");
}

#[tokio::test]
async fn a_503_carries_a_request_id_too() {
    let idp = FakeIdp::start().await;
    idp.set_fault(IdpEndpoint::Jwks, Some(Fault::Down));
    let host = TestHost::start(&format!(
        "[auth]\nproviders = [\"corp\"]\n[providers.corp]\nkind = \"jwt\"\nissuer = \"{}\"\njwks_url = \"{}\"\ntimeout = \"1s\"\n[tools.news_sentiment]\nenabled = false\n",
        idp.issuer(),
        idp.jwks_url()
    ))
    .await;
    let resp = reqwest::get(format!("{}/readyz", host.url)).await.unwrap();
    assert_eq!(resp.status(), 503);
    assert!(is_generated(&request_id("readyz", &resp)));
}

#[tokio::test]
async fn a_sane_request_id_is_echoed_and_any_other_replaced() {
    let host = TestHost::start(CONFIG).await;
    let http = reqwest::Client::new();
    let get = |id: String| {
        http.get(format!("{}/healthz", host.url))
            .header("x-request-id", id)
            .send()
    };
    let sane = "client-req_42.a:b/c~!";
    let resp = get(sane.to_owned()).await.unwrap();
    assert_eq!(request_id("sane", &resp), sane);
    let longest = "x".repeat(128);
    let resp = get(longest.clone()).await.unwrap();
    assert_eq!(request_id("128 bytes", &resp), longest);
    for insane in ["x".repeat(129), "has space".into(), "tab\tinside".into()] {
        let resp = get(insane.clone()).await.unwrap();
        let id = request_id("insane", &resp);
        assert_ne!(id, insane);
        assert!(is_generated(&id), "{insane:?} replaced by {id}");
    }
    // On the admin listener too, and on a 401 of the MCP endpoint.
    let resp = http
        .get(format!("{}/metrics", host.admin_url()))
        .header("x-request-id", "admin-req-1")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id("admin", &resp), "admin-req-1");
    let resp = mcp_post(&http, &host, None, call("whoami", None))
        .header("x-request-id", "mcp-401")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(request_id("401", &resp), "mcp-401");
}

/// The access log line (JSON, as captured) of the request with id `id`.
async fn access_line(buf: &logs::LogBuffer, id: &str) -> Value {
    for _ in 0..50 {
        let found = buf
            .contents()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["target"] == "warden::access" && v["fields"]["request_id"] == id);
        if let Some(line) = found {
            return line;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no access log line for {id}:\n{}", buf.contents());
}

#[tokio::test]
async fn the_access_log_names_request_and_trace_ids() {
    let buf = logs::capture();
    for fast_path in [true, false] {
        let host = TestHost::start(&CONFIG.replace(
            "[server]\n",
            &format!("[server]\nfast_path = {fast_path}\n"),
        ))
        .await;
        let http = reqwest::Client::new();
        let alice = host.dev_token("alice", "profile");
        let tag = if fast_path { "fast" } else { "rmcp" };

        // A generated id is logged as answered.
        let resp = mcp_post(&http, &host, Some(&alice), call("whoami", None))
            .send()
            .await
            .unwrap();
        let id = request_id("generated", &resp);
        let line = access_line(&buf, &id).await;
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["status"], 200);
        assert!(line["fields"].get("trace_id").is_none(), "{line}");

        // The traceparent header's trace id.
        let id = format!("{tag}-header");
        let resp = mcp_post(&http, &host, Some(&alice), call("whoami", None))
            .header("x-request-id", &id)
            .header("traceparent", traceparent(TRACE))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(access_line(&buf, &id).await["fields"]["trace_id"], TRACE);

        // `params._meta.traceparent` of a tools/call, without the header.
        let meta_trace = "0af7651916cd43dd8448eb211c80319c";
        let id = format!("{tag}-meta");
        let resp = mcp_post(
            &http,
            &host,
            Some(&alice),
            call("whoami", Some(&traceparent(meta_trace))),
        )
        .header("x-request-id", &id)
        .send()
        .await
        .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            access_line(&buf, &id).await["fields"]["trace_id"],
            meta_trace
        );

        // Both: the header wins.
        let id = format!("{tag}-both");
        mcp_post(
            &http,
            &host,
            Some(&alice),
            call("whoami", Some(&traceparent(meta_trace))),
        )
        .header("x-request-id", &id)
        .header("traceparent", traceparent(TRACE))
        .send()
        .await
        .unwrap();
        assert_eq!(access_line(&buf, &id).await["fields"]["trace_id"], TRACE);

        // Invalid trace context is ignored.
        let id = format!("{tag}-invalid");
        mcp_post(
            &http,
            &host,
            Some(&alice),
            call(
                "whoami",
                Some("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            ),
        )
        .header("x-request-id", &id)
        .header("traceparent", format!("01-{TRACE}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
        let line = access_line(&buf, &id).await;
        assert!(line["fields"].get("trace_id").is_none(), "{line}");
        host.stop().await;
    }
}

#[tokio::test]
async fn probes_are_logged_at_debug_not_info() {
    let buf = logs::capture();
    let host = TestHost::start(CONFIG).await;
    let http = reqwest::Client::new();
    for path in ["healthz", "readyz"] {
        let id = format!("probe-{path}");
        http.get(format!("{}/{path}", host.url))
            .header("x-request-id", &id)
            .send()
            .await
            .unwrap();
        let line = access_line(&buf, &id).await;
        assert_eq!(line["level"], "DEBUG", "{line}");
    }
    // Not a probe: another method, or another path.
    let id = "probe-head";
    http.post(format!("{}/healthz", host.url))
        .header("x-request-id", id)
        .send()
        .await
        .unwrap();
    assert_eq!(access_line(&buf, id).await["level"], "INFO");
}
