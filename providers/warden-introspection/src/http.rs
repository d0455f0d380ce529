//! Introspection and discovery requests through the shared outbound policy
//! ([`warden_upstream`]): timeouts, a body cap, no redirects (a redirected
//! POST would resend the token), `Retry-After` as seconds or HTTP-date, and
//! one `Event::Upstream` (`idp:<provider>`) per request. Discovery is
//! [`warden_upstream::discover`]. This module only maps [`UpstreamError`]
//! to [`IntrospectionError`].

use std::time::Duration;

use url::Url;
use warden_core::SharedObserver;
use warden_upstream::{Discovered, Outcome, Request, Upstream, UpstreamError, UpstreamPolicy};

use crate::error::IntrospectionError;

pub(crate) use warden_upstream::Reply;

/// Answers larger than this are refused (an introspection answer is a few hundred bytes).
const MAX_BODY: usize = 1024 * 1024;

/// The HTTP client of one provider.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    upstream: Upstream,
}

impl Http {
    /// A client reporting as `idp:<provider>` whose every request (connect,
    /// send, read) ends within `timeout`. Redirects are not followed: a
    /// redirected POST would resend the token.
    pub(crate) fn new(
        provider: &str,
        timeout: Duration,
        observer: SharedObserver,
    ) -> Result<Self, String> {
        let policy = UpstreamPolicy::new(timeout).with_max_body_bytes(MAX_BODY);
        let upstream = Upstream::idp(provider, policy, observer).map_err(|e| e.to_string())?;
        Ok(Http { upstream })
    }

    /// `POST`s an `application/x-www-form-urlencoded` body (the body is read
    /// for 2xx answers) and hands the reply to `interpret`; the request's
    /// event reports the outcome of the interpretation.
    pub(crate) async fn post_form<T>(
        &self,
        url: &Url,
        authorization: Option<String>,
        body: String,
        interpret: impl FnOnce(Reply) -> Result<T, IntrospectionError>,
    ) -> Result<T, IntrospectionError> {
        let mut request = Request::post_form(url.as_str(), body);
        if let Some(value) = authorization {
            request = request.authorization(&value);
        }
        self.upstream
            .call(request, |reply| {
                reply
                    .map_err(|e| introspection_error(e, "introspection"))
                    .and_then(interpret)
            })
            .await
    }

    /// The metadata document of `issuer` ([`warden_upstream::discover`]).
    pub(crate) async fn discover(&self, issuer: &str) -> Result<Discovered, IntrospectionError> {
        match warden_upstream::discover(&self.upstream, issuer).await {
            Ok(found) => Ok(found),
            Err(UpstreamError::NoMetadata { tried, .. }) => Err(IntrospectionError::Discovery {
                issuer: issuer.to_owned(),
                reason: tried
                    .into_iter()
                    .map(|e| {
                        let url = e.url().unwrap_or(issuer).to_owned();
                        format!("{url}: {}", introspection_error(e, "discovery"))
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            }),
            // A server that is down: its own error (and Retry-After).
            Err(e) => Err(introspection_error(e, "discovery")),
        }
    }
}

impl Outcome for IntrospectionError {
    fn outcome(&self) -> &'static str {
        IntrospectionError::outcome(self)
    }
}

/// The crate's error for a failed `introspection` or `discovery` request.
fn introspection_error(error: UpstreamError, what: &'static str) -> IntrospectionError {
    match error {
        UpstreamError::Timeout { timeout, .. } => IntrospectionError::Timeout {
            what,
            after: timeout,
        },
        UpstreamError::TooLarge { limit, .. } => IntrospectionError::InvalidResponse {
            reason: format!("{what} answer is larger than {limit} bytes"),
        },
        UpstreamError::InvalidHeader { .. } => IntrospectionError::Transport {
            what,
            reason: "client credentials do not form a valid header".into(),
        },
        UpstreamError::Status {
            status,
            retry_after,
            ..
        } => IntrospectionError::Status {
            what,
            status,
            retry_after,
        },
        UpstreamError::NotJson { reason, .. } => IntrospectionError::InvalidResponse {
            reason: format!("{what} answer is not a JSON object ({reason})"),
        },
        UpstreamError::IssuerMismatch {
            expected, found, ..
        } => IntrospectionError::InvalidResponse {
            reason: format!(
                "{what} document issuer {found:?} does not match the configured issuer {expected:?}"
            ),
        },
        other => IntrospectionError::Transport {
            what,
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_their_meaning() {
        let e = introspection_error(
            UpstreamError::Timeout {
                url: "http://idp/i".into(),
                timeout: Duration::from_millis(250),
            },
            "introspection",
        );
        assert_eq!(e.to_string(), "introspection timed out after 250ms");
        let e = introspection_error(
            UpstreamError::TooLarge {
                url: "http://idp/i".into(),
                limit: MAX_BODY,
            },
            "introspection",
        );
        assert_eq!(
            e.to_string(),
            format!("invalid introspection response: introspection answer is larger than {MAX_BODY} bytes")
        );
        let e = introspection_error(
            UpstreamError::InvalidHeader {
                name: "authorization",
            },
            "introspection",
        );
        assert!(e.to_string().contains("client credentials"), "{e}");
        let e = introspection_error(
            UpstreamError::Connect {
                url: "http://idp/i".into(),
                reason: "refused".into(),
            },
            "discovery",
        );
        assert_eq!(
            e.to_string(),
            "discovery request failed: http://idp/i: connection failed: refused"
        );
        let e = introspection_error(
            UpstreamError::IssuerMismatch {
                url: "http://idp/.well-known/openid-configuration".into(),
                expected: "http://idp".into(),
                found: "https://evil.example".into(),
            },
            "discovery",
        );
        assert!(e.to_string().contains("does not match"), "{e}");
        assert_eq!(e.outcome(), "invalid_response");
    }
}
