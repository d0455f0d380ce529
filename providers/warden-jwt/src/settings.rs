//! `JwtSettings`: everything a [`JwtVerifier`](crate::JwtVerifier) needs,
//! as a plain struct that preset providers (dev, Scalekit, Logto) fill in.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, AlgorithmFamily};
use warden_core::BuildError;

use crate::KeySource;

/// Where the verification keys come from.
#[derive(Clone, Default)]
pub enum KeySourceConfig {
    /// A JWKS URL, fetched and cached by a [`JwksCache`](crate::JwksCache).
    JwksUrl(String),
    /// Discover `jwks_uri` from the first issuer: OIDC
    /// `{issuer}/.well-known/openid-configuration`, then RFC 8414
    /// `{origin}/.well-known/oauth-authorization-server{issuer-path}`.
    #[default]
    Discover,
    /// A key source built by the caller (e.g. [`StaticKeys`](crate::StaticKeys)).
    Provided(Arc<dyn KeySource>),
}

impl std::fmt::Debug for KeySourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySourceConfig::JwksUrl(url) => f.debug_tuple("JwksUrl").field(url).finish(),
            KeySourceConfig::Discover => f.write_str("Discover"),
            KeySourceConfig::Provided(_) => f.write_str("Provided(..)"),
        }
    }
}

/// How the JWKS cache refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksCacheSettings {
    /// Least time between two refetches caused by unknown `kid`s (and between
    /// retries of a failed first load). Default 30 s.
    pub cooldown: Duration,
    /// Lower bound of the periodic refresh interval (`Cache-Control: max-age`
    /// is clamped into `[min_refresh, max_refresh]`). Default 1 min.
    pub min_refresh: Duration,
    /// Upper bound of the periodic refresh interval, and the interval used
    /// when the JWKS response has no `max-age`. Default 1 h.
    pub max_refresh: Duration,
}

impl Default for JwksCacheSettings {
    fn default() -> Self {
        Self {
            cooldown: Duration::from_secs(30),
            min_refresh: Duration::from_secs(60),
            max_refresh: Duration::from_secs(3600),
        }
    }
}

/// The cache of already verified tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedCacheSettings {
    /// How long a verified token is remembered (never past its `exp`).
    /// Zero disables the cache. Default 5 min.
    pub ttl: Duration,
    /// Most tokens held. Default 10 000.
    pub max_entries: u64,
}

impl Default for VerifiedCacheSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            max_entries: 10_000,
        }
    }
}

/// The algorithms accepted when none are configured: RS256, PS256, ES256, ES384, EdDSA.
pub fn default_algorithms() -> Vec<Algorithm> {
    vec![
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ]
}

/// Everything a [`JwtVerifier`](crate::JwtVerifier) needs.
///
/// Build one with struct-update syntax from [`Default`]:
///
/// ```
/// use warden_jwt::{JwtSettings, KeySourceConfig};
///
/// let settings = JwtSettings {
///     name: "logto".into(),
///     kind: "logto".into(),
///     issuers: vec!["https://tenant.logto.app/oidc".into()],
///     key_source: KeySourceConfig::JwksUrl("https://tenant.logto.app/oidc/jwks".into()),
///     ..Default::default()
/// };
/// assert!(settings.audiences.is_empty()); // → the canonical MCP URL and {public_url}/sse
/// ```
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// Provider name (`[providers.NAME]`); empty → `ProviderContext::name`.
    pub name: String,
    /// Provider kind reported in the descriptor (`jwt`, `dev`, `scalekit`, …).
    pub kind: String,
    /// Accepted `iss` values (exact match); at least one.
    pub issuers: Vec<String>,
    /// Accepted `aud` values; empty → `ProviderContext::default_audiences()`.
    pub audiences: Vec<String>,
    /// Allowed `alg` values; never HMAC or `none`. Default [`default_algorithms`].
    pub algorithms: Vec<Algorithm>,
    /// Required header `typ` (e.g. `at+jwt`), compared case-insensitively,
    /// `application/` prefix optional.
    pub required_typ: Option<String>,
    /// Clock skew allowed on `exp`/`nbf`/`iat`; `None` → `ProviderContext::leeway`.
    pub leeway: Option<Duration>,
    /// What the provider contributes to the PRM; empty → `issuers`.
    pub authorization_servers: Vec<String>,
    /// Where keys come from.
    pub key_source: KeySourceConfig,
    /// Timeout of every outbound call. Default 5 s.
    pub timeout: Duration,
    /// JWKS refresh behaviour.
    pub jwks: JwksCacheSettings,
    /// Verified-token cache.
    pub verified_cache: VerifiedCacheSettings,
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self {
            name: String::new(),
            kind: "jwt".into(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            algorithms: default_algorithms(),
            required_typ: None,
            leeway: None,
            authorization_servers: Vec::new(),
            key_source: KeySourceConfig::Discover,
            timeout: Duration::from_secs(5),
            jwks: JwksCacheSettings::default(),
            verified_cache: VerifiedCacheSettings::default(),
        }
    }
}

impl JwtSettings {
    /// Checks the settings; errors name the config key at fault.
    pub fn validate(&self) -> Result<(), BuildError> {
        let bad =
            |key: &str, msg: String| Err(BuildError::invalid(&self.name, format!("{key}: {msg}")));
        if self.issuers.is_empty() || self.issuers.iter().any(|i| i.trim().is_empty()) {
            return bad("issuer", "at least one non-empty issuer is required".into());
        }
        if self.audiences.iter().any(|a| a.trim().is_empty()) {
            return bad("audience", "audiences must not be empty strings".into());
        }
        if self.algorithms.is_empty() {
            return bad("algorithms", "at least one algorithm is required".into());
        }
        if let Some(alg) = self
            .algorithms
            .iter()
            .find(|a| a.family() == AlgorithmFamily::Hmac)
        {
            return bad(
                "algorithms",
                format!("{alg:?} is symmetric; only asymmetric algorithms are allowed"),
            );
        }
        if self
            .required_typ
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return bad("require_typ", "must not be empty".into());
        }
        if self.timeout.is_zero() {
            return bad("timeout", "must be greater than zero".into());
        }
        if self.jwks.min_refresh.is_zero() {
            return bad("jwks_min_refresh", "must be greater than zero".into());
        }
        if self.jwks.min_refresh > self.jwks.max_refresh {
            return bad(
                "jwks_min_refresh",
                format!(
                    "{:?} is longer than jwks_max_refresh ({:?})",
                    self.jwks.min_refresh, self.jwks.max_refresh
                ),
            );
        }
        if !self.verified_cache.ttl.is_zero() && self.verified_cache.max_entries == 0 {
            return bad("verified_cache_size", "must be greater than zero".into());
        }
        match &self.key_source {
            KeySourceConfig::JwksUrl(url) => check_http_url(url).or_else(|m| bad("jwks_url", m)),
            KeySourceConfig::Discover => check_http_url(&self.issuers[0]).or_else(|m| {
                bad(
                    "issuer",
                    format!("{m} (an issuer URL is needed to discover jwks_uri when jwks_url is absent)"),
                )
            }),
            KeySourceConfig::Provided(_) => Ok(()),
        }
    }
}

/// Checks that `url` is an absolute `http`/`https` URL.
pub(crate) fn check_http_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host().is_some() => Ok(()),
        "http" | "https" => Err(format!("{url:?}: no host")),
        other => Err(format!("{url:?}: scheme {other:?} is not http or https")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> JwtSettings {
        JwtSettings {
            name: "corp".into(),
            issuers: vec!["https://idp.example".into()],
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_valid() {
        ok().validate().unwrap();
        assert!(!default_algorithms()
            .iter()
            .any(|a| a.family() == AlgorithmFamily::Hmac));
    }

    #[test]
    fn errors_name_the_key() {
        let err = |s: JwtSettings| s.validate().unwrap_err().to_string();
        assert!(err(JwtSettings {
            issuers: vec![],
            ..ok()
        })
        .starts_with("providers.corp: issuer:"));
        assert!(err(JwtSettings {
            algorithms: vec![Algorithm::HS256],
            ..ok()
        })
        .contains("algorithms: HS256 is symmetric"));
        assert_eq!(
            err(JwtSettings {
                key_source: KeySourceConfig::JwksUrl("/jwks".into()),
                ..ok()
            }),
            "providers.corp: jwks_url: \"/jwks\": relative URL without a base"
        );
        assert!(err(JwtSettings {
            issuers: vec!["urn:corp".into()],
            ..ok()
        })
        .contains("issuer: \"urn:corp\""));
        let mut s = ok();
        s.jwks.min_refresh = Duration::from_secs(7200);
        assert!(err(s).contains("jwks_min_refresh"));
    }
}
