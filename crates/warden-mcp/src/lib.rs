//! # warden-mcp
//!
//! Serves a [`warden_core::ToolRegistry`] over MCP with [rmcp](https://docs.rs/rmcp):
//! rmcp speaks the protocol (Streamable HTTP, sessions, JSON-RPC); this crate
//! maps warden tools to MCP tools, reads the caller's [`AuthInfo`] that the
//! HTTP layer put into the request extensions, and enforces per-tool scopes.
//!
//! ```
//! use std::sync::Arc;
//! use warden_core::*;
//! use warden_mcp::{ListTools, McpOptions, WardenMcp};
//!
//! let guard = Arc::new(BearerGuard::new(
//!     ProviderSet::default(),
//!     BearerPolicy::default(),
//!     ChallengeContext::default(),
//!     noop_observer(),
//! ));
//! let server = WardenMcp::new(Arc::new(ToolRegistry::new()), guard, noop_observer(), ListTools::All);
//! let service = warden_mcp::streamable_http_service(server, &McpOptions::default());
//! # let _ = service;
//! ```
#![deny(missing_docs)]

mod fast_path;
mod handler;
pub mod headers;
mod in_flight;
mod service;
pub mod tool_request;
pub mod trace;

pub use fast_path::{FastPath, McpResponse};
pub use handler::{auth_info_from_parts, ListTools, WardenMcp, REQUIRED_SCOPES_META};
pub use in_flight::{InFlight, InFlightGuard};
pub use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
pub use service::{live_sessions, streamable_http_service, McpOptions, McpService};
pub use warden_core::AuthInfo;
