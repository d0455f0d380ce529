//! Configuration of the built-in tools: the `[tools.*]` tables.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use warden_core::Secret;

/// Environment variable consulted when `api_key` is not configured.
pub const API_KEY_ENV: &str = "ALPHA_VANTAGE_API_KEY";

/// Alpha Vantage's public demo key (works for the documentation example, `AAPL`).
pub const DEMO_API_KEY: &str = "demo";

/// Default Alpha Vantage endpoint.
pub const DEFAULT_BASE_URL: &str = "https://www.alphavantage.co";

/// The `[tools]` table: one sub-table per built-in tool.
///
/// ```toml
/// [tools.whoami]
/// enabled = true
///
/// [tools.news_sentiment]
/// api_key = "…"          # default: $ALPHA_VANTAGE_API_KEY, else "demo"
/// cache_ttl = "5m"
/// required_scopes = ["news:read"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolsConfig {
    /// `[tools.whoami]`.
    pub whoami: WhoamiConfig,
    /// `[tools.news_sentiment]`.
    pub news_sentiment: NewsSentimentConfig,
}

/// The `[tools.whoami]` table.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WhoamiConfig {
    /// Whether the tool is offered (default `true`).
    pub enabled: bool,
    /// Scopes a caller needs (default none: any valid token may ask who it is).
    pub required_scopes: Vec<String>,
}

impl Default for WhoamiConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            required_scopes: Vec::new(),
        }
    }
}

/// The `[tools.news_sentiment]` table. Every key is optional.
///
/// `api_key` defaults to *nothing* at deserialisation time; the tool resolves
/// the effective key when it is built (see [`NewsSentimentConfig::resolve_api_key`]):
/// the configured value if non-empty, else `$ALPHA_VANTAGE_API_KEY` if set and
/// non-empty, else Alpha Vantage's `demo` key. `Debug` never shows the key.
#[derive(Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewsSentimentConfig {
    /// Whether the tool is offered (default `true`).
    pub enabled: bool,
    /// The Alpha Vantage API key (default: `$ALPHA_VANTAGE_API_KEY`, else `demo`).
    /// A [`Secret`]: read as a string whatever it looks like, never shown.
    pub api_key: Option<Secret>,
    /// Alpha Vantage base URL (default `https://www.alphavantage.co`); `/query` is appended.
    pub base_url: String,
    /// Timeout of one upstream request, connect to last byte (default `10s`).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// How long a ticker's analysis is cached (default `5m`; `0s` disables caching).
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// At most this many tickers are cached (default 1000; 0 disables caching).
    pub cache_size: u64,
    /// Retries after a timeout, connection error or HTTP 5xx (default 2; at most 10).
    pub max_retries: u32,
    /// Base delay of the jittered exponential backoff between retries (default `200ms`).
    #[serde(with = "humantime_serde")]
    pub retry_backoff: Duration,
    /// Budget of one call including retries (default `25s`): no attempt runs past it, no
    /// retry starts that could not finish in it. Keep it below `[limits] request_timeout`
    /// (default `30s`) so callers get the tool's own error, not the host's timeout.
    #[serde(with = "humantime_serde")]
    pub total_timeout: Duration,
    /// Scopes a caller needs (default `["news:read"]`).
    pub required_scopes: Vec<String>,
}

impl Default for NewsSentimentConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(10),
            cache_ttl: Duration::from_secs(300),
            cache_size: 1000,
            max_retries: 2,
            retry_backoff: Duration::from_millis(200),
            total_timeout: Duration::from_secs(25),
            required_scopes: vec!["news:read".to_owned()],
        }
    }
}

/// Where the effective Alpha Vantage key came from (safe to log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeySource {
    /// `api_key` in the config file.
    Config,
    /// The `ALPHA_VANTAGE_API_KEY` environment variable.
    Environment,
    /// Nothing configured: Alpha Vantage's `demo` key (only works for `AAPL`).
    Demo,
}

impl ApiKeySource {
    /// A short label (`config`, `env`, `demo`).
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeySource::Config => "config",
            ApiKeySource::Environment => "env",
            ApiKeySource::Demo => "demo",
        }
    }
}

impl NewsSentimentConfig {
    /// The effective API key and where it came from: the configured `api_key`
    /// if non-empty, else `$ALPHA_VANTAGE_API_KEY` if set and non-empty, else `demo`.
    pub fn resolve_api_key(&self) -> (String, ApiKeySource) {
        self.resolve_api_key_with(|name| std::env::var(name).ok())
    }

    /// [`resolve_api_key`](Self::resolve_api_key) with an explicit environment lookup.
    pub fn resolve_api_key_with(
        &self,
        env: impl FnOnce(&str) -> Option<String>,
    ) -> (String, ApiKeySource) {
        if let Some(key) = self.api_key.as_ref().map(|k| k.expose().trim()) {
            if !key.is_empty() {
                return (key.to_owned(), ApiKeySource::Config);
            }
        }
        match env(API_KEY_ENV) {
            Some(key) if !key.trim().is_empty() => {
                (key.trim().to_owned(), ApiKeySource::Environment)
            }
            _ => (DEMO_API_KEY.to_owned(), ApiKeySource::Demo),
        }
    }
}

impl fmt::Debug for NewsSentimentConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewsSentimentConfig")
            .field("enabled", &self.enabled)
            .field(
                "api_key",
                &self
                    .api_key
                    .as_ref()
                    .map(|_| "<redacted>")
                    .unwrap_or("<unset>"),
            )
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("cache_ttl", &self.cache_ttl)
            .field("cache_size", &self.cache_size)
            .field("max_retries", &self.max_retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("total_timeout", &self.total_timeout)
            .field("required_scopes", &self.required_scopes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_values() {
        let cfg: NewsSentimentConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(cfg, NewsSentimentConfig::default());
        assert!(cfg.enabled);
        assert_eq!(cfg.api_key, None);
        assert_eq!(cfg.base_url, "https://www.alphavantage.co");
        assert_eq!(cfg.timeout, Duration::from_secs(10));
        assert_eq!(cfg.cache_ttl, Duration::from_secs(300));
        assert_eq!(cfg.cache_size, 1000);
        assert_eq!(cfg.max_retries, 2);
        assert_eq!(cfg.total_timeout, Duration::from_secs(25));
        assert_eq!(cfg.required_scopes, vec!["news:read".to_owned()]);
        let who: WhoamiConfig = serde_json::from_str("{}").unwrap();
        assert!(who.enabled);
        assert!(who.required_scopes.is_empty());
    }

    #[test]
    fn parses_humantime_and_rejects_unknown_keys() {
        let cfg: NewsSentimentConfig = serde_json::from_str(
            r#"{"timeout":"2s","cache_ttl":"0s","retry_backoff":"5ms","api_key":"k"}"#,
        )
        .unwrap();
        assert_eq!(cfg.timeout, Duration::from_secs(2));
        assert_eq!(cfg.cache_ttl, Duration::ZERO);
        assert_eq!(cfg.retry_backoff, Duration::from_millis(5));
        assert!(serde_json::from_str::<NewsSentimentConfig>(r#"{"apikey":"k"}"#).is_err());
        assert!(serde_json::from_str::<WhoamiConfig>(r#"{"scopes":[]}"#).is_err());
        assert!(serde_json::from_str::<ToolsConfig>(r#"{"other":{}}"#).is_err());
        let tools: ToolsConfig = serde_json::from_str(r#"{"whoami":{"enabled":false}}"#).unwrap();
        assert!(!tools.whoami.enabled);
        assert!(tools.news_sentiment.enabled);
    }

    #[test]
    fn api_key_resolution_order() {
        let mut cfg = NewsSentimentConfig::default();
        assert_eq!(
            cfg.resolve_api_key_with(|_| None),
            ("demo".to_owned(), ApiKeySource::Demo)
        );
        assert_eq!(
            cfg.resolve_api_key_with(|_| Some("  ".into())),
            ("demo".to_owned(), ApiKeySource::Demo)
        );
        assert_eq!(
            cfg.resolve_api_key_with(|name| {
                assert_eq!(name, "ALPHA_VANTAGE_API_KEY");
                Some("from-env".into())
            }),
            ("from-env".to_owned(), ApiKeySource::Environment)
        );
        cfg.api_key = Some("".into());
        assert_eq!(
            cfg.resolve_api_key_with(|_| Some("from-env".into())).1,
            ApiKeySource::Environment
        );
        cfg.api_key = Some("from-config".into());
        assert_eq!(
            cfg.resolve_api_key_with(|_| Some("from-env".into())),
            ("from-config".to_owned(), ApiKeySource::Config)
        );
    }

    #[test]
    fn debug_redacts_the_key() {
        let cfg = NewsSentimentConfig {
            api_key: Some("SECRET-AV-KEY-123".into()),
            ..Default::default()
        };
        let shown = format!(
            "{cfg:?} {:?}",
            ToolsConfig {
                news_sentiment: cfg.clone(),
                ..Default::default()
            }
        );
        assert!(!shown.contains("SECRET-AV-KEY-123"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
