//! The `Verifier` trait: token in, `AuthInfo` out.

use async_trait::async_trait;
use serde::Serialize;

use crate::{AuthError, AuthInfo};

/// Static facts about a configured provider.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProviderDescriptor {
    /// The `[providers.NAME]` table name.
    pub name: String,
    /// The provider kind (`dev`, `jwt`, `scalekit`, `logto`, `introspection`).
    pub kind: String,
    /// Issuers whose JWTs this provider verifies (used to route by `iss`).
    pub issuers: Vec<String>,
    /// Whether this provider verifies opaque (non-JWT) tokens.
    pub accepts_opaque: bool,
    /// What the provider contributes to the PRM's `authorization_servers`.
    pub authorization_servers: Vec<String>,
    /// Audiences this provider accepts.
    pub audiences: Vec<String>,
}

/// A signing key a provider holds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyInfo {
    /// Key id (`kid`).
    pub kid: String,
    /// Algorithm the key is used with.
    pub alg: String,
}

/// Size and effectiveness of one cache.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct CacheStats {
    /// Cache name (`introspection`, `userinfo`, `verified`).
    pub name: String,
    /// Entries currently held.
    pub entries: u64,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that went upstream.
    pub misses: u64,
}

/// Live state of a provider, for readiness and the admin surface.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ProviderStatus {
    /// Whether the provider has what it needs (discovery done, keys loaded).
    pub ready: bool,
    /// What is missing when not ready (`"jwks not loaded"`), or `"ready"`.
    pub state: String,
    /// Keys currently held.
    pub keys: Vec<KeyInfo>,
    /// Last successful refresh, seconds since the epoch.
    pub last_refresh: Option<i64>,
    /// Last refresh error (no secrets).
    pub last_error: Option<String>,
    /// Token caches.
    pub caches: Vec<CacheStats>,
}

impl ProviderStatus {
    /// A status for providers that need nothing to be ready.
    pub fn always_ready() -> Self {
        Self {
            ready: true,
            state: "ready".into(),
            ..Default::default()
        }
    }
}

/// One step of a token explanation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    /// What was checked (`format`, `header`, `key`, `signature`, `issuer`,
    /// `audience`, `expiry`, `not_before`, `scopes`, `introspection`, …).
    pub name: String,
    /// `true` passed, `false` failed.
    pub passed: bool,
    /// What was found (never the token).
    pub detail: String,
}

impl Check {
    /// A check result.
    pub fn new(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            passed,
            detail: detail.into(),
        }
    }
}

/// Verifies bearer tokens for one configured provider.
///
/// `verify` performs every provider-level check (signature or introspection,
/// issuer, audience, lifetime); the guard adds resource and tool scope checks.
/// Implementations must tell "invalid" ([`AuthError`] other than `Unavailable`)
/// from "could not verify" ([`AuthError::Unavailable`]).
#[async_trait]
pub trait Verifier: Send + Sync {
    /// Verifies `token` and returns the caller's identity.
    async fn verify(&self, token: &str) -> Result<AuthInfo, AuthError>;

    /// The identity this provider verified `token` as earlier and would
    /// verify it as now (a verified-token cache hit whose checks still pass),
    /// found without any other work: no parsing, no key lookup, no outbound
    /// call. `None` when it has no such answer; the caller then routes the
    /// token and calls [`Verifier::verify`], which decides (and counts the
    /// cache lookup). When this answers, it counts as the cache hit `verify`
    /// would have counted. The default has no answer.
    async fn recall(&self, _token: &str) -> Option<AuthInfo> {
        None
    }

    /// Static facts: name, kind, owned issuers, opaque support.
    fn descriptor(&self) -> &ProviderDescriptor;

    /// Live state; the default says "ready".
    fn status(&self) -> ProviderStatus {
        ProviderStatus::always_ready()
    }

    /// Fetches discovery documents and keys now (startup and admin refresh).
    async fn refresh(&self) -> Result<(), AuthError> {
        Ok(())
    }

    /// Drops cached token verdicts (admin flush).
    fn flush_caches(&self) {}

    /// Runs the token through every check and reports each one. The default
    /// reports the single outcome of [`Verifier::verify`].
    async fn explain(&self, token: &str) -> (Vec<Check>, Result<AuthInfo, AuthError>) {
        let result = self.verify(token).await;
        let check = match &result {
            Ok(_) => Check::new("verify", true, "accepted"),
            Err(e) => Check::new("verify", false, e.to_string()),
        };
        (vec![check], result)
    }
}
