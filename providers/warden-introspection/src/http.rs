//! Introspection and discovery requests through the shared outbound policy
//! ([`warden_upstream`]): timeouts, a body cap, no redirects (a redirected
//! POST would resend the token), `Retry-After` as seconds or HTTP-date. This
//! module only maps [`UpstreamError`] to [`IntrospectionError`].
//!
//! Events: the [`Introspector`](crate::Introspector) reports one
//! `Event::Upstream` per introspection (after judging the answer) and one
//! per discovery, so this client's own events go nowhere.

use std::time::Duration;

use url::Url;
use warden_core::noop_observer;
use warden_upstream::{Request, Upstream, UpstreamError, UpstreamPolicy};

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
    /// A client whose every request (connect, send, read) ends within `timeout`.
    /// Redirects are not followed: a redirected POST would resend the token.
    pub(crate) fn new(timeout: Duration) -> Result<Self, String> {
        let policy = UpstreamPolicy::new(timeout).with_max_body_bytes(MAX_BODY);
        let upstream = Upstream::new("idp:introspection", policy, noop_observer())
            .map_err(|e| e.to_string())?;
        Ok(Http { upstream })
    }

    /// `POST` an `application/x-www-form-urlencoded` body (the body is read for 2xx answers).
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        authorization: Option<String>,
        body: String,
    ) -> Result<Reply, IntrospectionError> {
        let mut request = Request::post_form(url.as_str(), body);
        if let Some(value) = authorization {
            request = request.authorization(&value);
        }
        self.send(request, "introspection").await
    }

    /// `GET` a JSON document.
    pub(crate) async fn get(&self, url: &Url) -> Result<Reply, IntrospectionError> {
        self.send(Request::get(url.as_str()), "discovery").await
    }

    async fn send(
        &self,
        request: Request,
        what: &'static str,
    ) -> Result<Reply, IntrospectionError> {
        self.upstream
            .send(request)
            .await
            .map_err(|e| introspection_error(e, what))
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
    }
}
