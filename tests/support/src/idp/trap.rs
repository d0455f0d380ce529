//! [`Trap`]: an "attacker" server that only counts what reaches it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use poem::{Request, Response};
use serde_json::{json, Value};

use super::handlers::json_response;
use super::server::{bind, Running};
use super::state::lock;

struct TrapState {
    hits: AtomicU64,
    requests: Mutex<Vec<String>>,
    body: Mutex<Value>,
}

/// A loopback server that counts every request it receives and answers
/// `200` with a JSON body (default `{"keys":[]}`). Put its URL in `jku`,
/// `x5u` or similar headers and assert [`Trap::hits`] stays `0`.
///
/// ```no_run
/// # async fn demo() {
/// use warden_test_support::idp::Trap;
/// let trap = Trap::start().await;
/// let jku = trap.url_for("/jwks.json");
/// // … present a token whose header carries `"jku": jku` …
/// assert_eq!(trap.hits(), 0, "the verifier fetched {:?}", trap.requests());
/// # }
/// ```
pub struct Trap {
    state: Arc<TrapState>,
    origin: String,
    _running: Running,
}

impl std::fmt::Debug for Trap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trap")
            .field("origin", &self.origin)
            .field("hits", &self.hits())
            .finish()
    }
}

impl Trap {
    /// Starts the trap on `127.0.0.1:0`.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> Trap {
        let listener = bind(0).await.expect("bind trap on 127.0.0.1:0");
        let port = listener.local_addr().expect("trap address").port();
        let state = Arc::new(TrapState {
            hits: AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
            body: Mutex::new(json!({ "keys": [] })),
        });
        let shared = state.clone();
        let ep = poem::endpoint::make(move |req: Request| {
            let state = shared.clone();
            async move {
                state.hits.fetch_add(1, Ordering::SeqCst);
                lock(&state.requests).push(format!("{} {}", req.method(), req.uri()));
                let body = lock(&state.body).clone();
                Ok::<Response, poem::Error>(json_response(200, &body))
            }
        });
        Trap {
            state,
            origin: format!("http://127.0.0.1:{port}"),
            _running: Running::spawn(listener, ep),
        }
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("{}/", self.origin)
    }

    /// `http://127.0.0.1:PORT{path}` (`path` starts with `/`).
    pub fn url_for(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// How many requests arrived (any method, any path).
    pub fn hits(&self) -> u64 {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// `"METHOD /path?query"` of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state.requests).clone()
    }

    /// Answer every later request with `body` (e.g. a JWKS holding an
    /// attacker's key, so that fetching it would actually be exploitable).
    pub fn serve_json(&self, body: Value) {
        *lock(&self.state.body) = body;
    }
}
