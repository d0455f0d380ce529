//! `AdminState`: what the host hands to the admin routes.

use std::sync::Arc;
use std::time::Duration;

use warden_core::{BearerGuard, ToolRegistry};
use warden_metrics::Metrics;

use crate::AdminConfig;

/// What `POST /admin/v1/dev/tokens` asks the dev issuer for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevMintRequest {
    /// Subject (`sub`).
    pub sub: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Lifetime.
    pub ttl: Duration,
    /// Audience; `None` = the issuer's default (the canonical MCP URL).
    pub audience: Option<String>,
}

/// Mints development tokens (implemented by the host over the dev issuer).
pub trait DevMinter: Send + Sync {
    /// Signs a token for `request`; the error message is shown to the admin
    /// (it must not contain secrets).
    fn mint(&self, request: DevMintRequest) -> Result<String, String>;
}

/// Any `Fn(DevMintRequest) -> Result<String, String>` is a minter, e.g.
/// `move |r| issuer.mint(MintRequest { … }).map_err(|e| e.to_string())`.
impl<F> DevMinter for F
where
    F: Fn(DevMintRequest) -> Result<String, String> + Send + Sync,
{
    fn mint(&self, request: DevMintRequest) -> Result<String, String> {
        self(request)
    }
}

/// Everything the admin routes read or act on. Built by the host.
///
/// ```
/// use std::sync::Arc;
/// use warden_admin::{AdminConfig, AdminState};
/// use warden_core::*;
///
/// let guard = BearerGuard::new(
///     ProviderSet::new(vec![]),
///     BearerPolicy::default(),
///     ChallengeContext { resource_metadata: "http://127.0.0.1:10000/.well-known/oauth-protected-resource/mcp".into(), scopes: vec![] },
///     noop_observer(),
/// );
/// let state = AdminState::new(Arc::new(guard), Arc::new(ToolRegistry::new()))
///     .with_config(serde_json::json!({ "admin": { "token": "***" } }))
///     .with_admin_config(&AdminConfig { token: Some("admin-secret".into()), ..Default::default() });
/// assert!(!format!("{state:?}").contains("admin-secret"));
/// ```
#[derive(Clone)]
pub struct AdminState {
    /// The guard serving real traffic (its providers, policy and `explain`).
    pub guard: Arc<BearerGuard>,
    /// The enabled tools.
    pub tools: Arc<ToolRegistry>,
    /// The effective config, **already redacted** by the host; served as-is by `GET /admin/v1/config`.
    pub config: serde_json::Value,
    /// The dev issuer, when a dev provider is configured (`POST /admin/v1/dev/tokens`).
    pub dev: Option<Arc<dyn DevMinter>>,
    /// The metrics served at `GET /metrics` (404 when `None`).
    pub metrics: Option<Arc<Metrics>>,
    /// The admin bearer token (secret); `None` or empty = protected routes answer 403.
    pub admin_token: Option<String>,
    /// Whether `GET /metrics` requires the admin token.
    pub metrics_require_token: bool,
}

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("providers", &self.guard.providers().providers().len())
            .field("tools", &self.tools.len())
            .field("dev", &self.dev.is_some())
            .field("metrics", &self.metrics.is_some())
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("metrics_require_token", &self.metrics_require_token)
            .finish_non_exhaustive()
    }
}

impl AdminState {
    /// State over `guard` and `tools`; no config, dev issuer, metrics or token.
    pub fn new(guard: Arc<BearerGuard>, tools: Arc<ToolRegistry>) -> Self {
        Self {
            guard,
            tools,
            config: serde_json::Value::Object(Default::default()),
            dev: None,
            metrics: None,
            admin_token: None,
            metrics_require_token: false,
        }
    }

    /// Sets the (already redacted) config document.
    pub fn with_config(mut self, config: serde_json::Value) -> Self {
        self.config = config;
        self
    }

    /// Sets the dev issuer.
    pub fn with_dev(mut self, dev: Arc<dyn DevMinter>) -> Self {
        self.dev = Some(dev);
        self
    }

    /// Sets the metrics.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Sets the admin token.
    pub fn with_admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// Takes `token` and `metrics_require_token` from the `[admin]` table.
    pub fn with_admin_config(mut self, config: &AdminConfig) -> Self {
        self.admin_token = config.token().map(str::to_owned);
        self.metrics_require_token = config.metrics_require_token;
        self
    }
}

/// The state the routes share: the token kept only as a SHA-256 digest.
pub(crate) struct Shared {
    pub(crate) guard: Arc<BearerGuard>,
    pub(crate) tools: Arc<ToolRegistry>,
    pub(crate) config: serde_json::Value,
    pub(crate) dev: Option<Arc<dyn DevMinter>>,
    pub(crate) metrics: Option<Arc<Metrics>>,
    pub(crate) token_digest: Option<[u8; 32]>,
    pub(crate) metrics_require_token: bool,
}

impl From<AdminState> for Shared {
    fn from(s: AdminState) -> Self {
        Self {
            token_digest: s
                .admin_token
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(crate::auth::digest),
            guard: s.guard,
            tools: s.tools,
            config: s.config,
            dev: s.dev,
            metrics: s.metrics,
            metrics_require_token: s.metrics_require_token,
        }
    }
}
