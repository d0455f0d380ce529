//! The cache of verified tokens: SHA-256 of the token → identity, for at most
//! `min(ttl, exp − now)`, so a token seen again skips the signature check.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use moka::future::Cache;
use moka::Expiry;
use sha2::{Digest, Sha256};
use warden_core::{AuthInfo, CacheStats, Event, SharedObserver};

use crate::VerifiedCacheSettings;

type TokenHash = [u8; 32];

/// A verified identity and the key that vouched for it.
pub(crate) struct Verified {
    /// The identity.
    pub info: AuthInfo,
    /// `kid` of the verifying key (absent when the token had none).
    pub kid: Option<String>,
    /// Algorithm of the signature.
    pub alg: Algorithm,
}

#[derive(Clone)]
struct Entry {
    verified: Arc<Verified>,
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
    pub(crate) fn new(
        provider: &str,
        settings: VerifiedCacheSettings,
        observer: SharedObserver,
    ) -> Self {
        let cache = (!settings.ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(settings.max_entries)
                .expire_after(PerEntryTtl)
                .build()
        });
        Self {
            cache,
            ttl: settings.ttl,
            provider: provider.to_owned(),
            observer,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached verdict on `token`, if any and still `usable` (emits a
    /// `CacheLookup` event). Unusable entries are dropped and count as misses.
    pub(crate) async fn get(
        &self,
        token: &str,
        usable: impl FnOnce(&Verified) -> bool,
    ) -> Option<Arc<Verified>> {
        let cache = self.cache.as_ref()?;
        let key = hash(token);
        let mut found = cache.get(&key).await.map(|e| e.verified);
        if found.as_ref().is_some_and(|v| !usable(v)) {
            cache.invalidate(&key).await;
            found = None;
        }
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
        if found.is_some() {
            warden_core::note_cache_hit();
        }
        found
    }

    /// Remembers the verdict on `token` until `min(ttl, exp − now)`.
    pub(crate) async fn insert(&self, token: &str, verified: Verified, now: i64) {
        let Some(cache) = self.cache.as_ref() else {
            return;
        };
        let left = verified
            .info
            .expires_at
            .map_or(0, |exp| exp.saturating_sub(now));
        if left <= 0 {
            return;
        }
        let ttl = self.ttl.min(Duration::from_secs(left as u64));
        let entry = Entry {
            verified: Arc::new(verified),
            ttl,
        };
        cache.insert(hash(token), entry).await;
    }

    /// Drops every entry.
    pub(crate) fn flush(&self) {
        if let Some(cache) = &self.cache {
            cache.invalidate_all();
        }
    }

    /// Size and hit counts; `None` when the cache is disabled.
    pub(crate) fn stats(&self) -> Option<CacheStats> {
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

    fn info(exp: i64) -> Verified {
        Verified {
            info: AuthInfo {
                subject: Some("alice".into()),
                expires_at: Some(exp),
                ..Default::default()
            },
            kid: Some("k1".into()),
            alg: Algorithm::ES256,
        }
    }

    #[tokio::test]
    async fn remembers_until_flushed() {
        let c = VerifiedCache::new("p", VerifiedCacheSettings::default(), noop_observer());
        let now = now_unix();
        assert!(c.get("t", |_| true).await.is_none());
        c.insert("t", info(now + 100), now).await;
        let hit = c.get("t", |_| true).await.unwrap();
        assert_eq!(hit.info.subject.as_deref(), Some("alice"));
        assert!(c.get("other", |_| true).await.is_none());
        let stats = c.stats().unwrap();
        assert_eq!((stats.hits, stats.misses), (1, 2));
        c.flush();
        assert!(c.get("t", |_| true).await.is_none());
    }

    #[tokio::test]
    async fn unusable_entries_are_dropped() {
        let c = VerifiedCache::new("p", VerifiedCacheSettings::default(), noop_observer());
        let now = now_unix();
        c.insert("t", info(now + 100), now).await;
        assert!(c
            .get("t", |v| v.kid.as_deref() == Some("other"))
            .await
            .is_none());
        assert!(c.get("t", |_| true).await.is_none());
    }

    #[tokio::test]
    async fn skips_expired_and_disabled() {
        let now = now_unix();
        let c = VerifiedCache::new("p", VerifiedCacheSettings::default(), noop_observer());
        c.insert("t", info(now - 1), now).await;
        assert!(c.get("t", |_| true).await.is_none());
        let off = VerifiedCache::new(
            "p",
            VerifiedCacheSettings {
                ttl: Duration::ZERO,
                max_entries: 10,
            },
            noop_observer(),
        );
        off.insert("t", info(now + 100), now).await;
        assert!(off.get("t", |_| true).await.is_none());
        assert!(off.stats().is_none());
    }
}
