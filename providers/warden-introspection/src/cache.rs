//! The answer cache's rules: its name and how long an answer may be reused
//! (the cache itself is a [`warden_upstream::TokenCache`]: keyed by SHA-256
//! of the token, per-entry TTL, single-flight).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The cache name in [`CacheStats`](warden_core::CacheStats) and `Event::CacheLookup`.
pub(crate) const CACHE_NAME: &str = "introspection";

/// How long an answer may be reused: `negative_ttl` for answers warden
/// rejects; otherwise `ttl`, but never past the token's `exp`.
pub(crate) fn entry_ttl(
    accepted: bool,
    expires_at: Option<i64>,
    now: SystemTime,
    ttl: Duration,
    negative_ttl: Duration,
) -> Duration {
    if !accepted {
        return negative_ttl;
    }
    match expires_at {
        None => ttl,
        Some(exp) => {
            let exp = UNIX_EPOCH + Duration::from_secs(exp.max(0) as u64);
            ttl.min(exp.duration_since(now).unwrap_or(Duration::ZERO))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_never_outlives_exp() {
        let now = UNIX_EPOCH + Duration::from_millis(1_000_000_000_500);
        let ttl = Duration::from_secs(60);
        let neg = Duration::from_secs(10);
        assert_eq!(entry_ttl(true, None, now, ttl, neg), ttl);
        assert_eq!(
            entry_ttl(true, Some(1_000_000_002), now, ttl, neg),
            Duration::from_millis(1500)
        );
        assert_eq!(
            entry_ttl(true, Some(1_000_000_000), now, ttl, neg),
            Duration::ZERO
        );
        assert_eq!(entry_ttl(true, Some(2_000_000_000), now, ttl, neg), ttl);
        assert_eq!(entry_ttl(false, Some(2_000_000_000), now, ttl, neg), neg);
    }
}
