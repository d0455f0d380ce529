//! `[limits]`: per-request timeout, header size cap, and the optional rate limit.

use std::time::Duration;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use serde::{Deserialize, Serialize};
use warden_core::Rejection;
use warden_poem::rejection_response;
use warden_tower::{RateLimit, RateLimitKey};

/// `[limits]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Longest time to produce a response head (an SSE stream counts once it starts).
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Largest total size of request headers (names + values), bytes; 431 beyond.
    pub max_header_bytes: usize,
    /// `[limits.rate_limit]`.
    pub rate_limit: RateLimitConfig,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_header_bytes: 16 * 1024,
            rate_limit: RateLimitConfig::default(),
        }
    }
}

/// `[limits.rate_limit]`: per-subject or per-client request rate (429 + `Retry-After`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Off by default.
    pub enabled: bool,
    /// `subject` or `client`.
    pub key: RateKey,
    /// Sustained requests per minute per key.
    pub per_minute: u32,
    /// Burst allowance per key.
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            key: RateKey::Subject,
            per_minute: 600,
            burst: 60,
        }
    }
}

/// `limits.rate_limit.key`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RateKey {
    /// Per token subject.
    Subject,
    /// Per OAuth client.
    Client,
}

impl RateLimitConfig {
    /// The limiter, when enabled.
    pub fn build(&self) -> Option<RateLimit> {
        self.enabled.then(|| {
            let key = match self.key {
                RateKey::Subject => RateLimitKey::Subject,
                RateKey::Client => RateLimitKey::Client,
            };
            RateLimit::new(key, self.per_minute, self.burst)
        })
    }
}

/// Enforces the header cap and the request timeout.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Header cap in bytes.
    pub max_header_bytes: usize,
    /// Time to the response head.
    pub timeout: Duration,
}

impl<E: Endpoint> Middleware<E> for RequestLimits {
    type Output = RequestLimitsEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        RequestLimitsEndpoint {
            inner: ep,
            limits: *self,
        }
    }
}

/// The endpoint produced by [`RequestLimits`].
pub struct RequestLimitsEndpoint<E> {
    inner: E,
    limits: RequestLimits,
}

impl<E> std::fmt::Debug for RequestLimitsEndpoint<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestLimitsEndpoint")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<E: Endpoint> Endpoint for RequestLimitsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let size: usize = req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum();
        if size > self.limits.max_header_bytes {
            return Ok(rejection_response(&Rejection::HeadersTooLarge {
                size,
                limit: self.limits.max_header_bytes,
            }));
        }
        match tokio::time::timeout(self.limits.timeout, self.inner.call(req)).await {
            Ok(result) => result.map(IntoResponse::into_response),
            Err(_) => Ok(rejection_response(&Rejection::Timeout {
                after: self.limits.timeout,
            })),
        }
    }
}
