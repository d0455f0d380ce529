//! `McpEndpoint`: the MCP service behind the guard.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use poem::endpoint::TowerCompatExt;
use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, EndpointExt, Request, Response, Result};
use warden_core::mcp_peek::{peek_call, McpCall};
use warden_core::{BearerGuard, ToolRegistry};
use warden_mcp::{InFlight, InFlightGuard, McpService};

use crate::response::{challenge_response, json_error};
use crate::RateLimit;

const SESSION_HEADER: &str = "mcp-session-id";

/// Which principal owns which MCP session (rmcp does not bind sessions to users).
///
/// Bounded and idle-expiring; an entry is removed when its session is deleted.
#[derive(Clone)]
pub struct SessionBindings {
    owners: moka::sync::Cache<String, Arc<str>>,
}

impl SessionBindings {
    /// Up to `capacity` sessions, each forgotten after `idle` without requests.
    pub fn new(capacity: u64, idle: Duration) -> Self {
        Self {
            owners: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(idle)
                .build(),
        }
    }

    /// Sessions currently bound.
    pub fn len(&self) -> u64 {
        self.owners.run_pending_tasks();
        self.owners.entry_count()
    }

    /// Whether no session is bound.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for SessionBindings {
    fn default() -> Self {
        Self::new(100_000, Duration::from_secs(24 * 3600))
    }
}

/// Serves MCP Streamable HTTP behind a [`BearerGuard`]:
///
/// 1. authenticates the request (401/403/503 challenges otherwise);
/// 2. refuses a session id owned by another principal (403);
/// 3. for `tools/call`, checks the tool's scopes and answers HTTP 403
///    `insufficient_scope` with the tool's scopes (step-up) before the MCP layer;
/// 4. is lenient with `Accept` (some clients send only one media type);
/// 5. hands the [`warden_core::AuthInfo`] to tools through the request extensions.
pub struct McpEndpoint {
    inner: poem::endpoint::BoxEndpoint<'static, Response>,
    guard: Arc<BearerGuard>,
    tools: Arc<ToolRegistry>,
    sessions: SessionBindings,
    max_body: usize,
    rate_limit: Option<RateLimit>,
    in_flight: Option<Arc<InFlight>>,
    sessions_fail_closed: bool,
}

impl McpEndpoint {
    /// Wraps `service` (from [`warden_mcp::streamable_http_service`]).
    pub fn new(
        service: McpService,
        guard: Arc<BearerGuard>,
        tools: Arc<ToolRegistry>,
        sessions: SessionBindings,
        max_body: usize,
    ) -> Self {
        Self {
            inner: service.compat().map_to_response().boxed(),
            guard,
            tools,
            sessions,
            max_body,
            rate_limit: None,
            in_flight: None,
            sessions_fail_closed: false,
        }
    }

    /// Answers a session id with no recorded owner (never handed out here, or
    /// forgotten by [`SessionBindings`]) with 404, as for an unknown session,
    /// instead of passing it on unchecked. For stateful serving, where every
    /// session id comes from an `initialize` this endpoint answered.
    pub fn with_sessions_fail_closed(mut self) -> Self {
        self.sessions_fail_closed = true;
        self
    }

    /// Counts each POST in `in_flight` until its answer is written (an SSE answer
    /// until its stream ends), so a graceful shutdown can wait for it.
    pub fn with_in_flight(mut self, in_flight: Arc<InFlight>) -> Self {
        self.in_flight = Some(in_flight);
        self
    }

    /// Limits requests per subject or client (429 + `Retry-After` beyond).
    pub fn with_rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = rate_limit;
        self
    }
}

/// Keeps `held` alive until a streamed (SSE) answer has been written; a JSON
/// answer is already complete, so `held` ends here.
fn hold_until_written(resp: Response, held: InFlightGuard) -> Response {
    let streamed = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !streamed {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let stream = body.into_bytes_stream().map(move |chunk| {
        let _ = &held;
        chunk
    });
    Response::from_parts(parts, poem::Body::from_bytes_stream(stream))
}

fn lenient_accept(req: &mut Request) {
    let accept = req
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    let has = |t: &str| accept.contains(t);
    if !(has("application/json") && has("text/event-stream")) {
        req.headers_mut().insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
    }
}

impl Endpoint for McpEndpoint {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let guard = &self.guard;
        // One auth decision per request: recorded when the tool's scopes are
        // known below (or as accepted if the request ends earlier).
        let pending = match guard.verify_request(req.headers(), req.uri().query()).await {
            Ok(pending) => pending,
            Err(e) => return Ok(challenge_response(&guard.challenge(&e))),
        };
        if let Some(rl) = &self.rate_limit {
            if let Some(resp) = rl.reject(pending.info()) {
                return Ok(resp);
            }
        }
        let principal: Arc<str> = Arc::from(pending.info().principal_key());
        let session = req
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(sid) = &session {
            match self.sessions.owners.get(sid) {
                Some(owner) if owner != principal => {
                    tracing::warn!(provider = %pending.info().provider, "session used with another principal's token");
                    return Ok(json_error(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        "this MCP session belongs to another user; initialize a new session",
                    ));
                }
                None if self.sessions_fail_closed => {
                    return Ok(json_error(
                        StatusCode::NOT_FOUND,
                        "session_not_found",
                        "unknown or expired MCP session; initialize a new session",
                    ));
                }
                _ => {}
            }
        }
        let mut tool_scopes: &[String] = &[];
        if req.method() == Method::POST {
            let body = match req.take_body().into_bytes_limit(self.max_body).await {
                Ok(b) => b,
                Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                    return Ok(json_error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        &format!("request body exceeds {} bytes", self.max_body),
                    ))
                }
                Err(_) => {
                    return Ok(json_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "could not read the request body",
                    ))
                }
            };
            if let McpCall::ToolCall(name) = peek_call(&body) {
                if let Some(tool) = self.tools.get(&name) {
                    tool_scopes = &tool.required_scopes;
                }
            }
            req.set_body(body);
            lenient_accept(&mut req);
        }
        let info = match pending.authorize(tool_scopes) {
            Ok(info) => info,
            Err(e) => return Ok(challenge_response(&guard.challenge(&e))),
        };
        let is_delete = req.method() == Method::DELETE;
        let in_flight = match req.method() {
            &Method::POST => self.in_flight.as_ref().map(|f| f.enter()),
            _ => None,
        };
        req.extensions_mut().insert(info);
        let mut resp = self.inner.call(req).await?;
        if let Some(held) = in_flight {
            resp = hold_until_written(resp, held);
        }
        if session.is_none() {
            if let Some(sid) = resp
                .headers()
                .get(SESSION_HEADER)
                .and_then(|v| v.to_str().ok())
            {
                self.sessions.owners.insert(sid.to_owned(), principal);
            }
        } else if is_delete && resp.status().is_success() {
            if let Some(sid) = &session {
                self.sessions.owners.invalidate(sid);
            }
            // rmcp answers 202; the session is already gone, and some clients
            // (Python SDK) expect 200 or 204 for a terminated session.
            if resp.status() == StatusCode::ACCEPTED {
                resp = Response::builder().status(StatusCode::NO_CONTENT).finish();
            }
        }
        Ok(resp)
    }
}
