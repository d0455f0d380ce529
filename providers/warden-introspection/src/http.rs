//! The one place this crate talks HTTP: a reqwest client with timeouts.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use url::Url;

use crate::error::IntrospectionError;

/// Answers larger than this are refused (an introspection answer is a few hundred bytes).
const MAX_BODY: usize = 1024 * 1024;
/// The longest `Retry-After` passed on to clients.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A status, the `Retry-After` hint and the body (read only for 200).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
}

/// The HTTP client of one provider.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    timeout: Duration,
}

impl Http {
    /// A client whose every request (connect, send, read) ends within `timeout`.
    /// Redirects are not followed: a redirected POST would resend the token.
    pub(crate) fn new(timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Http { client, timeout })
    }

    /// `POST` an `application/x-www-form-urlencoded` body.
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        authorization: Option<String>,
        body: String,
    ) -> Result<Reply, IntrospectionError> {
        let mut request = self
            .client
            .post(url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        if let Some(value) = authorization {
            let mut value =
                HeaderValue::try_from(value).map_err(|_| IntrospectionError::Transport {
                    what: "introspection",
                    reason: "client credentials do not form a valid header".into(),
                })?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        self.send(request, "introspection").await
    }

    /// `GET` a JSON document.
    pub(crate) async fn get(&self, url: &Url) -> Result<Reply, IntrospectionError> {
        let request = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        self.send(request, "discovery").await
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &'static str,
    ) -> Result<Reply, IntrospectionError> {
        let mut response = request.send().await.map_err(|e| self.classify(e, what))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let mut body = Vec::new();
        if status == 200 {
            while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e, what))? {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(IntrospectionError::InvalidResponse {
                        reason: format!("{what} answer is larger than {MAX_BODY} bytes"),
                    });
                }
                body.extend_from_slice(&chunk);
            }
        }
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    fn classify(&self, error: reqwest::Error, what: &'static str) -> IntrospectionError {
        if error.is_timeout() {
            return IntrospectionError::Timeout {
                what,
                after: self.timeout,
            };
        }
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            reason.push_str(": ");
            reason.push_str(&cause.to_string());
            source = cause.source();
        }
        IntrospectionError::Transport { what, reason }
    }
}

/// Parses `Retry-After` (delta-seconds or HTTP-date), clamped to 1 s … 1 h.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(delay.clamp(Duration::from_secs(1), MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after("999999", now), Some(MAX_RETRY_AFTER));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(120))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(120));
        assert_eq!(
            parse_retry_after(&earlier, now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
