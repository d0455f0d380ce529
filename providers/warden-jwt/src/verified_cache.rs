//! The cache of verified tokens: SHA-256 of the token → identity, for at most
//! `min(ttl, exp − now)`, so a token seen again skips the signature check.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::Expiry;
use sha2::{Digest, Sha256};
use warden_core::{AuthInfo, CacheStats, Event, SharedObserver};

use crate::VerifiedCacheSettings;

type TokenHash = [u8; 32];

#[derive(Clone)]
struct Entry {
    info: Arc<AuthInfo>,
    ttl: Duration,
}

/// Gives every entry its own lifetime (bounded by the token's `exp`).
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

/// Verified identities by token hash. Never holds the token itself.
pub(crate) struct VerifiedCache {
    cache: Option<Cache<TokenHash, Entry>>,
    ttl: Duration,
    provider: String,
    observer: SharedObserver,
    hits: AtomicU64,
    misses: AtomicU64,
}

fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

impl VerifiedCache {
    pub fn new(provider: &str, settings: VerifiedCacheSettings, observer: SharedObserver) -> Self {
        let cache = (!settings.ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(settings.max_entries)
                .expire_after(PerEntryTtl)
                .build()
        });
        Self {
            cache,
            ttl: settings.ttl,
            provider: provider.to_string(),
            observer,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached identity of `token`, if any (emits a `CacheLookup` event).
    pub async fn get(&self, token: &str) -> Option<Arc<AuthInfo>> {
        let cache = self.cache.as_ref()?;
        let found = cache.get(&hash(token)).await.map(|e| e.info);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.observer.observe(&Event::CacheLookup {
            provider: &self.provider,
            cache: "verified",
            hit: found.is_some(),
            entries: cache.entry_count(),
        });
        found
    }

    /// Remembers `info` for `token` until `min(ttl, exp − now)`.
    pub async fn insert(&self, token: &str, info: &AuthInfo, now: i64) {
        let Some(cache) = self.cache.as_ref() else {
            return;
        };
        let left = info.expires_at.map_or(0, |exp| exp.saturating_sub(now));
        if left <= 0 {
            return;
        }
        let ttl = self.ttl.min(Duration::from_secs(left as u64));
        let entry = Entry {
            info: Arc::new(info.clone()),
            ttl,
        };
        cache.insert(hash(token), entry).await;
    }

    /// Drops every entry.
    pub fn flush(&self) {
        if let Some(cache) = &self.cache {
            cache.invalidate_all();
        }
    }

    /// Size and hit counts; `None` when the cache is disabled.
    pub fn stats(&self) -> Option<CacheStats> {
        let cache = self.cache.as_ref()?;
        Some(CacheStats {
            name: "verified".into(),
            entries: cache.entry_count(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_core::{noop_observer, now_unix};

    fn info(exp: i64) -> AuthInfo {
        AuthInfo {
            subject: Some("alice".into()),
            expires_at: Some(exp),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn remembers_until_flushed() {
        let c = VerifiedCache::new("p", VerifiedCacheSettings::default(), noop_observer());
        let now = now_unix();
        assert!(c.get("t").await.is_none());
        c.insert("t", &info(now + 100), now).await;
        assert_eq!(c.get("t").await.unwrap().subject.as_deref(), Some("alice"));
        assert!(c.get("other").await.is_none());
        let stats = c.stats().unwrap();
        assert_eq!((stats.hits, stats.misses), (1, 2));
        c.flush();
        assert!(c.get("t").await.is_none());
    }

    #[tokio::test]
    async fn skips_expired_and_disabled() {
        let now = now_unix();
        let c = VerifiedCache::new("p", VerifiedCacheSettings::default(), noop_observer());
        c.insert("t", &info(now - 1), now).await;
        assert!(c.get("t").await.is_none());
        let off = VerifiedCache::new(
            "p",
            VerifiedCacheSettings {
                ttl: Duration::ZERO,
                max_entries: 10,
            },
            noop_observer(),
        );
        off.insert("t", &info(now + 100), now).await;
        assert!(off.get("t").await.is_none());
        assert!(off.stats().is_none());
    }
}
