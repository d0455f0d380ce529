//! The load-test baseline: a minimal poem server answering a JSON POST, with
//! no auth and no MCP. It parses the JSON-RPC body and answers a small
//! JSON-RPC result, like the cheapest possible MCP tool call would: the
//! practical limit warden's rows are compared with.
//!
//! `baseline ADDR [WARDEN_CONFIG]` (loopback addresses only) serves `/mcp`.
//! With a warden config it also serves `/auth/mcp`: the same handler behind
//! warden-poem's `BearerAuth` with the guard warden builds from that config
//! (same providers, caches and policy), which isolates the cost of auth from
//! the cost of MCP.

use std::path::PathBuf;

use poem::listener::TcpListener;
use poem::web::Json;
use poem::{handler, post, EndpointExt, Route, Server};
use serde_json::{json, Value};
use warden_poem::BearerAuth;

/// The same allocator as the `warden` binary, so the ratio measures warden's work.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[handler]
async fn rpc(Json(request): Json<Value>) -> Json<Value> {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    Json(json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {"content": [{"type": "text", "text": "ok"}], "isError": false}
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr: std::net::SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:10100".into())
        .parse()?;
    if !addr.ip().is_loopback() {
        return Err("the baseline server only binds loopback addresses".into());
    }
    let mut app = Route::new().at("/mcp", post(rpc));
    if let Some(config) = args.next().map(PathBuf::from) {
        let config = warden::Config::load(Some(&config))?;
        let warden = warden::App::build(config, warden_core::noop_observer())?;
        warden.warm_up();
        app = app.at(
            "/auth/mcp",
            post(rpc).with(BearerAuth::new(warden.guard.clone())),
        );
    }
    Server::new(TcpListener::bind(addr)).run(app).await?;
    Ok(())
}
