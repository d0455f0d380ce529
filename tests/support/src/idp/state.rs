//! Shared state of a [`FakeIdp`](super::FakeIdp): configuration, keys,
//! registries, switches, counters and request records.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use crate::tokens::TestKey;

/// How many [`RecordedRequest`]s (and introspection/token calls) are kept;
/// older ones are dropped first.
pub const RECORD_LIMIT: usize = 2000;

/// The endpoints of a fake IdP, for counters and switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdpEndpoint {
    /// OIDC discovery and RFC 8414 metadata documents.
    Discovery,
    /// The JWKS document.
    Jwks,
    /// RFC 7662 token introspection.
    Introspection,
    /// OIDC userinfo (Logto: `{issuer}/me`).
    Userinfo,
    /// The token endpoint (client credentials).
    Token,
}

impl IdpEndpoint {
    /// Every endpoint, in counter order.
    pub const ALL: [IdpEndpoint; 5] = [
        IdpEndpoint::Discovery,
        IdpEndpoint::Jwks,
        IdpEndpoint::Introspection,
        IdpEndpoint::Userinfo,
        IdpEndpoint::Token,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// A misbehaviour an endpoint shows instead of its normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `503 Service Unavailable` with `{"error":"temporarily_unavailable"}`.
    Down,
    /// This status with a small JSON error body.
    Status(u16),
    /// Exactly this answer (e.g. malformed JSON, an issuer mismatch).
    Respond {
        /// HTTP status.
        status: u16,
        /// `Content-Type` header value.
        content_type: String,
        /// Body, verbatim.
        body: String,
    },
    /// `200` headers, then a few body bytes, then the connection breaks.
    Truncated,
    /// Accepts the request and never answers (until the client gives up or
    /// the server stops).
    Hang,
    /// This status with a small JSON error body and a `Retry-After` header
    /// (delta-seconds or an HTTP-date, sent verbatim).
    RetryAfter {
        /// HTTP status (503, 429, …).
        status: u16,
        /// The `Retry-After` value.
        retry_after: String,
    },
}

/// The metadata documents a fake IdP can publish; every one by default.
/// `{P}` is the issuer path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetadataDocument {
    /// OpenID Connect Discovery: `{P}/.well-known/openid-configuration`.
    OpenIdConfiguration,
    /// RFC 8414 §3.1: `/.well-known/oauth-authorization-server{P}`.
    OAuthPathInserted,
    /// The suffix form some servers use: `{P}/.well-known/oauth-authorization-server`
    /// (the same URL as [`OAuthPathInserted`](Self::OAuthPathInserted) when `{P}` is empty).
    OAuthSuffix,
}

impl MetadataDocument {
    /// Every document, in the order relying parties usually ask.
    pub const ALL: [MetadataDocument; 3] = [
        MetadataDocument::OpenIdConfiguration,
        MetadataDocument::OAuthPathInserted,
        MetadataDocument::OAuthSuffix,
    ];
}

/// How a client authenticated at the introspection or token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientAuth {
    /// No client credentials at all.
    None,
    /// `client_secret_basic`: HTTP Basic.
    Basic,
    /// `client_secret_post`: `client_id`/`client_secret` form fields.
    Post,
    /// Both at once (rejected with 400 `invalid_request`, RFC 6749 §2.3).
    Both,
}

impl ClientAuth {
    /// The metadata name (`client_secret_basic`, `client_secret_post`), if any.
    pub fn metadata_name(self) -> Option<&'static str> {
        match self {
            ClientAuth::Basic => Some("client_secret_basic"),
            ClientAuth::Post => Some("client_secret_post"),
            ClientAuth::None | ClientAuth::Both => None,
        }
    }
}

/// Request counts per endpoint (every request that reached the server,
/// including those answered with a fault, 4xx or 405).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Discovery / AS-metadata requests.
    pub discovery: u64,
    /// JWKS requests.
    pub jwks: u64,
    /// Introspection requests.
    pub introspection: u64,
    /// Userinfo requests.
    pub userinfo: u64,
    /// Token endpoint requests.
    pub token: u64,
    /// Requests to any other path (answered 404).
    pub unexpected: u64,
}

impl Counts {
    /// The count for one endpoint.
    pub fn get(&self, endpoint: IdpEndpoint) -> u64 {
        match endpoint {
            IdpEndpoint::Discovery => self.discovery,
            IdpEndpoint::Jwks => self.jwks,
            IdpEndpoint::Introspection => self.introspection,
            IdpEndpoint::Userinfo => self.userinfo,
            IdpEndpoint::Token => self.token,
        }
    }

    /// Sum over every endpoint plus unexpected requests.
    pub fn total(&self) -> u64 {
        self.discovery
            + self.jwks
            + self.introspection
            + self.userinfo
            + self.token
            + self.unexpected
    }
}

/// One request as the fake IdP saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// The endpoint it matched, `None` for an unexpected path.
    pub endpoint: Option<IdpEndpoint>,
    /// Header names (lowercase) and values, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body (lossy UTF-8; empty for GET).
    pub body: String,
}

impl RecordedRequest {
    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One call to the introspection endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectionCall {
    /// How the client authenticated.
    pub auth: ClientAuth,
    /// The client id it presented, if any.
    pub client_id: Option<String>,
    /// The client secret it presented, if any (test credentials only).
    pub client_secret: Option<String>,
    /// Whether the presented id/secret pair matched a configured client.
    pub credentials_ok: bool,
    /// Whether the answer was a real introspection answer (auth method
    /// allowed, credentials right, `token` present).
    pub answered: bool,
    /// The `token` form field.
    pub token: Option<String>,
    /// The `token_type_hint` form field.
    pub token_type_hint: Option<String>,
    /// Whether the token was registered.
    pub known: bool,
}

/// One call to the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCall {
    /// How the client authenticated.
    pub auth: ClientAuth,
    /// The client id it presented, if any.
    pub client_id: Option<String>,
    /// Whether the presented id/secret pair matched a configured client.
    pub credentials_ok: bool,
    /// The `grant_type` form field.
    pub grant_type: Option<String>,
    /// The `scope` form field.
    pub scope: Option<String>,
    /// Every `resource` form field (RFC 8707).
    pub resources: Vec<String>,
    /// Whether a token was issued.
    pub issued: bool,
}

/// Immutable configuration, fixed once the port is known.
pub(crate) struct Config {
    pub origin: String,
    pub issuer_path: String,
    pub jwks_path: String,
    pub introspection_path: String,
    pub userinfo_path: String,
    pub token_path: String,
    pub authorization_path: String,
    pub clients: Vec<(String, String)>,
    pub auth_methods: Vec<ClientAuth>,
    pub scopes_supported: Vec<String>,
    pub token_ttl: i64,
}

impl Config {
    pub(super) fn issuer(&self) -> String {
        format!("{}{}", self.origin, self.issuer_path)
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{}", self.origin, path)
    }

    /// The paths that serve the discovery / AS-metadata document.
    pub(super) fn discovery_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        for doc in MetadataDocument::ALL {
            let path = self.metadata_path(doc);
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        paths
    }

    /// The path of one metadata document.
    pub(super) fn metadata_path(&self, doc: MetadataDocument) -> String {
        let p = &self.issuer_path;
        match doc {
            MetadataDocument::OpenIdConfiguration => {
                format!("{p}/.well-known/openid-configuration")
            }
            MetadataDocument::OAuthPathInserted => {
                format!("/.well-known/oauth-authorization-server{p}")
            }
            MetadataDocument::OAuthSuffix => format!("{p}/.well-known/oauth-authorization-server"),
        }
    }

    pub(super) fn endpoint_for(&self, path: &str) -> Option<IdpEndpoint> {
        if self.discovery_paths().iter().any(|p| p == path) {
            Some(IdpEndpoint::Discovery)
        } else if path == self.jwks_path {
            Some(IdpEndpoint::Jwks)
        } else if path == self.introspection_path {
            Some(IdpEndpoint::Introspection)
        } else if path == self.userinfo_path {
            Some(IdpEndpoint::Userinfo)
        } else if path == self.token_path {
            Some(IdpEndpoint::Token)
        } else {
            None
        }
    }

    pub(super) fn client_ok(&self, id: &str, secret: &str) -> bool {
        self.clients.iter().any(|(i, s)| i == id && s == secret)
    }
}

/// Published keys; `current` indexes `keys`.
pub(crate) struct KeySet {
    pub keys: Vec<TestKey>,
    pub current: usize,
}

impl KeySet {
    pub(super) fn current(&self) -> &TestKey {
        &self.keys[self.current]
    }
}

#[derive(Default, Clone)]
pub(crate) struct Switch {
    pub fault: Option<Fault>,
    pub delay: Duration,
}

#[derive(Default)]
pub(crate) struct Records {
    pub requests: VecDeque<RecordedRequest>,
    pub introspections: VecDeque<IntrospectionCall>,
    pub token_calls: VecDeque<TokenCall>,
    pub unexpected: Vec<String>,
}

fn push_bounded<T>(queue: &mut VecDeque<T>, item: T) {
    if queue.len() >= RECORD_LIMIT {
        queue.pop_front();
    }
    queue.push_back(item);
}

/// Which metadata documents are served, and what they say.
pub(crate) struct Metadata {
    /// Published documents; the other discovery paths answer 404.
    pub published: Vec<MetadataDocument>,
    /// Served instead of the generated document, when set.
    pub document: Option<Value>,
}

impl Default for Metadata {
    fn default() -> Self {
        Self {
            published: MetadataDocument::ALL.to_vec(),
            document: None,
        }
    }
}

/// Everything the HTTP handlers and the `FakeIdp` handle share.
pub(crate) struct State {
    pub cfg: Config,
    pub keys: Mutex<KeySet>,
    pub metadata: Mutex<Metadata>,
    pub extra_jwks: Mutex<Vec<Value>>,
    pub jwks_cache_control: Mutex<Option<String>>,
    pub switches: Mutex<[Switch; 5]>,
    counters: [AtomicU64; 6],
    pub opaque: Mutex<HashMap<String, Value>>,
    pub userinfo: Mutex<HashMap<String, Value>>,
    records: Mutex<Records>,
}

/// Locks a mutex, recovering from poisoning (a panicking test thread must not
/// wedge the server for the others).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    /// Whether `path` serves a published metadata document.
    pub(super) fn metadata_published(&self, path: &str) -> bool {
        lock(&self.metadata)
            .published
            .iter()
            .any(|doc| self.cfg.metadata_path(*doc) == path)
    }

    pub(super) fn new(cfg: Config, keys: KeySet, jwks_cache_control: Option<String>) -> State {
        State {
            cfg,
            keys: Mutex::new(keys),
            metadata: Mutex::new(Metadata::default()),
            extra_jwks: Mutex::new(Vec::new()),
            jwks_cache_control: Mutex::new(jwks_cache_control),
            switches: Mutex::new(Default::default()),
            counters: Default::default(),
            opaque: Mutex::new(HashMap::new()),
            userinfo: Mutex::new(HashMap::new()),
            records: Mutex::new(Records::default()),
        }
    }

    pub(super) fn count(&self, endpoint: Option<IdpEndpoint>) {
        let index = endpoint.map_or(5, IdpEndpoint::index);
        self.counters[index].fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn counts(&self) -> Counts {
        let c = |i: usize| self.counters[i].load(Ordering::SeqCst);
        Counts {
            discovery: c(0),
            jwks: c(1),
            introspection: c(2),
            userinfo: c(3),
            token: c(4),
            unexpected: c(5),
        }
    }

    pub(super) fn reset(&self) {
        for counter in &self.counters {
            counter.store(0, Ordering::SeqCst);
        }
        *lock(&self.records) = Records::default();
    }

    pub(super) fn switch(&self, endpoint: IdpEndpoint) -> Switch {
        lock(&self.switches)[endpoint.index()].clone()
    }

    pub(super) fn update_switch(&self, endpoint: IdpEndpoint, f: impl FnOnce(&mut Switch)) {
        f(&mut lock(&self.switches)[endpoint.index()]);
    }

    pub(super) fn record_request(&self, request: RecordedRequest) {
        let mut records = lock(&self.records);
        if request.endpoint.is_none() {
            let query = request
                .query
                .as_deref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            records
                .unexpected
                .push(format!("{} {}{query}", request.method, request.path));
        }
        push_bounded(&mut records.requests, request);
    }

    pub(super) fn record_introspection(&self, call: IntrospectionCall) {
        push_bounded(&mut lock(&self.records).introspections, call);
    }

    pub(super) fn record_token_call(&self, call: TokenCall) {
        push_bounded(&mut lock(&self.records).token_calls, call);
    }

    pub(super) fn with_records<R>(&self, f: impl FnOnce(&Records) -> R) -> R {
        f(&lock(&self.records))
    }
}
