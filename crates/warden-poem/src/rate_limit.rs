//! Optional per-subject / per-client rate limiting (governor), answered with
//! 429 + `Retry-After`. Applied after authentication, so the key is a verified
//! identity, never something a caller can forge.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use poem::http::{header, HeaderValue, StatusCode};
use poem::Response;
use warden_core::AuthInfo;

use crate::response::json_error;

/// What a rate limit is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitKey {
    /// The token's subject (per provider and issuer).
    Subject,
    /// The OAuth client.
    Client,
}

/// A keyed token-bucket limiter.
#[derive(Clone)]
pub struct RateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    key: RateLimitKey,
}

impl RateLimit {
    /// `per_minute` sustained requests with bursts of `burst`, per key.
    pub fn new(key: RateLimitKey, per_minute: u32, burst: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(RateLimiter::keyed(
                Quota::per_minute(per_minute).allow_burst(burst),
            )),
            key,
        }
    }

    fn key_of(&self, info: &AuthInfo) -> String {
        match self.key {
            RateLimitKey::Subject => format!(
                "{}\u{1f}{}\u{1f}{}",
                info.provider,
                info.issuer.as_deref().unwrap_or(""),
                info.subject.as_deref().unwrap_or("")
            ),
            RateLimitKey::Client => format!(
                "{}\u{1f}{}",
                info.provider,
                info.client_id
                    .as_deref()
                    .or(info.subject.as_deref())
                    .unwrap_or("")
            ),
        }
    }

    /// `Ok` when the caller may proceed, else how long to wait.
    pub fn check(&self, info: &AuthInfo) -> Result<(), Duration> {
        self.limiter
            .check_key(&self.key_of(info))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// `None` when the caller may proceed, else the 429 response to send.
    pub fn reject(&self, info: &AuthInfo) -> Option<Response> {
        self.check(info).err().map(too_many)
    }

    /// Drops idle keys (call periodically to bound memory).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

fn too_many(wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut resp = json_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        &format!("too many requests; retry in {secs} s"),
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_subject() {
        let rl = RateLimit::new(RateLimitKey::Subject, 60, 2);
        let alice = AuthInfo {
            subject: Some("alice".into()),
            ..Default::default()
        };
        let bob = AuthInfo {
            subject: Some("bob".into()),
            ..Default::default()
        };
        assert!(rl.check(&alice).is_ok());
        assert!(rl.check(&alice).is_ok());
        let denied = rl.reject(&alice).unwrap();
        assert_eq!(denied.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(denied.headers().get(header::RETRY_AFTER).is_some());
        assert!(rl.check(&bob).is_ok());
    }
}
