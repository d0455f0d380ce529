//! The cache of verified tokens: SHA-256 of the token → identity, for at most
//! `min(ttl, exp − now)`, so a token seen again skips the signature check.
//!
//! An entry is small (about 400 bytes of RSS, moka's bookkeeping included,
//! where a whole `AuthInfo` took 1 800): the identity is split in two. What
//! tokens share — the claims of [`SHARED_CLAIMS`] (`iss`, `aud`,
//! `client_id`, `scope`, …), the fields of the `AuthInfo` derived from them,
//! the `kid` and algorithm that vouched for them — is interned: entries with
//! the same share one [`Arc`]. The other claims (`sub`, `exp`, `iat`, `jti`,
//! …) are one byte string per entry, in the compact form of
//! [`compact_claims`](crate::compact_claims). A hit clones the shared part,
//! decodes the claims into it and lets the verifier fill in the fields those
//! claims give (`subject`, `expires_at`). An entry is only stored if it gives
//! back exactly the identity it was made from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde_json::Map;
use warden_core::{AuthInfo, CacheStats, SharedObserver};
use warden_upstream::TokenCache;

use crate::compact_claims;
use crate::VerifiedCacheSettings;

/// The cache name in [`CacheStats`] and `Event::CacheLookup`.
const CACHE_NAME: &str = "verified";

/// Claims that usually have the same value in many tokens (those of one
/// client, one tenant): kept once per distinct set instead of per entry.
const SHARED_CLAIMS: [&str; 18] = [
    "acr",
    "amr",
    "aud",
    "azp",
    "client_id",
    "idp",
    "iss",
    "org_id",
    "organization_id",
    "permissions",
    "roles",
    "scope",
    "scopes",
    "scp",
    "tid",
    "token_use",
    "typ",
    "ver",
];

/// At most this many distinct shared parts are interned; beyond, after
/// dropping those no entry uses any more, a new one is kept by its entries only.
const MAX_SHARED: usize = 1024;

/// What tokens share: the key that vouched for them, and their identity with
/// only the claims of [`SHARED_CLAIMS`] (and the fields derived from those).
#[derive(Debug)]
struct Shared {
    kid: Option<Box<str>>,
    alg: Algorithm,
    identity: AuthInfo,
}

/// [`Shared`] as the interning table knows it: the claims encoded.
#[derive(PartialEq, Eq, Hash)]
struct SharedKey {
    kid: Option<Box<str>>,
    alg: Algorithm,
    claims: Box<[u8]>,
}

/// A verified token as the cache holds it (cloning it is two reference counts).
#[derive(Clone)]
pub(crate) struct Verified {
    shared: Arc<Shared>,
    /// The other claims, encoded.
    own: Arc<[u8]>,
}

impl Verified {
    /// `kid` of the verifying key (absent when the token had none).
    pub(crate) fn kid(&self) -> Option<&str> {
        self.shared.kid.as_deref()
    }

    /// Algorithm of the signature.
    pub(crate) fn alg(&self) -> Algorithm {
        self.shared.alg
    }

    /// The identity; `None` if the entry cannot be decoded.
    fn identity(&self, complete: fn(&mut AuthInfo)) -> Option<AuthInfo> {
        let mut identity = self.shared.identity.clone();
        compact_claims::decode_into(&self.own, &mut identity.claims)?;
        complete(&mut identity);
        Some(identity)
    }
}

/// Verified tokens by token hash, in a [`TokenCache`] (none when the
/// settings disable it: `ttl` zero).
pub(crate) struct VerifiedCache {
    cache: Option<TokenCache<Verified>>,
    ttl: Duration,
    /// Fills in the fields of an identity that its own claims give.
    complete: fn(&mut AuthInfo),
    /// The shared parts in use (at most [`MAX_SHARED`]).
    shared: Mutex<HashMap<SharedKey, Arc<Shared>>>,
}

impl VerifiedCache {
    /// A cache as `settings` say; `complete` sets the fields of an identity
    /// derived from claims not in [`SHARED_CLAIMS`] (all of them but
    /// `claims`, `issuer`, `client_id`, `audiences`, `scopes` and `provider`).
    pub(crate) fn new(
        provider: &str,
        settings: VerifiedCacheSettings,
        observer: SharedObserver,
        complete: fn(&mut AuthInfo),
    ) -> Self {
        let cache = (!settings.ttl.is_zero())
            .then(|| TokenCache::new(CACHE_NAME, provider, settings.max_entries, observer));
        Self {
            cache,
            ttl: settings.ttl,
            complete,
            shared: Mutex::new(HashMap::new()),
        }
    }

    /// The identity `token` was verified as, if it was verified before by a
    /// key that is still `usable` (emits a `CacheLookup` event). Unusable
    /// entries are dropped and count as misses.
    pub(crate) async fn get(
        &self,
        token: &str,
        usable: impl FnOnce(&Verified) -> bool,
    ) -> Option<AuthInfo> {
        let cache = self.cache.as_ref()?;
        cache.get(token, usable).await?.identity(self.complete)
    }

    /// [`VerifiedCache::get`] when its answer is one `accept` takes (counted as
    /// a hit); otherwise nothing is counted or dropped (see
    /// [`TokenCache::recall`]).
    pub(crate) async fn recall(
        &self,
        token: &str,
        usable: impl FnOnce(&Verified) -> bool,
        accept: impl FnOnce(&AuthInfo) -> bool,
    ) -> Option<AuthInfo> {
        let cache = self.cache.as_ref()?;
        cache
            .recall(token, |verified| {
                if !usable(verified) {
                    return None;
                }
                let identity = verified.identity(self.complete)?;
                accept(&identity).then_some(identity)
            })
            .await
    }

    /// Remembers that `token` was verified as `identity` by key `kid` with
    /// `alg`, until `min(ttl, exp − now)`.
    pub(crate) async fn insert(
        &self,
        token: &str,
        identity: &AuthInfo,
        (kid, alg): (Option<&str>, Algorithm),
        now: i64,
    ) {
        let Some(cache) = self.cache.as_ref() else {
            return;
        };
        let left = identity.expires_at.map_or(0, |exp| exp.saturating_sub(now));
        if left <= 0 {
            return;
        }
        let ttl = self.ttl.min(Duration::from_secs(left as u64));
        if let Some(verified) = self.compact(identity, kid, alg) {
            cache.insert(token, verified, ttl).await;
        }
    }

    /// The cached form of `identity`; `None` (not cached) if it would not
    /// give back the same identity.
    fn compact(&self, identity: &AuthInfo, kid: Option<&str>, alg: Algorithm) -> Option<Verified> {
        let mut own = Vec::new();
        let mut shared_bytes = Vec::new();
        let mut shared_claims = Map::new();
        for (name, value) in &identity.claims {
            if SHARED_CLAIMS.contains(&name.as_str()) {
                compact_claims::encode_entry(&mut shared_bytes, name, value);
                shared_claims.insert(name.clone(), value.clone());
            } else {
                compact_claims::encode_entry(&mut own, name, value);
            }
        }
        let key = SharedKey {
            kid: kid.map(Box::from),
            alg,
            claims: shared_bytes.into(),
        };
        let shared = self.intern(key, || AuthInfo {
            subject: None,
            issuer: identity.issuer.clone(),
            client_id: identity.client_id.clone(),
            audiences: identity.audiences.clone(),
            scopes: identity.scopes.clone(),
            expires_at: None,
            claims: shared_claims,
            provider: identity.provider.clone(),
        });
        let verified = Verified {
            shared,
            own: own.into(),
        };
        (verified.identity(self.complete).as_ref() == Some(identity)).then_some(verified)
    }

    /// The one [`Shared`] for `key`, made with `identity` if there is none.
    fn intern(&self, key: SharedKey, identity: impl FnOnce() -> AuthInfo) -> Arc<Shared> {
        let mut table = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(shared) = table.get(&key) {
            return shared.clone();
        }
        let shared = Arc::new(Shared {
            kid: key.kid.clone(),
            alg: key.alg,
            identity: identity(),
        });
        if table.len() >= MAX_SHARED {
            table.retain(|_, s| Arc::strong_count(s) > 1);
        }
        if table.len() < MAX_SHARED {
            table.insert(key, shared.clone());
        }
        shared
    }

    /// Drops every entry.
    pub(crate) fn flush(&self) {
        if let Some(cache) = &self.cache {
            cache.flush();
        }
        self.shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Size and hit counts; `None` when the cache is disabled.
    pub(crate) fn stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(TokenCache::stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use warden_core::{noop_observer, now_unix};

    /// What the verifier derives from the claims not shared.
    fn complete(info: &mut AuthInfo) {
        info.subject = info.claim_str("sub").map(str::to_owned);
        info.expires_at = info.claims.get("exp").and_then(Value::as_i64);
    }

    fn cache(settings: VerifiedCacheSettings) -> VerifiedCache {
        VerifiedCache::new("p", settings, noop_observer(), complete)
    }

    fn identity(sub: &str, exp: i64) -> AuthInfo {
        let claims = json!({
            "iss": "https://idp",
            "aud": "http://127.0.0.1/mcp",
            "client_id": "app",
            "scope": "news:read profile",
            "sub": sub,
            "exp": exp,
            "iat": exp - 3600,
            "jti": "0b9f6f7e-4a8e-4c1e-9f52-2d0c3f1f6a11",
            "email": "a@example.com",
        });
        with_claims(claims.as_object().unwrap().clone())
    }

    fn with_claims(claims: Map<String, Value>) -> AuthInfo {
        let mut info = AuthInfo {
            issuer: Some("https://idp".into()),
            client_id: claims["client_id"].as_str().map(str::to_owned),
            audiences: vec!["http://127.0.0.1/mcp".into()],
            scopes: vec!["news:read".into(), "profile".into()],
            claims,
            provider: "p".into(),
            ..Default::default()
        };
        complete(&mut info);
        info
    }

    const KEY: (Option<&str>, Algorithm) = (Some("k1"), Algorithm::ES256);

    #[tokio::test]
    async fn remembers_until_flushed() {
        let c = cache(VerifiedCacheSettings::default());
        let now = now_unix();
        assert!(c.get("t", |_| true).await.is_none());
        let alice = identity("alice", now + 100);
        c.insert("t", &alice, KEY, now).await;
        assert_eq!(c.get("t", |_| true).await, Some(alice));
        assert!(c.get("other", |_| true).await.is_none());
        let stats = c.stats().unwrap();
        assert_eq!((stats.hits, stats.misses), (1, 2));
        c.flush();
        assert!(c.get("t", |_| true).await.is_none());
        assert!(c.shared.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn tokens_share_what_they_have_in_common() {
        let c = cache(VerifiedCacheSettings::default());
        let now = now_unix();
        let alice = identity("alice", now + 100);
        let bob = identity("bob", now + 101);
        let mut carol = identity("carol", now + 100);
        carol.claims.insert("client_id".into(), json!("other"));
        let carol = with_claims(carol.claims);
        for (token, who) in [("a", &alice), ("b", &bob), ("c", &carol)] {
            c.insert(token, who, KEY, now).await;
        }
        assert_eq!(c.shared.lock().unwrap().len(), 2);
        let a = c.get("a", |v| v.kid() == Some("k1")).await.unwrap();
        let b = c.get("b", |_| true).await.unwrap();
        assert_eq!((a, b), (alice, bob));
        assert_eq!(c.get("c", |_| true).await, Some(carol));
    }

    #[tokio::test]
    async fn what_would_not_come_back_the_same_is_not_cached() {
        let c = cache(VerifiedCacheSettings::default());
        let now = now_unix();
        // `subject` not from `sub`: the cache would give another identity.
        let odd = AuthInfo {
            subject: Some("someone else".into()),
            ..identity("alice", now + 100)
        };
        c.insert("t", &odd, KEY, now).await;
        assert!(c.get("t", |_| true).await.is_none());
    }

    #[tokio::test]
    async fn the_interning_table_is_bounded() {
        let c = cache(VerifiedCacheSettings::default());
        let now = now_unix();
        for i in 0..MAX_SHARED + 10 {
            let mut claims = identity("alice", now + 100).claims;
            claims.insert("client_id".into(), json!(format!("client{i}")));
            let who = with_claims(claims);
            c.insert(&format!("t{i}"), &who, KEY, now).await;
            assert_eq!(c.get(&format!("t{i}"), |_| true).await, Some(who));
        }
        assert_eq!(c.shared.lock().unwrap().len(), MAX_SHARED);
    }

    #[tokio::test]
    async fn unusable_entries_are_dropped() {
        let c = cache(VerifiedCacheSettings::default());
        let now = now_unix();
        c.insert("t", &identity("alice", now + 100), KEY, now).await;
        assert!(c
            .get("t", |v| v.kid() == Some("other")
                && v.alg() == Algorithm::ES256)
            .await
            .is_none());
        assert!(c.get("t", |_| true).await.is_none());
    }

    #[tokio::test]
    async fn skips_expired_and_disabled() {
        let now = now_unix();
        let c = cache(VerifiedCacheSettings::default());
        c.insert("t", &identity("alice", now - 1), KEY, now).await;
        assert!(c.get("t", |_| true).await.is_none());
        let off = cache(VerifiedCacheSettings {
            ttl: Duration::ZERO,
            max_entries: 10,
        });
        off.insert("t", &identity("alice", now + 100), KEY, now)
            .await;
        assert!(off.get("t", |_| true).await.is_none());
        assert!(off.stats().is_none());
    }
}
