//! [`FakeIdp`]: a running fake authorization server on `127.0.0.1:0` with
//! real keys, real signatures and real HTTP, plus [`Trap`], a server that
//! must never be contacted.
//!
//! Served (all paths configurable through [`FakeIdpBuilder`]; `{P}` is the
//! issuer path, empty by default, `/oidc` with [`FakeIdpBuilder::logto_style`]):
//!
//! | endpoint | default path | notes |
//! |---|---|---|
//! | discovery | `{P}/.well-known/openid-configuration`, `/.well-known/oauth-authorization-server{P}` (and `{P}/.well-known/oauth-authorization-server`) | same document; which ones are published and what they say: [`FakeIdp::set_metadata_documents`], [`FakeIdp::set_discovery_document`] |
//! | JWKS | `{P}/jwks` | optional `Cache-Control` |
//! | introspection | `{P}/introspect` (POST) | RFC 7662, `client_secret_basic` / `client_secret_post` |
//! | userinfo | `{P}/userinfo` (GET/POST) | `Authorization: Bearer` |
//! | token | `{P}/token` (POST) | `client_credentials`, `resource` → `aud` |
//!
//! Any other path answers 404 and is recorded ([`FakeIdp::unexpected_requests`]).
//!
//! Keys: RSA key pairs come from the pool in [`crate::tokens`], so two
//! `FakeIdp`s in one test binary may share an RSA key pair under different
//! kids (keys within one IdP, including rotations, never do). For a foreign or
//! attacker key use [`TestKey::generate`], or [`FakeIdpBuilder::fresh_keys`].
//!
//! ```no_run
//! # async fn demo() {
//! use warden_test_support::idp::{FakeIdp, IdpEndpoint};
//!
//! let idp = FakeIdp::start().await; // RS256
//! let token = idp.mint(idp.claims("http://127.0.0.1:9/mcp", "alice", "read write"));
//! let opaque = idp.register_active("alice", "read", "http://127.0.0.1:9/mcp");
//! idp.set_down(IdpEndpoint::Jwks, true); // 503 from now on
//! assert_eq!(idp.counts().jwks, 0);
//! # let _ = (token, opaque);
//! # }
//! ```

mod builder;
mod handlers;
mod server;
mod state;
mod trap;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use serde::Serialize;
use serde_json::{json, Value};

pub use builder::FakeIdpBuilder;
pub use state::{
    ClientAuth, Counts, Fault, IdpEndpoint, IntrospectionCall, MetadataDocument, RecordedRequest,
    TokenCall, RECORD_LIMIT,
};
pub use trap::Trap;

use crate::tokens::{self, now, TestKey};
use builder::new_key;
use server::{bind, Running};
use state::{lock, KeySet, State};

/// Default client id accepted at the introspection and token endpoints.
pub const DEFAULT_CLIENT_ID: &str = "warden-test";
/// Default client secret for [`DEFAULT_CLIENT_ID`].
pub const DEFAULT_CLIENT_SECRET: &str = "warden-test-secret";

/// A running fake authorization server. Dropping it stops the server.
///
/// All methods but [`stop`](Self::stop)/[`restart`](Self::restart) are
/// synchronous and take `&self`, so the handle can be shared through an
/// `Arc` with a server under test.
pub struct FakeIdp {
    state: Arc<State>,
    port: u16,
    fresh_keys: bool,
    server: Mutex<Option<Running>>,
}

impl std::fmt::Debug for FakeIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeIdp")
            .field("issuer", &self.issuer())
            .field("running", &self.is_running())
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

impl FakeIdp {
    /// A builder with the defaults: RS256, no issuer path, default client.
    pub fn builder() -> FakeIdpBuilder {
        FakeIdpBuilder::with_defaults()
    }

    /// Starts with the defaults.
    pub async fn start() -> FakeIdp {
        Self::builder().start().await
    }

    /// Starts with the defaults, every endpoint answering 503.
    pub async fn start_down() -> FakeIdp {
        Self::builder().down().start().await
    }

    // ---- addresses -------------------------------------------------------

    /// The port (stable across [`stop`](Self::stop)/[`restart`](Self::restart)).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        self.state.cfg.origin.clone()
    }

    /// The issuer: `http://127.0.0.1:PORT{issuer_path}` (no trailing slash).
    pub fn issuer(&self) -> String {
        self.state.cfg.issuer()
    }

    /// `origin + path` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        self.state.cfg.url(path)
    }

    /// `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer())
    }

    /// RFC 8414: `{origin}/.well-known/oauth-authorization-server{issuer_path}`.
    pub fn metadata_url(&self) -> String {
        self.url(&format!(
            "/.well-known/oauth-authorization-server{}",
            self.state.cfg.issuer_path
        ))
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> String {
        self.url(&self.state.cfg.jwks_path)
    }

    /// The introspection endpoint URL.
    pub fn introspection_url(&self) -> String {
        self.url(&self.state.cfg.introspection_path)
    }

    /// The userinfo endpoint URL.
    pub fn userinfo_url(&self) -> String {
        self.url(&self.state.cfg.userinfo_path)
    }

    /// The token endpoint URL.
    pub fn token_url(&self) -> String {
        self.url(&self.state.cfg.token_path)
    }

    /// The first configured client id.
    pub fn client_id(&self) -> String {
        self.state
            .cfg
            .clients
            .first()
            .map(|c| c.0.clone())
            .unwrap_or_default()
    }

    /// The first configured client secret.
    pub fn client_secret(&self) -> String {
        self.state
            .cfg
            .clients
            .first()
            .map(|c| c.1.clone())
            .unwrap_or_default()
    }

    /// The URL of one metadata document (published or not).
    pub fn metadata_document_url(&self, doc: MetadataDocument) -> String {
        self.url(&self.state.cfg.metadata_path(doc))
    }

    /// The generated discovery document (to tweak and serve back with
    /// [`set_discovery_document`](Self::set_discovery_document) or
    /// [`Fault::Respond`]).
    pub fn discovery_document(&self) -> Value {
        handlers::discovery_document(&self.state)
    }

    /// Publishes only these metadata documents (all by default); requests
    /// for the others are counted as discovery requests and answered 404.
    pub fn set_metadata_documents(&self, docs: &[MetadataDocument]) {
        lock(&self.state.metadata).published = docs.to_vec();
    }

    /// Serves `document` verbatim at the published metadata paths (e.g. one
    /// naming another issuer, or with a relative `jwks_uri`); `None`: the
    /// generated document again.
    pub fn set_discovery_document(&self, document: Option<Value>) {
        lock(&self.state.metadata).document = document;
    }

    /// The JWKS as served right now.
    pub fn jwks(&self) -> Value {
        handlers::jwks_document(&self.state)
    }

    // ---- keys --------------------------------------------------------------

    /// The current signing key.
    pub fn current_key(&self) -> TestKey {
        lock(&self.state.keys).current().clone()
    }

    /// The published key for `alg`: the current key if it has that
    /// algorithm, else the most recently added one.
    ///
    /// # Panics
    /// If no published key has `alg`.
    pub fn key(&self, alg: Algorithm) -> TestKey {
        let keys = lock(&self.state.keys);
        if keys.current().alg() == alg {
            return keys.current().clone();
        }
        keys.keys
            .iter()
            .rev()
            .find(|k| k.alg() == alg)
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "FakeIdp publishes no {alg:?} key; use builder().algs(..) or add_key({alg:?})"
                )
            })
    }

    /// Every published key, in publication order.
    pub fn keys(&self) -> Vec<TestKey> {
        lock(&self.state.keys).keys.clone()
    }

    /// Publishes a new key for `alg` (not current) and returns it.
    pub fn add_key(&self, alg: Algorithm) -> TestKey {
        let mut keys = lock(&self.state.keys);
        let key = new_key(self.fresh_keys, alg, &keys.keys);
        keys.keys.push(key.clone());
        key
    }

    /// Publishes `key` (not current), e.g. one with a chosen kid.
    pub fn publish(&self, key: TestKey) {
        lock(&self.state.keys).keys.push(key);
    }

    /// Replaces the published keys with `keys`; the first one becomes current.
    ///
    /// # Panics
    /// If `keys` is empty.
    pub fn set_keys(&self, keys: Vec<TestKey>) {
        assert!(!keys.is_empty(), "FakeIdp needs at least one key");
        *lock(&self.state.keys) = KeySet { keys, current: 0 };
    }

    /// Rotation, step one: publishes a new key with the current key's
    /// algorithm and makes it current. The old keys stay published.
    pub fn rotate(&self) -> TestKey {
        let alg = self.current_key().alg();
        self.rotate_to(alg)
    }

    /// Like [`rotate`](Self::rotate), with another algorithm.
    pub fn rotate_to(&self, alg: Algorithm) -> TestKey {
        let mut keys = lock(&self.state.keys);
        let key = new_key(self.fresh_keys, alg, &keys.keys);
        keys.keys.push(key.clone());
        keys.current = keys.keys.len() - 1;
        key
    }

    /// Rotation, step two: unpublishes every key but the current one and
    /// returns their kids.
    pub fn retire_old(&self) -> Vec<String> {
        let mut keys = lock(&self.state.keys);
        let current = keys.current().clone();
        let retired = keys
            .keys
            .iter()
            .filter(|k| k.kid() != current.kid())
            .map(|k| k.kid().to_owned())
            .collect();
        keys.keys = vec![current];
        keys.current = 0;
        retired
    }

    /// [`rotate`](Self::rotate) and [`retire_old`](Self::retire_old) in one step.
    pub fn roll(&self) -> TestKey {
        let key = self.rotate();
        self.retire_old();
        key
    }

    /// Unpublishes the key with `kid`; `false` if there is none.
    ///
    /// # Panics
    /// If `kid` is the current key and others are left (make another one
    /// current first) or it is the last key.
    pub fn remove_key(&self, kid: &str) -> bool {
        let mut keys = lock(&self.state.keys);
        let Some(index) = keys.keys.iter().position(|k| k.kid() == kid) else {
            return false;
        };
        assert_ne!(
            index, keys.current,
            "cannot remove the current key {kid}; set_current first"
        );
        let current_kid = keys.current().kid().to_owned();
        keys.keys.remove(index);
        keys.current = keys
            .keys
            .iter()
            .position(|k| k.kid() == current_kid)
            .unwrap_or(0);
        true
    }

    /// Makes the published key `kid` current.
    ///
    /// # Panics
    /// If no published key has that kid.
    pub fn set_current(&self, kid: &str) {
        let mut keys = lock(&self.state.keys);
        keys.current = keys
            .keys
            .iter()
            .position(|k| k.kid() == kid)
            .unwrap_or_else(|| panic!("no published key with kid {kid}"));
    }

    /// Extra JWK objects appended to the served JWKS (e.g. an `oct` key, a
    /// `use: enc` key, a malformed entry). Replaces earlier extras.
    pub fn set_extra_jwks(&self, jwks: Vec<Value>) {
        *lock(&self.state.extra_jwks) = jwks;
    }

    // ---- minting -----------------------------------------------------------

    /// Claims of an access token from this IdP: `iss` = issuer, `aud` (string
    /// or array), `sub`, `scope`, `client_id`, `iat`, `exp` = now + 300 s,
    /// `jti`. Edit the returned value freely before minting.
    pub fn claims(&self, aud: impl Into<Value>, sub: &str, scope: &str) -> Value {
        let mut claims = tokens::standard_claims(&self.issuer(), aud, sub, scope, 300);
        claims["client_id"] = json!(self.client_id());
        claims
    }

    /// Signs `claims` with the current key; header `{alg, typ: "JWT", kid}`.
    pub fn mint(&self, claims: impl Serialize) -> String {
        tokens::mint(&self.current_key(), Value::Null, claims)
    }

    /// Signs `claims` with the published key for `alg` (see [`key`](Self::key)),
    /// applying `header_overrides` as [`tokens::mint`] does.
    pub fn mint_with(
        &self,
        alg: Algorithm,
        header_overrides: Value,
        claims: impl Serialize,
    ) -> String {
        tokens::mint(&self.key(alg), header_overrides, claims)
    }

    /// An RFC 9068 access token (`typ: at+jwt`) from [`claims`](Self::claims).
    pub fn access_token(&self, aud: impl Into<Value>, sub: &str, scope: &str) -> String {
        tokens::mint(
            &self.current_key(),
            json!({ "typ": "at+jwt" }),
            self.claims(aud, sub, scope),
        )
    }

    // ---- opaque tokens: introspection and userinfo -------------------------

    /// Registers a fresh random opaque token whose introspection answer is
    /// exactly `answer` (the test controls `active`, `scope`, `aud`, …).
    pub fn register_opaque(&self, answer: Value) -> String {
        let token = random_token();
        self.register_opaque_token(&token, answer);
        token
    }

    /// Sets (or replaces) the introspection answer for a chosen token string.
    pub fn register_opaque_token(&self, token: &str, answer: Value) {
        lock(&self.state.opaque).insert(token.to_owned(), answer);
    }

    /// Registers an active access token: `{"active": true, "scope", "client_id",
    /// "sub", "aud", "iss": issuer, "iat", "exp": now + 300, "token_type": "Bearer"}`.
    pub fn register_active(&self, sub: &str, scope: &str, aud: impl Into<Value>) -> String {
        let iat = now();
        self.register_opaque(json!({
            "active": true,
            "scope": scope,
            "client_id": self.client_id(),
            "sub": sub,
            "aud": aud.into(),
            "iss": self.issuer(),
            "iat": iat,
            "exp": iat + 300,
            "token_type": "Bearer",
        }))
    }

    /// Registers a fresh random opaque token that userinfo answers with `claims`.
    pub fn register_userinfo(&self, claims: Value) -> String {
        let token = random_token();
        self.register_userinfo_token(&token, claims);
        token
    }

    /// Sets (or replaces) the userinfo answer for a chosen token string
    /// (e.g. one also registered with [`register_opaque`](Self::register_opaque)).
    pub fn register_userinfo_token(&self, token: &str, claims: Value) {
        lock(&self.state.userinfo).insert(token.to_owned(), claims);
    }

    /// Revokes `token`: introspection answers `{"active":false}` (if it was
    /// registered there) and userinfo answers 401.
    pub fn revoke(&self, token: &str) {
        if let Some(answer) = lock(&self.state.opaque).get_mut(token) {
            *answer = json!({ "active": false });
        }
        lock(&self.state.userinfo).remove(token);
    }

    // ---- counters and records ----------------------------------------------

    /// Request counts so far.
    pub fn counts(&self) -> Counts {
        self.state.counts()
    }

    /// Zeroes the counters and clears every record.
    pub fn reset_counts(&self) {
        self.state.reset();
    }

    /// The last [`RECORD_LIMIT`] requests, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .with_records(|r| r.requests.iter().cloned().collect())
    }

    /// `"METHOD /path?query"` of every request to an unknown path.
    pub fn unexpected_requests(&self) -> Vec<String> {
        self.state.with_records(|r| r.unexpected.clone())
    }

    /// The last [`RECORD_LIMIT`] introspection calls, oldest first.
    pub fn introspections(&self) -> Vec<IntrospectionCall> {
        self.state
            .with_records(|r| r.introspections.iter().cloned().collect())
    }

    /// The last [`RECORD_LIMIT`] token endpoint calls, oldest first.
    pub fn token_calls(&self) -> Vec<TokenCall> {
        self.state
            .with_records(|r| r.token_calls.iter().cloned().collect())
    }

    /// Waits (polling, bounded by `within`) until `endpoint` has been
    /// requested at least `at_least` times; returns whether it happened.
    pub async fn wait_for_count(
        &self,
        endpoint: IdpEndpoint,
        at_least: u64,
        within: Duration,
    ) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if self.counts().get(endpoint) >= at_least {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    // ---- switches ----------------------------------------------------------

    /// Sets or clears the fault of `endpoint`. `set_down`, `set_status` and
    /// `set_fault` share one slot per endpoint: the last call wins, and
    /// `set_down(ep, false)` / `set_status(ep, None)` clear any fault.
    pub fn set_fault(&self, endpoint: IdpEndpoint, fault: Option<Fault>) {
        self.state.update_switch(endpoint, |s| s.fault = fault);
    }

    /// `true`: answer 503; `false`: answer normally.
    pub fn set_down(&self, endpoint: IdpEndpoint, down: bool) {
        self.set_fault(endpoint, down.then_some(Fault::Down));
    }

    /// [`set_down`](Self::set_down) for every endpoint.
    pub fn set_all_down(&self, down: bool) {
        for endpoint in IdpEndpoint::ALL {
            self.set_down(endpoint, down);
        }
    }

    /// `Some(status)`: answer that status with a JSON error body; `None`: normal.
    pub fn set_status(&self, endpoint: IdpEndpoint, status: Option<u16>) {
        self.set_fault(endpoint, status.map(Fault::Status));
    }

    /// Waits `delay` before answering (`Duration::ZERO`: no delay). Applies
    /// to requests arriving after the call.
    pub fn set_delay(&self, endpoint: IdpEndpoint, delay: Duration) {
        self.state.update_switch(endpoint, |s| s.delay = delay);
    }

    /// Clears every fault and delay.
    pub fn clear_switches(&self) {
        for endpoint in IdpEndpoint::ALL {
            self.state
                .update_switch(endpoint, |s| *s = Default::default());
        }
    }

    /// `Cache-Control: max-age=N` on the JWKS from now on (`None`: no header).
    pub fn set_cache_control_max_age(&self, secs: Option<u64>) {
        *lock(&self.state.jwks_cache_control) = secs.map(|s| format!("max-age={s}"));
    }

    /// Any `Cache-Control` value on the JWKS from now on (`None`: no header).
    pub fn set_jwks_cache_control(&self, value: Option<&str>) {
        *lock(&self.state.jwks_cache_control) = value.map(str::to_owned);
    }

    // ---- lifecycle -----------------------------------------------------------

    /// Whether the server is listening.
    pub fn is_running(&self) -> bool {
        lock(&self.server).is_some()
    }

    /// Closes the listener and breaks open connections: connections are
    /// refused until [`restart`](Self::restart). Returns once the port is closed.
    pub async fn stop(&self) {
        let running = lock(&self.server).take();
        if let Some(running) = running {
            running.stop().await;
        }
    }

    /// Starts listening again on the same port (stopping first if running).
    /// State, keys, registries, counters and switches are kept.
    ///
    /// # Panics
    /// If the port cannot be bound again within a few seconds.
    pub async fn restart(&self) {
        self.stop().await;
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match bind(self.port).await {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(port = self.port, error = %e, "FakeIdp port busy, retrying");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("FakeIdp cannot bind 127.0.0.1:{} again: {e}", self.port),
            }
        };
        let running = Running::spawn(listener, handlers::app(self.state.clone()));
        *lock(&self.server) = Some(running);
    }
}

fn random_token() -> String {
    tokens::b64url(&rand::random::<[u8; 32]>())
}
