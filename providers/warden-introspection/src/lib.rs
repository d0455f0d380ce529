//! # warden-introspection
//!
//! The `kind = "introspection"` provider: verifies opaque bearer tokens with
//! an RFC 7662 introspection endpoint.
//!
//! * [`IntrospectionConfig`]: the provider table (endpoint or issuer for
//!   discovery, client credentials, audiences, timeouts, cache);
//! * [`IntrospectionFactory`] / [`IntrospectionVerifier`]: the
//!   [`warden_core::Verifier`] the host registers;
//! * [`Introspector`], [`IntrospectionAnswer`], [`AnswerPolicy`],
//!   [`answer_to_auth_info`]: the lower-level pieces, for providers that
//!   introspect as one of several strategies.
//!
//! An answer counts only if it is `active`, its `token_type` (when stated) is
//! an access token, its `iss` (when stated) is the configured issuer, its
//! `aud` includes one of our audiences (a missing `aud` is rejected unless
//! `allow_missing_audience`), and it has not expired. Answers are cached by
//! SHA-256 of the token, never past the token's `exp`; rejections for
//! `negative_cache_ttl`; upstream failures are never cached and surface as
//! [`warden_core::AuthError::Unavailable`] (HTTP 503), never as 401.
//!
//! ```
//! use warden_core::{noop_observer, ProviderContext, ProviderFactory};
//! use warden_introspection::IntrospectionFactory;
//!
//! let ctx = ProviderContext {
//!     name: "corp".into(),
//!     public_url: "https://mcp.example".into(),
//!     resource: "https://mcp.example/mcp".into(),
//!     leeway: std::time::Duration::from_secs(60),
//!     observer: noop_observer(),
//!     data_dir: std::env::temp_dir(),
//! };
//! let verifier = IntrospectionFactory
//!     .build(&ctx, serde_json::json!({
//!         "issuer": "https://idp.example/oidc",
//!         "introspection_url": "https://idp.example/oidc/token/introspection",
//!         "client_id": "warden",
//!         "client_secret": "s3cret",
//!         "auth_method": "post",
//!     }))
//!     .unwrap();
//! let d = verifier.descriptor();
//! assert!(d.accepts_opaque && d.issuers.is_empty());
//! assert_eq!(d.authorization_servers, ["https://idp.example/oidc"]);
//! assert_eq!(d.audiences, ["https://mcp.example/mcp", "https://mcp.example/sse"]);
//! assert!(verifier.status().ready);
//!
//! let err = IntrospectionFactory
//!     .build(&ctx, serde_json::json!({"issuer": "https://idp.example", "client_id": "w",
//!                                     "client_secret": "s", "auth_method": "bogus"}))
//!     .err()
//!     .unwrap();
//! assert!(err.to_string().contains("auth_method: unknown variant `bogus`"));
//! ```
#![deny(missing_docs)]

mod answer;
mod cache;
mod client_auth;
mod config;
mod discovery;
mod error;
mod factory;
mod http;
mod introspector;
mod verifier;

pub use answer::{answer_to_auth_info, is_access_token_type, AnswerPolicy, IntrospectionAnswer};
pub use config::{serde_defaults, AuthMethod, IntrospectionConfig, Secret};
pub use factory::IntrospectionFactory;
pub use introspector::{EndpointSource, Introspected, Introspector, IntrospectorSettings};
pub use verifier::IntrospectionVerifier;

/// The provider kind this crate implements.
pub const KIND: &str = "introspection";
