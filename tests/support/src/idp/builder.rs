//! [`FakeIdpBuilder`]: configuration and start-up of a [`FakeIdp`].

use std::sync::{Arc, Mutex};

use jsonwebtoken::Algorithm;

use super::server::bind;
use super::state::{ClientAuth, Config, KeySet, State};
use super::{FakeIdp, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use crate::tokens::TestKey;

/// Configures a [`FakeIdp`]; obtain it with [`FakeIdp::builder`].
#[derive(Debug, Clone)]
pub struct FakeIdpBuilder {
    algs: Vec<Algorithm>,
    keys: Vec<TestKey>,
    issuer_path: String,
    jwks_path: Option<String>,
    introspection_path: Option<String>,
    userinfo_path: Option<String>,
    token_path: Option<String>,
    clients: Vec<(String, String)>,
    auth_methods: Vec<ClientAuth>,
    scopes_supported: Vec<String>,
    token_ttl: i64,
    cache_control: Option<String>,
    fresh_keys: bool,
    down: bool,
}

fn normalize_path(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed {
        "" => String::new(),
        p if p.starts_with('/') => p.to_owned(),
        p => format!("/{p}"),
    }
}

impl FakeIdpBuilder {
    pub(super) fn with_defaults() -> FakeIdpBuilder {
        FakeIdpBuilder {
            algs: vec![Algorithm::RS256],
            keys: Vec::new(),
            issuer_path: String::new(),
            jwks_path: None,
            introspection_path: None,
            userinfo_path: None,
            token_path: None,
            clients: vec![(DEFAULT_CLIENT_ID.into(), DEFAULT_CLIENT_SECRET.into())],
            auth_methods: vec![ClientAuth::Basic, ClientAuth::Post],
            scopes_supported: ["openid", "profile", "email", "offline_access"]
                .map(String::from)
                .to_vec(),
            token_ttl: 3600,
            cache_control: None,
            fresh_keys: false,
            down: false,
        }
    }

    /// One published key per algorithm, the first one current (signs
    /// [`FakeIdp::mint`] and the token endpoint). Default `[RS256]`.
    ///
    /// # Panics
    /// At [`start`](Self::start) if empty or for HMAC algorithms.
    pub fn algs(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algs = algs.into_iter().collect();
        self
    }

    /// Publish exactly these keys (chosen kids, keys a test already holds);
    /// the first one is current. Replaces [`algs`](Self::algs).
    pub fn keys(mut self, keys: impl IntoIterator<Item = TestKey>) -> Self {
        self.keys = keys.into_iter().collect();
        self
    }

    /// Issuer path (e.g. `"/oidc"`): issuer = `http://127.0.0.1:PORT{path}`.
    /// Default paths of the other endpoints follow it.
    pub fn issuer_path(mut self, path: &str) -> Self {
        self.issuer_path = normalize_path(path);
        self
    }

    /// Absolute JWKS path on the server (Scalekit: `"/keys"`).
    pub fn jwks_path(mut self, path: &str) -> Self {
        self.jwks_path = Some(normalize_path(path));
        self
    }

    /// Absolute introspection path (default `{P}/introspect`).
    pub fn introspection_path(mut self, path: &str) -> Self {
        self.introspection_path = Some(normalize_path(path));
        self
    }

    /// Absolute userinfo path (default `{P}/userinfo`).
    pub fn userinfo_path(mut self, path: &str) -> Self {
        self.userinfo_path = Some(normalize_path(path));
        self
    }

    /// Absolute token endpoint path (default `{P}/token`).
    pub fn token_path(mut self, path: &str) -> Self {
        self.token_path = Some(normalize_path(path));
        self
    }

    /// Logto's layout: issuer path `/oidc`, JWKS `/oidc/jwks`, userinfo
    /// `/oidc/me`, introspection `/oidc/token/introspection`, token
    /// `/oidc/token`, and an ES384 signing key (call [`algs`](Self::algs)
    /// afterwards to change it).
    pub fn logto_style(self) -> Self {
        self.issuer_path("/oidc")
            .jwks_path("/oidc/jwks")
            .userinfo_path("/oidc/me")
            .introspection_path("/oidc/token/introspection")
            .token_path("/oidc/token")
            .algs([Algorithm::ES384])
    }

    /// Replace the accepted clients with this one (default
    /// [`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`]).
    pub fn client(mut self, id: &str, secret: &str) -> Self {
        self.clients = vec![(id.to_owned(), secret.to_owned())];
        self
    }

    /// Accept one more client.
    pub fn add_client(mut self, id: &str, secret: &str) -> Self {
        self.clients.push((id.to_owned(), secret.to_owned()));
        self
    }

    /// Client authentication methods accepted at the introspection and token
    /// endpoints and advertised in discovery (default Basic and Post). A
    /// method not listed is answered 401 `invalid_client`.
    pub fn client_auth_methods(mut self, methods: impl IntoIterator<Item = ClientAuth>) -> Self {
        self.auth_methods = methods.into_iter().collect();
        self
    }

    /// `scopes_supported` in discovery.
    pub fn scopes_supported<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Lifetime of tokens from the token endpoint (default 3600 s).
    pub fn token_ttl(mut self, secs: i64) -> Self {
        self.token_ttl = secs;
        self
    }

    /// `Cache-Control: max-age=N` on the JWKS (`None`: no header, the default).
    pub fn cache_control_max_age(mut self, secs: Option<u64>) -> Self {
        self.cache_control = secs.map(|s| format!("max-age={s}"));
        self
    }

    /// Any `Cache-Control` value on the JWKS (e.g. `"no-store"`).
    pub fn jwks_cache_control(mut self, value: Option<&str>) -> Self {
        self.cache_control = value.map(str::to_owned);
        self
    }

    /// Generate fresh key material for this IdP (and its rotations) instead
    /// of drawing RSA keys from the process-wide pool. Slower.
    pub fn fresh_keys(mut self) -> Self {
        self.fresh_keys = true;
        self
    }

    /// Start with every endpoint answering 503 ([`Fault::Down`]); bring it
    /// up with [`FakeIdp::set_all_down`]`(false)`.
    pub fn down(mut self) -> Self {
        self.down = true;
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    ///
    /// # Panics
    /// If no port can be bound or the algorithms are unusable.
    pub async fn start(self) -> FakeIdp {
        let idp = self.start_stopped().await;
        idp.restart().await;
        idp
    }

    /// Reserves a port and builds everything, but does not listen: the port
    /// refuses connections until [`FakeIdp::restart`]. (The port is
    /// released meanwhile; another process could take it, which is unlikely
    /// with the kernel's randomized ephemeral ports.)
    pub async fn start_stopped(self) -> FakeIdp {
        assert!(
            !self.algs.is_empty() || !self.keys.is_empty(),
            "FakeIdp needs at least one algorithm or key"
        );
        let listener = bind(0).await.expect("bind FakeIdp on 127.0.0.1:0");
        let port = listener.local_addr().expect("FakeIdp address").port();
        drop(listener);

        let p = self.issuer_path.clone();
        let or =
            |path: Option<String>, default: &str| path.unwrap_or_else(|| format!("{p}{default}"));
        let cfg = Config {
            origin: format!("http://127.0.0.1:{port}"),
            jwks_path: or(self.jwks_path, "/jwks"),
            introspection_path: or(self.introspection_path, "/introspect"),
            userinfo_path: or(self.userinfo_path, "/userinfo"),
            token_path: or(self.token_path, "/token"),
            authorization_path: format!("{p}/authorize"),
            issuer_path: self.issuer_path,
            clients: self.clients,
            auth_methods: self.auth_methods,
            scopes_supported: self.scopes_supported,
            token_ttl: self.token_ttl,
        };
        let mut keys: Vec<TestKey> = self.keys;
        if keys.is_empty() {
            for alg in self.algs {
                let key = new_key(self.fresh_keys, alg, &keys);
                keys.push(key);
            }
        }
        let state = Arc::new(State::new(
            cfg,
            KeySet { keys, current: 0 },
            self.cache_control,
        ));
        let idp = FakeIdp {
            state,
            port,
            fresh_keys: self.fresh_keys,
            server: Mutex::new(None),
        };
        if self.down {
            idp.set_all_down(true);
        }
        idp
    }
}

pub(super) fn new_key(fresh: bool, alg: Algorithm, existing: &[TestKey]) -> TestKey {
    if fresh {
        TestKey::generate(alg)
    } else {
        let exclude: Vec<&TestKey> = existing.iter().collect();
        TestKey::pooled_excluding(alg, &exclude)
    }
}
