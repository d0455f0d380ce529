//! # warden-jwt
//!
//! The one JWT/JWKS verification path of warden. `kind = "jwt"` providers
//! use it through [`JwtProviderFactory`]; the dev issuer, Scalekit and Logto
//! build a [`JwtVerifier`] from preset [`JwtSettings`].
//!
//! * [`JwtVerifier`]: `alg` allow-list, `crit`/`typ` header rules, signature,
//!   then issuer/audience/lifetime through [`warden_core::BearerPolicy`], with
//!   a cache of verified tokens;
//! * [`KeySource`]: where keys come from — [`JwksCache`] (HTTP, single-flight
//!   refetch with cooldown, background refresh, stale-if-error) or
//!   [`StaticKeys`];
//! * [`JwtConfig`]: the TOML table of `kind = "jwt"`.
//!
//! ```
//! use warden_core::{noop_observer, ProviderContext, ProviderRegistry};
//! use warden_jwt::JwtProviderFactory;
//!
//! let mut registry = ProviderRegistry::new();
//! registry.register(JwtProviderFactory);
//! let ctx = ProviderContext {
//!     name: "corp".into(),
//!     public_url: "http://127.0.0.1:8080".into(),
//!     resource: "http://127.0.0.1:8080/mcp".into(),
//!     leeway: std::time::Duration::from_secs(60),
//!     observer: noop_observer(),
//!     data_dir: std::env::temp_dir(),
//! };
//! let table = serde_json::json!({
//!     "issuer": "https://idp.example.com",
//!     "jwks_url": "https://idp.example.com/jwks",
//!     "require_typ": "at+jwt",
//! });
//! // Building does no I/O; `Verifier::refresh` fetches the keys.
//! let verifier = registry.build("jwt", &ctx, table).unwrap();
//! assert_eq!(verifier.descriptor().issuers, ["https://idp.example.com"]);
//! // Default audiences: the MCP URL and the legacy SSE endpoint of the same server.
//! assert_eq!(
//!     verifier.descriptor().audiences,
//!     ["http://127.0.0.1:8080/mcp", "http://127.0.0.1:8080/sse"]
//! );
//! assert!(!verifier.status().ready);
//!
//! let Err(err) = registry.build("jwt", &ctx, serde_json::json!({"issuer": "https://i", "jwks_url": "/jwks"}))
//! else { panic!("a relative jwks_url is rejected") };
//! assert_eq!(err.to_string(), "providers.corp: jwks_url: \"/jwks\": relative URL without a base");
//! ```
#![deny(missing_docs)]

mod compact_claims;
mod config;
mod discovery;
mod error;
mod factory;
mod http;
mod jwks;
mod key_source;
mod keyset;
mod settings;
mod verified_cache;
mod verifier;

pub use config::{serde_defaults, JwtConfig};
pub use error::JwtError;
pub use factory::JwtProviderFactory;
pub use jsonwebtoken::{Algorithm, DecodingKey};
pub use jwks::{JwksCache, JwksLocation};
pub use key_source::{KeySource, StaticKeys};
pub use keyset::KeySet;
pub use settings::{
    default_algorithms, JwksCacheSettings, JwtSettings, KeySourceConfig, VerifiedCacheSettings,
};
pub use verifier::JwtVerifier;
pub use warden_upstream::config::OneOrMany;
