//! # warden-core
//!
//! The framework-free heart of warden: everything needed to put OAuth 2.1
//! bearer auth in front of MCP tools, without a web framework, MCP SDK or
//! metrics library. Other Rust services embed it directly.
//!
//! * [`Verifier`]: token → [`AuthInfo`] (providers implement it);
//! * [`BearerPolicy`]: issuer, audience, lifetime and scope rules (with `prefix:*` wildcards);
//! * [`BearerGuard`]: `Authorization` header → [`AuthInfo`] or [`AuthError`];
//! * [`AuthError::challenge`]: the single mapping of errors to 400/401/403/503 with `WWW-Authenticate`;
//! * [`ProtectedResourceMetadata`]: the RFC 9728 document;
//! * [`Tool`] and [`ToolRegistry`]; [`ProviderRegistry`] (kind → factory).
//!
//! ```
//! use warden_core::{AuthError, ChallengeContext, BearerPolicy};
//!
//! let policy = BearerPolicy { required_scopes: vec!["news:read".into()], ..Default::default() };
//! let err = policy.check_scopes(&["mcp:*".into()], &policy.required_scopes).unwrap_err();
//! let challenge = err.challenge(&ChallengeContext {
//!     resource_metadata: "https://mcp.example/.well-known/oauth-protected-resource/mcp".into(),
//!     scopes: vec![],
//! });
//! assert_eq!(challenge.status, 403);
//! assert!(challenge.www_authenticate.unwrap().contains("scope=\"news:read\""));
//! assert!(matches!(err, AuthError::InsufficientScope { .. }));
//! ```
#![deny(missing_docs)]

mod auth_info;
pub mod bearer;
mod cache_hit;
mod challenge;
mod error;
mod guard;
pub mod jwt_peek;
pub mod mcp_peek;
mod metadata;
mod observer;
mod outcome;
mod policy;
mod principal;
pub mod provider;
mod rejection;
pub mod scope;
mod secret;
mod tool;
pub mod trace_context;
mod verifier;

pub use auth_info::AuthInfo;
pub use cache_hit::{note_cache_hit, observe_cache_hit};
pub use challenge::{Challenge, ChallengeBody, ChallengeContext};
pub use error::AuthError;
pub use guard::{Authenticated, BearerGuard, Explanation};
pub use metadata::{metadata_url, ProtectedResourceMetadata};
pub use observer::{noop_observer, Event, NoopObserver, Observer, SharedObserver};
pub use outcome::Outcome;
pub use policy::{canonical_resource, now_unix, BearerPolicy};
pub use principal::Principal;
pub use provider::{
    BuildError, ProviderContext, ProviderFactory, ProviderRegistry, ProviderSet, Route,
    LEGACY_SSE_PATH,
};
pub use rejection::{Rejection, Transport, HEADER_MISMATCH};
pub use secret::{Secret, REDACTED};
pub use tool::{RegisteredTool, Tool, ToolError, ToolOutput, ToolRegistry, ToolSpec};
pub use trace_context::{TraceParent, TraceSlot, TRACEPARENT};
pub use verifier::{CacheStats, Check, KeyInfo, ProviderDescriptor, ProviderStatus, Verifier};
