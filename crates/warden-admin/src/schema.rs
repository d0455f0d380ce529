//! Request and response bodies of the admin API (typed, so the OpenAPI spec is complete).

use poem_openapi::types::{ParseError, ParseResult};
use poem_openapi::Object;
use serde::Serialize;
use serde_json::Value;
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
    /// The last refresh error; `null` when there is none.
    #[oai(nullable)]
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
    /// Last successful refresh, seconds since the Unix epoch; `null` before the first.
    #[oai(nullable)]
    pub last_refresh: Option<i64>,
    /// Last refresh error; `null` when there is none.
    #[oai(nullable)]
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
    /// Human-friendly title; `null` when the tool has none.
    #[oai(nullable)]
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

/// A JSON string and nothing else (poem-openapi's `String` also takes numbers and
/// booleans, which the document, `type: string`, does not allow).
fn json_string(value: Option<Value>) -> ParseResult<String> {
    match value {
        Some(Value::String(s)) => Ok(s),
        // No echo of the value: it may be a secret.
        _ => Err(ParseError::custom("expected a string")),
    }
}

/// A JSON string, `null` or nothing.
fn json_string_or_null(value: Option<Value>) -> ParseResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ParseError::custom("expected a string or null")),
    }
}

/// Request bodies declared with `deny_unknown_fields`: the served document marks them
/// `additionalProperties: false` (poem-openapi does not).
pub(crate) const CLOSED_SCHEMAS: [&str; 2] = ["ExplainRequest", "DevTokenRequest"];

/// `POST /admin/v1/tokens/explain`. Unknown fields are rejected (the document says
/// `additionalProperties: false`).
#[derive(Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ExplainRequest {
    /// The bearer token to examine (never logged, stored or echoed). Surrounding
    /// whitespace is ignored; a blank token is a 400.
    // At least one character that is not Unicode `White_Space` (what `str::trim` removes),
    // spelled out so that every regex dialect reads it alike.
    #[oai(
        deserialize_with = "json_string",
        validator(
            pattern = r"[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )
    )]
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
    /// `sub`; `null` when the token has none.
    #[oai(nullable)]
    pub sub: Option<String>,
    /// `iss`; `null` when the token has none.
    #[oai(nullable)]
    pub issuer: Option<String>,
    /// `client_id` / `azp`; `null` when the token has neither.
    #[oai(nullable)]
    pub client_id: Option<String>,
    /// `aud`.
    pub audiences: Vec<String>,
    /// Granted scopes (normalised).
    pub scopes: Vec<String>,
    /// `exp`, seconds since the Unix epoch; `null` when the token has none.
    #[oai(nullable)]
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
    /// The provider the token routes to; `null` when routing failed.
    #[oai(nullable)]
    pub provider: Option<String>,
    /// Whether the guard would accept it for the MCP endpoint.
    pub accepted: bool,
    /// `accepted` or the rejection reason (`expired`, `wrong_audience`, …; the
    /// `outcome` label of `warden_auth_decisions_total`).
    pub outcome: String,
    /// The rejection as the guard reports it; `null` when accepted.
    #[oai(nullable)]
    pub error: Option<String>,
    /// HTTP status the MCP endpoint would answer with on rejection (401, 403, 400, 503);
    /// `null` when accepted.
    #[oai(nullable)]
    pub status: Option<u16>,
    /// Every check in order.
    pub checks: Vec<CheckItem>,
    /// The identity when accepted, else `null`.
    #[oai(nullable)]
    pub identity: Option<Identity>,
    /// Per-tool access.
    pub tools: Vec<ToolAccess>,
}

/// `POST /admin/v1/dev/tokens` (the options of `warden token`). Every field is optional
/// (absent or `null` = the default); unknown fields are rejected (the document says
/// `additionalProperties: false`).
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct DevTokenRequest {
    /// Subject; default `alice`. Must not be blank.
    #[oai(
        nullable,
        deserialize_with = "json_string_or_null",
        validator(
            pattern = r"[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )
    )]
    pub sub: Option<String>,
    /// Space-delimited scopes; default `news:read profile`.
    #[oai(nullable, deserialize_with = "json_string_or_null")]
    pub scope: Option<String>,
    /// Lifetime: one to four whole-number spans, each 1 to 999999 of a unit from seconds
    /// to years (`s`, `m`, `h`, `d`, `w`, `M`, `y` or their long forms), optionally
    /// separated by one space: `90s`, `15m`, `1h`, `1h 30m`, `2 days`. Default `1h`.
    #[oai(
        nullable,
        deserialize_with = "json_string_or_null",
        validator(
            pattern = r"^[1-9][0-9]{0,5} ?(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|months?|M|years?|yrs?|y)(?: ?[1-9][0-9]{0,5} ?(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|months?|M|years?|yrs?|y)){0,3}$"
        )
    )]
    pub ttl: Option<String>,
    /// Audience; default the canonical MCP URL (also when empty).
    #[oai(nullable, deserialize_with = "json_string_or_null")]
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
