//! The userinfo cache: keyed by SHA-256 of the token, per-entry TTL
//! (positive ≤ `exp`, negative fixed), bounded, single-flight.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::Expiry;
use sha2::{Digest, Sha256};
use warden_core::{now_unix, AuthError, CacheStats};

use crate::userinfo::Verdict;
use crate::OpaqueCacheSettings;

/// The cache name in [`CacheStats`] and `Event::CacheLookup`.
pub(crate) const CACHE_NAME: &str = "userinfo";

type TokenHash = [u8; 32];

fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

#[derive(Clone)]
struct Entry {
    verdict: Verdict,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<TokenHash, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &TokenHash,
        value: &Entry,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// How long `verdict` may be reused.
pub(crate) fn entry_ttl(verdict: &Verdict, settings: &OpaqueCacheSettings, now: i64) -> Duration {
    match verdict {
        Verdict::Rejected { .. } => settings.negative_ttl,
        Verdict::Accepted(info) => match info.expires_at {
            None => settings.ttl,
            Some(exp) => settings
                .ttl
                .min(Duration::from_secs(exp.saturating_sub(now).max(0) as u64)),
        },
    }
}

/// Userinfo verdicts by token hash. Never holds a token.
pub(crate) struct UserinfoCache {
    cache: Cache<TokenHash, Entry>,
    settings: OpaqueCacheSettings,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl UserinfoCache {
    /// `None` when the settings disable the cache (`ttl` zero).
    pub(crate) fn new(settings: OpaqueCacheSettings) -> Option<Self> {
        (!settings.ttl.is_zero()).then(|| Self {
            cache: Cache::builder()
                .name(CACHE_NAME)
                .max_capacity(settings.max_entries)
                .expire_after(PerEntryTtl)
                .build(),
            settings,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    /// The cached verdict on `token`, or the result of `fetch`, run once for
    /// all concurrent callers with the same token. Errors are never cached.
    /// The flag says whether the verdict came from the cache (or from another
    /// caller's fetch).
    pub(crate) async fn get_or_fetch<F>(
        &self,
        token: &str,
        fetch: F,
    ) -> (Result<Verdict, AuthError>, bool)
    where
        F: Future<Output = Result<Verdict, AuthError>>,
    {
        let settings = self.settings;
        let init = async move {
            let verdict = fetch.await?;
            let ttl = entry_ttl(&verdict, &settings, now_unix());
            Ok::<_, AuthError>(Entry { verdict, ttl })
        };
        match self
            .cache
            .entry(token_hash(token))
            .or_try_insert_with(init)
            .await
        {
            Ok(entry) => {
                let hit = !entry.is_fresh();
                let counter = if hit { &self.hits } else { &self.misses };
                counter.fetch_add(1, Ordering::Relaxed);
                (Ok(entry.into_value().verdict), hit)
            }
            Err(e) => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                (Err((*e).clone()), false)
            }
        }
    }

    /// Entries held (moka counts lazily).
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
    use std::sync::Arc;
    use warden_core::AuthInfo;

    fn accepted(exp: Option<i64>) -> Verdict {
        Verdict::Accepted(Arc::new(AuthInfo {
            expires_at: exp,
            ..Default::default()
        }))
    }

    #[test]
    fn ttl_never_outlives_exp() {
        let s = OpaqueCacheSettings::default();
        let now = 1_000_000;
        assert_eq!(entry_ttl(&accepted(None), &s, now), s.ttl);
        assert_eq!(
            entry_ttl(&accepted(Some(now + 5)), &s, now),
            Duration::from_secs(5)
        );
        assert_eq!(entry_ttl(&accepted(Some(now - 5)), &s, now), Duration::ZERO);
        assert_eq!(entry_ttl(&accepted(Some(now + 3600)), &s, now), s.ttl);
        assert_eq!(
            entry_ttl(&Verdict::Rejected { status: 401 }, &s, now),
            s.negative_ttl
        );
    }

    #[test]
    fn keys_are_hashes() {
        let key = token_hash("opaque-secret-token");
        assert!(!key.windows(6).any(|w| w == b"opaque"));
        assert_ne!(key, token_hash("opaque-secret-token2"));
    }

    #[tokio::test]
    async fn errors_are_not_cached_and_flush_empties() {
        let cache = UserinfoCache::new(OpaqueCacheSettings::default()).unwrap();
        let (r, hit) = cache
            .get_or_fetch("t", async { Err(AuthError::unavailable("logto", "down")) })
            .await;
        assert!(r.unwrap_err().is_unavailable() && !hit);
        let (r, hit) = cache.get_or_fetch("t", async { Ok(accepted(None)) }).await;
        assert!(r.is_ok() && !hit);
        let (r, hit) = cache
            .get_or_fetch("t", async { Err(AuthError::Inactive) })
            .await;
        assert!(
            r.is_ok() && hit,
            "answered from the cache, not by the fetch"
        );
        cache.flush();
        let (_, hit) = cache.get_or_fetch("t", async { Ok(accepted(None)) }).await;
        assert!(!hit);
        assert_eq!(cache.stats().hits, 1);
        assert_eq!(cache.stats().misses, 3);
        assert!(UserinfoCache::new(OpaqueCacheSettings {
            ttl: Duration::ZERO,
            ..Default::default()
        })
        .is_none());
    }
}
