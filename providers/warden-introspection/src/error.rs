//! Why a call to the authorization server did not produce an answer.

use std::time::Duration;

use warden_core::AuthError;

/// An upstream failure: always "could not verify", never "invalid token".
/// Messages carry URLs and statuses, never a token or a secret.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum IntrospectionError {
    /// No answer within the configured timeout.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// `introspection` or `discovery`.
        what: &'static str,
        /// The configured timeout.
        after: Duration,
    },
    /// Connection refused, DNS failure, TLS failure, reset, …
    #[error("{what} request failed: {reason}")]
    Transport {
        /// `introspection` or `discovery`.
        what: &'static str,
        /// The transport error (it names the URL, never the body).
        reason: String,
    },
    /// The introspection endpoint refused warden's own client authentication.
    #[error("the introspection endpoint rejected warden's client credentials (HTTP {status}); check client_id, client_secret and auth_method")]
    ClientRejected {
        /// 401 or 403.
        status: u16,
    },
    /// Any other non-200 status (5xx, 429, unexpected 3xx/4xx).
    #[error("{what} endpoint answered HTTP {status}")]
    Status {
        /// `introspection` or `discovery`.
        what: &'static str,
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` hint, if the server sent one.
        retry_after: Option<Duration>,
    },
    /// A 200 whose body is not a valid introspection answer.
    #[error("invalid introspection response: {reason}")]
    InvalidResponse {
        /// What is wrong with it.
        reason: String,
    },
    /// The introspection endpoint could not be discovered from the issuer.
    #[error("introspection endpoint not discovered from issuer {issuer:?}: {reason}")]
    Discovery {
        /// The configured issuer.
        issuer: String,
        /// What failed, per discovery URL.
        reason: String,
    },
}

impl IntrospectionError {
    /// The bounded `Event::Upstream` outcome label.
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            IntrospectionError::Timeout { .. } => "timeout",
            IntrospectionError::Transport { .. } | IntrospectionError::Discovery { .. } => "error",
            IntrospectionError::ClientRejected { .. } => "http_4xx",
            IntrospectionError::Status { status: 429, .. } => "rate_limited",
            IntrospectionError::Status { status, .. } if *status >= 500 => "http_5xx",
            IntrospectionError::Status { .. } => "http_4xx",
            IntrospectionError::InvalidResponse { .. } => "invalid_response",
        }
    }

    /// The "could not verify" error the caller sees.
    pub(crate) fn into_auth_error(self, provider: &str) -> AuthError {
        let retry_after = match &self {
            IntrospectionError::Status { retry_after, .. } => *retry_after,
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
        let e = IntrospectionError::Status {
            what: "introspection",
            status: 503,
            retry_after: Some(Duration::from_secs(30)),
        };
        assert_eq!(e.outcome(), "http_5xx");
        match e.into_auth_error("corp") {
            AuthError::Unavailable {
                retry_after,
                provider,
                ..
            } => {
                assert_eq!(retry_after, Duration::from_secs(30));
                assert_eq!(provider, "corp");
            }
            other => panic!("{other:?}"),
        }
        let e = IntrospectionError::ClientRejected { status: 401 };
        assert_eq!(e.outcome(), "http_4xx");
        let AuthError::Unavailable {
            retry_after,
            reason,
            ..
        } = e.into_auth_error("corp")
        else {
            panic!()
        };
        assert_eq!(retry_after, Duration::from_secs(5), "the default hint");
        assert!(reason.contains("rejected warden's client credentials"));
        let limited = IntrospectionError::Status {
            what: "introspection",
            status: 429,
            retry_after: None,
        };
        assert_eq!(limited.outcome(), "rate_limited");
    }
}
