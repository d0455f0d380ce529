//! `JwtConfig`: the `[providers.NAME]` table of `kind = "jwt"`.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_core::BuildError;
use warden_upstream::config::{parse_table_by_key, value_fits};

use crate::settings::check_http_url;
use crate::{JwksCacheSettings, JwtSettings, KeySourceConfig, OneOrMany, VerifiedCacheSettings};

/// Defaults of the JWT/JWKS keys shared by every JWT-based provider table
/// (`kind = "jwt"`, `"scalekit"`, `"logto"`), for `#[serde(default = "…")]`.
pub mod serde_defaults {
    use std::time::Duration;

    use crate::{JwksCacheSettings, VerifiedCacheSettings};

    /// `timeout`: 5 s.
    pub fn timeout() -> Duration {
        Duration::from_secs(5)
    }
    /// `jwks_cooldown`.
    pub fn jwks_cooldown() -> Duration {
        JwksCacheSettings::default().cooldown
    }
    /// `jwks_min_refresh`.
    pub fn jwks_min_refresh() -> Duration {
        JwksCacheSettings::default().min_refresh
    }
    /// `jwks_max_refresh`.
    pub fn jwks_max_refresh() -> Duration {
        JwksCacheSettings::default().max_refresh
    }
    /// `verified_cache_ttl`.
    pub fn verified_cache_ttl() -> Duration {
        VerifiedCacheSettings::default().ttl
    }
    /// `verified_cache_size`.
    pub fn verified_cache_size() -> u64 {
        VerifiedCacheSettings::default().max_entries
    }
}

/// The config table of a `kind = "jwt"` provider.
///
/// ```toml
/// [providers.corp]
/// kind = "jwt"
/// issuer = "https://idp.example.com"            # or a list
/// jwks_url = "https://idp.example.com/jwks"     # absent → discovery from the issuer
/// audience = "https://mcp.example.com/mcp"      # or a list; absent → the canonical MCP URL and {public_url}/sse
/// algorithms = ["RS256", "ES256"]               # default RS256 PS256 ES256 ES384 EdDSA
/// require_typ = "at+jwt"
/// authorization_server = "https://idp.example.com"  # PRM override; default the issuer(s)
/// timeout = "5s"
/// jwks_cooldown = "30s"
/// jwks_min_refresh = "1m"
/// jwks_max_refresh = "1h"
/// verified_cache_ttl = "5m"                     # "0s" disables
/// verified_cache_size = 10000
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// Accepted issuer(s).
    pub issuer: OneOrMany,
    /// JWKS URL; absent → discovered from the first issuer.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Accepted audience(s); absent → the canonical MCP URL and
    /// `{public_url}/sse` (the legacy SSE endpoint).
    #[serde(default)]
    pub audience: Option<OneOrMany>,
    /// Allowed algorithm names; absent → RS256, PS256, ES256, ES384, EdDSA.
    #[serde(default)]
    pub algorithms: Option<Vec<String>>,
    /// Required header `typ` (e.g. `at+jwt`).
    #[serde(default)]
    pub require_typ: Option<String>,
    /// The PRM `authorization_servers` entry (or entries); absent → the issuer(s).
    #[serde(default)]
    pub authorization_server: Option<OneOrMany>,
    /// Timeout of every outbound call.
    #[serde(default = "serde_defaults::timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Least time between refetches caused by unknown `kid`s.
    #[serde(default = "serde_defaults::jwks_cooldown", with = "humantime_serde")]
    pub jwks_cooldown: Duration,
    /// Lower bound of the periodic JWKS refresh.
    #[serde(default = "serde_defaults::jwks_min_refresh", with = "humantime_serde")]
    pub jwks_min_refresh: Duration,
    /// Upper bound of the periodic JWKS refresh.
    #[serde(default = "serde_defaults::jwks_max_refresh", with = "humantime_serde")]
    pub jwks_max_refresh: Duration,
    /// How long verified tokens are remembered; `0s` disables.
    #[serde(
        default = "serde_defaults::verified_cache_ttl",
        with = "humantime_serde"
    )]
    pub verified_cache_ttl: Duration,
    /// Most verified tokens remembered.
    #[serde(default = "serde_defaults::verified_cache_size")]
    pub verified_cache_size: u64,
}

/// Checks one key of the table on its own, to name it in errors.
fn check_field(key: &str, value: &Value) -> Result<(), String> {
    match key {
        "issuer" | "audience" | "authorization_server" => value_fits::<OneOrMany>(value),
        "jwks_url" | "require_typ" => value_fits::<String>(value),
        "algorithms" => value_fits::<Vec<String>>(value),
        "timeout" | "jwks_cooldown" | "jwks_min_refresh" | "jwks_max_refresh"
        | "verified_cache_ttl" => value_fits::<humantime_serde::Serde<Duration>>(value),
        "verified_cache_size" => value_fits::<u64>(value),
        _ => Err("unknown key".into()),
    }
}

impl JwtConfig {
    /// Parses the provider table (without `kind`); errors name the key.
    pub fn from_value(provider: &str, table: Value) -> Result<Self, BuildError> {
        parse_table_by_key(provider, table, check_field)
    }

    /// Turns the table into settings for provider `name` (kind `jwt`).
    pub fn into_settings(self, name: &str) -> Result<JwtSettings, BuildError> {
        let bad = |msg: String| BuildError::invalid(name, msg);
        let algorithms = match self.algorithms {
            None => crate::default_algorithms(),
            Some(names) => names
                .iter()
                .map(|n| {
                    if n.eq_ignore_ascii_case("none") {
                        return Err(bad("algorithms: \"none\" is never allowed".into()));
                    }
                    n.parse::<Algorithm>().map_err(|_| {
                        bad(format!(
                            "algorithms: unknown algorithm {n:?} (use RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let authorization_servers = self.authorization_server.unwrap_or_default().0;
        for url in &authorization_servers {
            check_http_url(url).map_err(|m| bad(format!("authorization_server: {m}")))?;
        }
        let settings = JwtSettings {
            name: name.to_owned(),
            kind: "jwt".into(),
            issuers: self.issuer.0,
            audiences: self.audience.unwrap_or_default().0,
            algorithms,
            required_typ: self.require_typ,
            leeway: None,
            authorization_servers,
            key_source: self
                .jwks_url
                .map_or(KeySourceConfig::Discover, KeySourceConfig::JwksUrl),
            timeout: self.timeout,
            jwks: JwksCacheSettings {
                cooldown: self.jwks_cooldown,
                min_refresh: self.jwks_min_refresh,
                max_refresh: self.jwks_max_refresh,
            },
            verified_cache: VerifiedCacheSettings {
                ttl: self.verified_cache_ttl,
                max_entries: self.verified_cache_size,
            },
        };
        settings.validate()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<JwtSettings, String> {
        JwtConfig::from_value("corp", v)
            .and_then(|c| c.into_settings("corp"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn full_table() {
        let s = parse(json!({
            "issuer": ["https://a.example", "https://b.example"],
            "jwks_url": "https://a.example/jwks",
            "audience": "api://mcp",
            "algorithms": ["ES384"],
            "require_typ": "at+jwt",
            "authorization_server": "https://a.example",
            "timeout": "2s",
            "jwks_cooldown": "10s",
            "jwks_min_refresh": "30s",
            "jwks_max_refresh": "2h",
            "verified_cache_ttl": "0s",
            "verified_cache_size": 5
        }))
        .unwrap();
        assert_eq!(s.issuers.len(), 2);
        assert_eq!(s.audiences, ["api://mcp"]);
        assert_eq!(s.algorithms, [Algorithm::ES384]);
        assert_eq!(s.required_typ.as_deref(), Some("at+jwt"));
        assert_eq!(s.timeout, Duration::from_secs(2));
        assert_eq!(s.jwks.cooldown, Duration::from_secs(10));
        assert_eq!(s.jwks.max_refresh, Duration::from_secs(7200));
        assert!(s.verified_cache.ttl.is_zero());
        assert!(
            matches!(s.key_source, KeySourceConfig::JwksUrl(ref u) if u == "https://a.example/jwks")
        );
    }

    #[test]
    fn minimal_table_uses_defaults_and_discovery() {
        let s = parse(json!({"issuer": "https://idp.example"})).unwrap();
        assert_eq!(s.algorithms, crate::default_algorithms());
        assert!(s.audiences.is_empty());
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert_eq!(s.jwks, JwksCacheSettings::default());
        assert_eq!(s.verified_cache, VerifiedCacheSettings::default());
        assert!(matches!(s.key_source, KeySourceConfig::Discover));
    }

    #[test]
    fn errors_name_the_key() {
        let err = |v| parse(v).unwrap_err();
        assert_eq!(
            err(json!({"issuer": "https://i", "jwks_url": "/jwks"})),
            "providers.corp: jwks_url: \"/jwks\": relative URL without a base"
        );
        assert!(err(json!({"issuer": "https://i", "jwks_urll": "x"}))
            .starts_with("providers.corp: jwks_urll: unknown key"));
        assert!(err(json!({"issuer": "https://i", "timeout": "5 parsecs"}))
            .starts_with("providers.corp: timeout: "));
        assert!(err(json!({"issuer": 5})).contains("issuer: invalid type"));
        assert!(err(json!({})).contains("missing field `issuer`"));
        assert!(err(json!({"issuer": "https://i", "algorithms": ["none"]}))
            .contains("algorithms: \"none\" is never allowed"));
        assert!(err(json!({"issuer": "https://i", "algorithms": ["HS256"]}))
            .contains("algorithms: HS256 is symmetric"));
        assert!(err(json!({"issuer": "https://i", "algorithms": ["XY1"]}))
            .contains("unknown algorithm \"XY1\""));
        assert!(
            err(json!({"issuer": "https://i", "authorization_server": "nope"}))
                .contains("authorization_server: \"nope\"")
        );
        assert!(
            err(json!({"issuer": "https://i", "verified_cache_size": -1}))
                .contains("verified_cache_size: ")
        );
    }
}
