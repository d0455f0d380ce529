//! The crate's error enum: why Logto could not be asked, or answered nonsense.

use std::time::Duration;

use warden_core::AuthError;

/// Why discovery or a userinfo call failed.
///
/// Every variant means "could not verify" and becomes
/// [`AuthError::Unavailable`] (HTTP 503) at the verifier boundary; a token
/// Logto *rejects* is not an error of this type. No variant carries a token
/// or secret (userinfo URLs never contain the token: it travels in a header).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LogtoError {
    /// The request failed before an answer arrived (connection refused, TLS, …).
    #[error("{url}: {reason}")]
    Fetch {
        /// The URL requested.
        url: String,
        /// What failed.
        reason: String,
    },
    /// No answer within the configured timeout.
    #[error("{url}: no answer within {timeout:?}")]
    Timeout {
        /// The URL requested.
        url: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// An answer with a status that neither accepts nor rejects the token (5xx, 404, 429, …).
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// `Retry-After` (delta-seconds) when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The answer was not the document expected.
    #[error("{url}: {reason}")]
    InvalidResponse {
        /// The URL requested.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// No metadata document for the issuer: every discovery URL was missing
    /// it or served an unusable one (another issuer's, not JSON, too large).
    #[error("no metadata document for issuer {issuer}: {reason}")]
    Discovery {
        /// The configured issuer.
        issuer: String,
        /// What each discovery URL gave.
        reason: String,
    },
    /// The discovery document lacks an endpoint this provider needs.
    #[error("the discovery document has no {endpoint}")]
    MissingEndpoint {
        /// `userinfo_endpoint` or `introspection_endpoint`.
        endpoint: &'static str,
    },
}

impl LogtoError {
    /// A bounded label for [`Event::Upstream`](warden_core::Event::Upstream) outcomes.
    pub fn outcome(&self) -> &'static str {
        match self {
            LogtoError::Timeout { .. } => "timeout",
            LogtoError::Status { status, .. } if *status >= 500 => "http_5xx",
            LogtoError::Status { status: 429, .. } => "rate_limited",
            LogtoError::Status { .. } => "http_4xx",
            LogtoError::InvalidResponse { .. }
            | LogtoError::Discovery { .. }
            | LogtoError::MissingEndpoint { .. } => "invalid_response",
            LogtoError::Fetch { .. } => "error",
        }
    }

    /// The "could not verify" error of provider `provider`.
    pub fn into_auth_error(self, provider: &str) -> AuthError {
        let retry_after = match &self {
            LogtoError::Status { retry_after, .. } => *retry_after,
            _ => None,
        };
        warden_upstream::unavailable(provider, self, retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_retry_after() {
        let status = |status, retry_after| LogtoError::Status {
            url: "http://idp/me".into(),
            status,
            retry_after,
        };
        assert_eq!(status(502, None).outcome(), "http_5xx");
        assert_eq!(status(429, None).outcome(), "rate_limited");
        assert_eq!(status(404, None).outcome(), "http_4xx");
        let err = status(503, Some(Duration::from_secs(30))).into_auth_error("logto");
        assert!(
            matches!(err, AuthError::Unavailable { retry_after, .. } if retry_after == Duration::from_secs(30))
        );
        let err = LogtoError::MissingEndpoint {
            endpoint: "userinfo_endpoint",
        }
        .into_auth_error("logto");
        assert!(err.is_unavailable());
        assert!(err.to_string().contains("userinfo_endpoint"));
    }
}
