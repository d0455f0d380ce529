//! `DiscoveredKeys`: a warden-jwt [`KeySource`] whose JWKS URL comes from
//! discovery. Once `jwks_uri` is known it delegates to a [`JwksCache`]
//! (single-flight refetch, cooldown, background refresh, stale-if-error).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use warden_core::{AuthError, KeyInfo, ProviderStatus, SharedObserver};
use warden_jwt::{Algorithm, DecodingKey, JwksCache, JwksCacheSettings, JwksLocation, KeySource};

use crate::discovery::{Discovery, Endpoints};

pub(crate) struct DiscoveredKeys {
    provider: String,
    discovery: Arc<Discovery>,
    settings: JwksCacheSettings,
    timeout: Duration,
    observer: SharedObserver,
    cache: RwLock<Option<JwksCache>>,
}

impl DiscoveredKeys {
    pub(crate) fn new(
        provider: &str,
        discovery: Arc<Discovery>,
        settings: JwksCacheSettings,
        timeout: Duration,
        observer: SharedObserver,
    ) -> Self {
        Self {
            provider: provider.to_owned(),
            discovery,
            settings,
            timeout,
            observer,
            cache: RwLock::new(None),
        }
    }

    fn current(&self) -> Option<JwksCache> {
        self.cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The cache for the discovered `jwks_uri` (a new one if it changed).
    fn cache_for(&self, endpoints: &Endpoints) -> Result<JwksCache, AuthError> {
        if let Some(cache) = self.current() {
            if cache.jwks_url().as_deref() == Some(endpoints.jwks_uri.as_str()) {
                return Ok(cache);
            }
        }
        let mut slot = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(cache) = slot.as_ref() {
            if cache.jwks_url().as_deref() == Some(endpoints.jwks_uri.as_str()) {
                return Ok(cache.clone());
            }
        }
        let cache = JwksCache::new(
            self.provider.clone(),
            JwksLocation::Url(endpoints.jwks_uri.clone()),
            self.settings,
            self.timeout,
            self.observer.clone(),
        )
        .map_err(|e| AuthError::unavailable(&self.provider, e.to_string()))?;
        *slot = Some(cache.clone());
        Ok(cache)
    }
}

#[async_trait]
impl KeySource for DiscoveredKeys {
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<DecodingKey>, AuthError> {
        let endpoints = self.discovery.get().await?;
        self.cache_for(&endpoints)?.key(kid, alg).await
    }

    fn keys(&self) -> Vec<KeyInfo> {
        self.current().map(|c| c.keys()).unwrap_or_default()
    }

    fn holds(&self, kid: Option<&str>, alg: Algorithm) -> bool {
        self.current().is_some_and(|c| c.holds(kid, alg))
    }

    /// Discovery, then the JWKS. A failed discovery still refreshes the keys
    /// of endpoints discovered earlier, and is reported.
    async fn refresh(&self) -> Result<(), AuthError> {
        let discovered = self.discovery.refresh().await;
        let endpoints = match (&discovered, self.discovery.current()) {
            (Ok(endpoints), _) => endpoints.clone(),
            (Err(_), Some(earlier)) => earlier,
            (Err(e), None) => return Err(e.clone()),
        };
        let keys = self.cache_for(&endpoints)?.refresh().await;
        discovered.map(drop).and(keys)
    }

    fn status(&self) -> ProviderStatus {
        let discovery_error = self.discovery.last_error();
        match self.current() {
            None => ProviderStatus {
                ready: false,
                state: if self.discovery.current().is_some() {
                    "jwks not loaded".into()
                } else {
                    "discovery pending".into()
                },
                keys: Vec::new(),
                last_refresh: self.discovery.last_refresh(),
                last_error: discovery_error,
                caches: Vec::new(),
            },
            Some(cache) => {
                let mut status = cache.status();
                if let Some(e) = discovery_error {
                    status.last_error = Some(format!("discovery failed: {e}"));
                }
                status
            }
        }
    }
}
