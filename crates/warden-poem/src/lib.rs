//! # warden-poem
//!
//! What a [poem](https://docs.rs/poem) application needs to put warden in
//! front of its routes or of an MCP server:
//!
//! * [`BearerAuth`]: middleware that authenticates every request with a
//!   [`BearerGuard`](warden_core::BearerGuard) and answers rejections with the
//!   right status, `WWW-Authenticate` and JSON body; handlers read the caller
//!   with the [`Caller`] extractor;
//! * [`metadata_endpoint`]: the public RFC 9728 documents;
//! * [`OriginPolicy`]: Origin validation (DNS-rebinding protection) and CORS;
//! * [`McpEndpoint`]: the rmcp Streamable HTTP service behind the guard, with
//!   per-tool scope step-up (HTTP 403) and sessions bound to their user.
//!
//! See `examples/protect_routes.rs` for protecting an existing poem app.
#![deny(missing_docs)]

mod auth;
mod legacy_sse;
mod mcp;
mod metadata;
mod origin;
mod rate_limit;
mod response;

pub use auth::{BearerAuth, BearerAuthEndpoint, Caller};
pub use legacy_sse::{LegacySse, MessagesEndpoint, SseEndpoint};
pub use mcp::{McpEndpoint, SessionBindings};
pub use metadata::{json_document_endpoint, metadata_endpoint};
pub use origin::OriginPolicy;
pub use rate_limit::{RateLimit, RateLimitKey};
pub use response::{challenge_response, json_error};
