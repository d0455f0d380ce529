//! The Alpha Vantage `NEWS_SENTIMENT` client: one request per attempt,
//! retries with jittered exponential backoff, classification of failures.
//!
//! The API key travels only as the `apikey` query parameter. Requests go
//! through the shared outbound policy ([`warden_upstream`]), whose errors
//! never show a query string; every error is also scrubbed before it is
//! shown anywhere.

use std::time::{Duration, Instant};

use rand::Rng;
use url::Url;
use warden_core::{SharedObserver, ToolError};
use warden_upstream::{Outcome, Reply, Request, Upstream, UpstreamError as HttpError};

use crate::feed::{parse_body, Article, BodyError, Notice};
use crate::ticker::Ticker;
use crate::ToolsError;

/// Name of this upstream in [`Event::Upstream`](warden_core::Event::Upstream).
pub(crate) const UPSTREAM: &str = "alphavantage";
/// Articles requested per call (ranked by relevance upstream).
const FEED_LIMIT: &str = "50";
/// Bodies larger than this are refused.
const MAX_BODY: usize = 8 * 1024 * 1024;
/// Upper bound of one backoff delay.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Longest Alpha Vantage message quoted back to the user.
const MAX_QUOTE: usize = 300;

/// Why fetching a feed failed, after retries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum UpstreamError {
    /// Daily/minute quota reached, or a premium-only feature.
    RateLimited,
    /// The API key is missing, invalid or the limited `demo` key.
    InvalidKey,
    /// Alpha Vantage refused the call (e.g. `Invalid inputs`); its text.
    BadRequest(String),
    /// Every attempt timed out.
    Timeout { attempts: u32 },
    /// The last attempt failed to connect or lost the connection.
    Unreachable { attempts: u32, detail: String },
    /// The last attempt got an HTTP 5xx.
    ServerError { attempts: u32, status: u16 },
    /// A non-retryable, non-200 status (3xx, 4xx).
    HttpStatus(u16),
    /// The body was not a feed.
    Malformed(String),
}

impl UpstreamError {
    /// The bounded `kind` label of the resulting [`ToolError::Failed`].
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            UpstreamError::RateLimited => "rate_limited",
            UpstreamError::InvalidKey => "invalid_key",
            UpstreamError::BadRequest(_) => "bad_request",
            UpstreamError::Timeout { .. } => "timeout",
            UpstreamError::Unreachable { .. } | UpstreamError::ServerError { .. } => {
                "upstream_unavailable"
            }
            UpstreamError::HttpStatus(_) => "upstream_error",
            UpstreamError::Malformed(_) => "malformed_response",
        }
    }

    /// The user-facing tool error (never contains the key).
    pub(crate) fn to_tool_error(&self, ticker: &Ticker, timeout: Duration) -> ToolError {
        let message = match self {
            UpstreamError::RateLimited => "Alpha Vantage rate limit reached (the free key allows \
                25 requests per day); try again later, or have the operator configure a premium \
                key (ALPHA_VANTAGE_API_KEY or [tools.news_sentiment] api_key)."
                .to_owned(),
            UpstreamError::InvalidKey => "Alpha Vantage rejected the API key (missing, invalid, \
                or the `demo` key used for anything but its AAPL example). The operator should \
                set ALPHA_VANTAGE_API_KEY or [tools.news_sentiment] api_key to a valid key \
                (free at https://www.alphavantage.co/support/#api-key)."
                .to_owned(),
            UpstreamError::BadRequest(text) => {
                format!("Alpha Vantage could not answer for ticker {ticker}: {text}")
            }
            UpstreamError::Timeout { attempts } => format!(
                "Alpha Vantage did not answer within {timeout:?} ({attempts} attempt(s)); \
                 try again later."
            ),
            UpstreamError::Unreachable { attempts, detail } => format!(
                "Could not reach Alpha Vantage ({detail}) after {attempts} attempt(s); \
                 try again later."
            ),
            UpstreamError::ServerError { attempts, status } => format!(
                "Alpha Vantage answered HTTP {status} after {attempts} attempt(s); \
                 try again later."
            ),
            UpstreamError::HttpStatus(status) => {
                format!("Alpha Vantage answered HTTP {status} unexpectedly.")
            }
            UpstreamError::Malformed(detail) => {
                format!("Alpha Vantage sent an unexpected response ({detail}); try again later.")
            }
        };
        ToolError::failed(self.kind(), message)
    }
}

/// How one attempt went.
enum AttemptError {
    /// Worth retrying: timeout, connection trouble, HTTP 5xx.
    Retryable(UpstreamError),
    /// Final: the answer will not change by asking again now.
    Final(UpstreamError),
}

impl Outcome for AttemptError {
    fn outcome(&self) -> &'static str {
        let (AttemptError::Retryable(err) | AttemptError::Final(err)) = self;
        match err {
            UpstreamError::RateLimited => "rate_limited",
            UpstreamError::InvalidKey => "invalid_key",
            UpstreamError::BadRequest(_) => "bad_request",
            UpstreamError::Timeout { .. } => "timeout",
            UpstreamError::Unreachable { .. } => "error",
            UpstreamError::ServerError { .. } => "http_5xx",
            UpstreamError::HttpStatus(_) => "http_4xx",
            UpstreamError::Malformed(_) => "malformed",
        }
    }
}

/// Settings of the client (from [`NewsSentimentConfig`](crate::NewsSentimentConfig)).
pub(crate) struct ClientSettings {
    pub base_url: String,
    pub api_key: String,
    pub timeout: Duration,
    pub max_retries: u32,
    pub backoff: Duration,
    pub total_timeout: Duration,
}

/// Talks to Alpha Vantage through one shared [`Upstream`] (one
/// [`Event::Upstream`](warden_core::Event::Upstream) per attempt).
pub(crate) struct AlphaVantage {
    http: Upstream,
    endpoint: Url,
    api_key: String,
    timeout: Duration,
    max_retries: u32,
    backoff: Duration,
    total_timeout: Duration,
}

impl AlphaVantage {
    /// Builds the client; `base_url` must be an absolute http(s) URL.
    pub(crate) fn new(
        settings: ClientSettings,
        observer: SharedObserver,
    ) -> Result<Self, ToolsError> {
        let endpoint = query_endpoint(&settings.base_url)?;
        Ok(Self {
            http: crate::http::build_upstream(UPSTREAM, settings.timeout, MAX_BODY, observer)?,
            endpoint,
            api_key: settings.api_key,
            timeout: settings.timeout,
            max_retries: settings.max_retries,
            backoff: settings.backoff,
            total_timeout: settings.total_timeout,
        })
    }

    /// The per-attempt timeout.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Fetches the feed for `ticker`, retrying timeouts, connection errors and 5xx,
    /// all within `total_timeout`.
    pub(crate) async fn fetch(&self, ticker: &Ticker) -> Result<Vec<Article>, UpstreamError> {
        let deadline = Instant::now() + self.total_timeout;
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Each attempt gets its timeout, or what is left of the total one.
            let left = deadline.saturating_duration_since(Instant::now());
            let result = self.attempt(ticker, self.timeout.min(left)).await;
            match result {
                Ok(articles) => return Ok(articles),
                Err(AttemptError::Final(err)) => return Err(err),
                Err(AttemptError::Retryable(err)) if attempt > self.max_retries => {
                    return Err(with_attempts(err, attempt));
                }
                Err(AttemptError::Retryable(err)) => {
                    let delay = self.backoff_delay(attempt - 1);
                    // A retry that could not get a full attempt in before the deadline
                    // would only delay the answer.
                    if Instant::now() + delay + self.timeout.min(Duration::from_secs(1)) >= deadline
                    {
                        return Err(with_attempts(err, attempt));
                    }
                    tracing::debug!(
                        upstream = UPSTREAM,
                        %ticker,
                        attempt,
                        kind = err.kind(),
                        delay_ms = delay.as_millis() as u64,
                        "retrying Alpha Vantage"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        ticker: &Ticker,
        timeout: Duration,
    ) -> Result<Vec<Article>, AttemptError> {
        let request = Request::get(self.endpoint.as_str())
            .query(&[
                ("function", "NEWS_SENTIMENT"),
                ("tickers", ticker.as_str()),
                ("apikey", self.api_key.as_str()),
                ("limit", FEED_LIMIT),
                ("sort", "RELEVANCE"),
            ])
            .timeout(timeout);
        self.http.call(request, |reply| self.interpret(reply)).await
    }

    /// Judges one answer (or why there was none).
    fn interpret(&self, reply: Result<Reply, HttpError>) -> Result<Vec<Article>, AttemptError> {
        let reply = reply.map_err(|e| self.transport_error(e))?;
        let status = reply.status;
        if status >= 500 {
            return Err(AttemptError::Retryable(UpstreamError::ServerError {
                attempts: 1,
                status,
            }));
        }
        if status == 429 {
            return Err(AttemptError::Final(UpstreamError::RateLimited));
        }
        if !reply.is_success() {
            return Err(AttemptError::Final(UpstreamError::HttpStatus(status)));
        }
        parse_body(&reply.body).map_err(|e| {
            AttemptError::Final(match e {
                BodyError::Malformed(detail) => UpstreamError::Malformed(detail),
                BodyError::Notice(Notice::RateLimited) => UpstreamError::RateLimited,
                BodyError::Notice(Notice::InvalidKey) => UpstreamError::InvalidKey,
                BodyError::Notice(Notice::BadRequest(text)) => {
                    UpstreamError::BadRequest(self.scrub(&quote(&text)))
                }
            })
        })
    }

    /// Classifies a transport failure (its text never holds the query string).
    fn transport_error(&self, err: HttpError) -> AttemptError {
        let unreachable = |detail: String| UpstreamError::Unreachable {
            attempts: 1,
            detail: self.scrub(&quote(&detail)),
        };
        match err {
            HttpError::Timeout { .. } => {
                AttemptError::Retryable(UpstreamError::Timeout { attempts: 1 })
            }
            HttpError::TooLarge { limit, .. } => AttemptError::Final(UpstreamError::Malformed(
                format!("response larger than {} MiB", limit / (1024 * 1024)),
            )),
            HttpError::Connect { reason, .. } => {
                AttemptError::Retryable(unreachable(format!("connection failed: {reason}")))
            }
            HttpError::Transport { reason, .. } => AttemptError::Retryable(unreachable(reason)),
            other => AttemptError::Final(unreachable(other.to_string())),
        }
    }

    /// Delay before retry number `retry + 1`: `backoff * 2^retry`, capped,
    /// with jitter in `[d/2, d]`.
    fn backoff_delay(&self, retry: u32) -> Duration {
        let full = self
            .backoff
            .saturating_mul(1u32 << retry.min(16))
            .min(MAX_BACKOFF);
        let micros = full.as_micros() as u64;
        if micros == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros(rand::rng().random_range(micros / 2..=micros))
    }

    /// Removes the key from `text` (defence in depth: nothing should contain it).
    fn scrub(&self, text: &str) -> String {
        if self.api_key.len() >= 4 {
            text.replace(&self.api_key, "<redacted>")
        } else {
            text.to_owned()
        }
    }
}

/// `{base_url}/query`, keeping any path prefix of `base_url`.
fn query_endpoint(base_url: &str) -> Result<Url, ToolsError> {
    let invalid = |reason: &str| ToolsError::InvalidBaseUrl {
        base_url: base_url.to_owned(),
        reason: reason.to_owned(),
    };
    let base = Url::parse(base_url.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
        return Err(invalid("must be an absolute http(s) URL"));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    let mut endpoint = base;
    let path = format!("{}/query", endpoint.path().trim_end_matches('/'));
    endpoint.set_path(&path);
    Ok(endpoint)
}

fn with_attempts(err: UpstreamError, attempts: u32) -> UpstreamError {
    match err {
        UpstreamError::Timeout { .. } => UpstreamError::Timeout { attempts },
        UpstreamError::Unreachable { detail, .. } => {
            UpstreamError::Unreachable { attempts, detail }
        }
        UpstreamError::ServerError { status, .. } => {
            UpstreamError::ServerError { attempts, status }
        }
        other => other,
    }
}

/// Caps an upstream text for quoting.
fn quote(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_QUOTE {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(MAX_QUOTE).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_core::noop_observer;

    fn client(backoff: Duration) -> AlphaVantage {
        AlphaVantage::new(
            ClientSettings {
                base_url: "http://127.0.0.1:9".into(),
                api_key: "SECRET-AV-KEY-123".into(),
                timeout: Duration::from_secs(1),
                max_retries: 2,
                backoff,
                total_timeout: Duration::from_secs(25),
            },
            noop_observer(),
        )
        .unwrap()
    }

    #[test]
    fn endpoint_keeps_path_prefix() {
        assert_eq!(
            query_endpoint("https://www.alphavantage.co")
                .unwrap()
                .as_str(),
            "https://www.alphavantage.co/query"
        );
        assert_eq!(
            query_endpoint("http://127.0.0.1:8080/av/")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/av/query"
        );
        for bad in [
            "",
            "www.alphavantage.co",
            "ftp://x",
            "http://x/?apikey=1",
            "unix:/tmp/s",
        ] {
            assert!(
                matches!(query_endpoint(bad), Err(ToolsError::InvalidBaseUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let c = client(Duration::from_millis(200));
        for _ in 0..50 {
            let d0 = c.backoff_delay(0);
            assert!(d0 >= Duration::from_millis(100) && d0 <= Duration::from_millis(200));
            let d2 = c.backoff_delay(2);
            assert!(d2 >= Duration::from_millis(400) && d2 <= Duration::from_millis(800));
            assert!(c.backoff_delay(30) <= MAX_BACKOFF);
        }
        assert_eq!(client(Duration::ZERO).backoff_delay(3), Duration::ZERO);
    }

    #[test]
    fn scrubs_the_key_and_caps_quotes() {
        let c = client(Duration::ZERO);
        assert_eq!(c.scrub("key=SECRET-AV-KEY-123!"), "key=<redacted>!");
        assert_eq!(quote(&"x".repeat(400)).chars().count(), MAX_QUOTE + 1);
    }

    #[test]
    fn tool_errors_never_contain_the_key_and_have_kinds() {
        let t = Ticker::parse("AAPL").unwrap();
        let cases = [
            (UpstreamError::RateLimited, "rate_limited"),
            (UpstreamError::InvalidKey, "invalid_key"),
            (
                UpstreamError::BadRequest("Invalid inputs.".into()),
                "bad_request",
            ),
            (UpstreamError::Timeout { attempts: 3 }, "timeout"),
            (
                UpstreamError::Unreachable {
                    attempts: 3,
                    detail: "refused".into(),
                },
                "upstream_unavailable",
            ),
            (
                UpstreamError::ServerError {
                    attempts: 3,
                    status: 502,
                },
                "upstream_unavailable",
            ),
            (UpstreamError::HttpStatus(404), "upstream_error"),
            (
                UpstreamError::Malformed("not JSON".into()),
                "malformed_response",
            ),
        ];
        for (err, kind) in cases {
            match err.to_tool_error(&t, Duration::from_secs(10)) {
                ToolError::Failed { kind: k, message } => {
                    assert_eq!(k, kind);
                    assert!(!message.is_empty());
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
