//! The `news_sentiment` tool: Alpha Vantage news sentiment for one ticker.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use moka::future::Cache;
use serde_json::{json, Map, Value};
use warden_core::{AuthInfo, SharedObserver, Tool, ToolError, ToolOutput, ToolSpec};

use crate::alphavantage::{AlphaVantage, ClientSettings, UpstreamError};
use crate::args::{int_in_range, reject_unknown};
use crate::sentiment::{analyze, Analysis};
use crate::ticker::Ticker;
use crate::whoami::object;
use crate::{ApiKeySource, NewsSentimentConfig, ToolsError};

/// Tool name.
pub const NEWS_SENTIMENT: &str = "news_sentiment";
/// Default number of top articles.
const DEFAULT_LIMIT: i64 = 3;
/// Maximum number of top articles.
const MAX_LIMIT: i64 = 10;
/// Largest accepted `max_retries`.
const MAX_RETRIES: u32 = 10;

/// News sentiment for a ticker, from Alpha Vantage `NEWS_SENTIMENT`.
///
/// Arguments: `ticker` (required; `AAPL`, `BRK.B`, `CRYPTO:BTC`, `FOREX:EUR`;
/// trimmed and upper-cased) and `limit` (1–10, default 3). The structured
/// result is `{ticker, sentiment_score, sentiment_label, articles_analyzed,
/// top_articles: [{title, summary, source, url, published_at,
/// ticker_sentiment_score, relevance_score}]}`.
///
/// One analysis per ticker is cached for `cache_ttl`; concurrent calls for an
/// uncached ticker share one upstream request. Failures are never cached. The
/// caller's identity and token are never sent upstream.
pub struct NewsSentimentTool {
    spec: ToolSpec,
    upstream: AlphaVantage,
    cache: Option<Cache<String, Arc<Analysis>>>,
    key_source: ApiKeySource,
}

impl NewsSentimentTool {
    /// Builds the tool: resolves the API key (config, then
    /// `$ALPHA_VANTAGE_API_KEY`, then `demo`), validates the settings and
    /// creates the one HTTP client and the cache.
    pub fn new(cfg: &NewsSentimentConfig, observer: SharedObserver) -> Result<Self, ToolsError> {
        if cfg.timeout.is_zero() {
            return Err(ToolsError::InvalidSetting {
                tool: NEWS_SENTIMENT,
                field: "timeout",
                value: "0s".into(),
                reason: "must be greater than zero",
            });
        }
        if cfg.total_timeout.is_zero() {
            return Err(ToolsError::InvalidSetting {
                tool: NEWS_SENTIMENT,
                field: "total_timeout",
                value: "0s".into(),
                reason: "must be greater than zero",
            });
        }
        if cfg.max_retries > MAX_RETRIES {
            return Err(ToolsError::InvalidSetting {
                tool: NEWS_SENTIMENT,
                field: "max_retries",
                value: cfg.max_retries.to_string(),
                reason: "must be at most 10",
            });
        }
        let (api_key, key_source) = cfg.resolve_api_key();
        if key_source == ApiKeySource::Demo {
            tracing::warn!(
                "news_sentiment uses Alpha Vantage's demo key, which only answers for AAPL; \
                 set ALPHA_VANTAGE_API_KEY or [tools.news_sentiment] api_key"
            );
        }
        let upstream = AlphaVantage::new(
            ClientSettings {
                base_url: cfg.base_url.clone(),
                api_key,
                timeout: cfg.timeout,
                max_retries: cfg.max_retries,
                backoff: cfg.retry_backoff,
                total_timeout: cfg.total_timeout,
            },
            observer,
        )?;
        let cache = (!cfg.cache_ttl.is_zero() && cfg.cache_size > 0).then(|| {
            Cache::builder()
                .name("news_sentiment")
                .max_capacity(cfg.cache_size)
                .time_to_live(cfg.cache_ttl)
                .build()
        });
        Ok(Self {
            spec: spec(cfg.required_scopes.clone()),
            upstream,
            cache,
            key_source,
        })
    }

    /// Where the effective API key came from (safe to log).
    pub fn api_key_source(&self) -> ApiKeySource {
        self.key_source
    }

    async fn analysis(&self, ticker: &Ticker) -> Result<Arc<Analysis>, UpstreamError> {
        let load = async {
            let articles = self.upstream.fetch(ticker).await?;
            Ok::<_, UpstreamError>(Arc::new(analyze(ticker, articles)))
        };
        match &self.cache {
            Some(cache) => cache
                .try_get_with(ticker.as_str().to_owned(), load)
                .await
                .map_err(|e| (*e).clone()),
            None => load.await,
        }
    }
}

impl fmt::Debug for NewsSentimentTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewsSentimentTool")
            .field("spec", &self.spec.name)
            .field("api_key", &"<redacted>")
            .field("api_key_source", &self.key_source)
            .field("cache", &self.cache.as_ref().map(Cache::entry_count))
            .finish()
    }
}

#[async_trait]
impl Tool for NewsSentimentTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(
        &self,
        arguments: Map<String, Value>,
        _caller: &AuthInfo,
    ) -> Result<ToolOutput, ToolError> {
        reject_unknown(&arguments, &["ticker", "limit"])?;
        let ticker = match arguments.get("ticker") {
            Some(Value::String(s)) => Ticker::parse(s)?,
            Some(_) => return Err(ToolError::InvalidParams("`ticker` must be a string".into())),
            None => return Err(ToolError::InvalidParams("`ticker` is required".into())),
        };
        let limit = int_in_range(&arguments, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)? as usize;
        match self.analysis(&ticker).await {
            Ok(analysis) => Ok(analysis.output(limit)),
            Err(err) => {
                tracing::warn!(tool = NEWS_SENTIMENT, %ticker, kind = err.kind(), "Alpha Vantage call failed");
                Err(err.to_tool_error(&ticker, self.upstream.timeout()))
            }
        }
    }
}

fn spec(required_scopes: Vec<String>) -> ToolSpec {
    let opt_string = json!({ "type": ["string", "null"] });
    ToolSpec {
        name: NEWS_SENTIMENT.to_owned(),
        title: Some("News sentiment".to_owned()),
        description: "Market news sentiment for a stock, crypto or forex ticker from Alpha \
            Vantage: a relevance-weighted sentiment score and label (Bearish … Bullish) over \
            recent articles mentioning the ticker, plus the most relevant articles."
            .to_owned(),
        input_schema: object(json!({
            "type": "object",
            "properties": {
                "ticker": {
                    "type": "string",
                    "description": "Ticker symbol: AAPL, BRK.B, CRYPTO:BTC or FOREX:EUR (case-insensitive).",
                    "pattern": "^\\s*([A-Za-z0-9.\\-]{1,10}|([Cc][Rr][Yy][Pp][Tt][Oo]|[Ff][Oo][Rr][Ee][Xx]):[A-Za-z0-9]{1,10})\\s*$"
                },
                "limit": {
                    "type": "integer",
                    "description": "How many top articles to return.",
                    "minimum": 1,
                    "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT
                }
            },
            "required": ["ticker"],
            "additionalProperties": false
        })),
        output_schema: Some(object(json!({
            "type": "object",
            "properties": {
                "ticker": { "type": "string" },
                "sentiment_score": { "type": ["number", "null"] },
                "sentiment_label": {
                    "type": "string",
                    "enum": ["Bearish", "Somewhat-Bearish", "Neutral", "Somewhat-Bullish", "Bullish", "No data"]
                },
                "articles_analyzed": { "type": "integer", "minimum": 0 },
                "top_articles": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "title": { "type": "string" },
                            "summary": { "type": "string" },
                            "source": { "type": "string" },
                            "url": { "type": "string" },
                            "published_at": opt_string,
                            "ticker_sentiment_score": { "type": "number" },
                            "relevance_score": { "type": "number" }
                        },
                        "required": ["title", "summary", "source", "url", "published_at",
                                     "ticker_sentiment_score", "relevance_score"]
                    }
                }
            },
            "required": ["ticker", "sentiment_score", "sentiment_label", "articles_analyzed", "top_articles"]
        }))),
        required_scopes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use warden_core::noop_observer;

    fn cfg() -> NewsSentimentConfig {
        NewsSentimentConfig {
            api_key: Some("SECRET-AV-KEY-123".into()),
            base_url: "http://127.0.0.1:9".into(),
            ..Default::default()
        }
    }

    #[test]
    fn spec_and_debug() {
        let tool = NewsSentimentTool::new(&cfg(), noop_observer()).unwrap();
        let spec = tool.spec();
        assert_eq!(spec.name, "news_sentiment");
        assert_eq!(spec.required_scopes, vec!["news:read".to_owned()]);
        assert_eq!(spec.input_schema["required"], json!(["ticker"]));
        assert_eq!(spec.input_schema["properties"]["limit"]["minimum"], 1);
        assert_eq!(spec.input_schema["properties"]["limit"]["maximum"], 10);
        assert_eq!(tool.api_key_source(), ApiKeySource::Config);
        assert!(!format!("{tool:?}").contains("SECRET-AV-KEY-123"));
    }

    #[test]
    fn rejects_bad_settings() {
        let bad = [
            NewsSentimentConfig {
                timeout: Duration::ZERO,
                ..cfg()
            },
            NewsSentimentConfig {
                max_retries: 11,
                ..cfg()
            },
            NewsSentimentConfig {
                base_url: "not a url".into(),
                ..cfg()
            },
        ];
        for c in bad {
            assert!(
                NewsSentimentTool::new(&c, noop_observer()).is_err(),
                "{c:?}"
            );
        }
        let custom = NewsSentimentConfig {
            required_scopes: vec!["market:read".into()],
            ..cfg()
        };
        let tool = NewsSentimentTool::new(&custom, noop_observer()).unwrap();
        assert_eq!(tool.spec().required_scopes, vec!["market:read".to_owned()]);
    }

    #[tokio::test]
    async fn argument_errors_are_invalid_params() {
        let tool = NewsSentimentTool::new(&cfg(), noop_observer()).unwrap();
        let caller = AuthInfo::default();
        for args in [
            json!({}),
            json!({"ticker": 5}),
            json!({"ticker": null}),
            json!({"ticker": "AAPL", "extra": 1}),
            json!({"ticker": "AAPL", "limit": 0}),
        ] {
            let err = tool.call(object(args.clone()), &caller).await.unwrap_err();
            assert!(matches!(err, ToolError::InvalidParams(_)), "{args}");
        }
    }
}
