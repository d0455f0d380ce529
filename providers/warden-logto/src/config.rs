//! `[providers.NAME]` with `kind = "logto"`: the table and the resolved settings.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_core::Secret;
use warden_core::{BuildError, ProviderContext};
use warden_introspection::{serde_defaults, AuthMethod};
use warden_jwt::{JwtConfig, JwtSettings, OneOrMany};
use warden_upstream::config::{carries_credentials, check_base_url, parse_table};

use crate::KIND;

/// The algorithms a Logto provider accepts when none are configured
/// (Logto's default signing key is EC P-384).
pub const DEFAULT_ALGORITHMS: [&str; 2] = ["ES384", "RS256"];

/// The `kind = "logto"` provider table.
///
/// ```toml
/// [providers.logto]
/// kind = "logto"
/// issuer = "https://tenant.logto.app/oidc"      # discovery: {issuer}/.well-known/openid-configuration
/// audience = "https://mcp.example.com/mcp"       # API resource indicator(s); default: the canonical MCP URL
/// algorithms = ["ES384", "RS256"]
/// # client_id = "…"                             # with client_secret: opaque tokens go to introspection
/// # client_secret = "…"
/// # auth_method = "basic"                       # or "post" (introspection client auth)
/// # allow_missing_audience = false              # introspection answers without `aud`
/// userinfo_cache_ttl = "60s"                     # "0s" disables the opaque-token cache
/// userinfo_negative_cache_ttl = "10s"
/// cache_size = 10000
/// timeout = "5s"
/// # authorization_server = "https://tenant.logto.app/oidc"   # PRM override; default the issuer
/// jwks_cooldown = "30s"                          # also: least time between lazy discovery retries
/// jwks_min_refresh = "1m"
/// jwks_max_refresh = "1h"
/// verified_cache_ttl = "5m"
/// verified_cache_size = 10000
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogtoConfig {
    /// The Logto issuer, e.g. `https://tenant.logto.app/oidc` (exact `iss`).
    pub issuer: String,
    /// Accepted audience(s) of JWT access tokens (API resource indicators) and
    /// of introspection answers; absent → the canonical MCP URL.
    #[serde(default)]
    pub audience: Option<OneOrMany>,
    /// Allowed JWT algorithm names; absent → `["ES384", "RS256"]`.
    #[serde(default)]
    pub algorithms: Option<Vec<String>>,
    /// warden's client id at Logto; with `client_secret`, opaque tokens are
    /// introspected instead of sent to userinfo.
    #[serde(default)]
    pub client_id: Option<String>,
    /// warden's client secret at Logto (never printed).
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// How the client credentials are sent to the introspection endpoint.
    #[serde(default)]
    pub auth_method: AuthMethod,
    /// Accept active introspection answers that carry no `aud`.
    #[serde(default)]
    pub allow_missing_audience: bool,
    /// How long an accepted opaque-token answer (userinfo or introspection)
    /// is reused, never past the token's `exp`; `0s` disables the cache.
    #[serde(default = "serde_defaults::cache_ttl", with = "humantime_serde")]
    pub userinfo_cache_ttl: Duration,
    /// How long a rejection (userinfo 400/401/403, inactive answer) is reused.
    #[serde(
        default = "serde_defaults::negative_cache_ttl",
        with = "humantime_serde"
    )]
    pub userinfo_negative_cache_ttl: Duration,
    /// Most opaque-token answers cached.
    #[serde(default = "serde_defaults::cache_size")]
    pub cache_size: u64,
    /// Timeout of every outbound call.
    #[serde(
        default = "warden_jwt::serde_defaults::timeout",
        with = "humantime_serde"
    )]
    pub timeout: Duration,
    /// PRM `authorization_servers` entry (or entries); absent → the issuer.
    #[serde(default)]
    pub authorization_server: Option<OneOrMany>,
    /// Least time between JWKS refetches caused by unknown `kid`s, and
    /// between lazy discovery retries after a failure.
    #[serde(
        default = "warden_jwt::serde_defaults::jwks_cooldown",
        with = "humantime_serde"
    )]
    pub jwks_cooldown: Duration,
    /// Lower bound of the periodic JWKS refresh.
    #[serde(
        default = "warden_jwt::serde_defaults::jwks_min_refresh",
        with = "humantime_serde"
    )]
    pub jwks_min_refresh: Duration,
    /// Upper bound of the periodic JWKS refresh.
    #[serde(
        default = "warden_jwt::serde_defaults::jwks_max_refresh",
        with = "humantime_serde"
    )]
    pub jwks_max_refresh: Duration,
    /// How long verified JWTs are remembered; `0s` disables.
    #[serde(
        default = "warden_jwt::serde_defaults::verified_cache_ttl",
        with = "humantime_serde"
    )]
    pub verified_cache_ttl: Duration,
    /// Most verified JWTs remembered.
    #[serde(default = "warden_jwt::serde_defaults::verified_cache_size")]
    pub verified_cache_size: u64,
}

/// Client credentials for the introspection path.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// warden's client id.
    pub client_id: String,
    /// warden's client secret (redacted in `Debug`).
    pub client_secret: Secret,
    /// `client_secret_basic` or `client_secret_post`.
    pub auth_method: AuthMethod,
}

/// The opaque-token answer cache (userinfo, or introspection with credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpaqueCacheSettings {
    /// Reuse of accepted answers (never past `exp`); zero disables the cache.
    pub ttl: Duration,
    /// Reuse of rejections.
    pub negative_ttl: Duration,
    /// Most entries.
    pub max_entries: u64,
}

impl Default for OpaqueCacheSettings {
    fn default() -> Self {
        Self {
            ttl: serde_defaults::cache_ttl(),
            negative_ttl: serde_defaults::negative_cache_ttl(),
            max_entries: serde_defaults::cache_size(),
        }
    }
}

/// A Logto provider with every default applied.
#[derive(Debug, Clone)]
pub struct LogtoSettings {
    /// The issuer, exactly as configured.
    pub issuer: String,
    /// The JWT path: issuer, audiences (resolved), algorithms, PRM entry,
    /// timeout, JWKS and verified-cache knobs, kind `logto`. Its
    /// `key_source` is replaced by the discovered JWKS when the verifier is built.
    pub jwt: JwtSettings,
    /// Present when both `client_id` and `client_secret` are configured.
    pub credentials: Option<ClientCredentials>,
    /// Accept active introspection answers without `aud`.
    pub allow_missing_audience: bool,
    /// The opaque-token cache.
    pub cache: OpaqueCacheSettings,
}

fn check_issuer(issuer: &str) -> Result<(), String> {
    if carries_credentials(&check_base_url(issuer)?) {
        return Err("must not carry credentials".into());
    }
    Ok(())
}

impl LogtoConfig {
    /// Parses the provider table (without `kind`); errors name the key.
    pub fn from_value(provider: &str, table: Value) -> Result<Self, BuildError> {
        parse_table(provider, table)
    }

    /// Validates the table and fills in defaults for provider `ctx.name`.
    pub fn into_settings(self, ctx: &ProviderContext) -> Result<LogtoSettings, BuildError> {
        let name = ctx.name.as_str();
        let bad = |key: &str, msg: String| BuildError::invalid(name, format!("{key}: {msg}"));
        check_issuer(&self.issuer).map_err(|m| bad("issuer", m))?;
        let credentials = match (self.client_id, self.client_secret) {
            (None, None) => None,
            (Some(id), Some(secret)) => {
                if id.trim().is_empty() {
                    return Err(bad("client_id", "must not be empty".into()));
                }
                if secret.expose().is_empty() {
                    return Err(bad("client_secret", "must not be empty".into()));
                }
                Some(ClientCredentials {
                    client_id: id,
                    client_secret: secret,
                    auth_method: self.auth_method,
                })
            }
            (Some(_), None) => {
                return Err(bad(
                    "client_secret",
                    "missing (client_id is set; introspection needs both)".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(bad(
                    "client_id",
                    "missing (client_secret is set; introspection needs both)".into(),
                ))
            }
        };
        if !self.userinfo_cache_ttl.is_zero() && self.cache_size == 0 {
            return Err(bad(
                "cache_size",
                "must be at least 1 (set userinfo_cache_ttl = \"0s\" to disable the cache)".into(),
            ));
        }
        let audiences = match self.audience {
            Some(list) if list.0.is_empty() => {
                return Err(bad("audience", "must name at least one audience".into()))
            }
            Some(list) => list.0,
            None => ctx.default_audiences(),
        };
        let table = JwtConfig {
            issuer: OneOrMany(vec![self.issuer.clone()]),
            jwks_url: None,
            audience: Some(OneOrMany(audiences)),
            algorithms: Some(
                self.algorithms
                    .unwrap_or_else(|| DEFAULT_ALGORITHMS.map(String::from).to_vec()),
            ),
            require_typ: None,
            authorization_server: self.authorization_server,
            timeout: self.timeout,
            jwks_cooldown: self.jwks_cooldown,
            jwks_min_refresh: self.jwks_min_refresh,
            jwks_max_refresh: self.jwks_max_refresh,
            verified_cache_ttl: self.verified_cache_ttl,
            verified_cache_size: self.verified_cache_size,
        };
        let mut jwt = table.into_settings(name)?;
        jwt.kind = KIND.into();
        if jwt.authorization_servers.is_empty() {
            jwt.authorization_servers = vec![self.issuer.clone()];
        }
        jwt.leeway = Some(ctx.leeway);
        Ok(LogtoSettings {
            issuer: self.issuer,
            jwt,
            credentials,
            allow_missing_audience: self.allow_missing_audience,
            cache: OpaqueCacheSettings {
                ttl: self.userinfo_cache_ttl,
                negative_ttl: self.userinfo_negative_cache_ttl,
                max_entries: self.cache_size,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use warden_jwt::Algorithm;
    use warden_jwt::JwksCacheSettings;

    fn ctx() -> ProviderContext {
        ProviderContext {
            name: "logto".into(),
            public_url: "http://127.0.0.1:10000".into(),
            resource: "http://127.0.0.1:10000/mcp".into(),
            leeway: Duration::from_secs(60),
            observer: warden_core::noop_observer(),
            data_dir: std::env::temp_dir(),
        }
    }

    fn parse(v: Value) -> Result<LogtoSettings, String> {
        LogtoConfig::from_value("logto", v)
            .and_then(|c| c.into_settings(&ctx()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let s = parse(json!({"issuer": "https://t.logto.app/oidc"})).unwrap();
        assert_eq!(s.issuer, "https://t.logto.app/oidc");
        assert_eq!(s.jwt.kind, "logto");
        assert_eq!(s.jwt.issuers, ["https://t.logto.app/oidc"]);
        assert_eq!(
            s.jwt.audiences,
            ["http://127.0.0.1:10000/mcp", "http://127.0.0.1:10000/sse"]
        );
        assert_eq!(s.jwt.algorithms, [Algorithm::ES384, Algorithm::RS256]);
        assert_eq!(s.jwt.authorization_servers, ["https://t.logto.app/oidc"]);
        assert_eq!(s.jwt.timeout, Duration::from_secs(5));
        assert_eq!(s.jwt.jwks, JwksCacheSettings::default());
        assert_eq!(s.cache, OpaqueCacheSettings::default());
        assert!(s.credentials.is_none());
        assert!(!s.allow_missing_audience);
    }

    #[test]
    fn everything_set() {
        let s = parse(json!({
            "issuer": "https://t.logto.app/oidc",
            "audience": ["https://api.example", "https://mcp.example/mcp"],
            "algorithms": ["RS256"],
            "client_id": "m2m", "client_secret": "shh", "auth_method": "post",
            "allow_missing_audience": true,
            "userinfo_cache_ttl": "0s", "userinfo_negative_cache_ttl": "1s", "cache_size": 7,
            "timeout": "250ms", "authorization_server": "https://auth.example",
            "jwks_cooldown": "1s", "verified_cache_ttl": "0s",
        }))
        .unwrap();
        assert_eq!(
            s.jwt.audiences,
            ["https://api.example", "https://mcp.example/mcp"]
        );
        assert_eq!(s.jwt.algorithms, [Algorithm::RS256]);
        let c = s.credentials.as_ref().unwrap();
        assert_eq!(c.client_id, "m2m");
        assert_eq!(c.auth_method, AuthMethod::Post);
        assert!(s.allow_missing_audience);
        assert!(s.cache.ttl.is_zero());
        assert_eq!(s.cache.max_entries, 7);
        assert_eq!(s.jwt.timeout, Duration::from_millis(250));
        assert_eq!(s.jwt.authorization_servers, ["https://auth.example"]);
        assert!(!format!("{s:?}").contains("shh"));
    }

    #[test]
    fn errors_name_the_key() {
        let err = |v| parse(v).unwrap_err();
        assert!(err(json!({})).contains("missing field `issuer`"));
        assert!(err(json!({"issuer": "t.logto.app"})).starts_with("providers.logto: issuer: "));
        assert!(err(json!({"issuer": "https://t/oidc", "client_id": "x"}))
            .starts_with("providers.logto: client_secret: missing"));
        assert!(
            err(json!({"issuer": "https://t/oidc", "client_secret": "x"}))
                .starts_with("providers.logto: client_id: missing")
        );
        assert!(err(json!({"issuer": "https://t/oidc", "isuer": "x"}))
            .contains("unknown field `isuer`"));
        assert!(
            err(json!({"issuer": "https://t/oidc", "userinfo_cache_ttl": "soon"}))
                .starts_with("providers.logto: userinfo_cache_ttl: ")
        );
        assert!(
            err(json!({"issuer": "https://t/oidc", "auth_method": "jwt"}))
                .starts_with("providers.logto: auth_method: ")
        );
        assert!(
            err(json!({"issuer": "https://t/oidc", "algorithms": ["none"]}))
                .contains("algorithms: \"none\" is never allowed")
        );
        assert!(err(json!({"issuer": "https://t/oidc", "cache_size": 0}))
            .starts_with("providers.logto: cache_size: "));
        assert!(err(json!({"issuer": "https://t/oidc", "audience": []}))
            .starts_with("providers.logto: audience: "));
    }
}
