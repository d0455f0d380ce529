//! [`TokenCache`]: what an upstream (or a verification) said about a token,
//! by SHA-256 of the token, for as long as each entry says.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::Expiry;
use sha2::{Digest, Sha256};
use warden_core::{CacheStats, Event, SharedObserver};

/// SHA-256 of a token: the cache never holds a token.
type TokenHash = [u8; 32];

fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

#[derive(Clone)]
struct Entry<V> {
    value: V,
    ttl: Duration,
}

/// Gives every entry the lifetime it was stored with.
struct PerEntryTtl;

impl<V> Expiry<TokenHash, Entry<V>> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &TokenHash,
        value: &Entry<V>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &TokenHash,
        value: &Entry<V>,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// A bounded cache of answers about tokens (introspection answers, userinfo
/// verdicts, verified JWTs), keyed by SHA-256 of the token — it never holds a
/// token — each entry living for the TTL it was stored with.
///
/// Every lookup counts as a hit or a miss ([`stats`](Self::stats)), reports
/// one [`Event::CacheLookup`] for its provider, and on a hit calls
/// [`warden_core::note_cache_hit`].
///
/// ```
/// use std::time::Duration;
/// use warden_core::noop_observer;
/// use warden_upstream::TokenCache;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let cache = TokenCache::new("userinfo", "logto", 100, noop_observer());
/// let fetch = async { Ok::<_, String>(("alice", Duration::from_secs(60))) };
/// assert_eq!(cache.get_or_fetch("tok", fetch).await, (Ok("alice"), false));
/// let fetch = async { Err::<(&str, Duration), _>("not asked again".to_owned()) };
/// assert_eq!(cache.get_or_fetch("tok", fetch).await, (Ok("alice"), true));
/// assert_eq!((cache.stats().hits, cache.stats().misses), (1, 1));
/// # }
/// ```
pub struct TokenCache<V> {
    cache: Cache<TokenHash, Entry<V>>,
    name: &'static str,
    provider: String,
    observer: SharedObserver,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<V> fmt::Debug for TokenCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("entries", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

impl<V: Clone + Send + Sync + 'static> TokenCache<V> {
    /// A cache named `name` (`introspection`, `userinfo`, `verified`: in
    /// [`CacheStats`] and [`Event::CacheLookup`]) of provider `provider`,
    /// holding at most `max_entries`.
    pub fn new(
        name: &'static str,
        provider: &str,
        max_entries: u64,
        observer: SharedObserver,
    ) -> Self {
        Self {
            cache: Cache::builder()
                .name(name)
                .max_capacity(max_entries)
                .expire_after(PerEntryTtl)
                .build(),
            name,
            provider: provider.to_owned(),
            observer,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached value for `token`, or the one `fetch` gives with its TTL,
    /// run once for all concurrent callers with the same token. Errors are
    /// never cached. The flag says whether the value came from the cache (or
    /// from another caller's fetch).
    pub async fn get_or_fetch<E, F>(&self, token: &str, fetch: F) -> (Result<V, E>, bool)
    where
        F: Future<Output = Result<(V, Duration), E>>,
        E: Clone + Send + Sync + 'static,
    {
        let init = async move {
            let (value, ttl) = fetch.await?;
            Ok::<_, E>(Entry { value, ttl })
        };
        let result = self
            .cache
            .entry(token_hash(token))
            .or_try_insert_with(init)
            .await;
        let (result, hit) = match result {
            Ok(entry) => {
                let hit = !entry.is_fresh();
                (Ok(entry.into_value().value), hit)
            }
            Err(e) => (Err((*e).clone()), false),
        };
        self.record(hit);
        (result, hit)
    }

    /// The cached value for `token`, if any and still `usable`; an unusable
    /// entry is dropped and counts as a miss.
    pub async fn get(&self, token: &str, usable: impl FnOnce(&V) -> bool) -> Option<V> {
        let key = token_hash(token);
        let mut found = self.cache.get(&key).await.map(|entry| entry.value);
        if found.as_ref().is_some_and(|value| !usable(value)) {
            self.cache.invalidate(&key).await;
            found = None;
        }
        self.record(found.is_some());
        found
    }

    /// What `accept` makes of the cached value for `token`, when there is one
    /// and `accept` takes it: then it counts (and is reported) as a hit. When
    /// there is none, or `accept` declines it, nothing is counted or changed:
    /// the caller goes on to [`TokenCache::get`], which counts that lookup.
    /// For a shortcut taken only when the answer is already known.
    pub async fn recall<R>(&self, token: &str, accept: impl FnOnce(&V) -> Option<R>) -> Option<R> {
        let entry = self.cache.get(&token_hash(token)).await?;
        let answer = accept(&entry.value)?;
        self.record(true);
        Some(answer)
    }

    /// Stores `value` for `token` for `ttl`.
    pub async fn insert(&self, token: &str, value: V, ttl: Duration) {
        self.cache
            .insert(token_hash(token), Entry { value, ttl })
            .await;
    }

    /// Entries held (approximate: moka counts lazily).
    pub fn entries(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Drops every entry.
    pub fn flush(&self) {
        self.cache.invalidate_all();
    }

    /// Name, size and hit/miss counts.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            name: self.name.into(),
            entries: self.entries(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// Counts one lookup and reports it.
    fn record(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        self.observer.observe(&Event::CacheLookup {
            provider: &self.provider,
            cache: self.name,
            hit,
            entries: self.entries(),
        });
        if hit {
            warden_core::note_cache_hit();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use warden_core::{noop_observer, Observer};

    use super::*;

    #[derive(Default)]
    struct Lookups(Mutex<Vec<(String, &'static str, bool)>>);

    impl Observer for Lookups {
        fn observe(&self, event: &Event<'_>) {
            if let Event::CacheLookup {
                provider,
                cache,
                hit,
                ..
            } = event
            {
                self.0
                    .lock()
                    .unwrap()
                    .push(((*provider).to_owned(), *cache, *hit));
            }
        }
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn keys_are_hashes() {
        let key = token_hash("opaque-secret-token");
        assert!(!key.windows(6).any(|w| w == b"opaque"));
        assert_ne!(key, token_hash("opaque-secret-token2"));
    }

    #[tokio::test]
    async fn errors_are_not_cached_and_flush_empties() {
        let lookups = Arc::new(Lookups::default());
        let cache = TokenCache::new("userinfo", "logto", 10, lookups.clone());
        let (r, hit) = cache
            .get_or_fetch("t", async { Err::<(u8, Duration), _>("down") })
            .await;
        assert!(r.is_err() && !hit);
        let (r, hit) = cache
            .get_or_fetch("t", async { Ok::<_, &str>((1, MINUTE)) })
            .await;
        assert!(r == Ok(1) && !hit);
        let (r, hit) = cache.get_or_fetch("t", async { Err("not asked") }).await;
        assert!(
            r == Ok(1) && hit,
            "answered from the cache, not by the fetch"
        );
        cache.flush();
        let (_, hit) = cache
            .get_or_fetch("t", async { Ok::<_, &str>((2, MINUTE)) })
            .await;
        assert!(!hit);
        let stats = cache.stats();
        assert_eq!(
            (stats.name.as_str(), stats.hits, stats.misses),
            ("userinfo", 1, 3)
        );
        let seen = lookups.0.lock().unwrap().clone();
        assert_eq!(seen.len(), 4);
        assert!(seen
            .iter()
            .all(|(p, c, _)| p == "logto" && *c == "userinfo"));
        assert_eq!(
            seen.iter().map(|l| l.2).collect::<Vec<_>>(),
            [false, false, true, false]
        );
    }

    #[tokio::test]
    async fn recall_counts_only_the_answers_it_gives() {
        let lookups = Arc::new(Lookups::default());
        let cache = TokenCache::new("verified", "p", 10, lookups.clone());
        assert_eq!(cache.recall("t", |v: &u8| Some(*v)).await, None);
        cache.insert("t", 7, MINUTE).await;
        assert_eq!(cache.recall("t", |_| None::<u8>).await, None);
        assert_eq!(cache.recall("t", |v| Some(*v + 1)).await, Some(8));
        // A declined entry stays for `get` to judge (and count).
        assert_eq!(cache.get("t", |_| true).await, Some(7));
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (2, 0));
        let seen = lookups.0.lock().unwrap().clone();
        assert_eq!(seen.iter().map(|l| l.2).collect::<Vec<_>>(), [true, true]);
    }

    #[tokio::test]
    async fn entries_live_for_their_own_ttl() {
        let cache = TokenCache::new("verified", "p", 10, noop_observer());
        cache.insert("short", 1, Duration::ZERO).await;
        cache.insert("long", 2, MINUTE).await;
        assert_eq!(cache.get("short", |_| true).await, None);
        assert_eq!(cache.get("long", |_| true).await, Some(2));
        // An update takes the new entry's TTL.
        cache.insert("long", 3, Duration::ZERO).await;
        assert_eq!(cache.get("long", |_| true).await, None);
    }

    #[tokio::test]
    async fn unusable_entries_are_dropped() {
        let cache = TokenCache::new("verified", "p", 10, noop_observer());
        cache.insert("t", 1, MINUTE).await;
        assert_eq!(cache.get("t", |v| *v == 2).await, None);
        assert_eq!(cache.get("t", |_| true).await, None);
        assert_eq!((cache.stats().hits, cache.stats().misses), (0, 2));
    }
}
