//! [`McpLayer`]: the whole MCP request path in front of rmcp's Streamable HTTP service.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use tower::{Layer, Service};
use warden_core::{BearerGuard, Rejection, ToolRegistry, Transport};
use warden_mcp::headers::SESSION_ID;
use warden_mcp::tool_request::ParsedBody;
use warden_mcp::InFlight;

use crate::body::{boxed, rejection_response, BoxError, McpBody};
use crate::gate::Gate;
use crate::held::HeldBody;
use crate::{RateLimit, SessionBindings};

/// Puts warden's MCP request path in front of an MCP service (rmcp's
/// `StreamableHttpService`):
///
/// 1. authenticates the request (401/403/400/503 challenges otherwise);
/// 2. applies the rate limit (429 + `Retry-After`);
/// 3. refuses a session id owned by another principal (403), and one it never
///    bound when [`McpLayer::sessions_fail_closed`] is set (404);
/// 4. reads a POST body up to [`McpLayer::max_body_bytes`] (413 beyond);
/// 5. refuses a POST whose `Mcp-Method`/`Mcp-Name` headers disagree with the
///    JSON-RPC body (400), and for `tools/call` checks the scopes of the tool
///    named in the **body**, answering 403 `insufficient_scope` with the tool's
///    scopes (step-up) before any tool runs;
/// 6. is lenient with `Accept` (some clients send only one media type);
/// 7. hands the [`AuthInfo`](warden_core::AuthInfo) to the service in the
///    request extensions, counts each POST as in flight until its answer is
///    written (graceful shutdown), binds new sessions to their principal, and
///    answers a successful `DELETE` with 204.
///
/// Exactly one auth decision is recorded per request.
#[derive(Clone)]
pub struct McpLayer {
    gate: Gate,
}

impl McpLayer {
    /// The MCP path for `guard`'s resource serving `tools`.
    pub fn new(guard: Arc<BearerGuard>, tools: Arc<ToolRegistry>) -> Self {
        Self {
            gate: Gate::new(guard, tools),
        }
    }

    /// Largest POST body accepted (default 4 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.gate.max_body = limit;
        self
    }

    /// Limits requests per subject or client (429 + `Retry-After` beyond).
    pub fn rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.gate.rate_limit = rate_limit;
        self
    }

    /// Counts each POST in `in_flight` until its answer is written (an SSE
    /// answer until its stream ends), so a graceful shutdown can wait for it.
    pub fn in_flight(mut self, in_flight: Arc<InFlight>) -> Self {
        self.gate.in_flight = Some(in_flight);
        self
    }

    /// The session → principal bindings (share them to count or inspect sessions).
    pub fn sessions(mut self, sessions: SessionBindings) -> Self {
        self.gate.sessions = sessions;
        self
    }

    /// Answers a session id with no recorded owner (never handed out here, or
    /// forgotten) with 404, as for an unknown session, instead of passing it on
    /// unchecked. For stateful serving, where every session id comes from an
    /// `initialize` this layer answered.
    pub fn sessions_fail_closed(mut self) -> Self {
        self.gate.fail_closed = true;
        self
    }
}

impl std::fmt::Debug for McpLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpLayer")
            .field("gate", &self.gate)
            .finish()
    }
}

impl<S> Layer<S> for McpLayer {
    type Service = Mcp<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Mcp {
            inner,
            gate: Arc::new(self.gate.clone()),
        }
    }
}

/// The service produced by [`McpLayer`].
#[derive(Clone)]
pub struct Mcp<S> {
    inner: S,
    gate: Arc<Gate>,
}

impl<S> std::fmt::Debug for Mcp<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mcp")
            .field("gate", &self.gate)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Mcp<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: http_body::Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
    ResBody: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<McpBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let gate = self.gate.clone();
        Box::pin(serve(gate, inner, req))
    }
}

async fn serve<S, ReqBody, ResBody>(
    gate: Arc<Gate>,
    mut inner: S,
    req: Request<ReqBody>,
) -> Result<Response<McpBody>, S::Error>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>>,
    ReqBody: http_body::Body,
    ReqBody::Error: Into<BoxError>,
    ResBody: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    ResBody::Error: Into<BoxError>,
{
    let (mut parts, body) = req.into_parts();
    let pending = match gate.admit(&parts, gate.guard.challenge_context()).await {
        Ok(pending) => pending,
        Err(rejection) => return Ok(rejection_response(&rejection)),
    };
    let principal = Arc::new(pending.info().principal());
    let session = parts
        .headers
        .get(&SESSION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(sid) = &session {
        match gate.sessions.owner(sid) {
            Some(owner) if owner != principal => {
                tracing::warn!(provider = %principal.provider(), "session used with another principal's token");
                return Ok(rejection_response(&Rejection::SessionOfAnotherUser {
                    transport: Transport::StreamableHttp,
                }));
            }
            None if gate.fail_closed => {
                return Ok(rejection_response(&Rejection::UnknownSession {
                    transport: Transport::StreamableHttp,
                }))
            }
            _ => {}
        }
    }
    let mut tool_scopes: &[String] = &[];
    let bytes = if parts.method == Method::POST {
        let bytes = match gate.read_body(body).await {
            Ok(b) => b,
            Err(rejection) => return Ok(rejection_response(&rejection)),
        };
        // Read once here: for the header check, the scopes, and the fast path after us.
        let parsed = ParsedBody::parse(&bytes);
        tool_scopes = match crate::headers::check_mcp_headers(&parts.headers, &bytes, Some(&parsed))
        {
            Ok(Some(routing)) => gate.scopes_of(routing.tool()),
            Ok(None) => gate.parsed_tool_scopes(&parsed, &bytes),
            Err(rejection) => return Ok(rejection_response(&rejection)),
        };
        parts.extensions.insert(parsed);
        crate::headers::lenient_accept(&mut parts.headers);
        bytes
    } else {
        drop(body);
        Bytes::new()
    };
    let info = match pending.authorize(tool_scopes) {
        Ok(info) => info,
        Err(e) => return Ok(rejection_response(&gate.guard.reject(&e))),
    };
    let is_delete = parts.method == Method::DELETE;
    let held = match parts.method {
        Method::POST => gate.in_flight.as_ref().map(|f| f.enter()),
        _ => None,
    };
    parts.extensions.insert(info);
    if crate::trace::spans_enabled() {
        // rmcp may run the handler on another task: name the span its tool span hangs under.
        parts
            .extensions
            .insert(warden_mcp::trace::ParentSpan(tracing::Span::current()));
    }
    let resp = inner
        .call(Request::from_parts(parts, Full::new(bytes)))
        .await?;
    let (mut head, body) = resp.into_parts();
    let streamed = head
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let mut body = match held {
        // A JSON answer is complete here, so `held` ends with this function.
        Some(held) if streamed => HeldBody::new(boxed(body), held).boxed(),
        _ => boxed(body),
    };
    match &session {
        None => {
            if let Some(sid) = head.headers.get(&SESSION_ID).and_then(|v| v.to_str().ok()) {
                gate.sessions.bind(sid.to_owned(), principal);
            }
        }
        Some(sid) if is_delete && head.status.is_success() => {
            gate.sessions.unbind(sid);
            // rmcp answers 202; the session is already gone, and some clients
            // (Python SDK) expect 200 or 204 for a terminated session.
            if head.status == StatusCode::ACCEPTED {
                head.status = StatusCode::NO_CONTENT;
                head.headers.remove(header::CONTENT_TYPE);
                head.headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
                body = boxed(Empty::new());
            }
        }
        Some(_) => {}
    }
    Ok(Response::from_parts(head, body))
}
