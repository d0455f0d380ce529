//! `[providers.NAME]` with `kind = "introspection"`: the config table.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;
use warden_core::BuildError;
use warden_upstream::config::{carries_credentials, one_or_many, parse_table};

pub use warden_core::Secret;

/// How warden authenticates to the introspection endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// `client_secret_basic`: `Authorization: Basic base64(urlenc(id):urlenc(secret))`.
    #[default]
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
}

/// The `kind = "introspection"` provider table.
///
/// ```toml
/// [providers.corp]
/// kind = "introspection"
/// issuer = "https://idp.example/oidc"          # discovery, `iss` check, PRM
/// # introspection_url = "https://idp.example/oidc/token/introspection"
/// client_id = "warden"
/// client_secret = "…"
/// auth_method = "basic"                        # or "post"
/// audience = ["https://mcp.example/mcp"]       # default: the canonical MCP URL and {public_url}/sse
/// cache_ttl = "60s"                            # "0s" disables the cache
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionConfig {
    /// The RFC 7662 endpoint. When absent it is discovered from `issuer`.
    #[serde(default)]
    pub introspection_url: Option<Url>,
    /// Expected `iss` in answers that carry one; also the discovery base and
    /// the default PRM authorization server.
    #[serde(default)]
    pub issuer: Option<String>,
    /// warden's client id at the authorization server.
    pub client_id: String,
    /// warden's client secret at the authorization server.
    pub client_secret: Secret,
    /// How the client credentials are sent.
    #[serde(default)]
    pub auth_method: AuthMethod,
    /// Accepted audiences (a string or a list); empty means
    /// [`ProviderContext::default_audiences`](warden_core::ProviderContext::default_audiences).
    #[serde(default, deserialize_with = "one_or_many")]
    pub audience: Vec<String>,
    /// Accept active answers that carry no `aud` at all (off by default).
    #[serde(default)]
    pub allow_missing_audience: bool,
    /// What the PRM lists as authorization server; defaults to `issuer`.
    #[serde(default)]
    pub authorization_server: Option<String>,
    /// Timeout of each call to the authorization server.
    #[serde(default = "serde_defaults::timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Upper bound on how long an accepted answer is reused (never beyond
    /// the token's `exp`); `0s` disables the cache.
    #[serde(default = "serde_defaults::cache_ttl", with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// How long a rejecting answer (inactive, wrong type/audience/issuer, expired) is reused.
    #[serde(
        default = "serde_defaults::negative_cache_ttl",
        with = "humantime_serde"
    )]
    pub negative_cache_ttl: Duration,
    /// Maximum number of cached answers.
    #[serde(default = "serde_defaults::cache_size")]
    pub cache_size: u64,
}

/// Defaults of the keys of an introspection provider table, also those of
/// the opaque-token answer cache of providers that introspect (Logto), for
/// `#[serde(default = "…")]`.
pub mod serde_defaults {
    use std::time::Duration;

    /// `timeout`: 5 s.
    pub fn timeout() -> Duration {
        Duration::from_secs(5)
    }
    /// `cache_ttl`: 60 s.
    pub fn cache_ttl() -> Duration {
        Duration::from_secs(60)
    }
    /// `negative_cache_ttl`: 10 s.
    pub fn negative_cache_ttl() -> Duration {
        Duration::from_secs(10)
    }
    /// `cache_size`: 10 000.
    pub fn cache_size() -> u64 {
        10_000
    }
}

impl fmt::Debug for IntrospectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionConfig")
            .field(
                "introspection_url",
                &self.introspection_url.as_ref().map(Url::as_str),
            )
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("auth_method", &self.auth_method)
            .field("audience", &self.audience)
            .field("allow_missing_audience", &self.allow_missing_audience)
            .field("authorization_server", &self.authorization_server)
            .field("timeout", &self.timeout)
            .field("cache_ttl", &self.cache_ttl)
            .field("negative_cache_ttl", &self.negative_cache_ttl)
            .field("cache_size", &self.cache_size)
            .finish()
    }
}

impl IntrospectionConfig {
    /// Parses and validates the provider table of provider `provider`.
    ///
    /// Errors name the offending key, e.g. `providers.corp: auth_method:
    /// unknown variant `bogus`, expected `basic` or `post``.
    pub fn from_value(provider: &str, table: serde_json::Value) -> Result<Self, BuildError> {
        let config: Self = parse_table(provider, table)?;
        config.validate(provider)?;
        Ok(config)
    }

    /// Checks values serde cannot: URLs, non-empty credentials and bounds.
    pub fn validate(&self, provider: &str) -> Result<(), BuildError> {
        let bad = |key: &str, msg: String| BuildError::invalid(provider, format!("{key}: {msg}"));
        if let Some(url) = &self.introspection_url {
            check_url(url).map_err(|m| bad("introspection_url", m))?;
        }
        if let Some(issuer) = &self.issuer {
            let url = Url::parse(issuer).map_err(|e| bad("issuer", format!("{issuer:?}: {e}")))?;
            check_url(&url).map_err(|m| bad("issuer", m))?;
            if url.query().is_some() || url.fragment().is_some() {
                return Err(bad(
                    "issuer",
                    format!("{issuer:?} must not have a query or fragment"),
                ));
            }
        }
        if self.introspection_url.is_none() && self.issuer.is_none() {
            return Err(bad(
                "introspection_url",
                "missing (set it, or set issuer to discover it)".into(),
            ));
        }
        if let Some(server) = &self.authorization_server {
            let url = Url::parse(server)
                .map_err(|e| bad("authorization_server", format!("{server:?}: {e}")))?;
            check_url(&url).map_err(|m| bad("authorization_server", m))?;
        }
        if self.client_id.trim().is_empty() {
            return Err(bad("client_id", "must not be empty".into()));
        }
        if self.client_secret.expose().is_empty() {
            return Err(bad("client_secret", "must not be empty".into()));
        }
        if self.audience.iter().any(|a| a.trim().is_empty()) {
            return Err(bad("audience", "entries must not be empty".into()));
        }
        if self.timeout.is_zero() {
            return Err(bad("timeout", "must be greater than 0s".into()));
        }
        if self.cache_size == 0 {
            return Err(bad(
                "cache_size",
                "must be at least 1 (set cache_ttl = \"0s\" to disable the cache)".into(),
            ));
        }
        Ok(())
    }

    /// The PRM authorization server: `authorization_server`, else `issuer`.
    pub fn prm_authorization_server(&self) -> Option<&str> {
        self.authorization_server
            .as_deref()
            .or(self.issuer.as_deref())
    }
}

fn check_url(url: &Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{:?} is not an http(s) URL", url.as_str()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{:?} has no host", url.as_str()));
    }
    if carries_credentials(url) {
        return Err("must not carry credentials (use client_id/client_secret)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<IntrospectionConfig, BuildError> {
        IntrospectionConfig::from_value("corp", v)
    }

    fn base() -> serde_json::Value {
        json!({"issuer": "https://idp.example/oidc", "client_id": "warden", "client_secret": "s3cr3t:/+"})
    }

    #[test]
    fn defaults() {
        let c = parse(base()).unwrap();
        assert_eq!(c.auth_method, AuthMethod::Basic);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.cache_ttl, Duration::from_secs(60));
        assert_eq!(c.negative_cache_ttl, Duration::from_secs(10));
        assert_eq!(c.cache_size, 10_000);
        assert!(c.audience.is_empty());
        assert!(!c.allow_missing_audience);
        assert_eq!(
            c.prm_authorization_server(),
            Some("https://idp.example/oidc")
        );
    }

    #[test]
    fn audience_string_or_list_and_durations() {
        let mut v = base();
        v["audience"] = json!("https://mcp.example/mcp");
        v["cache_ttl"] = json!("0s");
        v["timeout"] = json!("250ms");
        let c = parse(v.clone()).unwrap();
        assert_eq!(c.audience, ["https://mcp.example/mcp"]);
        assert!(c.cache_ttl.is_zero());
        assert_eq!(c.timeout, Duration::from_millis(250));
        v["audience"] = json!(["a", "b"]);
        assert_eq!(parse(v.clone()).unwrap().audience, ["a", "b"]);
        v["audience"] = json!(5);
        let err = parse(v).unwrap_err().to_string();
        assert!(err.contains("audience"), "{err}");
        assert!(err.contains("a string or a list of strings"), "{err}");
    }

    #[test]
    fn errors_name_the_key() {
        let mut v = base();
        v["auth_method"] = json!("bogus");
        assert_eq!(
            parse(v).unwrap_err().to_string(),
            "providers.corp: auth_method: unknown variant `bogus`, expected `basic` or `post`"
        );
        let mut v = base();
        v["colour"] = json!("red");
        let err = parse(v).unwrap_err().to_string();
        assert!(err.contains("unknown field `colour`"), "{err}");
        let err = parse(json!({"issuer": "https://idp.example", "client_secret": "x"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `client_id`"), "{err}");
        let mut v = base();
        v["timeout"] = json!("soon");
        assert!(parse(v).unwrap_err().to_string().contains("timeout: "));
        let mut v = base();
        v["introspection_url"] = json!("not a url");
        assert!(parse(v)
            .unwrap_err()
            .to_string()
            .contains("introspection_url: "));
    }

    #[test]
    fn validation() {
        let err = |v: serde_json::Value| parse(v).unwrap_err().to_string();
        assert!(err(json!({"client_id": "w", "client_secret": "s"})).contains("introspection_url"));
        let mut v = base();
        v["introspection_url"] = json!("ftp://idp.example/introspect");
        assert!(err(v).contains("not an http(s) URL"));
        let mut v = base();
        v["introspection_url"] = json!("https://user:pw@idp.example/introspect");
        let e = err(v);
        assert!(
            e.contains("must not carry credentials") && !e.contains("pw"),
            "{e}"
        );
        let mut v = base();
        v["issuer"] = json!("idp.example");
        assert!(err(v).contains("issuer: "));
        let mut v = base();
        v["client_secret"] = json!("");
        assert!(err(v).contains("client_secret: must not be empty"));
        let mut v = base();
        v["cache_size"] = json!(0);
        assert!(err(v).contains("cache_size"));
        let mut v = base();
        v["timeout"] = json!("0s");
        assert!(err(v).contains("timeout"));
        let mut v = base();
        v["audience"] = json!([""]);
        assert!(err(v).contains("audience"));
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = parse(base()).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("***"));
        assert!(!format!("{:?}", c.client_secret).contains("s3cr3t"));
    }
}
