//! Test fixtures: a fake provider whose IdP can be up or down, a fake tool,
//! a fake dev minter, and a loopback server for the admin routes.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::Server;
use serde_json::{Map, Value};
use warden_admin::{admin_routes, AdminState, DevMintRequest, DevMinter};
use warden_core::*;

pub(crate) const ADMIN_TOKEN: &str = "admin-S3CRET-token-value-0001";
pub(crate) const ISSUER: &str = "https://fake-idp.example";
pub(crate) const RESOURCE: &str = "http://127.0.0.1:10000/mcp";

/// A provider whose behaviour is chosen by the token text.
pub(crate) struct FakeProvider {
    desc: ProviderDescriptor,
    pub idp_up: AtomicBool,
    ready: AtomicBool,
    pub refreshes: AtomicU64,
    pub flushes: AtomicU64,
    entries: AtomicU64,
    hits: AtomicU64,
    refreshed_at: AtomicU64,
}

impl FakeProvider {
    pub(crate) fn new(name: &str, ready: bool) -> Arc<Self> {
        Arc::new(Self {
            desc: ProviderDescriptor {
                name: name.into(),
                kind: "fake".into(),
                issuers: vec![ISSUER.into()],
                accepts_opaque: true,
                authorization_servers: vec![ISSUER.into()],
                audiences: vec![RESOURCE.into()],
            },
            idp_up: AtomicBool::new(ready),
            ready: AtomicBool::new(ready),
            refreshes: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
            entries: AtomicU64::new(3),
            hits: AtomicU64::new(7),
            refreshed_at: AtomicU64::new(0),
        })
    }

    fn info(&self, scopes: &[&str]) -> AuthInfo {
        AuthInfo {
            subject: Some("alice".into()),
            issuer: Some(ISSUER.into()),
            client_id: Some("client-123".into()),
            audiences: vec![RESOURCE.into()],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at: Some(4_000_000_000),
            claims: Map::new(),
            provider: self.desc.name.clone(),
        }
    }

    fn decide(&self, token: &str) -> (Vec<Check>, Result<AuthInfo, AuthError>) {
        let fmt = Check::new("format", true, "opaque token");
        match token {
            "good-alice" => (
                vec![fmt, Check::new("introspection", true, "active")],
                Ok(self.info(&["news:read", "profile"])),
            ),
            "good-profile-only" => (
                vec![fmt, Check::new("introspection", true, "active")],
                Ok(self.info(&["profile"])),
            ),
            "good-no-scopes" => (
                vec![fmt, Check::new("introspection", true, "active")],
                Ok(self.info(&[])),
            ),
            "expired-token" => (
                vec![fmt, Check::new("expiry", false, "expired at 1000")],
                Err(AuthError::Expired { exp: 1000 }),
            ),
            "wrong-aud-token" => (
                vec![
                    fmt,
                    Check::new("audience", false, "aud [\"https://other.example\"]"),
                ],
                Err(AuthError::WrongAudience {
                    audiences: vec!["https://other.example".into()],
                }),
            ),
            "bad-sig-token" => (
                vec![
                    fmt,
                    Check::new("signature", false, "signature does not verify"),
                ],
                Err(AuthError::BadSignature),
            ),
            "future-token" => (
                vec![fmt, Check::new("not_before", false, "nbf 5000000000")],
                Err(AuthError::NotYetValid { nbf: 5_000_000_000 }),
            ),
            "idp-down-token" => (
                vec![
                    fmt,
                    Check::new("introspection", false, "connection refused"),
                ],
                Err(AuthError::unavailable(
                    &self.desc.name,
                    "connection refused",
                )),
            ),
            t if t.starts_with("leaky-") => (
                // A careless provider echoing the token: the admin API must scrub it.
                vec![
                    fmt,
                    Check::new("introspection", false, format!("server said no to {t}")),
                ],
                Err(AuthError::Inactive),
            ),
            _ => (
                vec![fmt, Check::new("introspection", false, "inactive")],
                Err(AuthError::Inactive),
            ),
        }
    }
}

#[async_trait]
impl Verifier for FakeProvider {
    async fn verify(&self, token: &str) -> Result<AuthInfo, AuthError> {
        self.decide(token).1
    }

    fn descriptor(&self) -> &ProviderDescriptor {
        &self.desc
    }

    fn status(&self) -> ProviderStatus {
        let ready = self.ready.load(Ordering::SeqCst);
        let at = self.refreshed_at.load(Ordering::SeqCst);
        ProviderStatus {
            ready,
            state: if ready {
                "ready".into()
            } else {
                "jwks not loaded".into()
            },
            keys: if ready {
                vec![KeyInfo {
                    kid: "k1".into(),
                    alg: "RS256".into(),
                }]
            } else {
                vec![]
            },
            last_refresh: (at > 0).then_some(at as i64),
            last_error: (!ready).then(|| "idp unreachable".to_owned()),
            caches: vec![CacheStats {
                name: "introspection".into(),
                entries: self.entries.load(Ordering::SeqCst),
                hits: self.hits.load(Ordering::SeqCst),
                misses: 2,
            }],
        }
    }

    async fn refresh(&self) -> Result<(), AuthError> {
        let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        if !self.idp_up.load(Ordering::SeqCst) {
            return Err(AuthError::unavailable(
                &self.desc.name,
                "connection refused",
            ));
        }
        self.ready.store(true, Ordering::SeqCst);
        self.refreshed_at.store(1_700_000_000 + n, Ordering::SeqCst);
        Ok(())
    }

    fn flush_caches(&self) {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        self.entries.store(0, Ordering::SeqCst);
    }

    async fn explain(&self, token: &str) -> (Vec<Check>, Result<AuthInfo, AuthError>) {
        self.decide(token)
    }
}

/// A tool needing `scopes`.
pub(crate) struct FakeTool(ToolSpec);

impl FakeTool {
    pub(crate) fn new(name: &str, scopes: &[&str]) -> Arc<Self> {
        Arc::new(Self(ToolSpec {
            name: name.into(),
            title: Some(format!("The {name} tool")),
            description: format!("{name} does things"),
            input_schema: Map::new(),
            output_schema: None,
            required_scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }))
    }
}

#[async_trait]
impl Tool for FakeTool {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }

    async fn call(&self, _: Map<String, Value>, _: &AuthInfo) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput {
            text: "ok".into(),
            structured: Value::Null,
        })
    }
}

/// Records what it was asked to mint.
#[derive(Default)]
pub(crate) struct FakeMinter {
    pub last: std::sync::Mutex<Option<DevMintRequest>>,
}

impl DevMinter for FakeMinter {
    fn mint(&self, request: DevMintRequest) -> Result<String, String> {
        if request.ttl > std::time::Duration::from_secs(24 * 3600) {
            return Err("ttl is longer than 24h".into());
        }
        *self.last.lock().unwrap() = Some(request);
        Ok("dev.jwt.minted".into())
    }
}

/// A guard over `providers` requiring `resource_scopes`, and tools `whoami` (profile) and
/// `news_sentiment` (news:read).
pub(crate) fn fixture(
    providers: Vec<Arc<dyn Verifier>>,
    resource_scopes: &[&str],
) -> (Arc<BearerGuard>, Arc<ToolRegistry>) {
    let guard = BearerGuard::new(
        ProviderSet::new(providers),
        BearerPolicy {
            required_scopes: resource_scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        },
        ChallengeContext {
            resource_metadata: "http://127.0.0.1:10000/.well-known/oauth-protected-resource/mcp"
                .into(),
            scopes: vec![],
        },
        noop_observer(),
    );
    let mut tools = ToolRegistry::new();
    tools.register(FakeTool::new("whoami", &["profile"]), None);
    tools.register(FakeTool::new("news_sentiment", &["news:read"]), None);
    (Arc::new(guard), Arc::new(tools))
}

/// A running admin server.
pub(crate) struct Admin {
    pub base: String,
    pub client: reqwest::Client,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Admin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Admin {
    pub(crate) async fn start(state: AdminState) -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind loopback");
        let addr: SocketAddr = *acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("socket address");
        let task = tokio::spawn(Server::new_with_acceptor(acceptor).run(admin_routes(state)));
        Self {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            task,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GET with the admin token.
    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn post_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn send(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("request")
    }
}
