//! The cache of verified tokens: SHA-256 of the token → identity, for at most
//! `min(ttl, exp − now)`, so a token seen again skips the signature check.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use warden_core::{AuthInfo, CacheStats, SharedObserver};
use warden_upstream::TokenCache;

use crate::VerifiedCacheSettings;

/// The cache name in [`CacheStats`] and `Event::CacheLookup`.
const CACHE_NAME: &str = "verified";

/// A verified identity and the key that vouched for it.
pub(crate) struct Verified {
    /// The identity.
    pub info: AuthInfo,
    /// `kid` of the verifying key (absent when the token had none).
    pub kid: Option<String>,
    /// Algorithm of the signature.
    pub alg: Algorithm,
}

/// Verified identities by token hash, in a [`TokenCache`] (none when the
/// settings disable it: `ttl` zero).
pub(crate) struct VerifiedCache {
    cache: Option<TokenCache<Arc<Verified>>>,
    ttl: Duration,
}

impl VerifiedCache {
    pub(crate) fn new(
        provider: &str,
        settings: VerifiedCacheSettings,
        observer: SharedObserver,
    ) -> Self {
        let cache = (!settings.ttl.is_zero())
            .then(|| TokenCache::new(CACHE_NAME, provider, settings.max_entries, observer));
        Self {
            cache,
            ttl: settings.ttl,
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
        cache.get(token, |verified| usable(verified)).await
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
        cache.insert(token, Arc::new(verified), ttl).await;
    }

    /// Drops every entry.
    pub(crate) fn flush(&self) {
        if let Some(cache) = &self.cache {
            cache.flush();
        }
    }

    /// Size and hit counts; `None` when the cache is disabled.
    pub(crate) fn stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(TokenCache::stats)
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
