//! The stateless fast path against rmcp, differentially.
//!
//! Each input is one POST: the first byte chooses the headers (protocol
//! version, `Mcp-Method`, `Mcp-Name`, `Content-Type`, `Accept`); when the
//! second byte's high bit is clear the rest is the raw body, otherwise the
//! body is a JSON-RPC request built from the second byte's other bits (method,
//! id kind, tool name, arguments, `_meta` variant) around the remaining bytes
//! as a string — so most structured inputs are requests the fast path takes. It goes to warden's MCP service with the fast path on and to the
//! same service with it off (everything through rmcp 3.11). The two answers
//! must be identical: status, every header, the body byte for byte.
//!
//! Nothing panics.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use tower::{Service, ServiceExt};
use warden_core::{
    noop_observer, AuthInfo, BearerGuard, BearerPolicy, ChallengeContext, ProviderSet,
    ToolRegistry,
};
use warden_mcp::{streamable_http_service, ListTools, McpOptions, McpService, WardenMcp};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    fast: McpService,
    rmcp: McpService,
    caller: AuthInfo,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut tools = ToolRegistry::new();
    tools.register(Arc::new(warden_tools::WhoamiTool::default()), None);
    let tools = Arc::new(tools);
    let guard = Arc::new(BearerGuard::new(
        ProviderSet::default(),
        BearerPolicy::default(),
        ChallengeContext::default(),
        noop_observer(),
    ));
    let server = WardenMcp::new(tools, guard, noop_observer(), ListTools::Authorized);
    let options = |fast_path| McpOptions {
        stateless: true,
        fast_path,
        ..McpOptions::default()
    };
    let (fast, rmcp) = runtime.block_on(async {
        (
            streamable_http_service(server.clone(), &options(true)),
            streamable_http_service(server.clone(), &options(false)),
        )
    });
    assert!(fast.is_enabled() && !rmcp.is_enabled());
    Fixture {
        runtime,
        fast,
        rmcp,
        caller: AuthInfo {
            subject: Some("fuzz".into()),
            issuer: Some("https://issuer.example".into()),
            client_id: Some("fuzz-client".into()),
            scopes: vec!["profile".into()],
            provider: "fuzz".into(),
            ..AuthInfo::default()
        },
    }
});

const VERSIONS: [&str; 8] = [
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
    "2026-07-28",
    "2099-01-01",
    "2026-07-28 ",
];

fn request(flags: u8, body: &[u8], caller: &AuthInfo) -> Request<Full<Bytes>> {
    let mut builder = Request::post("http://localhost/mcp").header("host", "localhost");
    builder = match flags & 0b11 {
        0 => builder.header("content-type", "application/json"),
        1 => builder.header("content-type", "application/json; charset=utf-8"),
        2 => builder.header("content-type", "text/plain"),
        _ => builder,
    };
    builder = if flags & 0b100 == 0 {
        builder.header("accept", "application/json, text/event-stream")
    } else {
        builder.header("accept", "application/json, text/event-stream;q=0")
    };
    if flags & 0b1000 != 0 {
        builder = builder.header("mcp-protocol-version", VERSIONS[usize::from(flags >> 5)]);
    }
    if flags & 0b1_0000 != 0 {
        // The SEP-2243 headers a conforming client derives from the body.
        let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        if let Some(method) = parsed["method"].as_str().and_then(|m| http::HeaderValue::from_str(m).ok()) {
            builder = builder.header("mcp-method", method);
        }
        if let Some(name) = parsed["params"]["name"].as_str().and_then(|n| http::HeaderValue::from_str(n).ok()) {
            builder = builder.header("mcp-name", name);
        }
    }
    let mut req = builder
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request");
    req.extensions_mut().insert(caller.clone());
    req
}

async fn answer(service: &McpService, req: Request<Full<Bytes>>) -> (Response<()>, Bytes) {
    let resp = service
        .clone()
        .ready()
        .await
        .expect("ready")
        .call(req)
        .await
        .expect("infallible");
    let (head, body) = resp.into_parts();
    let bytes = body.collect().await.expect("infallible").to_bytes();
    (Response::from_parts(head, ()), bytes)
}

/// Inputs run so far (a progress line every 100 000 shows how many the fast
/// path answered itself, so the comparison is not vacuous).
static RUNS: AtomicU64 = AtomicU64::new(0);

/// A JSON-RPC request shaped by `shape` around the text `s`.
fn structured(shape: u8, rest: &[u8]) -> Vec<u8> {
    use serde_json::{json, Value};
    let s = String::from_utf8_lossy(rest).into_owned();
    let number = rest.iter().fold(0i64, |n, b| n.wrapping_mul(131).wrapping_add(i64::from(*b)));
    let method = match shape & 0b11 {
        0 | 1 => "tools/call",
        2 => "tools/list",
        _ => "ping",
    };
    let id = match (shape >> 2) & 0b11 {
        0 => json!(number),
        1 => json!(s),
        2 => json!(number % 1000),
        _ => Value::Null,
    };
    let meta = match (shape >> 4) & 0b111 {
        0 | 1 => None,
        2 | 3 => Some(json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}
        })),
        4 => Some(json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28"})),
        5 => Some(json!({"io.modelcontextprotocol/clientCapabilities": {}})),
        6 => Some(json!({
            "io.modelcontextprotocol/protocolVersion": "2025-06-18",
            "io.modelcontextprotocol/clientCapabilities": {}
        })),
        _ => Some(json!({
            "io.modelcontextprotocol/protocolVersion": s,
            "io.modelcontextprotocol/clientCapabilities": {"x": s}
        })),
    };
    let mut params = serde_json::Map::new();
    if method == "tools/call" {
        let name = match number.rem_euclid(4) {
            0 | 1 => json!("whoami"),
            2 => json!(s),
            _ => json!("nope"),
        };
        params.insert("name".into(), name);
        match number.rem_euclid(5) {
            0 | 1 => {
                params.insert("arguments".into(), json!({}));
            }
            2 => {
                params.insert("arguments".into(), json!({ "x": s }));
            }
            3 => {
                params.insert("arguments".into(), Value::Null);
            }
            _ => {}
        }
    } else if number.rem_euclid(3) == 0 {
        params.insert("cursor".into(), json!(s));
    }
    if let Some(meta) = meta {
        params.insert("_meta".into(), meta);
    }
    let mut request = json!({"jsonrpc": "2.0", "id": id, "method": method});
    if !params.is_empty() || number.rem_euclid(2) == 0 {
        request["params"] = Value::Object(params);
    }
    serde_json::to_vec(&request).expect("serializable")
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, data)) = data.split_first() else {
        return;
    };
    let owned;
    let body = match data.split_first() {
        Some((&shape, rest)) if shape & 0x80 != 0 => {
            owned = structured(shape, rest);
            &owned[..]
        }
        _ => data,
    };
    let f = &*FIXTURE;
    let runs = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
    if runs % 100_000 == 0 {
        eprintln!("fast_path: {runs} inputs, {} answered by the fast path", f.fast.answered());
    }
    f.runtime.block_on(async {
        let (fast_head, fast_body) = answer(&f.fast, request(flags, body, &f.caller)).await;
        let (rmcp_head, rmcp_body) = answer(&f.rmcp, request(flags, body, &f.caller)).await;
        assert_eq!(fast_head.status(), rmcp_head.status(), "status");
        assert_eq!(fast_head.headers(), rmcp_head.headers(), "headers");
        assert_eq!(
            fast_body,
            rmcp_body,
            "body: fast {:?} rmcp {:?}",
            String::from_utf8_lossy(&fast_body),
            String::from_utf8_lossy(&rmcp_body)
        );
    });
});
