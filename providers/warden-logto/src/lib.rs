//! # warden-logto
//!
//! The `kind = "logto"` provider.
//!
//! * **Discovery** with [`warden_upstream::discover`] —
//!   `{issuer}/.well-known/openid-configuration`, then RFC 8414; the
//!   document's `issuer` must be the configured one (a trailing slash aside)
//!   — read with `openidconnect`'s provider metadata ([`LogtoProviderMetadata`],
//!   with `introspection_endpoint` as additional metadata). It runs in
//!   [`Verifier::refresh`](warden_core::Verifier::refresh) and lazily on first
//!   use; until it succeeds every token is "could not verify" (503).
//! * **JWT access tokens** (API resources, ES384 by default) are verified
//!   exactly like `kind = "jwt"` by warden-jwt's
//!   [`JwtVerifier`](warden_jwt::JwtVerifier) with the discovered `jwks_uri`.
//! * **Opaque access tokens** are sent to the discovered `userinfo_endpoint`
//!   (the answer's claims become the identity), or — with `client_id` and
//!   `client_secret` — introspected at the discovered
//!   `introspection_endpoint` with warden-introspection.
//! * Opaque-token answers are cached by SHA-256 of the token (positive ≤ `exp`,
//!   negative, bounded, single-flight); upstream failures are never cached.
//!
//! ```
//! use warden_core::{noop_observer, ProviderContext, ProviderFactory};
//! use warden_logto::LogtoFactory;
//!
//! let ctx = ProviderContext {
//!     name: "logto".into(),
//!     public_url: "https://mcp.example".into(),
//!     resource: "https://mcp.example/mcp".into(),
//!     leeway: std::time::Duration::from_secs(60),
//!     observer: noop_observer(),
//!     data_dir: std::env::temp_dir(),
//! };
//! let verifier = LogtoFactory
//!     .build(&ctx, serde_json::json!({
//!         "issuer": "https://tenant.logto.app/oidc",
//!         "audience": "https://api.example.com",
//!     }))
//!     .unwrap();
//! let d = verifier.descriptor();
//! assert_eq!(d.kind, "logto");
//! assert_eq!(d.issuers, ["https://tenant.logto.app/oidc"]);
//! assert!(d.accepts_opaque);
//! assert_eq!(d.audiences, ["https://api.example.com"]);
//! assert_eq!(d.authorization_servers, ["https://tenant.logto.app/oidc"]);
//! assert!(!verifier.status().ready); // nothing discovered yet: building does no I/O
//!
//! let err = LogtoFactory
//!     .build(&ctx, serde_json::json!({"issuer": "https://t.logto.app/oidc", "client_id": "m2m"}))
//!     .err()
//!     .unwrap();
//! assert_eq!(err.to_string(),
//!     "providers.logto: client_secret: missing (client_id is set; introspection needs both)");
//! ```
#![deny(missing_docs)]

mod cache;
mod config;
mod discovery;
mod error;
mod factory;
mod http;
mod keys;
mod userinfo;
mod verifier;

pub use config::{
    ClientCredentials, LogtoConfig, LogtoSettings, OpaqueCacheSettings, DEFAULT_ALGORITHMS,
};
pub use discovery::{parse_document, Endpoints, LogtoAdditionalMetadata, LogtoProviderMetadata};
pub use error::LogtoError;
pub use factory::LogtoFactory;
pub use userinfo::userinfo_to_auth_info;
pub use verifier::LogtoVerifier;

/// The provider kind this crate implements.
pub const KIND: &str = "logto";
