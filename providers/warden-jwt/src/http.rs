//! The one place this crate talks HTTP: GET a JSON document with a timeout,
//! a size cap and an [`Event::Upstream`] for every call.

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CACHE_CONTROL};
use serde_json::Value;
use warden_core::{Event, SharedObserver};

use crate::JwtError;

/// Largest JWKS or discovery document accepted (bytes).
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// A JSON document and how long its server says it may be cached.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// The parsed document.
    pub body: Value,
    /// `Cache-Control: max-age` (0 for `no-cache`/`no-store`), when present.
    pub max_age: Option<Duration>,
}

/// An HTTP client with the provider's timeout and upstream label.
#[derive(Clone)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    timeout: Duration,
    upstream: String,
    observer: SharedObserver,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client whose calls are reported as `idp:<provider>` and never take longer than `timeout`.
    pub fn new(
        provider: &str,
        timeout: Duration,
        observer: SharedObserver,
    ) -> Result<Self, JwtError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("warden-jwt/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| JwtError::Fetch {
                url: String::new(),
                reason: format!("cannot build HTTP client: {e}"),
            })?;
        Ok(Self {
            client,
            timeout,
            upstream: format!("idp:{provider}"),
            observer,
        })
    }

    /// GETs `url` and parses it as a JSON object.
    pub async fn get_json(&self, url: &str) -> Result<Fetched, JwtError> {
        let started = Instant::now();
        let result = self.get_json_inner(url).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.outcome(),
        };
        self.observer.observe(&Event::Upstream {
            upstream: &self.upstream,
            outcome,
            elapsed: started.elapsed(),
        });
        result
    }

    async fn get_json_inner(&self, url: &str) -> Result<Fetched, JwtError> {
        let mut response = self
            .client
            .get(url)
            .header(ACCEPT, "application/json, application/jwk-set+json")
            .send()
            .await
            .map_err(|e| self.transport_error(url, &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(JwtError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let max_age = response
            .headers()
            .get_all(CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(url, &e))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(JwtError::InvalidDocument {
                    url: url.to_string(),
                    reason: format!("document is larger than {MAX_DOCUMENT_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        match serde_json::from_slice::<Value>(&body) {
            Ok(body @ Value::Object(_)) => Ok(Fetched { body, max_age }),
            _ => Err(JwtError::InvalidDocument {
                url: url.to_string(),
                reason: "not a JSON object".into(),
            }),
        }
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> JwtError {
        if e.is_timeout() {
            return JwtError::Timeout {
                url: url.to_string(),
                timeout: self.timeout,
            };
        }
        let mut reason = category(e).to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason.push_str(": ");
            reason.push_str(&s.to_string());
            source = s.source();
        }
        JwtError::Fetch {
            url: url.to_string(),
            reason,
        }
    }
}

/// Reads `max-age` from one `Cache-Control` value; `no-cache`/`no-store` count as 0.
pub(crate) fn parse_max_age(header: &str) -> Option<Duration> {
    let mut found = None;
    for directive in header.split(',') {
        let directive = directive.trim();
        let (name, value) = directive
            .split_once('=')
            .map_or((directive, None), |(n, v)| (n.trim(), Some(v.trim())));
        if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            found = value
                .map(|v| v.trim_matches('"'))
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs);
        }
    }
    found
}

/// A short category for a transport error (its URL is reported separately).
fn category(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "reading the response failed"
    } else if e.is_redirect() {
        "too many redirects"
    } else {
        "request failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_parsing() {
        assert_eq!(
            parse_max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            parse_max_age("Max-Age=\"60\""),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }
}
