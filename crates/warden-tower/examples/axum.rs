//! Embedding warden in an axum app: a REST route behind [`BearerLayer`] and
//! rmcp MCP tools behind [`McpLayer`] (per-tool scopes, step-up), on the
//! embedded dev issuer.
//!
//! ```text
//! cargo run -p warden-tower --example axum
//! # prints a token; then:
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/api/hello
//! npx @modelcontextprotocol/inspector@1.0.3 --cli http://127.0.0.1:3000/mcp --transport http \
//!   --method tools/call --tool-name whoami --header "Authorization: Bearer $TOKEN"
//! ```
//!
//! warden's integration tests serve [`router`] with the guard and tools of a
//! configured host and run the spine checks and the attack corpus through it.

use std::sync::Arc;

use axum::extract::Extension;
use axum::routing::get;
use axum::{Json, Router};
use tower::Layer;
use warden_core::{
    metadata_url, AuthInfo, BearerGuard, BearerPolicy, ChallengeContext, ProtectedResourceMetadata,
    ProviderContext, ProviderSet, ToolRegistry,
};
use warden_mcp::{streamable_http_service, McpOptions, WardenMcp};
use warden_tower::{BearerLayer, McpLayer, OriginLayer, OriginPolicy};

/// What the app is made of.
#[derive(Debug)]
pub struct Parts {
    /// The bearer guard (providers, required scopes, challenge).
    pub guard: Arc<BearerGuard>,
    /// The tools, each with its required scopes.
    pub tools: Arc<ToolRegistry>,
    /// The rmcp handler serving `tools`.
    pub server: WardenMcp,
    /// Where the app is reachable (`http://127.0.0.1:3000`).
    pub public_url: String,
    /// The RFC 9728 document of the MCP resource (`{public_url}/mcp`).
    pub metadata: ProtectedResourceMetadata,
    /// rmcp's transport options (stateless or sessions, allowed hosts).
    pub mcp: McpOptions,
}

/// The app: `GET /api/hello` (needs `profile`), MCP at `/mcp`, and the
/// public metadata documents. Browser `Origin`s other than `public_url`'s and
/// loopback get 403.
pub fn router(parts: Parts) -> Router {
    let Parts {
        guard,
        tools,
        server,
        public_url,
        metadata,
        mcp,
    } = parts;
    let mut layer = McpLayer::new(guard.clone(), tools).max_body_bytes(mcp.max_body_bytes);
    if !mcp.stateless {
        layer = layer.sessions_fail_closed();
    }
    let mcp_service = layer.layer(streamable_http_service(server, &mcp));
    let document = Json(metadata);
    Router::new()
        .route(
            "/api/hello",
            get(hello).layer(BearerLayer::new(guard).require_scopes(["profile"])),
        )
        .route_service("/mcp", mcp_service.clone())
        .route_service("/mcp/", mcp_service)
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get({
                let document = document.clone();
                move || async move { document }
            }),
        )
        .route(
            "/.well-known/oauth-protected-resource",
            get(move || async move { document }),
        )
        .layer(OriginLayer::new(OriginPolicy::new(&public_url, &[])))
}

/// A REST handler reading the caller that [`BearerLayer`] verified.
async fn hello(Extension(me): Extension<AuthInfo>) -> String {
    format!("hello {}", me.subject.as_deref().unwrap_or("stranger"))
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let public_url = "http://127.0.0.1:3000".to_owned();
    let resource = format!("{public_url}/mcp");
    let observer = warden_core::noop_observer();

    // 1. The embedded dev issuer (keys persisted in ./.warden-example).
    let ctx = ProviderContext {
        name: "dev".into(),
        public_url: public_url.clone(),
        resource: resource.clone(),
        leeway: std::time::Duration::from_secs(60),
        observer: observer.clone(),
        data_dir: ".warden-example".into(),
    };
    let dev = warden_dev::DevIssuer::new(&ctx, warden_dev::DevConfig::default())?;

    // 2. A guard and the tools, each with its scopes.
    let guard = Arc::new(BearerGuard::new(
        ProviderSet::new(vec![dev.verifier()]),
        BearerPolicy::default(),
        ChallengeContext {
            resource_metadata: metadata_url(&public_url, "/mcp"),
            scopes: vec!["news:read".into(), "profile".into()],
        },
        observer.clone(),
    ));
    let mut tools = ToolRegistry::new();
    warden_tools::ToolsConfig::default().register(&mut tools, observer.clone())?;
    let tools = Arc::new(tools);
    let server = WardenMcp::new(
        tools.clone(),
        guard.clone(),
        observer,
        warden_mcp::ListTools::All,
    );

    // 3. The app.
    let mut metadata = ProtectedResourceMetadata::new(resource.clone(), vec![dev.issuer().into()]);
    metadata.scopes_supported = vec!["news:read".into(), "profile".into()];
    let app = router(Parts {
        guard,
        tools,
        server,
        public_url: public_url.clone(),
        metadata,
        mcp: McpOptions::default(),
    });
    let token = dev.mint(warden_dev::MintRequest {
        sub: "alice".into(),
        scopes: vec!["profile".into()],
        ttl: std::time::Duration::from_secs(3600),
        audience: Some(resource),
        client_id: None,
    })?;
    println!("TOKEN={token}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
