//! Request and response bodies of the admin API (typed, so the OpenAPI spec is complete).

use poem_openapi::Object;
use serde::Serialize;
use warden_core::{ProviderStatus, RegisteredTool, Verifier};

/// An error answer: `{ "error": code, "error_description": text }`.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ErrorBody {
    /// A short machine-readable code (`unauthorized`, `not_found`, `unavailable`, …).
    pub error: String,
    /// What went wrong and what to do about it.
    pub error_description: String,
}

impl ErrorBody {
    /// An error body.
    pub fn new(error: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            error_description: description.into(),
        }
    }
}

/// `GET /admin/v1/health`.
#[derive(Debug, Clone, Object, Serialize)]
pub struct HealthBody {
    /// Always `ok`.
    pub status: String,
}

/// Readiness of one provider.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ProviderReadiness {
    /// Provider name (`[providers.NAME]`).
    pub name: String,
    /// Provider kind.
    pub kind: String,
    /// Whether it has its discovery document and keys.
    pub ready: bool,
    /// `ready`, or what is missing (`jwks not loaded`).
    pub state: String,
    /// The last refresh error, if any.
    pub last_error: Option<String>,
}

/// `GET /admin/v1/ready`.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ReadyBody {
    /// Whether every provider is ready.
    pub ready: bool,
    /// Per-provider readiness.
    pub providers: Vec<ProviderReadiness>,
}

/// A signing key held by a provider.
#[derive(Debug, Clone, Object, Serialize)]
pub struct KeyItem {
    /// Key id (`kid`).
    pub kid: String,
    /// Algorithm.
    pub alg: String,
}

/// A token cache of a provider.
#[derive(Debug, Clone, Object, Serialize)]
pub struct CacheItem {
    /// Cache name (`introspection`, `userinfo`, `verified`).
    pub name: String,
    /// Entries held.
    pub entries: u64,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that went upstream.
    pub misses: u64,
}

/// A configured provider and its live state.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ProviderInfo {
    /// Provider name (`[providers.NAME]`).
    pub name: String,
    /// Provider kind (`dev`, `jwt`, `scalekit`, `logto`, `introspection`).
    pub kind: String,
    /// Issuers whose JWTs it verifies.
    pub issuers: Vec<String>,
    /// Audiences it accepts.
    pub audiences: Vec<String>,
    /// What it contributes to the metadata's `authorization_servers`.
    pub authorization_servers: Vec<String>,
    /// Whether it verifies opaque tokens.
    pub accepts_opaque: bool,
    /// Whether it has what it needs (discovery, keys).
    pub ready: bool,
    /// `ready`, or what is missing.
    pub state: String,
    /// Signing keys held.
    pub keys: Vec<KeyItem>,
    /// Last successful refresh, seconds since the Unix epoch.
    pub last_refresh: Option<i64>,
    /// Last refresh error.
    pub last_error: Option<String>,
    /// Token caches with sizes and hit counts.
    pub caches: Vec<CacheItem>,
}

impl ProviderInfo {
    /// Describes `provider` as it is now.
    pub fn of(provider: &dyn Verifier) -> Self {
        let d = provider.descriptor();
        let ProviderStatus {
            ready,
            state,
            keys,
            last_refresh,
            last_error,
            caches,
        } = provider.status();
        Self {
            name: d.name.clone(),
            kind: d.kind.clone(),
            issuers: d.issuers.clone(),
            audiences: d.audiences.clone(),
            authorization_servers: d.authorization_servers.clone(),
            accepts_opaque: d.accepts_opaque,
            ready,
            state,
            keys: keys
                .into_iter()
                .map(|k| KeyItem {
                    kid: k.kid,
                    alg: k.alg,
                })
                .collect(),
            last_refresh,
            last_error,
            caches: caches
                .into_iter()
                .map(|c| CacheItem {
                    name: c.name,
                    entries: c.entries,
                    hits: c.hits,
                    misses: c.misses,
                })
                .collect(),
        }
    }
}

/// `GET /admin/v1/providers`.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ProviderList {
    /// Providers in fallback order.
    pub providers: Vec<ProviderInfo>,
}

/// An enabled tool.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ToolInfo {
    /// Tool name.
    pub name: String,
    /// Human-friendly title.
    pub title: Option<String>,
    /// Description.
    pub description: String,
    /// Scopes a caller needs (on top of the resource's required scopes).
    pub required_scopes: Vec<String>,
    /// Whether the tool is served (listed tools are always enabled).
    pub enabled: bool,
    /// Calls so far.
    pub calls: u64,
    /// Failed calls so far.
    pub errors: u64,
}

impl ToolInfo {
    /// Describes a registered tool.
    pub fn of(tool: &RegisteredTool) -> Self {
        let spec = tool.tool.spec();
        let (calls, errors) = tool.counts();
        Self {
            name: spec.name.clone(),
            title: spec.title.clone(),
            description: spec.description.clone(),
            required_scopes: tool.required_scopes.clone(),
            enabled: true,
            calls,
            errors,
        }
    }
}

/// `GET /admin/v1/tools`.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ToolList {
    /// Tools in registration order.
    pub tools: Vec<ToolInfo>,
}

/// `POST /admin/v1/tokens/explain`.
#[derive(Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ExplainRequest {
    /// The bearer token to examine (never logged, stored or echoed).
    pub token: String,
}

impl std::fmt::Debug for ExplainRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExplainRequest")
            .field("token", &"<redacted>")
            .finish()
    }
}

/// One check of a token explanation.
#[derive(Debug, Clone, Object, Serialize)]
pub struct CheckItem {
    /// What was checked (`routing`, `format`, `header`, `key`, `signature`,
    /// `issuer`, `audience`, `expiry`, `not_before`, `scopes`, …).
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

/// Who an accepted token speaks for.
#[derive(Debug, Clone, Object, Serialize)]
pub struct Identity {
    /// `sub`.
    pub sub: Option<String>,
    /// `iss`.
    pub issuer: Option<String>,
    /// `client_id` / `azp`.
    pub client_id: Option<String>,
    /// `aud`.
    pub audiences: Vec<String>,
    /// Granted scopes (normalised).
    pub scopes: Vec<String>,
    /// `exp`, seconds since the Unix epoch.
    pub exp: Option<i64>,
}

/// Whether the token could call one tool.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ToolAccess {
    /// Tool name.
    pub name: String,
    /// Whether a call would be allowed.
    pub allowed: bool,
    /// Every scope the call needs (resource + tool).
    pub required_scopes: Vec<String>,
    /// Scopes the token lacks (empty when the token itself was rejected for another reason).
    pub missing_scopes: Vec<String>,
    /// `allowed`, `missing scopes`, or why the token was rejected.
    pub reason: String,
}

/// The answer of `POST /admin/v1/tokens/explain` (also what `warden explain-token` prints).
#[derive(Debug, Clone, Object, Serialize)]
pub struct TokenExplanation {
    /// The provider the token routes to (absent when routing failed).
    pub provider: Option<String>,
    /// Whether the guard would accept it for the MCP endpoint.
    pub accepted: bool,
    /// `accepted` or the rejection reason (`expired`, `wrong_audience`, …; the
    /// `outcome` label of `warden_auth_decisions_total`).
    pub outcome: String,
    /// The rejection as the guard reports it.
    pub error: Option<String>,
    /// HTTP status the MCP endpoint would answer with on rejection (401, 403, 400, 503).
    pub status: Option<u16>,
    /// Every check in order.
    pub checks: Vec<CheckItem>,
    /// The identity, when accepted.
    pub identity: Option<Identity>,
    /// Per-tool access.
    pub tools: Vec<ToolAccess>,
}

/// `POST /admin/v1/dev/tokens` (the options of `warden token`).
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct DevTokenRequest {
    /// Subject; default `alice`.
    pub sub: Option<String>,
    /// Space-delimited scopes; default `news:read profile`.
    pub scope: Option<String>,
    /// Lifetime (`1h`, `15m`, `90s`); default `1h`.
    pub ttl: Option<String>,
    /// Audience; default the canonical MCP URL.
    pub aud: Option<String>,
}

/// A minted dev token.
#[derive(Clone, Object)]
pub struct DevToken {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// Granted scopes, space-delimited.
    pub scope: String,
}

impl std::fmt::Debug for DevToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevToken")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}
