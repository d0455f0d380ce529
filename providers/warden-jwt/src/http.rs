//! JWKS and discovery documents through the shared outbound policy
//! ([`warden_upstream`]): timeouts, a size cap and an [`Event::Upstream`]
//! for every call; discovery is [`warden_upstream::discover`]. This module
//! only maps [`UpstreamError`] to [`JwtError`].
//!
//! [`Event::Upstream`]: warden_core::Event::Upstream

use std::time::Duration;

use serde_json::Value;
use warden_core::SharedObserver;
use warden_upstream::{Discovered, Redirects, Request, Upstream, UpstreamError, UpstreamPolicy};

use crate::JwtError;

/// Largest JWKS or discovery document accepted (bytes).
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// A JSON document and how long its server says it may be cached.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// The parsed document.
    pub body: Value,
    /// `Cache-Control: max-age` (0 for `no-cache`/`no-store`), when present.
    pub max_age: Option<Duration>,
}

/// The provider's upstream clients, reporting as `idp:<provider>`.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    /// For JWKS documents.
    upstream: Upstream,
    /// For discovery, which follows no redirects (as for every provider).
    discovery: Upstream,
}

impl HttpClient {
    /// A client whose calls are reported as `idp:<provider>` and never take longer than `timeout`.
    ///
    /// JWKS requests follow redirects (at most 5): these GETs carry no
    /// credentials. Discovery follows none, like every provider's.
    pub(crate) fn new(
        provider: &str,
        timeout: Duration,
        observer: SharedObserver,
    ) -> Result<Self, JwtError> {
        let policy = UpstreamPolicy::new(timeout).with_max_body_bytes(MAX_DOCUMENT_BYTES);
        let build = |policy: UpstreamPolicy| {
            Upstream::idp(provider, policy, observer.clone()).map_err(|e| JwtError::Fetch {
                url: String::new(),
                reason: e.to_string(),
            })
        };
        Ok(Self {
            upstream: build(policy.clone().with_redirects(Redirects::Limited(5)))?,
            discovery: build(policy)?,
        })
    }

    /// The metadata document of `issuer` ([`warden_upstream::discover`]).
    pub(crate) async fn discover(&self, issuer: &str) -> Result<Discovered, JwtError> {
        let no_metadata = |reason| JwtError::Discovery {
            issuer: issuer.to_owned(),
            reason,
        };
        warden_upstream::discover_as(&self.discovery, issuer, jwt_error, no_metadata).await
    }

    /// GETs `url` and parses it as a JSON object.
    pub(crate) async fn get_json(&self, url: &str) -> Result<Fetched, JwtError> {
        let request = Request::get(url).accept("application/json, application/jwk-set+json");
        match self.upstream.json(request).await {
            Ok(doc) => Ok(Fetched {
                body: doc.value,
                max_age: doc.max_age,
            }),
            Err(e) => Err(jwt_error(url, e)),
        }
    }
}

/// The crate's error for a failed GET of `url`.
fn jwt_error(url: &str, error: UpstreamError) -> JwtError {
    let url = url.to_owned();
    match error {
        UpstreamError::Timeout { timeout, .. } => JwtError::Timeout { url, timeout },
        UpstreamError::Status { status, .. } => JwtError::Status { url, status },
        UpstreamError::TooLarge { limit, .. } => JwtError::InvalidDocument {
            url,
            reason: format!("document is larger than {limit} bytes"),
        },
        UpstreamError::NotJson { .. } => JwtError::InvalidDocument {
            url,
            reason: "not a JSON object".into(),
        },
        UpstreamError::IssuerMismatch {
            expected, found, ..
        } => JwtError::InvalidDocument {
            url,
            reason: format!(
                "document issuer {found:?} does not match the configured issuer {expected:?}"
            ),
        },
        UpstreamError::Connect { reason, .. } => JwtError::Fetch {
            url,
            reason: format!("connection failed: {reason}"),
        },
        UpstreamError::Transport { reason, .. } => JwtError::Fetch { url, reason },
        other => JwtError::Fetch {
            url,
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_their_meaning() {
        let url = "http://idp/jwks";
        let e = jwt_error(
            url,
            UpstreamError::Timeout {
                url: url.into(),
                timeout: Duration::from_secs(2),
            },
        );
        assert_eq!(e.to_string(), "GET http://idp/jwks: no answer within 2s");
        assert_eq!(e.outcome(), "timeout");
        let e = jwt_error(
            url,
            UpstreamError::TooLarge {
                url: url.into(),
                limit: MAX_DOCUMENT_BYTES,
            },
        );
        assert_eq!(
            e.to_string(),
            format!("http://idp/jwks: document is larger than {MAX_DOCUMENT_BYTES} bytes")
        );
        assert_eq!(e.outcome(), "invalid_response");
        let e = jwt_error(
            url,
            UpstreamError::Status {
                url: url.into(),
                status: 503,
                retry_after: None,
            },
        );
        assert_eq!(e.status(), Some(503));
        let e = jwt_error(
            url,
            UpstreamError::Connect {
                url: url.into(),
                reason: "refused".into(),
            },
        );
        assert_eq!(
            e.to_string(),
            "GET http://idp/jwks: connection failed: refused"
        );
    }
}
