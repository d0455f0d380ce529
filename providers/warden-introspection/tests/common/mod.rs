//! A tiny RFC 7662 authorization server for these tests (poem, loopback,
//! port 0) with request counters and switchable failure modes.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use poem::http::{Method, StatusCode};
use poem::listener::{Acceptor, TcpAcceptor};
use poem::{Request, Response, Server};
use serde_json::{json, Value};
use url::form_urlencoded;
use warden_core::{
    noop_observer, AuthError, Event, Observer, ProviderContext, ProviderFactory, SharedObserver,
    Verifier,
};
use warden_introspection::IntrospectionFactory;

pub const CLIENT_ID: &str = "warden app";
pub const CLIENT_SECRET: &str = "s3cr3t:p@ss/w+rd &é";
pub const RESOURCE: &str = "http://127.0.0.1:10000/mcp";

/// How the introspection endpoint behaves.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Answers from the token table.
    Normal,
    /// Answers this status (with an optional `Retry-After`).
    Status(u16, Option<&'static str>),
    /// Answers 200 with an HTML body.
    Garbage,
}

/// Which metadata documents the server publishes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Discovery {
    /// `{issuer}/.well-known/openid-configuration`.
    Oidc,
    /// Only RFC 8414 `{origin}/.well-known/oauth-authorization-server{path}`.
    Rfc8414,
    /// Neither (404).
    Down,
}

/// One introspection request as the server saw it.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub method: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
}

pub struct State {
    pub base: String,
    pub calls: AtomicUsize,
    pub discovery_calls: AtomicUsize,
    pub mode: Mutex<Mode>,
    pub delay: Mutex<Duration>,
    pub discovery: Mutex<Discovery>,
    pub tokens: Mutex<HashMap<String, Value>>,
    pub seen: Mutex<Vec<Seen>>,
}

pub struct FakeAs {
    pub base: String,
    pub state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeAs {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeAs {
    pub async fn start() -> FakeAs {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let state = Arc::new(State {
            base: base.clone(),
            calls: AtomicUsize::new(0),
            discovery_calls: AtomicUsize::new(0),
            mode: Mutex::new(Mode::Normal),
            delay: Mutex::new(Duration::ZERO),
            discovery: Mutex::new(Discovery::Oidc),
            tokens: Mutex::new(HashMap::new()),
            seen: Mutex::new(Vec::new()),
        });
        let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
        assert!(!acceptor.local_addr().is_empty());
        let app_state = state.clone();
        let app = poem::endpoint::make(move |req: Request| {
            let state = app_state.clone();
            async move { handle(state, req).await }
        });
        let server = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(app).await;
        });
        FakeAs {
            base,
            state,
            server,
        }
    }

    /// The issuer this server claims in discovery: `{base}/oidc`.
    pub fn issuer(&self) -> String {
        format!("{}/oidc", self.base)
    }

    pub fn introspection_url(&self) -> String {
        format!("{}/introspect", self.base)
    }

    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    pub fn discovery_calls(&self) -> usize {
        self.state.discovery_calls.load(Ordering::SeqCst)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    pub fn set_delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    pub fn set_discovery(&self, discovery: Discovery) {
        *self.state.discovery.lock().unwrap() = discovery;
    }

    /// Registers the answer for `token` (`active: false` for unknown tokens).
    pub fn add_token(&self, token: &str, answer: Value) {
        self.state
            .tokens
            .lock()
            .unwrap()
            .insert(token.to_owned(), answer);
    }

    pub fn last_seen(&self) -> Seen {
        self.state.seen.lock().unwrap().last().cloned().unwrap()
    }
}

async fn handle(state: Arc<State>, mut req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if req.method() == Method::GET {
        return discovery(&state, &path);
    }
    if req.method() != Method::POST || path != "/introspect" {
        return Response::builder().status(StatusCode::NOT_FOUND).finish();
    }
    state.calls.fetch_add(1, Ordering::SeqCst);
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mode = state.mode.lock().unwrap().clone();
    match mode {
        Mode::Normal => {}
        Mode::Status(code, retry_after) => {
            let mut builder = Response::builder().status(StatusCode::from_u16(code).unwrap());
            if let Some(value) = retry_after {
                builder = builder.header("Retry-After", value);
            }
            return builder.body("upstream trouble");
        }
        Mode::Garbage => {
            return Response::builder()
                .status(StatusCode::OK)
                .content_type("text/html")
                .body("<html>maintenance</html>");
        }
    }

    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req.take_body().into_bytes().await.unwrap_or_default();
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let mut seen = Seen {
        token: form.get("token").cloned(),
        token_type_hint: form.get("token_type_hint").cloned(),
        ..Seen::default()
    };
    if let Some(basic) = authorization
        .as_deref()
        .and_then(|h| h.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .unwrap_or_default();
        let decoded = String::from_utf8(decoded).unwrap_or_default();
        if let Some((id, secret)) = decoded.split_once(':') {
            let unescape = |s: &str| -> String {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            seen.method = "basic".into();
            seen.client_id = Some(unescape(id));
            seen.client_secret = Some(unescape(secret));
        }
    } else if form.contains_key("client_id") {
        seen.method = "post".into();
        seen.client_id = form.get("client_id").cloned();
        seen.client_secret = form.get("client_secret").cloned();
    }
    state.seen.lock().unwrap().push(seen.clone());

    let authenticated = seen.client_id.as_deref() == Some(CLIENT_ID)
        && seen.client_secret.as_deref() == Some(CLIENT_SECRET);
    if !authenticated {
        return json_response(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"}));
    }
    let answer = seen
        .token
        .as_ref()
        .and_then(|t| state.tokens.lock().unwrap().get(t).cloned())
        .unwrap_or_else(|| json!({"active": false}));
    json_response(StatusCode::OK, answer)
}

fn discovery(state: &State, path: &str) -> Response {
    state.discovery_calls.fetch_add(1, Ordering::SeqCst);
    let mode = *state.discovery.lock().unwrap();
    let served = match mode {
        Discovery::Oidc => path == "/oidc/.well-known/openid-configuration",
        Discovery::Rfc8414 => path == "/.well-known/oauth-authorization-server/oidc",
        Discovery::Down => false,
    };
    if !served {
        return Response::builder().status(StatusCode::NOT_FOUND).finish();
    }
    json_response(
        StatusCode::OK,
        json!({
            "issuer": format!("{}/oidc", state.base),
            "token_endpoint": format!("{}/token", state.base),
            "introspection_endpoint": format!("{}/introspect", state.base),
        }),
    )
}

fn json_response(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// Records the events a verifier emits.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<String>>,
}

impl Observer for Recorder {
    fn observe(&self, event: &Event<'_>) {
        let line = match event {
            Event::CacheLookup {
                provider,
                cache,
                hit,
                ..
            } => format!("cache:{provider}:{cache}:{hit}"),
            Event::Upstream {
                upstream, outcome, ..
            } => format!("upstream:{upstream}:{outcome}"),
            other => format!("{other:?}"),
        };
        self.events.lock().unwrap().push(line);
    }
}

pub fn ctx_with(observer: SharedObserver) -> ProviderContext {
    ProviderContext {
        name: "corp".into(),
        public_url: "http://127.0.0.1:10000".into(),
        resource: RESOURCE.into(),
        leeway: Duration::ZERO,
        observer,
        data_dir: std::env::temp_dir(),
    }
}

pub fn ctx() -> ProviderContext {
    ctx_with(noop_observer())
}

/// The provider table pointing at `fake`, with `extra` merged over it.
pub fn table(fake: &FakeAs, extra: Value) -> Value {
    let mut table = json!({
        "introspection_url": fake.introspection_url(),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            table.as_object_mut().unwrap().remove(k);
        } else {
            table[k] = v.clone();
        }
    }
    table
}

pub fn build(fake: &FakeAs, extra: Value) -> Arc<dyn Verifier> {
    IntrospectionFactory
        .build(&ctx(), table(fake, extra))
        .unwrap()
}

pub fn now() -> i64 {
    warden_core::now_unix()
}

/// An answer warden accepts.
pub fn good_answer() -> Value {
    json!({
        "active": true,
        "scope": "news:read profile",
        "client_id": "mcp-client",
        "sub": "alice",
        "aud": RESOURCE,
        "exp": now() + 3600,
        "iat": now() - 10,
        "token_type": "Bearer",
        "username": "alice@example.com",
    })
}

/// Asserts "could not verify", returns the retry hint, and checks the token
/// does not leak into the message.
pub fn expect_unavailable(
    result: Result<warden_core::AuthInfo, AuthError>,
    token: &str,
) -> (String, Duration) {
    let err = match result {
        Ok(info) => panic!("expected Unavailable, got {info:?}"),
        Err(e) => e,
    };
    no_leak(&err, token);
    match err {
        AuthError::Unavailable {
            reason,
            retry_after,
            ..
        } => (reason, retry_after),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

/// Asserts the error does not contain the token.
pub fn no_leak(err: &AuthError, token: &str) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains(token), "token leaked: {text}");
    assert!(!text.contains(CLIENT_SECRET), "secret leaked: {text}");
}

/// Waits (bounded) until `cond` holds.
pub async fn eventually(mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("condition not reached within 5 s");
}
