//! # warden-tower
//!
//! warden's request path as [tower](https://docs.rs/tower) layers, for axum,
//! hyper or any tower stack (warden's own poem host uses the same services):
//!
//! * [`BearerLayer`]: bearer auth in front of any route; the caller's
//!   [`AuthInfo`](warden_core::AuthInfo) lands in the request extensions, a
//!   refusal is answered with the right status, `WWW-Authenticate` and JSON body;
//! * [`McpLayer`]: the whole MCP request path in front of rmcp's
//!   `StreamableHttpService` — authentication, rate limit, body cap, per-tool
//!   scope step-up decided on the JSON-RPC body, `Mcp-Method`/`Mcp-Name`
//!   consistency, session ownership, in-flight accounting for graceful
//!   shutdown and lenient `Accept`;
//! * [`LegacySse`]: the legacy HTTP+SSE transport (`GET /sse`,
//!   `POST /messages`) built from the same pieces;
//! * [`RateLimit`], [`SessionBindings`], [`OriginPolicy`]: the parts they share.
//!
//! Every refusal is a [`Rejection`](warden_core::Rejection) rendered by
//! [`Rejection::to_response`](warden_core::Rejection::to_response), the one
//! place warden's request-path errors become HTTP. The crate depends on
//! `http`, `http-body` and `tower` (plus rmcp for the legacy transport), never
//! on a web framework.
//!
//! ```
//! use std::sync::Arc;
//! use warden_core::{noop_observer, BearerGuard, BearerPolicy, ChallengeContext, ProviderSet};
//! use warden_tower::BearerLayer;
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let guard = Arc::new(BearerGuard::new(
//!     ProviderSet::new(vec![]),
//!     BearerPolicy::default(),
//!     ChallengeContext {
//!         resource_metadata: "https://api.example/.well-known/oauth-protected-resource".into(),
//!         scopes: vec![],
//!     },
//!     noop_observer(),
//! ));
//! let app = BearerLayer::new(guard).layer(service_fn(|_req: http::Request<String>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(bytes::Bytes::from("hello"))))
//! }));
//! let resp = app.oneshot(http::Request::new(String::new())).await.unwrap();
//! assert_eq!(resp.status(), 401);
//! assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer resource_metadata="));
//! # });
//! ```
#![deny(missing_docs)]

mod bearer;
mod body;
mod gate;
mod headers;
mod held;
mod legacy;
mod mcp;
mod origin;
mod rate_limit;
mod sessions;
mod trace;

pub use bearer::{Bearer, BearerLayer};
pub use body::{rejection_body, McpBody, RejectionBody};
pub use headers::{MCP_METHOD, MCP_NAME};
pub use legacy::{LegacySse, MessagesService, SseService};
pub use mcp::{Mcp, McpLayer};
pub use origin::{Origin, OriginLayer, OriginPolicy, ALLOWED_HEADERS, EXPOSED_HEADERS};
pub use rate_limit::{RateLimit, RateLimitKey};
pub use sessions::SessionBindings;
