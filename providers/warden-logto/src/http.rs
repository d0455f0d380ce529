//! Discovery and userinfo requests through the shared outbound policy
//! ([`warden_upstream`]; the JWKS and introspection clients live in
//! warden-jwt and warden-introspection and use it too): the configured
//! timeout, a body size cap, no redirects (openidconnect's SSRF guidance) and
//! an [`Event::Upstream`] for every call. Discovery is
//! [`warden_upstream::discover`]. This module only maps [`UpstreamError`]
//! to [`LogtoError`].
//!
//! [`Event::Upstream`]: warden_core::Event::Upstream

use std::time::Duration;

use warden_core::SharedObserver;
use warden_upstream::{Discovered, Request, Upstream, UpstreamError, UpstreamPolicy};

use crate::LogtoError;

/// Largest discovery or userinfo answer accepted (bytes).
const MAX_BODY_BYTES: usize = 256 * 1024;
/// The longest `Retry-After` passed on to clients.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// A status and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    /// The body of a 2xx answer (empty otherwise).
    pub body: Vec<u8>,
    /// `Retry-After` (seconds or HTTP-date), clamped to 1 s … 5 min.
    pub retry_after: Option<Duration>,
}

/// An HTTP client reporting as `idp:<provider>`.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    upstream: Upstream,
}

impl Http {
    pub(crate) fn new(
        provider: &str,
        timeout: Duration,
        observer: SharedObserver,
    ) -> Result<Self, LogtoError> {
        let policy = UpstreamPolicy::new(timeout).with_max_body_bytes(MAX_BODY_BYTES);
        let upstream =
            Upstream::idp(provider, policy, observer).map_err(|e| LogtoError::Fetch {
                url: String::new(),
                reason: e.to_string(),
            })?;
        Ok(Self { upstream })
    }

    /// The shared client (for openidconnect calls, through
    /// [`Upstream::oidc_client`]).
    #[cfg(test)]
    pub(crate) fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The metadata document of `issuer` ([`warden_upstream::discover`]).
    pub(crate) async fn discover(&self, issuer: &str) -> Result<Discovered, LogtoError> {
        let no_metadata = |reason| LogtoError::Discovery {
            issuer: issuer.to_owned(),
            reason,
        };
        warden_upstream::discover_as(&self.upstream, issuer, logto_error, no_metadata).await
    }

    /// GETs `url` (with `Authorization: Bearer <bearer>` when given). `Err`
    /// only for transport failures, timeouts and oversized bodies.
    pub(crate) async fn get(&self, url: &str, bearer: Option<&str>) -> Result<Reply, LogtoError> {
        let mut request = Request::get(url);
        if let Some(token) = bearer {
            request = request.bearer(token);
        }
        match self.upstream.send(request).await {
            Ok(reply) => Ok(Reply {
                status: reply.status,
                body: reply.body,
                retry_after: reply.retry_after.map(|d| d.min(MAX_RETRY_AFTER)),
            }),
            Err(e) => Err(logto_error(url, e)),
        }
    }
}

/// The crate's error for a failed request to `url`.
fn logto_error(url: &str, error: UpstreamError) -> LogtoError {
    let url = url.to_owned();
    match error {
        UpstreamError::Timeout { timeout, .. } => LogtoError::Timeout { url, timeout },
        UpstreamError::TooLarge { limit, .. } => LogtoError::InvalidResponse {
            url,
            reason: format!("answer is larger than {limit} bytes"),
        },
        UpstreamError::NotJson { reason, .. } => LogtoError::InvalidResponse {
            url,
            reason: format!("not a JSON object ({reason})"),
        },
        UpstreamError::IssuerMismatch {
            expected, found, ..
        } => LogtoError::InvalidResponse {
            url,
            reason: format!(
                "discovery document issuer {found:?} does not match the configured issuer {expected:?}"
            ),
        },
        UpstreamError::InvalidHeader { .. } => LogtoError::Fetch {
            url,
            reason: "the token cannot be sent in a header".into(),
        },
        UpstreamError::Connect { reason, .. } => LogtoError::Fetch {
            url,
            reason: format!("connection failed: {reason}"),
        },
        UpstreamError::Transport { reason, .. } => LogtoError::Fetch { url, reason },
        UpstreamError::Status {
            status,
            retry_after,
            ..
        } => LogtoError::Status {
            url,
            status,
            retry_after: retry_after.map(|d| d.min(MAX_RETRY_AFTER)),
        },
        other => LogtoError::Fetch {
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
        let url = "http://idp/oidc/me";
        let e = logto_error(
            url,
            UpstreamError::Timeout {
                url: url.into(),
                timeout: Duration::from_secs(1),
            },
        );
        assert_eq!(e.to_string(), "http://idp/oidc/me: no answer within 1s");
        assert_eq!(e.outcome(), "timeout");
        let e = logto_error(
            url,
            UpstreamError::TooLarge {
                url: url.into(),
                limit: MAX_BODY_BYTES,
            },
        );
        assert_eq!(
            e.to_string(),
            format!("http://idp/oidc/me: answer is larger than {MAX_BODY_BYTES} bytes")
        );
        assert_eq!(e.outcome(), "invalid_response");
        let e = logto_error(
            url,
            UpstreamError::InvalidHeader {
                name: "authorization",
            },
        );
        assert!(e.to_string().contains("cannot be sent in a header"), "{e}");
        let e = logto_error(
            url,
            UpstreamError::Status {
                url: url.into(),
                status: 503,
                retry_after: Some(Duration::from_secs(3600)),
            },
        );
        assert!(
            matches!(e, LogtoError::Status { retry_after: Some(d), .. } if d == MAX_RETRY_AFTER)
        );
    }

    /// openidconnect's own HTTP calls go through the same client: its
    /// `AsyncHttpClient` is implemented for [`Upstream::oidc_client`].
    #[tokio::test]
    async fn openidconnect_discovery_obeys_the_policy() {
        use openidconnect::IssuerUrl;
        use warden_upstream::testing::TestServer;

        let http = Http::new(
            "logto",
            Duration::from_millis(300),
            warden_core::noop_observer(),
        )
        .unwrap();
        let client = http.upstream().oidc_client();
        let silent = TestServer::silent().await;
        let started = std::time::Instant::now();
        let result = crate::LogtoProviderMetadata::discover_async(
            IssuerUrl::new(silent.origin()).unwrap(),
            &client,
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        match result {
            Err(openidconnect::DiscoveryError::Request(UpstreamError::Timeout { .. })) => {}
            other => panic!("{other:?}"),
        }
        let huge = TestServer::huge(warden_upstream::testing::FIFTY_MB).await;
        let result = crate::LogtoProviderMetadata::discover_async(
            IssuerUrl::new(huge.origin()).unwrap(),
            &client,
        )
        .await;
        match result {
            Err(openidconnect::DiscoveryError::Request(UpstreamError::TooLarge {
                limit, ..
            })) => assert_eq!(limit, MAX_BODY_BYTES),
            other => panic!("{other:?}"),
        }
    }
}
