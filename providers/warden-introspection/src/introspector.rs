//! `Introspector`: endpoint (configured or discovered) + client auth + HTTP + cache.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use url::Url;
use warden_core::{
    now_unix, AuthError, AuthInfo, BearerPolicy, BuildError, CacheStats, Check, ProviderContext,
    ProviderStatus, SharedObserver,
};
use warden_upstream::TokenCache;

use crate::answer::{AnswerPolicy, IntrospectionAnswer};
use crate::cache::{entry_ttl, CACHE_NAME};
use crate::client_auth::ClientAuth;
use crate::config::{AuthMethod, IntrospectionConfig, Secret};
use crate::discovery;
use crate::error::IntrospectionError;
use crate::http::{Http, Reply};

/// Where the introspection endpoint comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointSource {
    /// A configured URL.
    Fixed(Url),
    /// Discovered from this issuer's metadata (OIDC discovery, then RFC 8414).
    Discover {
        /// The issuer, exactly as configured.
        issuer: String,
    },
}

/// Everything an [`Introspector`] needs; build one with
/// [`IntrospectorSettings::from_config`] or fill it in directly.
#[derive(Clone)]
pub struct IntrospectorSettings {
    /// Provider name (errors, events: `idp:<provider>`).
    pub provider: String,
    /// The endpoint or how to find it.
    pub endpoint: EndpointSource,
    /// warden's client id.
    pub client_id: String,
    /// warden's client secret.
    pub client_secret: Secret,
    /// `client_secret_basic` or `client_secret_post`.
    pub auth_method: AuthMethod,
    /// Timeout of each upstream call.
    pub timeout: Duration,
    /// Upper bound on reusing an accepted answer; zero disables the cache.
    pub cache_ttl: Duration,
    /// How long a rejected answer is reused.
    pub negative_cache_ttl: Duration,
    /// Maximum cached answers.
    pub cache_size: u64,
    /// The checks answers must pass (also decides positive vs negative caching).
    pub policy: AnswerPolicy,
    /// Where `CacheLookup` and `Upstream` events go.
    pub observer: SharedObserver,
}

impl fmt::Debug for IntrospectorSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectorSettings")
            .field("provider", &self.provider)
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("auth_method", &self.auth_method)
            .field("timeout", &self.timeout)
            .field("cache_ttl", &self.cache_ttl)
            .field("negative_cache_ttl", &self.negative_cache_ttl)
            .field("cache_size", &self.cache_size)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl IntrospectorSettings {
    /// Settings for provider `ctx.name` from its (validated) config: audiences
    /// default to [`ProviderContext::default_audiences`], leeway is `ctx.leeway`.
    pub fn from_config(
        config: &IntrospectionConfig,
        ctx: &ProviderContext,
    ) -> Result<Self, BuildError> {
        let endpoint = match (&config.introspection_url, &config.issuer) {
            (Some(url), _) => EndpointSource::Fixed(url.clone()),
            (None, Some(issuer)) => EndpointSource::Discover {
                issuer: issuer.clone(),
            },
            (None, None) => {
                return Err(BuildError::invalid(
                    &ctx.name,
                    "introspection_url: missing (set it, or set issuer to discover it)",
                ))
            }
        };
        let audiences = if config.audience.is_empty() {
            ctx.default_audiences()
        } else {
            config.audience.clone()
        };
        Ok(IntrospectorSettings {
            provider: ctx.name.clone(),
            endpoint,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            auth_method: config.auth_method,
            timeout: config.timeout,
            cache_ttl: config.cache_ttl,
            negative_cache_ttl: config.negative_cache_ttl,
            cache_size: config.cache_size,
            policy: AnswerPolicy {
                provider: ctx.name.clone(),
                bearer: BearerPolicy {
                    issuers: config.issuer.iter().cloned().collect(),
                    audiences,
                    leeway: ctx.leeway,
                    require_exp: false,
                    ..BearerPolicy::default()
                },
                allow_missing_audience: config.allow_missing_audience,
            },
            observer: ctx.observer.clone(),
        })
    }
}

/// The result of one introspection.
#[derive(Debug, Clone)]
pub struct Introspected {
    /// The server's answer (possibly `active: false`), unchecked.
    pub answer: Arc<IntrospectionAnswer>,
    /// Whether it came from the cache (or from a concurrent caller's request).
    pub cache_hit: bool,
}

/// RFC 7662 client: asks the authorization server about tokens, with an
/// answer cache (keyed by SHA-256 of the token, single-flight per token).
///
/// Cheap to clone; clones share the cache and the discovered endpoint.
#[derive(Clone)]
pub struct Introspector {
    inner: Arc<Inner>,
}

struct Inner {
    provider: String,
    source: EndpointSource,
    endpoint: RwLock<Option<Url>>,
    discovery: tokio::sync::Mutex<()>,
    discovery_attempts: AtomicU64,
    discovery_error: RwLock<Option<IntrospectionError>>,
    last_refresh: RwLock<Option<i64>>,
    last_error: RwLock<Option<String>>,
    http: Http,
    auth: ClientAuth,
    policy: AnswerPolicy,
    cache: Option<TokenCache<Arc<IntrospectionAnswer>>>,
    cache_ttl: Duration,
    negative_cache_ttl: Duration,
}

impl fmt::Debug for Introspector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspector")
            .field("provider", &self.inner.provider)
            .field("endpoint", &self.endpoint().map(String::from))
            .field("auth", &self.inner.auth)
            .field("cache", &self.inner.cache.is_some())
            .finish_non_exhaustive()
    }
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(PoisonError::into_inner).clone()
}

fn write<T>(lock: &RwLock<T>, value: T) {
    *lock.write().unwrap_or_else(PoisonError::into_inner) = value;
}

impl Introspector {
    /// Builds the client (no network I/O).
    pub fn new(settings: IntrospectorSettings) -> Result<Self, BuildError> {
        // Every request (introspection and discovery) reports its own
        // `Event::Upstream` as `idp:<provider>`.
        let http = Http::new(
            &settings.provider,
            settings.timeout,
            settings.observer.clone(),
        )
        .map_err(|e| BuildError::invalid(&settings.provider, e))?;
        let endpoint = match &settings.endpoint {
            EndpointSource::Fixed(url) => Some(url.clone()),
            EndpointSource::Discover { .. } => None,
        };
        let cache = (!settings.cache_ttl.is_zero()).then(|| {
            TokenCache::new(
                CACHE_NAME,
                &settings.provider,
                settings.cache_size,
                settings.observer.clone(),
            )
        });
        Ok(Introspector {
            inner: Arc::new(Inner {
                provider: settings.provider,
                source: settings.endpoint,
                endpoint: RwLock::new(endpoint),
                discovery: tokio::sync::Mutex::new(()),
                discovery_attempts: AtomicU64::new(0),
                discovery_error: RwLock::new(None),
                last_refresh: RwLock::new(None),
                last_error: RwLock::new(None),
                http,
                auth: ClientAuth::new(
                    settings.auth_method,
                    settings.client_id,
                    settings.client_secret,
                ),
                policy: settings.policy,
                cache,
                cache_ttl: settings.cache_ttl,
                negative_cache_ttl: settings.negative_cache_ttl,
            }),
        })
    }

    /// The provider name.
    pub fn provider(&self) -> &str {
        &self.inner.provider
    }

    /// The checks applied to answers.
    pub fn policy(&self) -> &AnswerPolicy {
        &self.inner.policy
    }

    /// The introspection endpoint, once configured or discovered.
    pub fn endpoint(&self) -> Option<Url> {
        read(&self.inner.endpoint)
    }

    /// Asks about `token` (or answers from the cache). `Err` is always
    /// [`AuthError::Unavailable`]: the answer itself is not checked here.
    pub async fn introspect(&self, token: &str) -> Result<Introspected, AuthError> {
        let Some(cache) = &self.inner.cache else {
            let answer = self.fetch(token).await?;
            return Ok(Introspected {
                answer,
                cache_hit: false,
            });
        };
        let fetch = async {
            let answer = self.fetch(token).await?;
            let accepted = self.inner.policy.check(&answer, now_unix()).is_ok();
            let ttl = entry_ttl(
                accepted,
                answer.expires_at,
                SystemTime::now(),
                self.inner.cache_ttl,
                self.inner.negative_cache_ttl,
            );
            Ok((answer, ttl))
        };
        let (result, hit) = cache.get_or_fetch(token, fetch).await;
        result.map(|answer| Introspected {
            answer,
            cache_hit: hit,
        })
    }

    /// Introspects `token` and applies the policy.
    pub async fn verify(&self, token: &str) -> Result<AuthInfo, AuthError> {
        let introspected = self.introspect(token).await?;
        self.inner.policy.check(&introspected.answer, now_unix())
    }

    /// Introspects `token` and reports each check (`introspection` says
    /// whether the cache answered). Never includes the token.
    pub async fn explain(&self, token: &str) -> (Vec<Check>, Result<AuthInfo, AuthError>) {
        match self.introspect(token).await {
            Err(e) => (
                vec![Check::new("introspection", false, e.to_string())],
                Err(e),
            ),
            Ok(introspected) => {
                let (mut checks, result) =
                    self.inner.policy.explain(&introspected.answer, now_unix());
                if let Some(first) = checks.first_mut() {
                    first.detail.push_str(if introspected.cache_hit {
                        ", answered from cache"
                    } else {
                        ", answered by the introspection endpoint"
                    });
                }
                (checks, result)
            }
        }
    }

    /// Discovers the endpoint now (when it is discovered rather than
    /// configured). A failure keeps an endpoint discovered earlier.
    pub async fn refresh(&self) -> Result<(), AuthError> {
        let EndpointSource::Discover { issuer } = &self.inner.source else {
            return Ok(());
        };
        let _guard = self.inner.discovery.lock().await;
        self.discover_locked(issuer)
            .await
            .map(drop)
            .map_err(|e| e.into_auth_error(&self.inner.provider))
    }

    /// Drops every cached answer.
    pub fn flush(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.flush();
        }
    }

    /// Cache size and hit/miss counters; `None` when the cache is off.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.inner.cache.as_ref().map(TokenCache::stats)
    }

    /// Ready once the endpoint is known; the last upstream error; the cache.
    pub fn status(&self) -> ProviderStatus {
        let ready = self.endpoint().is_some();
        ProviderStatus {
            ready,
            state: if ready {
                "ready".into()
            } else {
                "introspection endpoint not discovered yet".into()
            },
            keys: Vec::new(),
            last_refresh: read(&self.inner.last_refresh),
            last_error: read(&self.inner.last_error),
            caches: self.cache_stats().into_iter().collect(),
        }
    }

    async fn endpoint_for_request(&self) -> Result<Url, AuthError> {
        if let Some(url) = self.endpoint() {
            return Ok(url);
        }
        let issuer = match &self.inner.source {
            EndpointSource::Fixed(url) => return Ok(url.clone()),
            EndpointSource::Discover { issuer } => issuer,
        };
        // Single flight: whoever waited for a running attempt shares its outcome.
        let attempts_seen = self.inner.discovery_attempts.load(Ordering::Acquire);
        let _guard = self.inner.discovery.lock().await;
        if let Some(url) = self.endpoint() {
            return Ok(url);
        }
        if self.inner.discovery_attempts.load(Ordering::Acquire) != attempts_seen {
            if let Some(e) = read(&self.inner.discovery_error) {
                return Err(e.into_auth_error(&self.inner.provider));
            }
        }
        self.discover_locked(issuer)
            .await
            .map_err(|e| e.into_auth_error(&self.inner.provider))
    }

    /// Runs discovery; the caller holds the discovery lock.
    async fn discover_locked(&self, issuer: &str) -> Result<Url, IntrospectionError> {
        let result = discovery::discover(&self.inner.http, issuer).await;
        match &result {
            Ok(url) => {
                write(&self.inner.endpoint, Some(url.clone()));
                write(&self.inner.discovery_error, None);
                write(&self.inner.last_refresh, Some(now_unix()));
                write(&self.inner.last_error, None);
                tracing::info!(provider = %self.inner.provider, endpoint = %url, "introspection endpoint discovered");
            }
            Err(e) => {
                write(&self.inner.discovery_error, Some(e.clone()));
                self.record_failure(e);
            }
        }
        self.inner.discovery_attempts.fetch_add(1, Ordering::AcqRel);
        result
    }

    /// One upstream call for `token`.
    async fn fetch(&self, token: &str) -> Result<Arc<IntrospectionAnswer>, AuthError> {
        let endpoint = self.endpoint_for_request().await?;
        let (authorization, body) = self.inner.auth.request(token);
        let result = self
            .inner
            .http
            .post_form(&endpoint, authorization, body, interpret)
            .await;
        match result {
            Ok(answer) => {
                write(&self.inner.last_error, None);
                Ok(Arc::new(answer))
            }
            Err(e) => {
                self.record_failure(&e);
                Err(e.into_auth_error(&self.inner.provider))
            }
        }
    }

    fn record_failure(&self, error: &IntrospectionError) {
        let provider = &self.inner.provider;
        match error {
            IntrospectionError::ClientRejected { status } => {
                tracing::error!(provider = %provider, status, error = %error, "introspection: warden's client credentials were rejected");
            }
            _ => {
                tracing::warn!(provider = %provider, error = %error, "introspection upstream failed")
            }
        }
        write(&self.inner.last_error, Some(error.to_string()));
    }
}

/// Turns an HTTP reply of the introspection endpoint into an answer.
fn interpret(reply: Reply) -> Result<IntrospectionAnswer, IntrospectionError> {
    match reply.status {
        200 => IntrospectionAnswer::from_slice(&reply.body)
            .map_err(|reason| IntrospectionError::InvalidResponse { reason }),
        401 | 403 => Err(IntrospectionError::ClientRejected {
            status: reply.status,
        }),
        status => Err(IntrospectionError::Status {
            what: "introspection",
            status,
            retry_after: reply.retry_after,
        }),
    }
}
