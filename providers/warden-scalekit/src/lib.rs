//! # warden-scalekit
//!
//! The `kind = "scalekit"` provider: a preset of warden-jwt's
//! [`JwtVerifier`](warden_jwt::JwtVerifier) for Scalekit's RS256 access tokens.
//!
//! * JWKS: `{environment_url}/keys` (cached, refreshed, single-flight, stale-if-error);
//! * issuers: `{environment_url}` and `{environment_url}/resources/{resource_id}`
//!   (both route to this provider);
//! * audiences: `audience`, else `[resource_id, canonical MCP URL]`;
//! * scopes: the `scopes` array and/or the `scope` string;
//! * PRM `authorization_servers`: `["{environment_url}/resources/{resource_id}"]`;
//! * the seed tutorial's `SCALEKIT_*` environment variables fill keys missing
//!   from the table ([`ScalekitConfig::resolve`]).
//!
//! ```
//! use warden_core::{noop_observer, ProviderContext, ProviderFactory};
//! use warden_scalekit::ScalekitFactory;
//!
//! let ctx = ProviderContext {
//!     name: "scalekit".into(),
//!     public_url: "https://mcp.example".into(),
//!     resource: "https://mcp.example/mcp".into(),
//!     leeway: std::time::Duration::from_secs(60),
//!     observer: noop_observer(),
//!     data_dir: std::env::temp_dir(),
//! };
//! // Only the tutorial's .env: no table keys at all.
//! let factory = ScalekitFactory::with_env(|name| match name {
//!     "SCALEKIT_ENVIRONMENT_URL" => Some("https://acme.scalekit.dev".into()),
//!     "SCALEKIT_AUDIENCE_NAME" => Some("res_88056357768398086".into()),
//!     _ => None,
//! });
//! let verifier = factory.build(&ctx, serde_json::json!({})).unwrap();
//! let d = verifier.descriptor();
//! assert_eq!(d.kind, "scalekit");
//! assert_eq!(d.issuers, [
//!     "https://acme.scalekit.dev",
//!     "https://acme.scalekit.dev/resources/res_88056357768398086",
//! ]);
//! assert_eq!(d.audiences, ["res_88056357768398086", "https://mcp.example/mcp"]);
//! assert_eq!(d.authorization_servers, ["https://acme.scalekit.dev/resources/res_88056357768398086"]);
//!
//! let err = ScalekitFactory::with_env(|_| None).build(&ctx, serde_json::json!({})).err().unwrap();
//! assert!(err.to_string().contains("SCALEKIT_ENVIRONMENT_URL"));
//! ```
#![deny(missing_docs)]

mod config;
mod env;
mod factory;

pub use config::{jwks_url, resource_issuer, ScalekitConfig, ScalekitSettings, DEFAULT_ALGORITHMS};
pub use env::{
    is_resource_id, process_env, resource_id_from_metadata_url, EnvLookup, SharedEnvLookup,
    ENV_AUDIENCE_NAME, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_ENVIRONMENT_URL,
    ENV_RESOURCE_METADATA_URL,
};
pub use factory::ScalekitFactory;

/// The provider kind this crate implements.
pub const KIND: &str = "scalekit";
