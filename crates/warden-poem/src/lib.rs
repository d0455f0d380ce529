//! # warden-poem
//!
//! A thin [poem](https://docs.rs/poem) adapter for warden. The request path
//! itself lives in `warden-core` (the decision and its one mapping to HTTP)
//! and `warden-tower` (the MCP path as tower services); this crate only
//! carries them into poem:
//!
//! * [`BearerAuth`]: middleware that authenticates every request with a
//!   [`BearerGuard`](warden_core::BearerGuard); handlers read the caller with
//!   the [`Caller`] extractor;
//! * [`mcp_endpoint`]: a poem endpoint from warden-tower's `McpLayer` over
//!   rmcp's Streamable HTTP service (or any tower service, such as the legacy
//!   SSE services);
//! * [`metadata_endpoint`]: the public RFC 9728 documents;
//! * [`OriginPolicy`]: Origin validation (DNS-rebinding protection) and CORS;
//! * [`rejection_response`]: a [`Rejection`](warden_core::Rejection) as a poem response.
//!
//! See `examples/protect_routes.rs` for protecting an existing poem app.
#![deny(missing_docs)]

mod auth;
mod metadata;
mod origin;
mod response;
mod tower_endpoint;

pub use auth::{BearerAuth, BearerAuthEndpoint, Caller};
pub use metadata::{json_document_endpoint, metadata_endpoint};
pub use origin::OriginPolicy;
pub use response::{json_error, rejection_response};
pub use tower_endpoint::mcp_endpoint;
pub use warden_tower::{LegacySse, McpLayer, RateLimit, RateLimitKey, SessionBindings};
