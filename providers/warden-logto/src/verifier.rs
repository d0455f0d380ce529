//! `LogtoVerifier`: JWT access tokens through warden-jwt with the discovered
//! JWKS; opaque tokens through userinfo, or introspection with credentials.

use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use url::Url;
use warden_core::jwt_peek::{self, MAX_TOKEN_BYTES};
use warden_core::{
    now_unix, AuthError, AuthInfo, BuildError, Check, ProviderContext, ProviderDescriptor,
    ProviderStatus, SharedObserver, Verifier,
};
use warden_introspection::{AnswerPolicy, EndpointSource, Introspector, IntrospectorSettings};
use warden_jwt::{JwtVerifier, KeySourceConfig};
use warden_upstream::TokenCache;

use crate::cache::{entry_ttl, CACHE_NAME};
use crate::discovery::{Discovery, Endpoints};
use crate::http::Http;
use crate::keys::DiscoveredKeys;
use crate::userinfo::{self, Verdict};
use crate::{ClientCredentials, LogtoError, LogtoSettings};

/// The `kind = "logto"` verifier.
///
/// * JWTs (Logto access tokens for API resources) are verified exactly like
///   `kind = "jwt"` by a [`JwtVerifier`] whose keys come from the discovered
///   `jwks_uri`: issuer = the configured issuer, `aud` ∈ audiences, algorithm
///   allow-list, `exp` required.
/// * Opaque tokens go to the discovered `userinfo_endpoint` with
///   `Authorization: Bearer`. 200 → identity from the answer; 400/401/403 →
///   [`AuthError::Inactive`]; anything else → [`AuthError::Unavailable`].
///   This proves the token is a live user token of this issuer, nothing
///   more: userinfo names no audience or scopes, so audience checks cannot
///   apply to such tokens (and tool scopes only match if the answer carries `scope`).
/// * With `client_id`/`client_secret`, opaque tokens go to the discovered
///   `introspection_endpoint` instead (RFC 7662 via warden-introspection),
///   where issuer, audience, expiry and token type are checked.
///
/// Discovery runs in [`Verifier::refresh`] and lazily on first use; until it
/// succeeds every token is [`AuthError::Unavailable`].
pub struct LogtoVerifier {
    descriptor: ProviderDescriptor,
    settings: LogtoSettings,
    observer: SharedObserver,
    discovery: Arc<Discovery>,
    jwt: Arc<JwtVerifier>,
    http: Http,
    userinfo_cache: Option<TokenCache<Verdict>>,
    introspector: RwLock<Option<Introspector>>,
}

impl std::fmt::Debug for LogtoVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogtoVerifier")
            .field("descriptor", &self.descriptor)
            .field("settings", &self.settings)
            .field("endpoints", &self.discovery.current())
            .finish_non_exhaustive()
    }
}

/// Which path an opaque token takes.
enum OpaquePath {
    Userinfo(Url),
    Introspection(Introspector),
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

fn check_opaque_format(token: &str) -> Result<(), AuthError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::malformed(format!(
            "token is {} bytes; at most {MAX_TOKEN_BYTES} are accepted",
            token.len()
        )));
    }
    if !is_b64token(token) {
        return Err(AuthError::malformed(
            "token has characters outside the b64token alphabet",
        ));
    }
    Ok(())
}

impl LogtoVerifier {
    /// Builds the verifier for provider `ctx.name`; does no I/O.
    pub fn new(ctx: &ProviderContext, settings: LogtoSettings) -> Result<Arc<Self>, BuildError> {
        let name = ctx.name.clone();
        let http = Http::new(&name, settings.jwt.timeout, ctx.observer.clone())
            .map_err(|e| BuildError::invalid(&name, e.to_string()))?;
        let discovery = Arc::new(Discovery::new(
            &name,
            &settings.issuer,
            http.clone(),
            settings.jwt.jwks.cooldown,
        ));
        let keys = DiscoveredKeys::new(
            &name,
            discovery.clone(),
            settings.jwt.jwks,
            settings.jwt.timeout,
            ctx.observer.clone(),
        );
        let mut jwt_settings = settings.jwt.clone();
        jwt_settings.name = name.clone();
        jwt_settings.key_source = KeySourceConfig::Provided(Arc::new(keys));
        let jwt = JwtVerifier::new(ctx, jwt_settings)?;
        let descriptor = ProviderDescriptor {
            accepts_opaque: true,
            ..jwt.descriptor().clone()
        };
        let userinfo_cache = (!settings.cache.ttl.is_zero()).then(|| {
            TokenCache::new(
                CACHE_NAME,
                &name,
                settings.cache.max_entries,
                ctx.observer.clone(),
            )
        });
        Ok(Arc::new(Self {
            descriptor,
            userinfo_cache,
            settings,
            observer: ctx.observer.clone(),
            discovery,
            jwt,
            http,
            introspector: RwLock::new(None),
        }))
    }

    /// The effective settings.
    pub fn settings(&self) -> &LogtoSettings {
        &self.settings
    }

    /// The JWT path (shares the verified-token cache and the discovered keys).
    pub fn jwt(&self) -> &Arc<JwtVerifier> {
        &self.jwt
    }

    /// The discovered endpoints, once discovery has succeeded.
    pub fn endpoints(&self) -> Option<Endpoints> {
        self.discovery.current().map(|e| (*e).clone())
    }

    fn name(&self) -> &str {
        &self.descriptor.name
    }

    async fn opaque_path(&self) -> Result<OpaquePath, AuthError> {
        let endpoints = self.discovery.get().await?;
        match &self.settings.credentials {
            Some(credentials) => self
                .introspector_for(&endpoints, credentials)
                .map(OpaquePath::Introspection),
            None => endpoints
                .userinfo
                .clone()
                .map(OpaquePath::Userinfo)
                .ok_or_else(|| {
                    LogtoError::MissingEndpoint {
                        endpoint: "userinfo_endpoint",
                    }
                    .into_auth_error(self.name())
                }),
        }
    }

    /// The introspection client for the discovered endpoint (built once per endpoint).
    fn introspector_for(
        &self,
        endpoints: &Endpoints,
        credentials: &ClientCredentials,
    ) -> Result<Introspector, AuthError> {
        let url = endpoints.introspection.clone().ok_or_else(|| {
            LogtoError::MissingEndpoint {
                endpoint: "introspection_endpoint",
            }
            .into_auth_error(self.name())
        })?;
        let current = |slot: &Option<Introspector>| {
            slot.as_ref()
                .filter(|i| i.endpoint().as_ref() == Some(&url))
                .cloned()
        };
        if let Some(found) = current(
            &self
                .introspector
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        ) {
            return Ok(found);
        }
        let mut slot = self
            .introspector
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = current(&slot) {
            return Ok(found);
        }
        let mut policy = AnswerPolicy::new(
            self.name(),
            Some(self.settings.issuer.clone()),
            self.settings.jwt.audiences.clone(),
            self.settings.jwt.leeway.unwrap_or_default(),
        );
        policy.allow_missing_audience = self.settings.allow_missing_audience;
        let introspector = Introspector::new(IntrospectorSettings {
            provider: self.name().to_owned(),
            endpoint: EndpointSource::Fixed(url),
            client_id: credentials.client_id.clone(),
            client_secret: credentials.client_secret.clone(),
            auth_method: credentials.auth_method,
            timeout: self.settings.jwt.timeout,
            cache_ttl: self.settings.cache.ttl,
            negative_cache_ttl: self.settings.cache.negative_ttl,
            cache_size: self.settings.cache.max_entries.max(1),
            policy,
            observer: self.observer.clone(),
        })
        .map_err(|e| AuthError::unavailable(self.name(), e.to_string()))?;
        *slot = Some(introspector.clone());
        Ok(introspector)
    }

    /// Userinfo verdict on `token` (cached when the cache is on); the flag
    /// says whether the cache answered.
    async fn ask_userinfo(
        &self,
        endpoint: &Url,
        token: &str,
    ) -> (Result<AuthInfo, AuthError>, bool) {
        let fetch = async {
            userinfo::ask(
                &self.http,
                endpoint,
                token,
                self.name(),
                &self.settings.issuer,
            )
            .await
            .map_err(|e| {
                tracing::warn!(provider = %self.name(), error = %e, "logto: userinfo failed");
                e.into_auth_error(self.name())
            })
        };
        let (verdict, hit) = match &self.userinfo_cache {
            None => (fetch.await, false),
            Some(cache) => {
                let fetch = async {
                    let verdict = fetch.await?;
                    let ttl = entry_ttl(&verdict, &self.settings.cache, now_unix());
                    Ok((verdict, ttl))
                };
                cache.get_or_fetch(token, fetch).await
            }
        };
        let result = verdict.and_then(|verdict| match verdict {
            Verdict::Rejected { .. } => Err(AuthError::Inactive),
            Verdict::Accepted(info) => {
                let leeway = self.settings.jwt.leeway.unwrap_or_default().as_secs() as i64;
                match info.expires_at {
                    Some(exp) if exp.saturating_add(leeway) < now_unix() => {
                        Err(AuthError::Expired { exp })
                    }
                    _ => Ok((*info).clone()),
                }
            }
        });
        (result, hit)
    }

    async fn verify_opaque(&self, token: &str) -> Result<AuthInfo, AuthError> {
        check_opaque_format(token)?;
        match self.opaque_path().await? {
            OpaquePath::Userinfo(endpoint) => self.ask_userinfo(&endpoint, token).await.0,
            OpaquePath::Introspection(introspector) => introspector.verify(token).await,
        }
    }

    async fn explain_opaque(&self, token: &str) -> (Vec<Check>, Result<AuthInfo, AuthError>) {
        let mut checks = Vec::new();
        if let Err(e) = check_opaque_format(token) {
            checks.push(Check::new("format", false, e.to_string()));
            return (checks, Err(e));
        }
        checks.push(Check::new("format", true, "opaque token (not a JWT)"));
        let path = match self.opaque_path().await {
            Ok(path) => path,
            Err(e) => {
                checks.push(Check::new("discovery", false, e.to_string()));
                return (checks, Err(e));
            }
        };
        match path {
            OpaquePath::Introspection(introspector) => {
                let url = introspector
                    .endpoint()
                    .map(String::from)
                    .unwrap_or_default();
                checks.push(Check::new(
                    "discovery",
                    true,
                    format!("introspection endpoint {url} (client credentials configured)"),
                ));
                let (more, result) = introspector.explain(token).await;
                checks.extend(more);
                (checks, result)
            }
            OpaquePath::Userinfo(endpoint) => {
                checks.push(Check::new(
                    "discovery",
                    true,
                    format!("userinfo endpoint {endpoint}"),
                ));
                let (result, hit) = self.ask_userinfo(&endpoint, token).await;
                let source = if hit { "cache" } else { "userinfo endpoint" };
                checks.push(match &result {
                    Ok(info) => Check::new(
                        "userinfo",
                        true,
                        format!(
                            "live user token of this issuer (subject {:?}, answered by the {source})",
                            info.subject.as_deref().unwrap_or("")
                        ),
                    ),
                    Err(e) => Check::new("userinfo", false, format!("{e} (answered by the {source})")),
                });
                if result.is_ok() {
                    checks.push(Check::new(
                        "audience",
                        true,
                        "not checked: userinfo does not say which resource a token is for",
                    ));
                }
                (checks, result)
            }
        }
    }
}

#[async_trait]
impl Verifier for LogtoVerifier {
    async fn verify(&self, token: &str) -> Result<AuthInfo, AuthError> {
        if jwt_peek::looks_like_jwt(token) {
            return self.jwt.verify(token).await;
        }
        self.verify_opaque(token).await
    }

    /// The JWT verifier's cached answer (opaque tokens have none here).
    async fn recall(&self, token: &str) -> Option<AuthInfo> {
        if jwt_peek::looks_like_jwt(token) {
            return self.jwt.recall(token).await;
        }
        None
    }

    fn descriptor(&self) -> &ProviderDescriptor {
        &self.descriptor
    }

    /// Ready once discovery succeeded and the JWKS is loaded; caches:
    /// `verified`, `userinfo` (when on), `introspection` (once used).
    fn status(&self) -> ProviderStatus {
        let mut status = self.jwt.status();
        if let Some(cache) = &self.userinfo_cache {
            status.caches.push(cache.stats());
        }
        let introspector = self
            .introspector
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(stats) = introspector.and_then(|i| i.cache_stats()) {
            status.caches.push(stats);
        }
        status
    }

    /// Discovery, then the JWKS.
    async fn refresh(&self) -> Result<(), AuthError> {
        self.jwt.refresh().await
    }

    fn flush_caches(&self) {
        self.jwt.flush_caches();
        if let Some(cache) = &self.userinfo_cache {
            cache.flush();
        }
        if let Some(introspector) = self
            .introspector
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            introspector.flush();
        }
    }

    async fn explain(&self, token: &str) -> (Vec<Check>, Result<AuthInfo, AuthError>) {
        if jwt_peek::looks_like_jwt(token) {
            return self.jwt.explain(token).await;
        }
        self.explain_opaque(token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_format() {
        assert!(check_opaque_format("abc-DEF_123.~+/==").is_ok());
        assert!(check_opaque_format("").is_err());
        assert!(check_opaque_format("===").is_err());
        assert!(check_opaque_format("has space").is_err());
        assert!(check_opaque_format("new\nline").is_err());
        assert!(check_opaque_format(&"a".repeat(MAX_TOKEN_BYTES + 1)).is_err());
    }
}
