//! [`Upstream`]: the only `reqwest` client builder of warden, and the calls.

use std::error::Error as _;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderMap;
use serde_json::Value;
use warden_core::{Event, SharedObserver};

use crate::headers::{max_age, retry_after};
use crate::{display_url, status_outcome, Redirects, Request, UpstreamError, UpstreamPolicy};

/// The bounded outcome label of a failed call, for [`Upstream::call`].
///
/// Implemented by [`UpstreamError`] and by the error types of the crates that
/// interpret answers (so a 200 whose body they reject is reported as such).
pub trait Outcome {
    /// `timeout`, `error`, `http_5xx`, `http_4xx`, `rate_limited`,
    /// `invalid_response`, … (a fixed set per implementation).
    fn outcome(&self) -> &'static str;
}

impl Outcome for UpstreamError {
    fn outcome(&self) -> &'static str {
        UpstreamError::outcome(self)
    }
}

/// An answer: status, headers, the hints warden reads from them, and the body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Reply {
    /// The URL requested, as [`display_url`] shows it.
    pub url: String,
    /// The HTTP status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// `Retry-After` (seconds or HTTP-date), clamped to 1 s … 1 h.
    pub retry_after: Option<Duration>,
    /// `Cache-Control: max-age` (0 for `no-cache`/`no-store`).
    pub max_age: Option<Duration>,
    /// The body, read up to the cap — for 2xx answers only, unless the request
    /// asked for [`Request::read_body_of_any_status`] (otherwise empty).
    pub body: Vec<u8>,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `self` for a 2xx answer, [`UpstreamError::Status`] otherwise.
    pub fn error_for_status(self) -> Result<Self, UpstreamError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(UpstreamError::Status {
                url: self.url,
                status: self.status,
                retry_after: self.retry_after,
            })
        }
    }
}

/// A JSON object fetched by [`Upstream::json`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JsonDocument {
    /// The document (always a JSON object).
    pub value: Value,
    /// `Cache-Control: max-age` (0 for `no-cache`/`no-store`), when present.
    pub max_age: Option<Duration>,
}

/// The HTTP client of one upstream: its [`UpstreamPolicy`], its name in
/// [`Event::Upstream`] and where events go. Cheap to clone (clones share the
/// connection pool).
#[derive(Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    policy: UpstreamPolicy,
    name: String,
    observer: SharedObserver,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("name", &self.inner.name)
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// Builds the client of upstream `name` (`idp:<provider>`, `alphavantage`).
    ///
    /// Fails — never falls back to a client without limits — when a limit is
    /// zero ([`UpstreamError::InvalidPolicy`]) or reqwest cannot build a client
    /// ([`UpstreamError::Client`]).
    pub fn new(
        name: impl Into<String>,
        policy: UpstreamPolicy,
        observer: SharedObserver,
    ) -> Result<Self, UpstreamError> {
        if let Err((setting, value)) = policy.check() {
            return Err(UpstreamError::InvalidPolicy { setting, value });
        }
        let redirect = match policy.redirects() {
            Redirects::None => reqwest::redirect::Policy::none(),
            Redirects::Limited(hops) => reqwest::redirect::Policy::limited(hops),
        };
        let client = reqwest::Client::builder()
            .timeout(policy.timeout())
            .connect_timeout(policy.connect_timeout())
            .redirect(redirect)
            .user_agent(crate::USER_AGENT)
            .build()
            .map_err(|e| UpstreamError::Client {
                reason: error_chain(&e.without_url()),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                policy,
                name: name.into(),
                observer,
            }),
        })
    }

    /// The client of provider `provider`'s authorization server: [`new`](Self::new)
    /// with the name `idp:<provider>`.
    pub fn idp(
        provider: &str,
        policy: UpstreamPolicy,
        observer: SharedObserver,
    ) -> Result<Self, UpstreamError> {
        Self::new(format!("idp:{provider}"), policy, observer)
    }

    /// The name reported in [`Event::Upstream`].
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The limits of this upstream.
    pub fn policy(&self) -> &UpstreamPolicy {
        &self.inner.policy
    }

    /// Sends `request` and returns the answer, whatever its status. The event's
    /// outcome is the status's ([`status_outcome`]) or the error's.
    pub async fn send(&self, request: Request) -> Result<Reply, UpstreamError> {
        let started = Instant::now();
        let result = self.exchange(request).await;
        let outcome = match &result {
            Ok(reply) => status_outcome(reply.status),
            Err(e) => e.outcome(),
        };
        self.emit(outcome, started);
        result
    }

    /// Sends `request` and hands the answer (or the transport error) to
    /// `interpret`; the event's outcome is `ok` or the outcome of its error.
    pub async fn call<T, E: Outcome>(
        &self,
        request: Request,
        interpret: impl FnOnce(Result<Reply, UpstreamError>) -> Result<T, E>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let result = interpret(self.exchange(request).await);
        self.emit(result.as_ref().map_or_else(E::outcome, |_| "ok"), started);
        result
    }

    /// Fetches a JSON object: a 2xx answer whose body parses as one.
    pub async fn json(&self, request: Request) -> Result<JsonDocument, UpstreamError> {
        self.call(request, |reply| json_object(reply?)).await
    }

    fn emit(&self, outcome: &'static str, started: Instant) {
        let elapsed = started.elapsed();
        tracing::debug!(upstream = %self.inner.name, outcome, elapsed_ms = elapsed.as_millis() as u64, "upstream call");
        self.inner.observer.observe(&Event::Upstream {
            upstream: &self.inner.name,
            outcome,
            elapsed,
        });
    }

    /// One bounded exchange: send, then read the body under the cap, all
    /// within the request's (or the policy's) total timeout.
    pub(crate) async fn exchange(&self, request: Request) -> Result<Reply, UpstreamError> {
        let target = request.target()?;
        let url = display_url(&target);
        if let Some(name) = request.invalid_header {
            return Err(UpstreamError::InvalidHeader { name });
        }
        let timeout = request.timeout.unwrap_or(self.inner.policy.timeout());
        let mut builder = self
            .inner
            .client
            .request(request.method, target)
            .headers(request.headers)
            .timeout(timeout);
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let read_body = request.any_status_body;
        let exchange = async {
            let mut response = builder
                .send()
                .await
                .map_err(|e| classify(e, &url, timeout))?;
            let status = response.status().as_u16();
            let headers = std::mem::take(response.headers_mut());
            let body = if read_body || (200..300).contains(&status) {
                self.read_capped(&mut response, &url, timeout).await?
            } else {
                Vec::new()
            };
            Ok(Reply {
                url: url.clone(),
                status,
                retry_after: retry_after(&headers),
                max_age: max_age(&headers),
                headers,
                body,
            })
        };
        // reqwest enforces `timeout` too; this deadline also covers the body
        // loop below and any future change of reqwest's semantics.
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(UpstreamError::Timeout {
                url: url.clone(),
                timeout,
            }),
        }
    }

    async fn read_capped(
        &self,
        response: &mut reqwest::Response,
        url: &str,
        timeout: Duration,
    ) -> Result<Vec<u8>, UpstreamError> {
        let limit = self.inner.policy.max_body_bytes();
        let too_large = || UpstreamError::TooLarge {
            url: url.to_owned(),
            limit,
        };
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| classify(e, url, timeout))?
        {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The JSON object of a 2xx answer; [`UpstreamError::Status`] or
/// [`UpstreamError::NotJson`] otherwise.
pub(crate) fn json_object(reply: Reply) -> Result<JsonDocument, UpstreamError> {
    let reply = reply.error_for_status()?;
    match serde_json::from_slice::<Value>(&reply.body) {
        Ok(value @ Value::Object(_)) => Ok(JsonDocument {
            value,
            max_age: reply.max_age,
        }),
        Ok(_) => Err(UpstreamError::NotJson {
            url: reply.url,
            reason: "the document is not an object".into(),
        }),
        Err(e) => Err(UpstreamError::NotJson {
            url: reply.url,
            reason: e.to_string(),
        }),
    }
}

/// Classifies a reqwest error (stripped of its URL, which may hold a key).
fn classify(error: reqwest::Error, url: &str, timeout: Duration) -> UpstreamError {
    let error = error.without_url();
    if error.is_timeout() {
        return UpstreamError::Timeout {
            url: url.to_owned(),
            timeout,
        };
    }
    let chain = error_chain(&error);
    if error.is_connect() {
        return UpstreamError::Connect {
            url: url.to_owned(),
            reason: chain,
        };
    }
    let category = if error.is_body() || error.is_decode() {
        "reading the answer failed"
    } else if error.is_redirect() {
        "too many redirects"
    } else {
        "request failed"
    };
    UpstreamError::Transport {
        url: url.to_owned(),
        reason: format!("{category}: {chain}"),
    }
}

/// An error and its sources, joined by `": "`.
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
