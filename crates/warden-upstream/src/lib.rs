//! # warden-upstream
//!
//! The one outbound HTTP policy of warden. Every request warden makes to
//! another server — OIDC / RFC 8414 discovery, JWKS, RFC 7662 introspection,
//! Logto userinfo, the authorization-server metadata mirror, Alpha Vantage —
//! goes through an [`Upstream`], and this crate is the only place that builds
//! a `reqwest` client. An [`Upstream`] guarantees, for every call:
//!
//! * a **connect timeout** and a **total timeout** (connect, send, headers and
//!   the whole body), enforced by reqwest *and* by a deadline around the call;
//! * a **body cap**: a `Content-Length` above [`UpstreamPolicy::max_body_bytes`]
//!   is refused before reading, and a streamed body is refused as soon as it
//!   passes the cap — a 50 MB answer is never buffered;
//! * **no redirects** unless the policy allows some ([`Redirects`]): a
//!   redirected request would carry its credentials to another host;
//! * the user agent [`USER_AGENT`] (`warden/<version>`) and no other default
//!   header;
//! * `Retry-After` (delta-seconds or HTTP-date, clamped to 1 s … 1 h) and
//!   `Cache-Control: max-age` read from the answer ([`Reply`]);
//! * transport failures classified ([`UpstreamError`]: timeout, connect,
//!   too large, status, …) with the URL shown without its query, fragment or
//!   user info — never a token or a secret;
//! * exactly one [`Event::Upstream`](warden_core::Event::Upstream) per call,
//!   labelled with the upstream's name (`idp:<provider>`, `alphavantage`).
//!
//! [`discover`] is the one way warden finds an authorization server's
//! metadata from its issuer (OpenID Connect Discovery, then RFC 8414; the
//! document must name the configured issuer), with the same rules for every
//! provider and for the metadata mirror.
//!
//! A client that cannot be built is an error ([`Upstream::new`]), never a
//! silent fallback to a client without limits.
//!
//! The providers also share, from here, what they do around their upstream
//! calls: [`discover_as`] (discovery with the provider's own error type),
//! [`unavailable`] (an upstream failure as a "could not verify" error),
//! [`TokenCache`] (answers about tokens, by token hash, per-entry TTL,
//! single-flight) and the [`config`] helpers of their tables.
//!
//! ```no_run
//! use std::time::Duration;
//! use warden_core::noop_observer;
//! use warden_upstream::{Request, Upstream, UpstreamError, UpstreamPolicy};
//!
//! # async fn demo() -> Result<(), UpstreamError> {
//! let policy = UpstreamPolicy::new(Duration::from_secs(5))
//!     .with_connect_timeout(Duration::from_secs(2))
//!     .with_max_body_bytes(512 * 1024);
//! let idp = Upstream::new("idp:corp", policy, noop_observer())?;
//!
//! // A JSON object (2xx only), with its Cache-Control max-age.
//! let doc = idp
//!     .json(Request::get("https://idp.example.com/.well-known/openid-configuration"))
//!     .await?;
//! println!("jwks_uri = {}, max-age = {:?}", doc.value["jwks_uri"], doc.max_age);
//!
//! // Any status; the body is read (capped) for 2xx answers.
//! let reply = idp
//!     .send(
//!         Request::post_form("https://idp.example.com/introspect", "token=abc")
//!             .authorization("Basic Y2xpZW50OnNlY3JldA=="),
//!     )
//!     .await?;
//! if reply.status == 503 {
//!     println!("retry after {:?}", reply.retry_after);
//! }
//! # Ok(()) }
//! ```
//!
//! The policy itself needs no network:
//!
//! ```
//! use std::time::Duration;
//! use warden_core::noop_observer;
//! use warden_upstream::{Redirects, Upstream, UpstreamError, UpstreamPolicy, USER_AGENT};
//!
//! let policy = UpstreamPolicy::new(Duration::from_secs(10));
//! assert_eq!(policy.connect_timeout(), Duration::from_secs(10));
//! assert_eq!(policy.redirects(), Redirects::None);
//! assert!(USER_AGENT.starts_with("warden/"));
//!
//! let upstream = Upstream::new("alphavantage", policy, noop_observer()).unwrap();
//! assert_eq!(upstream.name(), "alphavantage");
//!
//! let Err(err) = Upstream::new("x", UpstreamPolicy::new(Duration::ZERO), noop_observer()) else {
//!     panic!("a zero timeout is refused")
//! };
//! assert!(matches!(err, UpstreamError::InvalidPolicy { setting: "timeout", .. }));
//! ```
#![deny(missing_docs)]

mod client;
pub mod config;
mod discovery;
mod error;
mod headers;
mod oidc;
mod policy;
mod request;
mod token_cache;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests;

pub use client::{JsonDocument, Outcome, Reply, Upstream};
pub use discovery::{discover, discover_as, discover_with, metadata_urls, Discovered, Prefer};
pub use error::{status_outcome, unavailable, UpstreamError};
pub use headers::{parse_max_age, parse_retry_after, MAX_RETRY_AFTER};
pub use oidc::{HttpFuture, OidcHttpRequest, OidcHttpResponse};
pub use policy::{Redirects, UpstreamPolicy, DEFAULT_MAX_BODY_BYTES, USER_AGENT};
pub use request::{display_url, Request};
pub use token_cache::TokenCache;
