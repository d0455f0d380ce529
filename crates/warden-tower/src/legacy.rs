//! The legacy HTTP+SSE transport (MCP 2024-11-05): `GET /sse` opens a stream
//! that announces `POST /messages?sessionId=…`; answers flow back on the stream.
//!
//! rmcp ships no server for it, so this module carries rmcp's own message types
//! over SSE with rmcp's sink/stream transport — no hand-written JSON-RPC. It
//! uses the same pieces as [`McpLayer`](crate::McpLayer): admission (guard and
//! rate limit), the body cap, the tool-scope check on the body (HTTP 403 for
//! step-up), and sessions bound to their principal.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::channel::mpsc;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::Empty;
use rmcp::model::{ClientJsonRpcMessage, GetExtensions, ServerJsonRpcMessage};
use rmcp::ServiceExt;
use tokio_util::sync::CancellationToken;
use tower::Service;
use warden_core::{BearerGuard, ChallengeContext, Principal, Rejection, ToolRegistry, Transport};
use warden_mcp::WardenMcp;

use crate::body::{boxed, rejection_response, BoxError, McpBody};
use crate::gate::Gate;
use crate::RateLimit;

/// How often an idle stream carries a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

struct Session {
    inbox: mpsc::Sender<ClientJsonRpcMessage>,
    owner: Principal,
}

/// The legacy transport's state, shared by its `GET /sse` and `POST /messages`
/// services ([`LegacySse::sse_service`], [`LegacySse::messages_service`]).
#[derive(Clone)]
pub struct LegacySse {
    gate: Gate,
    challenge: Arc<ChallengeContext>,
    server: WardenMcp,
    sessions: moka::sync::Cache<String, Arc<Session>>,
    messages_path: Arc<str>,
    shutdown: CancellationToken,
}

impl LegacySse {
    /// Serves `server` over HTTP+SSE behind `guard`; the stream announces
    /// `messages_path?sessionId=…`; `shutdown` ends every stream.
    pub fn new(
        server: WardenMcp,
        guard: Arc<BearerGuard>,
        tools: Arc<ToolRegistry>,
        messages_path: impl Into<String>,
        shutdown: CancellationToken,
    ) -> Self {
        let challenge = Arc::new(guard.challenge_context().clone());
        Self {
            gate: Gate::new(guard, tools),
            challenge,
            server,
            sessions: moka::sync::Cache::builder().max_capacity(10_000).build(),
            messages_path: Arc::from(messages_path.into()),
            shutdown,
        }
    }

    /// The challenge context for these endpoints' 401/403 answers, when it differs
    /// from the guard's: the legacy endpoint is its own RFC 9728 resource
    /// (`{public_url}/sse`), and clients check that the metadata they are pointed
    /// at names the URL they connected to.
    pub fn challenge(mut self, challenge: ChallengeContext) -> Self {
        self.challenge = Arc::new(challenge);
        self
    }

    /// Largest message body accepted (default 4 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.gate.max_body = limit;
        self
    }

    /// Limits requests per subject or client (429 + `Retry-After` beyond).
    pub fn rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.gate.rate_limit = rate_limit;
        self
    }

    /// Open legacy sessions.
    pub fn session_count(&self) -> u64 {
        self.sessions.run_pending_tasks();
        self.sessions.entry_count()
    }

    /// The `GET /sse` service.
    pub fn sse_service(&self) -> SseService {
        SseService(self.clone())
    }

    /// The `POST /messages` service.
    pub fn messages_service(&self) -> MessagesService {
        MessagesService(self.clone())
    }

    async fn open(&self, req: Request<()>) -> Response<McpBody> {
        if req.method() != Method::GET {
            return rejection_response(&Rejection::MethodNotAllowed {
                allow: "GET",
                hint: "use GET to open the event stream",
            });
        }
        let (parts, ()) = req.into_parts();
        let info = match self.gate.admit(&parts, &self.challenge).await {
            Ok(pending) => match pending.authorize(&[]) {
                Ok(info) => info,
                Err(e) => return rejection_response(&Rejection::auth(&e, &self.challenge)),
            },
            Err(rejection) => return rejection_response(&rejection),
        };
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (inbox, inbox_rx) = mpsc::channel::<ClientJsonRpcMessage>(64);
        let (outbox, outbox_rx) = mpsc::channel::<ServerJsonRpcMessage>(64);
        self.sessions.insert(
            id.clone(),
            Arc::new(Session {
                inbox,
                owner: info.principal(),
            }),
        );
        let cancel = self.shutdown.child_token();
        let server = self.server.clone();
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
        let endpoint = format!("{}?sessionId={id}", self.messages_path);
        let body = SseBody {
            stream: Mutex::new(SseStream {
                endpoint: Some(Bytes::from(format!(
                    "event: endpoint\ndata: {endpoint}\n\n"
                ))),
                messages: outbox_rx,
                keep_alive: keep_alive_timer(),
                cancelled: Box::pin(cancel.clone().cancelled_owned()),
            }),
            _session: SessionGuard {
                id,
                sessions: self.sessions.clone(),
                cancel,
            },
        };
        let mut resp = Response::new(boxed(body));
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        resp
    }

    async fn deliver<B>(&self, req: Request<B>) -> Response<McpBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        if req.method() != Method::POST {
            return rejection_response(&Rejection::MethodNotAllowed {
                allow: "POST",
                hint: "POST JSON-RPC messages here",
            });
        }
        let (parts, body) = req.into_parts();
        let pending = match self.gate.admit(&parts, &self.challenge).await {
            Ok(pending) => pending,
            Err(rejection) => return rejection_response(&rejection),
        };
        let Some(id) = session_id(parts.uri.query()).map(str::to_owned) else {
            return rejection_response(&Rejection::MissingSessionId);
        };
        let Some(session) = self.sessions.get(&id) else {
            return rejection_response(&Rejection::UnknownSession {
                transport: Transport::LegacySse,
            });
        };
        if session.owner != pending.info().principal() {
            return rejection_response(&Rejection::SessionOfAnotherUser {
                transport: Transport::LegacySse,
            });
        }
        let bytes = match self.gate.read_body(body).await {
            Ok(b) => b,
            Err(rejection) => return rejection_response(&rejection),
        };
        let info = match pending.authorize(self.gate.tool_scopes(&bytes)) {
            Ok(info) => info,
            Err(e) => return rejection_response(&Rejection::auth(&e, &self.challenge)),
        };
        let mut message: ClientJsonRpcMessage = match serde_json::from_slice(&bytes) {
            Ok(m) => m,
            Err(_) => return rejection_response(&Rejection::NotJsonRpc),
        };
        if let ClientJsonRpcMessage::Request(request) = &mut message {
            // Tools read the caller from the HTTP request parts, as on Streamable HTTP,
            // and hang their span under this POST's (the session's task runs them, where
            // the current span is not the request's). The POST is answered 202 at once,
            // so its span ends with the call it carried.
            let mut parts = parts;
            parts.extensions.insert(info);
            parts
                .extensions
                .insert(warden_mcp::trace::ParentSpan(tracing::Span::current()));
            request.request.extensions_mut().insert(parts);
        }
        let mut inbox = session.inbox.clone();
        if inbox.send(message).await.is_err() {
            self.sessions.invalidate(&id);
            return rejection_response(&Rejection::SessionEnded);
        }
        let mut resp = Response::new(boxed(Empty::<Bytes>::new()));
        *resp.status_mut() = StatusCode::ACCEPTED;
        resp
    }
}

impl std::fmt::Debug for LegacySse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacySse")
            .field("messages_path", &self.messages_path)
            .field("sessions", &self.sessions.entry_count())
            .finish_non_exhaustive()
    }
}

fn session_id(query: Option<&str>) -> Option<&str> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "sessionId" || k == "session_id").then_some(v)
    })
}

fn keep_alive_timer() -> tokio::time::Interval {
    tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE)
}

/// `GET /sse` as a tower service (see [`LegacySse`]).
#[derive(Clone, Debug)]
pub struct SseService(LegacySse);

impl<B> Service<Request<B>> for SseService {
    type Response = Response<McpBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let state = self.0.clone();
        // The body of a GET is not read.
        let (parts, _body) = req.into_parts();
        let req = Request::from_parts(parts, ());
        Box::pin(async move { Ok(state.open(req).await) })
    }
}

/// `POST /messages?sessionId=…` as a tower service (see [`LegacySse`]).
#[derive(Clone, Debug)]
pub struct MessagesService(LegacySse);

impl<B> Service<Request<B>> for MessagesService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<McpBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let state = self.0.clone();
        Box::pin(async move { Ok(state.deliver(req).await) })
    }
}

/// Ends the session when the SSE stream is dropped (client gone).
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

/// The event stream of one legacy session: the `endpoint` event, then one
/// `message` event per server message, keep-alive comments while idle; it
/// ends when the session's server ends or the host shuts down.
struct SseBody {
    // One lock (never contended: only the connection polls it) makes the body
    // `Sync`, as boxed response bodies must be.
    stream: Mutex<SseStream>,
    _session: SessionGuard,
}

struct SseStream {
    endpoint: Option<Bytes>,
    messages: mpsc::Receiver<ServerJsonRpcMessage>,
    keep_alive: tokio::time::Interval,
    cancelled: Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let mut s = self
            .stream
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(endpoint) = s.endpoint.take() {
            return Poll::Ready(Some(Ok(Frame::data(endpoint))));
        }
        if s.cancelled.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        match s.messages.poll_next_unpin(cx) {
            Poll::Ready(Some(msg)) => {
                let json = serde_json::to_string(&msg).unwrap_or_default();
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(format!(
                    "event: message\ndata: {json}\n\n"
                ))))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match s.keep_alive.poll_tick(cx) {
                Poll::Ready(_) => Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b":\n\n"))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
