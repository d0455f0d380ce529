//! Events the auth path emits, so a host can turn them into metrics without
//! this crate depending on a metrics library.

use std::sync::Arc;
use std::time::Duration;

/// Something that happened on the auth or tool path. Every field is bounded:
/// provider and tool names come from config, outcomes from fixed sets. No
/// event ever carries a token, subject or client id.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The guard decided on a request.
    AuthDecision {
        /// Provider that decided (`"none"` when no provider was reached).
        provider: &'a str,
        /// The decision.
        outcome: crate::Outcome,
    },
    /// A provider verified (or failed to verify) a token.
    Verification {
        /// Provider name.
        provider: &'a str,
        /// Whether a cache answered.
        cache_hit: bool,
        /// Time spent.
        elapsed: Duration,
    },
    /// A key set (JWKS) fetch finished.
    KeysRefreshed {
        /// Provider name.
        provider: &'a str,
        /// `ok` or `error`.
        result: &'static str,
        /// Keys held after the refresh.
        keys: usize,
    },
    /// A token cache (introspection, userinfo, verified JWT) was consulted.
    CacheLookup {
        /// Provider name.
        provider: &'a str,
        /// Which cache (`introspection`, `userinfo`, `verified`).
        cache: &'static str,
        /// Hit or miss.
        hit: bool,
        /// Entries after the lookup.
        entries: u64,
    },
    /// An outbound HTTP call finished.
    Upstream {
        /// `idp:<provider>` or a tool's upstream (`alphavantage`).
        upstream: &'a str,
        /// `ok`, `error`, `timeout`, `http_5xx`, `http_4xx`, `rate_limited`, …
        outcome: &'static str,
        /// Time spent.
        elapsed: Duration,
    },
    /// A tool call finished.
    ToolCall {
        /// Tool name.
        tool: &'a str,
        /// `ok`, `error`, `invalid_params`, `forbidden`.
        outcome: &'static str,
        /// Time spent.
        elapsed: Duration,
    },
}

/// Receives [`Event`]s. Implementations must be cheap and never block.
pub trait Observer: Send + Sync {
    /// Called for every event.
    fn observe(&self, event: &Event<'_>);
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopObserver;

impl Observer for NoopObserver {
    fn observe(&self, _event: &Event<'_>) {}
}

/// A shared observer handle.
pub type SharedObserver = Arc<dyn Observer>;

/// The observer to use when none is configured.
pub fn noop_observer() -> SharedObserver {
    Arc::new(NoopObserver)
}
