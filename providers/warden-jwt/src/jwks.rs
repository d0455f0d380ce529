//! `JwksCache`: keys fetched over HTTP, refreshed in the background, refetched
//! once (single-flight, with a cooldown) on an unknown `kid`, and kept when
//! the endpoint fails (stale-if-error).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey};
use warden_core::{now_unix, AuthError, Event, KeyInfo, ProviderStatus, SharedObserver};

use crate::discovery::discover_jwks_uri;
use crate::http::HttpClient;
use crate::{JwksCacheSettings, JwtError, KeySet, KeySource};

/// Where a [`JwksCache`] fetches from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksLocation {
    /// This JWKS URL.
    Url(String),
    /// The `jwks_uri` of this issuer's discovery document (OIDC, then RFC 8414).
    Discover {
        /// The issuer URL.
        issuer: String,
    },
}

/// Keys from a JWKS endpoint, cached as one immutable snapshot.
///
/// * the first fetch happens on [`KeySource::refresh`] or lazily on first use;
///   until one succeeds every lookup is [`AuthError::Unavailable`];
/// * a background task refreshes every `Cache-Control: max-age`, clamped into
///   `[min_refresh, max_refresh]` (started on first use, ends with the cache);
/// * an unknown `kid` triggers one refetch shared by all concurrent callers,
///   at most once per `cooldown`; afterwards it is [`AuthError::UnknownKey`];
/// * while the endpoint fails, known keys keep working and unknown ones are
///   [`AuthError::Unavailable`].
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    location: JwksLocation,
    settings: JwksCacheSettings,
    http: HttpClient,
    observer: SharedObserver,
    keys: RwLock<Arc<KeySet>>,
    state: Mutex<State>,
    /// Held while fetching: one fetch at a time (single-flight).
    fetch_lock: tokio::sync::Mutex<()>,
    /// Bumped after every fetch attempt, so waiters know one happened.
    generation: AtomicU64,
    refresher_started: AtomicBool,
}

#[derive(Default)]
struct State {
    loaded: bool,
    failing: bool,
    jwks_url: Option<String>,
    last_refresh: Option<i64>,
    last_error: Option<String>,
    last_attempt: Option<Instant>,
    last_on_demand: Option<Instant>,
    next_refresh: Option<Instant>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("name", &self.inner.name)
            .field("location", &self.inner.location)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl JwksCache {
    /// A cache for provider `name`; does no I/O until first used.
    pub fn new(
        name: impl Into<String>,
        location: JwksLocation,
        settings: JwksCacheSettings,
        timeout: Duration,
        observer: SharedObserver,
    ) -> Result<Self, JwtError> {
        let name = name.into();
        let http = HttpClient::new(&name, timeout, observer.clone())?;
        Ok(Self {
            inner: Arc::new(Inner {
                name,
                location,
                settings,
                http,
                observer,
                keys: RwLock::new(Arc::new(KeySet::default())),
                state: Mutex::new(State::default()),
                fetch_lock: tokio::sync::Mutex::new(()),
                generation: AtomicU64::new(0),
                refresher_started: AtomicBool::new(false),
            }),
        })
    }

    /// The JWKS URL in use (configured or discovered), once known.
    pub fn jwks_url(&self) -> Option<String> {
        match &self.inner.location {
            JwksLocation::Url(url) => Some(url.clone()),
            JwksLocation::Discover { .. } => lock(&self.inner.state).jwks_url.clone(),
        }
    }
}

impl Inner {
    fn snapshot(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Whether a lookup miss may fetch now, given the cooldown.
    fn may_fetch_on_miss(&self) -> bool {
        let now = Instant::now();
        let cooldown = self.settings.cooldown;
        let recent = |t: Option<Instant>| t.is_some_and(|t| now.duration_since(t) < cooldown);
        let mut st = lock(&self.state);
        if !st.loaded {
            return !(st.failing && recent(st.last_attempt));
        }
        if recent(st.last_on_demand) {
            return false;
        }
        st.last_on_demand = Some(now);
        true
    }

    /// The error for a key that is not in the current snapshot.
    fn miss_error(&self, kid: Option<&str>) -> AuthError {
        let st = lock(&self.state);
        let err = st.last_error.as_deref().unwrap_or("no fetch yet");
        if !st.loaded {
            AuthError::unavailable(&self.name, format!("signing keys not loaded ({err})"))
        } else if st.failing {
            AuthError::unavailable(
                &self.name,
                format!("key not cached and the JWKS endpoint is failing ({err})"),
            )
        } else {
            AuthError::UnknownKey {
                kid: kid.unwrap_or_default().to_owned(),
            }
        }
    }

    async fn jwks_url(&self) -> Result<String, JwtError> {
        match &self.location {
            JwksLocation::Url(url) => Ok(url.clone()),
            JwksLocation::Discover { issuer } => {
                if let Some(url) = lock(&self.state).jwks_url.clone() {
                    return Ok(url);
                }
                let url = discover_jwks_uri(&self.http, issuer).await?;
                lock(&self.state).jwks_url = Some(url.clone());
                Ok(url)
            }
        }
    }

    async fn fetch_keys(&self) -> Result<(KeySet, Option<Duration>), JwtError> {
        let url = self.jwks_url().await?;
        let fetched = self.http.get_json(&url).await?;
        let set = KeySet::from_jwks(&fetched.body)?;
        Ok((set, fetched.max_age))
    }

    /// Fetches and installs the key set. The caller holds `fetch_lock`.
    async fn fetch_locked(&self) -> Result<(), JwtError> {
        let result = self.fetch_keys().await;
        let now = Instant::now();
        let (outcome, count) = {
            let mut st = lock(&self.state);
            st.last_attempt = Some(now);
            match &result {
                Ok((set, max_age)) => {
                    let count = set.len();
                    *self
                        .keys
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(set.clone());
                    st.loaded = true;
                    st.failing = false;
                    st.last_error = None;
                    st.last_refresh = Some(now_unix());
                    let s = &self.settings;
                    let interval = max_age
                        .unwrap_or(s.max_refresh)
                        .clamp(s.min_refresh, s.max_refresh);
                    st.next_refresh = Some(now + interval);
                    tracing::debug!(provider = %self.name, keys = count, ?interval, "JWKS refreshed");
                    ("ok", count)
                }
                Err(e) => {
                    st.failing = true;
                    st.last_error = Some(e.to_string());
                    st.next_refresh = Some(now + self.settings.min_refresh);
                    if e.status() == Some(404) {
                        st.jwks_url = None;
                    }
                    tracing::warn!(provider = %self.name, error = %e, "JWKS refresh failed");
                    ("error", self.snapshot().len())
                }
            }
        };
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.observer.observe(&Event::KeysRefreshed {
            provider: &self.name,
            result: outcome,
            keys: count,
        });
        result.map(|_| ())
    }

    /// Starts the periodic refresh task once, if inside a Tokio runtime.
    fn ensure_refresher(self: &Arc<Self>) {
        if self.refresher_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.refresher_started.store(false, Ordering::SeqCst);
            return;
        };
        runtime.spawn(refresh_loop(Arc::downgrade(self)));
    }
}

/// Refreshes whenever `next_refresh` is due; ends when the cache is dropped.
async fn refresh_loop(cache: Weak<Inner>) {
    loop {
        let due = match cache.upgrade() {
            Some(inner) => lock(&inner.state).next_refresh,
            None => return,
        };
        if let Some(due) = due {
            tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
        }
        let Some(inner) = cache.upgrade() else {
            return;
        };
        let _flight = inner.fetch_lock.lock().await;
        let is_due = lock(&inner.state)
            .next_refresh
            .is_none_or(|d| d <= Instant::now());
        if is_due {
            // Failures are recorded in the state and retried after min_refresh.
            let _ = inner.fetch_locked().await;
        }
    }
}

#[async_trait]
impl KeySource for JwksCache {
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<DecodingKey>, AuthError> {
        let inner = &self.inner;
        inner.ensure_refresher();
        let seen = inner.generation.load(Ordering::SeqCst);
        if let Some(key) = inner.snapshot().find(kid, alg) {
            return Ok(key);
        }
        {
            let _flight = inner.fetch_lock.lock().await;
            let fetched_meanwhile = inner.generation.load(Ordering::SeqCst) != seen;
            if !fetched_meanwhile && inner.may_fetch_on_miss() {
                // The outcome is recorded in the state; `miss_error` reports it.
                let _ = inner.fetch_locked().await;
            }
        }
        inner
            .snapshot()
            .find(kid, alg)
            .ok_or_else(|| inner.miss_error(kid))
    }

    fn keys(&self) -> Vec<KeyInfo> {
        self.inner.snapshot().key_infos()
    }

    fn holds(&self, kid: Option<&str>, alg: Algorithm) -> bool {
        self.inner.snapshot().find(kid, alg).is_some()
    }

    async fn refresh(&self) -> Result<(), AuthError> {
        self.inner.ensure_refresher();
        let _flight = self.inner.fetch_lock.lock().await;
        self.inner
            .fetch_locked()
            .await
            .map_err(|e| AuthError::unavailable(&self.inner.name, e.to_string()))
    }

    fn status(&self) -> ProviderStatus {
        let keys = self.keys();
        let st = lock(&self.inner.state);
        ProviderStatus {
            ready: st.loaded,
            state: if st.loaded {
                "ready".into()
            } else {
                "jwks not loaded".into()
            },
            keys,
            last_refresh: st.last_refresh,
            last_error: st.last_error.clone(),
            caches: Vec::new(),
        }
    }
}
