//! The one place this crate talks HTTP (discovery and userinfo; the JWKS
//! and introspection clients live in warden-jwt and warden-introspection).
//!
//! One reqwest client per provider, built once, with the configured timeout,
//! a body size cap, no redirects (openidconnect's SSRF guidance) and an
//! [`Event::Upstream`] for every call.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use warden_core::{Event, SharedObserver};

use crate::LogtoError;

/// Largest discovery or userinfo answer accepted (bytes).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// A status and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub retry_after: Option<Duration>,
}

/// An HTTP client reporting as `idp:<provider>`.
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    timeout: Duration,
    upstream: String,
    observer: SharedObserver,
}

impl Http {
    pub fn new(
        provider: &str,
        timeout: Duration,
        observer: SharedObserver,
    ) -> Result<Self, LogtoError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("warden-logto/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LogtoError::Fetch {
                url: String::new(),
                reason: format!("cannot build HTTP client: {e}"),
            })?;
        Ok(Self {
            client,
            timeout,
            upstream: format!("idp:{provider}"),
            observer,
        })
    }

    /// GETs `url` (with `Authorization: Bearer <bearer>` when given) and reads
    /// the body of any status. `Err` only for transport failures and oversized bodies.
    pub async fn get(&self, url: &str, bearer: Option<&str>) -> Result<Reply, LogtoError> {
        let started = Instant::now();
        let result = self.get_inner(url, bearer).await;
        let outcome = match &result {
            Ok(reply) => status_outcome(reply.status),
            Err(e) => e.outcome(),
        };
        self.observer.observe(&Event::Upstream {
            upstream: &self.upstream,
            outcome,
            elapsed: started.elapsed(),
        });
        result
    }

    async fn get_inner(&self, url: &str, bearer: Option<&str>) -> Result<Reply, LogtoError> {
        let mut request = self.client.get(url).header(ACCEPT, "application/json");
        if let Some(token) = bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                LogtoError::Fetch {
                    url: url.to_string(),
                    reason: "the token cannot be sent in a header".into(),
                }
            })?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| self.transport_error(url, &e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|secs| Duration::from_secs(secs.clamp(1, 300)));
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(url, &e))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(LogtoError::InvalidResponse {
                    url: url.to_string(),
                    reason: format!("answer is larger than {MAX_BODY_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            body,
            retry_after,
        })
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> LogtoError {
        if e.is_timeout() {
            return LogtoError::Timeout {
                url: url.to_string(),
                timeout: self.timeout,
            };
        }
        let mut reason = if e.is_connect() {
            "connection failed".to_string()
        } else if e.is_body() || e.is_decode() {
            "reading the answer failed".to_string()
        } else {
            "request failed".to_string()
        };
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason.push_str(": ");
            reason.push_str(&s.to_string());
            source = s.source();
        }
        LogtoError::Fetch {
            url: url.to_string(),
            reason,
        }
    }
}

/// The bounded outcome label of an HTTP status.
fn status_outcome(status: u16) -> &'static str {
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
    fn outcomes() {
        assert_eq!(status_outcome(200), "ok");
        assert_eq!(status_outcome(401), "http_4xx");
        assert_eq!(status_outcome(429), "rate_limited");
        assert_eq!(status_outcome(503), "http_5xx");
    }
}
