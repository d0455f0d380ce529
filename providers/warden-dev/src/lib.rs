//! # warden-dev
//!
//! The embedded development issuer (`kind = "dev"`): a tiny OAuth 2.1
//! authorization server inside warden, so MCP clients can get a real token
//! without an external IdP.
//!
//! * [`DevIssuer::new`] loads (or creates, mode 0600) an EC P-256 key;
//! * [`DevIssuer::mint`] signs RFC 9068 access tokens (`typ: at+jwt`, ES256);
//! * [`DevIssuer::routes`] serves RFC 8414 metadata, the JWKS and a
//!   `client_credentials` token endpoint (Basic or post client auth, RFC 8707
//!   `resource`);
//! * [`DevIssuer::verifier`] verifies its tokens through the shared
//!   [`warden_jwt::JwtVerifier`].
//!
//! ```
//! use std::time::Duration;
//! use warden_core::{noop_observer, ProviderContext};
//! use warden_dev::{DevConfig, DevIssuer, MintRequest};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let ctx = ProviderContext {
//!     name: "dev".into(),
//!     public_url: "http://127.0.0.1:8080".into(),
//!     resource: "http://127.0.0.1:8080/mcp".into(),
//!     leeway: Duration::from_secs(60),
//!     observer: noop_observer(),
//!     data_dir: std::env::temp_dir().join(format!("warden-dev-doc-{}", std::process::id())),
//! };
//! let issuer = DevIssuer::new(&ctx, DevConfig::default()).unwrap();
//! assert_eq!(issuer.issuer(), "http://127.0.0.1:8080/dev");
//! let token = issuer
//!     .mint(MintRequest {
//!         sub: "alice".into(),
//!         scopes: vec!["news:read".into()],
//!         ttl: Duration::from_secs(600),
//!         audience: None,
//!         client_id: None,
//!     })
//!     .unwrap();
//! let info = issuer.verifier().verify(&token).await.unwrap();
//! assert_eq!(info.subject.as_deref(), Some("alice"));
//! assert_eq!(info.scopes, ["news:read"]);
//! let paths: Vec<String> = issuer.routes().into_iter().map(|(path, _)| path).collect();
//! assert!(paths.contains(&"/dev/token".to_string()));
//! # std::fs::remove_dir_all(&ctx.data_dir).unwrap();
//! # }
//! ```
#![deny(missing_docs)]

mod config;
mod error;
mod issuer;
mod key;
mod routes;
mod token;

pub use config::{DevClient, DevConfig};
pub use error::DevError;
pub use issuer::{DevIssuer, MintRequest};
