//! The crate's error enum: why keys or discovery documents could not be had.

use std::time::Duration;

/// Why a JWKS or discovery document could not be fetched or used.
///
/// Verification never returns this type: it becomes
/// [`AuthError::Unavailable`](warden_core::AuthError::Unavailable) at the
/// [`Verifier`](warden_core::Verifier) boundary and the text of the last one
/// is shown in [`ProviderStatus::last_error`](warden_core::ProviderStatus).
/// No variant ever carries a token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// The HTTP request failed before an answer arrived (connection refused, TLS, …).
    #[error("GET {url}: {reason}")]
    Fetch {
        /// The URL requested.
        url: String,
        /// What failed.
        reason: String,
    },
    /// No answer within the configured timeout.
    #[error("GET {url}: no answer within {timeout:?}")]
    Timeout {
        /// The URL requested.
        url: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The server answered with a non-success status.
    #[error("GET {url}: HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The answer was not the JSON document expected.
    #[error("{url}: {reason}")]
    InvalidDocument {
        /// The URL requested.
        url: String,
        /// What was wrong with the document.
        reason: String,
    },
    /// The key set holds no usable signing key, or is not a JWK set at all.
    #[error("invalid key set: {reason}")]
    InvalidKeySet {
        /// What was wrong.
        reason: String,
    },
    /// Neither discovery document of the issuer yielded a `jwks_uri`.
    #[error("discovery for issuer {issuer} failed: {reason}")]
    Discovery {
        /// The issuer discovery started from.
        issuer: String,
        /// The last failure.
        reason: String,
    },
}

impl JwtError {
    /// A bounded label for [`Event::Upstream`](warden_core::Event::Upstream) outcomes.
    pub fn outcome(&self) -> &'static str {
        match self {
            JwtError::Timeout { .. } => "timeout",
            JwtError::Status { status, .. } if *status >= 500 => "http_5xx",
            JwtError::Status { status: 429, .. } => "rate_limited",
            JwtError::Status { .. } => "http_4xx",
            JwtError::InvalidDocument { .. } | JwtError::InvalidKeySet { .. } => "invalid_response",
            JwtError::Fetch { .. } | JwtError::Discovery { .. } => "error",
        }
    }

    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            JwtError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_bounded_labels() {
        let s = |status| JwtError::Status {
            url: "u".into(),
            status,
        };
        assert_eq!(s(503).outcome(), "http_5xx");
        assert_eq!(s(404).outcome(), "http_4xx");
        assert_eq!(s(429).outcome(), "rate_limited");
        assert_eq!(s(404).status(), Some(404));
        let t = JwtError::Timeout {
            url: "u".into(),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(t.outcome(), "timeout");
        assert_eq!(t.status(), None);
    }
}
