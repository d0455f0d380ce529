//! [`UpstreamError`]: why an outbound call gave no usable answer.

use std::fmt;
use std::time::Duration;

use warden_core::AuthError;

/// Why a call failed, or a client could not be built.
///
/// Every variant carries the offending value — the URL (shown by
/// [`display_url`](crate::display_url): no query, fragment or user info), the
/// limit, the timeout — and never a token, a secret or a header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// The HTTP client could not be built (TLS backend initialisation).
    #[error("cannot build the HTTP client: {reason}")]
    Client {
        /// The underlying error.
        reason: String,
    },
    /// A limit of the [`UpstreamPolicy`](crate::UpstreamPolicy) would make every call fail.
    #[error("invalid upstream policy: {setting} = {value}")]
    InvalidPolicy {
        /// `timeout`, `connect_timeout` or `max_body_bytes`.
        setting: &'static str,
        /// The offending value.
        value: String,
    },
    /// The URL is not an absolute `http(s)` URL.
    #[error("{url:?} is not an http(s) URL: {reason}")]
    InvalidUrl {
        /// The URL (without its query or fragment).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A header value could not be sent (its value is not shown).
    #[error("the {name} header value is not a valid HTTP header value")]
    InvalidHeader {
        /// The header name (`authorization`, …).
        name: &'static str,
    },
    /// No complete answer within the timeout (connecting, waiting or reading the body).
    #[error("{url}: no answer within {timeout:?}")]
    Timeout {
        /// The URL requested.
        url: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The connection could not be established (refused, DNS, TLS handshake, …).
    #[error("{url}: connection failed: {reason}")]
    Connect {
        /// The URL requested.
        url: String,
        /// The transport error chain.
        reason: String,
    },
    /// The request or the answer broke off (reset, protocol error, too many redirects).
    #[error("{url}: {reason}")]
    Transport {
        /// The URL requested.
        url: String,
        /// What failed, starting with `request failed`, `reading the answer
        /// failed` or `too many redirects`.
        reason: String,
    },
    /// The body is larger than the policy's cap (refused without reading all of it).
    #[error("{url}: answer is larger than {limit} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// A non-success status where a document was expected ([`Upstream::json`](crate::Upstream::json)).
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status.
        status: u16,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The body is not the JSON object expected.
    #[error("{url}: not a JSON object ({reason})")]
    NotJson {
        /// The URL requested.
        url: String,
        /// The parse error, or what was found instead.
        reason: String,
    },
    /// A metadata document ([`discover`](crate::discover)) names another
    /// issuer than the configured one.
    #[error("{url}: document issuer {found:?} does not match the configured issuer {expected:?}")]
    IssuerMismatch {
        /// The URL of the document.
        url: String,
        /// The configured issuer.
        expected: String,
        /// The document's `issuer` (empty when it has none).
        found: String,
    },
    /// No candidate URL served a metadata document for the issuer
    /// ([`discover`](crate::discover)): each was missing or unusable.
    #[error("no metadata document for issuer {issuer}: {}", join(.tried))]
    NoMetadata {
        /// The configured issuer.
        issuer: String,
        /// What each candidate URL gave, in the order tried.
        tried: Vec<UpstreamError>,
    },
}

fn join(errors: &[UpstreamError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl UpstreamError {
    /// The bounded outcome label for [`Event::Upstream`](warden_core::Event::Upstream):
    /// `timeout`, `error`, `invalid_response`, `rate_limited`, `http_4xx`, `http_5xx`.
    pub fn outcome(&self) -> &'static str {
        match self {
            UpstreamError::Timeout { .. } => "timeout",
            UpstreamError::Status { status, .. } => status_outcome(*status),
            UpstreamError::TooLarge { .. }
            | UpstreamError::NotJson { .. }
            | UpstreamError::IssuerMismatch { .. } => "invalid_response",
            UpstreamError::NoMetadata { .. }
            | UpstreamError::Client { .. }
            | UpstreamError::InvalidPolicy { .. }
            | UpstreamError::InvalidUrl { .. }
            | UpstreamError::InvalidHeader { .. }
            | UpstreamError::Connect { .. }
            | UpstreamError::Transport { .. } => "error",
        }
    }

    /// Whether asking again later may succeed (timeouts, connection and
    /// transport failures, 5xx and 429); `false` for answers and local errors.
    pub fn is_transient(&self) -> bool {
        match self {
            UpstreamError::Timeout { .. }
            | UpstreamError::Connect { .. }
            | UpstreamError::Transport { .. } => true,
            UpstreamError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// The URL the error is about, when it concerns one request.
    pub fn url(&self) -> Option<&str> {
        match self {
            UpstreamError::InvalidUrl { url, .. }
            | UpstreamError::Timeout { url, .. }
            | UpstreamError::Connect { url, .. }
            | UpstreamError::Transport { url, .. }
            | UpstreamError::TooLarge { url, .. }
            | UpstreamError::Status { url, .. }
            | UpstreamError::NotJson { url, .. }
            | UpstreamError::IssuerMismatch { url, .. } => Some(url),
            UpstreamError::Client { .. }
            | UpstreamError::InvalidPolicy { .. }
            | UpstreamError::InvalidHeader { .. }
            | UpstreamError::NoMetadata { .. } => None,
        }
    }
}

/// The "could not verify" error ([`AuthError::Unavailable`], HTTP 503) of
/// provider `provider` when its upstream failed: `reason` is the failure,
/// `retry_after` the server's `Retry-After` (absent → the default 5 s of
/// [`AuthError::unavailable`]).
///
/// ```
/// use std::time::Duration;
/// use warden_core::AuthError;
///
/// let err = warden_upstream::unavailable("corp", "idp: HTTP 503", Some(Duration::from_secs(30)));
/// assert!(matches!(err, AuthError::Unavailable { retry_after, .. } if retry_after == Duration::from_secs(30)));
/// assert_eq!(
///     warden_upstream::unavailable("corp", "down", None),
///     AuthError::unavailable("corp", "down")
/// );
/// ```
pub fn unavailable(
    provider: &str,
    reason: impl fmt::Display,
    retry_after: Option<Duration>,
) -> AuthError {
    match retry_after {
        Some(retry_after) => AuthError::Unavailable {
            provider: provider.to_owned(),
            reason: reason.to_string(),
            retry_after,
        },
        None => AuthError::unavailable(provider, reason.to_string()),
    }
}

/// The bounded outcome label of an HTTP status: `ok` (2xx), `rate_limited`
/// (429), `http_5xx`, `http_4xx` (anything else, 3xx included).
pub fn status_outcome(status: u16) -> &'static str {
    match status {
        200..=299 => "ok",
        429 => "rate_limited",
        500.. => "http_5xx",
        _ => "http_4xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_bounded_labels() {
        assert_eq!(status_outcome(200), "ok");
        assert_eq!(status_outcome(302), "http_4xx");
        assert_eq!(status_outcome(401), "http_4xx");
        assert_eq!(status_outcome(429), "rate_limited");
        assert_eq!(status_outcome(503), "http_5xx");
        let url = || "http://idp/x".to_owned();
        let cases = [
            (
                UpstreamError::Timeout {
                    url: url(),
                    timeout: Duration::from_secs(1),
                },
                "timeout",
                true,
            ),
            (
                UpstreamError::TooLarge {
                    url: url(),
                    limit: 10,
                },
                "invalid_response",
                false,
            ),
            (
                UpstreamError::Status {
                    url: url(),
                    status: 502,
                    retry_after: None,
                },
                "http_5xx",
                true,
            ),
            (
                UpstreamError::Status {
                    url: url(),
                    status: 404,
                    retry_after: None,
                },
                "http_4xx",
                false,
            ),
            (
                UpstreamError::Connect {
                    url: url(),
                    reason: "refused".into(),
                },
                "error",
                true,
            ),
            (
                UpstreamError::InvalidHeader {
                    name: "authorization",
                },
                "error",
                false,
            ),
        ];
        for (err, outcome, transient) in cases {
            assert_eq!(err.outcome(), outcome, "{err}");
            assert_eq!(err.is_transient(), transient, "{err}");
        }
    }

    #[test]
    fn messages_name_the_value() {
        let e = UpstreamError::TooLarge {
            url: "http://idp/jwks".into(),
            limit: 1024,
        };
        assert_eq!(
            e.to_string(),
            "http://idp/jwks: answer is larger than 1024 bytes"
        );
        let e = UpstreamError::Timeout {
            url: "http://idp/jwks".into(),
            timeout: Duration::from_millis(250),
        };
        assert_eq!(e.to_string(), "http://idp/jwks: no answer within 250ms");
    }
}
