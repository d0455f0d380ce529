//! OTLP export (feature `otlp`): real warden hosts over loopback export their
//! spans to an OTLP/HTTP receiver in this test, which decodes them.
//!
//! Run with `cargo test -p warden --features otlp --test otlp`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{handler, post, EndpointExt, Route, Server};
use serde_json::{json, Value};
use warden::config::LogConfig;
use warden::telemetry::TelemetryConfig;
use warden::{App, Config};

mod common;
use common::{free_port, wait_until_up, warden};

/// What the receiver got: one JSON body per export request.
type Received = Arc<Mutex<Vec<Value>>>;

#[handler]
fn traces(body: String, Data(received): Data<&Received>) -> &'static str {
    let value = serde_json::from_str(&body).expect("an OTLP/JSON body");
    received.lock().unwrap().push(value);
    "{}"
}

/// An OTLP/HTTP receiver on loopback: its base URL and what it received.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let app = Route::new()
        .at("/v1/traces", post(traces))
        .data(received.clone());
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    (format!("http://{addr}"), received)
}

/// A stateless host with the dev issuer; `fast_path` picks the MCP path.
async fn host(fast_path: bool) -> (warden::Running, tempfile::TempDir) {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[server]\nbind = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n\
         data_dir = \"{}\"\nstateless = true\nfast_path = {fast_path}\n\
         [admin]\nenabled = false\n",
        dir.path().display()
    );
    let config = Config::from_toml(&toml).unwrap();
    let app = App::build(config, warden_core::noop_observer()).unwrap();
    (warden::serve(app).await.unwrap(), dir)
}

fn token(running: &warden::Running) -> String {
    running
        .app
        .dev
        .as_ref()
        .unwrap()
        .mint(warden_dev::MintRequest {
            sub: "alice".into(),
            scopes: vec!["profile".into()],
            ttl: Duration::from_secs(600),
            audience: None,
            client_id: None,
        })
        .unwrap()
}

async fn call_whoami(
    running: &warden::Running,
    token: &str,
    header: Option<&str>,
    meta: Option<&str>,
) -> reqwest::Response {
    let mut params = json!({ "name": "whoami", "arguments": {} });
    if let Some(tp) = meta {
        params["_meta"] = json!({ "traceparent": tp });
    }
    let mut req = reqwest::Client::new()
        .post(format!("http://{}/mcp", running.addr))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params }));
    if let Some(tp) = header {
        req = req.header("traceparent", tp);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp
}

/// The `data` of the next event on an SSE answer (`buf` keeps what was read
/// past it).
async fn next_event(stream: &mut reqwest::Response, buf: &mut String) -> String {
    let read = async {
        loop {
            if let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if !data.is_empty() {
                    return data;
                }
                continue;
            }
            let chunk = stream
                .chunk()
                .await
                .unwrap()
                .expect("the stream stays open");
            buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an event within 10 s")
}

/// `tools/call whoami` over the legacy HTTP+SSE transport (MCP 2024-11-05):
/// `GET /sse`, `initialize`, then the call POSTed with the `traceparent`
/// header `header`; the answer arrives on the stream.
async fn legacy_whoami(running: &warden::Running, token: &str, header: &str) {
    let http = reqwest::Client::new();
    let mut stream = http
        .get(format!("http://{}/sse", running.addr))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut buf = String::new();
    let endpoint = next_event(&mut stream, &mut buf).await;
    let messages = format!("http://{}{endpoint}", running.addr);
    let post = |body: Value, traceparent: Option<&str>| {
        let mut req = http
            .post(&messages)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(tp) = traceparent {
            req = req.header("traceparent", tp);
        }
        req.send()
    };
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "otlp-test", "version": "0"}}});
    assert_eq!(post(init, None).await.unwrap().status(), 202);
    let reply: Value = serde_json::from_str(&next_event(&mut stream, &mut buf).await).unwrap();
    assert_eq!(reply["id"], 1, "{reply}");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(initialized, None).await.unwrap().status(), 202);
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}}});
    assert_eq!(post(call, Some(header)).await.unwrap().status(), 202);
    let reply: Value = serde_json::from_str(&next_event(&mut stream, &mut buf).await).unwrap();
    assert_eq!(reply["id"], 2, "{reply}");
    assert_eq!(reply["result"]["isError"], false, "{reply}");
}

/// One exported span, flattened.
#[derive(Debug, Clone)]
struct Span {
    name: String,
    trace_id: String,
    span_id: String,
    parent: String,
    attributes: HashMap<String, Value>,
    links: Vec<(String, String)>,
}

impl Span {
    fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }
    fn str_attr(&self, key: &str) -> Option<&str> {
        self.attr(key)
            .and_then(|v| v.get("stringValue"))
            .and_then(Value::as_str)
    }
}

fn spans(received: &Received) -> Vec<Span> {
    let mut out = Vec::new();
    for body in received.lock().unwrap().iter() {
        for rs in body["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    let text = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
                    out.push(Span {
                        name: text("name"),
                        trace_id: text("traceId"),
                        span_id: text("spanId"),
                        parent: text("parentSpanId"),
                        attributes: s["attributes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|a| {
                                (
                                    a["key"].as_str().unwrap_or_default().to_owned(),
                                    a["value"].clone(),
                                )
                            })
                            .collect(),
                        links: s["links"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|l| {
                                (
                                    l["traceId"].as_str().unwrap_or_default().to_owned(),
                                    l["spanId"].as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect(),
                    });
                }
            }
        }
    }
    out
}

fn one<'a>(spans: &'a [Span], trace: &str, name: &str) -> &'a Span {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.trace_id == trace && s.name == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {name} span in trace {trace}: {spans:#?}"
    );
    found[0]
}

fn tp(trace: &str, parent: &str) -> String {
    format!("00-{trace}-{parent}-01")
}

/// The request → guard → verifier → tool chain of one header-parented call.
fn assert_chain(spans: &[Span], trace: &str, parent: &str) {
    let request = one(spans, trace, "request");
    assert_eq!(request.parent, parent, "the caller's span is the parent");
    assert_eq!(request.str_attr("http.request.method"), Some("POST"));
    assert_eq!(request.str_attr("http.route"), Some("/mcp"));
    let status = request
        .attr("http.response.status_code")
        .and_then(|v| v.get("intValue"))
        .map(|v| v.to_string().trim_matches('"').to_owned());
    assert_eq!(status.as_deref(), Some("200"), "{request:?}");
    assert!(request
        .str_attr("request_id")
        .is_some_and(|id| !id.is_empty()));
    let guard = one(spans, trace, "guard");
    assert_eq!(guard.parent, request.span_id, "guard under request");
    assert_eq!(guard.str_attr("outcome"), Some("accepted"));
    assert_eq!(guard.str_attr("provider"), Some("dev"));
    let verifier = one(spans, trace, "verifier");
    assert_eq!(verifier.parent, guard.span_id, "verifier under guard");
    assert_eq!(verifier.str_attr("provider"), Some("dev"));
    assert_eq!(verifier.str_attr("outcome"), Some("accepted"));
    let tool = one(spans, trace, "tool");
    assert_eq!(tool.parent, request.span_id, "tool under request");
    assert_eq!(tool.str_attr("gen_ai.tool.name"), Some("whoami"));
    assert_eq!(tool.str_attr("mcp.method.name"), Some("tools/call"));
    assert_eq!(tool.str_attr("outcome"), Some("ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_call_spans_reach_the_collector() {
    let (endpoint, received) = receiver().await;
    let telemetry = TelemetryConfig {
        otlp_endpoint: Some(endpoint),
        service_name: "warden-otlp-test".into(),
        timeout: Duration::from_secs(5),
        ..TelemetryConfig::default()
    };
    telemetry.validate().unwrap();
    let log = LogConfig {
        level: "warn".into(),
        ..LogConfig::default()
    };
    let guard = warden::logging::init_with_telemetry(&log, &telemetry).unwrap();

    // Distinct trace ids per call; `p` is the caller's span id.
    let p = "00f067aa0ba902b7";
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for (n, fast_path) in [(1, true), (2, false)] {
        let (running, _dir) = host(fast_path).await;
        let token = token(&running);
        let header = format!("{n:x}00000000000000000000000000000a1");
        let meta = format!("{n:x}00000000000000000000000000000b2");
        let both_header = format!("{n:x}00000000000000000000000000000c3");
        let both_meta = format!("{n:x}00000000000000000000000000000d4");
        // The header parents the whole request.
        let resp = call_whoami(&running, &token, Some(&tp(&header, p)), None).await;
        ids.push(resp.headers()["x-request-id"].to_str().unwrap().to_owned());
        // `_meta` alone parents the tool span.
        call_whoami(&running, &token, None, Some(&tp(&meta, p))).await;
        // Both: the header wins.
        call_whoami(
            &running,
            &token,
            Some(&tp(&both_header, p)),
            Some(&tp(&both_meta, p)),
        )
        .await;
        running.shutdown().await;
        tokens.push((token, header, meta, both_header, both_meta));
    }
    // The legacy HTTP+SSE transport: the session's task runs the tool.
    let legacy = "e00000000000000000000000000000e5";
    let (running, _dir) = host(true).await;
    let legacy_token = token(&running);
    legacy_whoami(&running, &legacy_token, &tp(legacy, p)).await;
    running.shutdown().await;

    guard.flush();
    let mut all = Vec::new();
    for _ in 0..100 {
        all = spans(&received);
        let legacy_tool = all.iter().any(|s| s.trace_id == legacy && s.name == "tool");
        if all.len() >= 2 * (4 + 4 + 4) + 4 && legacy_tool {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        guard.flush();
    }

    for ((token, header, meta, both_header, both_meta), id) in tokens.iter().zip(&ids) {
        assert_chain(&all, header, p);
        assert_eq!(
            one(&all, header, "request").str_attr("request_id"),
            Some(id.as_str()),
            "the span names the x-request-id answered"
        );
        // `_meta` only: the tool span joins the caller's trace, linked to the request.
        let tool = one(&all, meta, "tool");
        assert_eq!(tool.parent, p);
        let request = all
            .iter()
            .find(|s| {
                s.name == "request"
                    && tool
                        .links
                        .contains(&(s.trace_id.clone(), s.span_id.clone()))
            })
            .expect("the tool span links to its request span");
        assert_ne!(
            request.trace_id, *meta,
            "the HTTP spans stay in their own trace"
        );
        // Both: one trace, the header's.
        assert_chain(&all, both_header, p);
        assert!(!all.iter().any(|s| s.trace_id == *both_meta));

        // No token, nor any part of one, in anything exported.
        let exported = serde_json::to_string(&*received.lock().unwrap()).unwrap();
        for part in token.split('.') {
            assert!(!exported.contains(part), "a token part was exported");
        }
    }
    // Legacy: the POST's request span is in the caller's trace, and the tool
    // span hangs under it although the session's task ran the tool.
    let request = one(&all, legacy, "request");
    assert_eq!(request.parent, p, "the caller's span is the parent");
    assert_eq!(request.str_attr("http.route"), Some("/messages"));
    let guard_span = one(&all, legacy, "guard");
    assert_eq!(guard_span.parent, request.span_id, "guard under request");
    let tool = one(&all, legacy, "tool");
    assert_eq!(
        tool.parent, request.span_id,
        "tool under its POST's request"
    );
    assert_eq!(tool.str_attr("gen_ai.tool.name"), Some("whoami"));
    assert_eq!(tool.str_attr("outcome"), Some("ok"));

    let exported = serde_json::to_string(&*received.lock().unwrap()).unwrap();
    for part in legacy_token.split('.') {
        assert!(!exported.contains(part), "a token part was exported");
    }
    assert!(exported.contains("warden-otlp-test"), "service.name");
    drop(guard);
}

/// `warden serve` itself exports: `[telemetry]` from the environment, spans
/// of a refused request reach the receiver, and SIGTERM flushes the batch.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_exports_spans_and_flushes_them_on_sigterm() {
    let (endpoint, received) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = warden()
        .current_dir(dir.path())
        .arg("serve")
        .env("WARDEN_SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("WARDEN_SERVER__PUBLIC_URL", &url)
        .env("WARDEN_ADMIN__ENABLED", "false")
        .env("WARDEN_TELEMETRY__OTLP_ENDPOINT", &endpoint)
        .env("WARDEN_TELEMETRY__SERVICE_NAME", "warden-binary-test")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until_up(&format!("{url}/healthz")).await;
    let client = reqwest::Client::new();
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let resp = client
        .post(format!("{url}/mcp"))
        .header("traceparent", tp(trace, "b7ad6b7169203331"))
        .header("accept", "application/json, text/event-stream")
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exited = None;
    for _ in 0..200 {
        if let Some(s) = child.try_wait().unwrap() {
            exited = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(exit) = exited else {
        let _ = child.kill();
        panic!("warden serve did not exit on SIGTERM");
    };
    assert!(exit.success(), "{exit:?}");

    // Exported before exit: the batch was flushed by the shutdown, not a timer.
    let all = spans(&received);
    let request = one(&all, trace, "request");
    assert_eq!(request.parent, "b7ad6b7169203331");
    let exported = serde_json::to_string(&*received.lock().unwrap()).unwrap();
    assert!(exported.contains("warden-binary-test"), "service.name");
}
