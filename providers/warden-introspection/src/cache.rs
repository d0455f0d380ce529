//! The answer cache: keyed by SHA-256 of the token, per-entry TTL, single-flight.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use moka::future::Cache;
use moka::Expiry;
use sha2::{Digest, Sha256};
use warden_core::{AuthError, CacheStats};

use crate::answer::IntrospectionAnswer;

/// The cache name in [`CacheStats`] and `Event::CacheLookup`.
pub(crate) const CACHE_NAME: &str = "introspection";

/// SHA-256 of the token: the cache never holds a token.
pub(crate) type TokenKey = [u8; 32];

/// The key of `token`.
pub(crate) fn token_key(token: &str) -> TokenKey {
    Sha256::digest(token.as_bytes()).into()
}

/// A cached answer with the lifetime decided when it was fetched.
#[derive(Debug, Clone)]
pub(crate) struct CachedAnswer {
    pub(crate) answer: Arc<IntrospectionAnswer>,
    pub(crate) ttl: Duration,
}

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

struct PerEntryTtl;

impl Expiry<TokenKey, CachedAnswer> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &TokenKey,
        value: &CachedAnswer,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &TokenKey,
        value: &CachedAnswer,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Bounded answer cache with hit/miss counters.
pub(crate) struct AnswerCache {
    cache: Cache<TokenKey, CachedAnswer>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl AnswerCache {
    pub(crate) fn new(capacity: u64) -> Self {
        AnswerCache {
            cache: Cache::builder()
                .name(CACHE_NAME)
                .max_capacity(capacity)
                .expire_after(PerEntryTtl)
                .build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached answer for `token`, or the result of `fetch` (run once for
    /// all concurrent callers of the same token). Errors are never cached.
    /// Returns whether the answer came from the cache (or another caller's fetch).
    pub(crate) async fn get_or_fetch<F>(
        &self,
        token: &str,
        fetch: F,
    ) -> (Result<Arc<IntrospectionAnswer>, AuthError>, bool)
    where
        F: Future<Output = Result<CachedAnswer, AuthError>>,
    {
        let result = self
            .cache
            .entry(token_key(token))
            .or_try_insert_with(fetch)
            .await;
        match result {
            Ok(entry) => {
                let hit = !entry.is_fresh();
                let counter = if hit { &self.hits } else { &self.misses };
                counter.fetch_add(1, Ordering::Relaxed);
                (Ok(entry.into_value().answer), hit)
            }
            Err(e) => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                (Err((*e).clone()), false)
            }
        }
    }

    /// Entries held (approximate: moka counts lazily).
    pub(crate) fn entries(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Drops every entry.
    pub(crate) fn flush(&self) {
        self.cache.invalidate_all();
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            name: CACHE_NAME.into(),
            entries: self.entries(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashes() {
        let key = token_key("secret-token");
        assert_eq!(key.len(), 32);
        assert_ne!(key, token_key("secret-token2"));
        assert!(!key.windows(6).any(|w| w == b"secret"));
    }

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
