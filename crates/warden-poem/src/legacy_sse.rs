//! The legacy HTTP+SSE transport (MCP 2024-11-05): `GET /sse` opens a stream
//! that announces `POST /messages?sessionId=…`; answers flow back on the stream.
//!
//! rmcp 3.9 ships no server for it, so this module carries rmcp's own message
//! types over SSE with rmcp's sink/stream transport — no hand-written JSON-RPC.
//! Every request is authenticated by the same guard, tool scopes are checked
//! the same way (HTTP 403 for step-up), and a session is bound to its user.

use std::sync::Arc;
use std::time::Duration;

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use poem::http::{Method, StatusCode};
use poem::web::sse::{Event, SSE};
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use rmcp::model::{ClientJsonRpcMessage, GetExtensions, ServerJsonRpcMessage};
use rmcp::ServiceExt;
use tokio_util::sync::CancellationToken;
use warden_core::mcp_peek::{peek_call, McpCall};
use warden_core::{AuthError, Authenticated, BearerGuard, ChallengeContext, ToolRegistry};
use warden_mcp::WardenMcp;

use crate::response::{challenge_response, json_error};
use crate::RateLimit;

struct Session {
    inbox: mpsc::Sender<ClientJsonRpcMessage>,
    owner: Arc<str>,
}

/// State shared by the `/sse` and `/messages` endpoints.
#[derive(Clone)]
pub struct LegacySse {
    guard: Arc<BearerGuard>,
    tools: Arc<ToolRegistry>,
    server: WardenMcp,
    sessions: moka::sync::Cache<String, Arc<Session>>,
    messages_path: String,
    max_body: usize,
    shutdown: CancellationToken,
    rate_limit: Option<RateLimit>,
    challenge: Option<Arc<ChallengeContext>>,
}

impl LegacySse {
    /// Serves `server` over HTTP+SSE; the stream announces `messages_path?sessionId=…`.
    pub fn new(
        server: WardenMcp,
        guard: Arc<BearerGuard>,
        tools: Arc<ToolRegistry>,
        messages_path: impl Into<String>,
        max_body: usize,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            guard,
            tools,
            server,
            sessions: moka::sync::Cache::builder().max_capacity(10_000).build(),
            messages_path: messages_path.into(),
            max_body,
            shutdown,
            rate_limit: None,
            challenge: None,
        }
    }

    /// The challenge context for these endpoints' 401/403 answers, when it differs
    /// from the guard's: the legacy endpoint is its own RFC 9728 resource
    /// (`{public_url}/sse`), and clients check that the metadata they are pointed
    /// at names the URL they connected to.
    pub fn with_challenge(mut self, challenge: ChallengeContext) -> Self {
        self.challenge = Some(Arc::new(challenge));
        self
    }

    fn reject(&self, err: &AuthError) -> Response {
        let challenge = match &self.challenge {
            Some(ctx) => err.challenge(ctx),
            None => self.guard.challenge(err),
        };
        challenge_response(&challenge)
    }

    /// Limits requests per subject or client (429 + `Retry-After` beyond).
    pub fn with_rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// Open legacy sessions.
    pub fn session_count(&self) -> u64 {
        self.sessions.run_pending_tasks();
        self.sessions.entry_count()
    }

    /// The `GET /sse` endpoint.
    pub fn sse_endpoint(&self) -> SseEndpoint {
        SseEndpoint(self.clone())
    }

    /// The `POST /messages` endpoint.
    pub fn messages_endpoint(&self) -> MessagesEndpoint {
        MessagesEndpoint(self.clone())
    }

    /// Verifies the request and applies the rate limit; the auth decision is
    /// finished by the caller ([`Authenticated::authorize`]) once it knows the
    /// scopes the request needs.
    async fn authenticate(
        &self,
        req: &Request,
    ) -> std::result::Result<Authenticated<'_>, Response> {
        let pending = self
            .guard
            .verify_request(req.headers(), req.uri().query())
            .await
            .map_err(|e| self.reject(&e))?;
        if let Some(resp) = self
            .rate_limit
            .as_ref()
            .and_then(|rl| rl.reject(pending.info()))
        {
            return Err(resp);
        }
        Ok(pending)
    }
}

/// Ends the session when the SSE response stream is dropped (client gone).
struct SessionGuard {
    id: String,
    sessions: moka::sync::Cache<String, Arc<Session>>,
    cancel: CancellationToken,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.sessions.invalidate(&self.id);
        self.cancel.cancel();
    }
}

/// `GET /sse`.
pub struct SseEndpoint(LegacySse);

impl Endpoint for SseEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let state = &self.0;
        if req.method() != Method::GET {
            return Ok(json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "use GET to open the event stream",
            ));
        }
        let info = match state.authenticate(&req).await.map(|p| p.authorize(&[])) {
            Ok(Ok(info)) => info,
            Ok(Err(e)) => return Ok(state.reject(&e)),
            Err(resp) => return Ok(resp),
        };
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (inbox, inbox_rx) = mpsc::channel::<ClientJsonRpcMessage>(64);
        let (outbox, outbox_rx) = mpsc::channel::<ServerJsonRpcMessage>(64);
        state.sessions.insert(
            id.clone(),
            Arc::new(Session {
                inbox,
                owner: Arc::from(info.principal_key()),
            }),
        );
        let cancel = state.shutdown.child_token();
        let server = state.server.clone();
        let service_cancel = cancel.clone();
        tokio::spawn(async move {
            match server
                .serve_with_ct((outbox, inbox_rx), service_cancel.clone())
                .await
            {
                Ok(running) => {
                    tokio::select! {
                        _ = running.waiting() => {}
                        _ = service_cancel.cancelled() => {}
                    }
                }
                Err(e) => tracing::debug!(error = %e, "legacy SSE session ended before initialize"),
            }
        });
        let guard = SessionGuard {
            id: id.clone(),
            sessions: state.sessions.clone(),
            cancel: cancel.clone(),
        };
        let endpoint = Event::message(format!("{}?sessionId={id}", state.messages_path))
            .event_type("endpoint");
        let messages = outbox_rx
            .take_until(cancel.cancelled_owned())
            .map(move |msg| {
                let _keep = &guard;
                Event::message(serde_json::to_string(&msg).unwrap_or_default())
                    .event_type("message")
            });
        let stream = futures::stream::once(async move { endpoint }).chain(messages);
        Ok(SSE::new(stream)
            .keep_alive(Duration::from_secs(15))
            .into_response())
    }
}

/// `POST /messages?sessionId=…`.
pub struct MessagesEndpoint(LegacySse);

fn session_id(req: &Request) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "sessionId" || k == "session_id").then(|| v.to_string())
    })
}

impl Endpoint for MessagesEndpoint {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let state = &self.0;
        if req.method() != Method::POST {
            return Ok(json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "POST JSON-RPC messages here",
            ));
        }
        let pending = match state.authenticate(&req).await {
            Ok(p) => p,
            Err(resp) => return Ok(resp),
        };
        let Some(id) = session_id(&req) else {
            return Ok(json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "missing sessionId query parameter",
            ));
        };
        let Some(session) = state.sessions.get(&id) else {
            return Ok(json_error(
                StatusCode::NOT_FOUND,
                "session_not_found",
                "unknown or ended session; open a new one with GET /sse",
            ));
        };
        if *session.owner != *pending.info().principal_key() {
            return Ok(json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this MCP session belongs to another user; open a new one",
            ));
        }
        let body = match req.take_body().into_bytes_limit(state.max_body).await {
            Ok(b) => b,
            Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                return Ok(json_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "request body too large",
                ))
            }
            Err(_) => {
                return Ok(json_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "could not read the body",
                ))
            }
        };
        let mut tool_scopes: &[String] = &[];
        if let McpCall::ToolCall(name) = peek_call(&body) {
            if let Some(tool) = state.tools.get(&name) {
                tool_scopes = &tool.required_scopes;
            }
        }
        let info = match pending.authorize(tool_scopes) {
            Ok(info) => info,
            Err(e) => return Ok(state.reject(&e)),
        };
        let mut message: ClientJsonRpcMessage = match serde_json::from_slice(&body) {
            Ok(m) => m,
            Err(_) => {
                return Ok(json_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "body is not a JSON-RPC message",
                ))
            }
        };
        if let ClientJsonRpcMessage::Request(request) = &mut message {
            let mut http_req = poem::http::Request::new(());
            *http_req.method_mut() = req.method().clone();
            *http_req.uri_mut() = req.uri().clone();
            *http_req.headers_mut() = req.headers().clone();
            let (mut parts, ()) = http_req.into_parts();
            parts.extensions.insert(info);
            request.request.extensions_mut().insert(parts);
        }
        let mut inbox = session.inbox.clone();
        if inbox.send(message).await.is_err() {
            state.sessions.invalidate(&id);
            return Ok(json_error(
                StatusCode::NOT_FOUND,
                "session_not_found",
                "the session has ended",
            ));
        }
        Ok(StatusCode::ACCEPTED.into_response())
    }
}
