//! Pre-resolved metric handles for label values known in advance.
//!
//! `MetricVec::with_label_values` hashes the label values and takes a read
//! lock on the vector's child map on every call. On the hot path (one auth
//! decision, verification, cache lookup, tool and upstream call per request,
//! and the HTTP middleware) the values come from small fixed sets: the
//! configured providers, tools and upstreams, the outcomes of
//! [`Outcome::ALL`](warden_core::Outcome::ALL), the caches, HTTP routes,
//! methods and common status codes. For those, each series' handle is resolved
//! once and kept in a [`Slot`] indexed by the values' positions; anything
//! else falls back to `with_label_values`.
//!
//! Slots resolve lazily (on first use) so that the exposition only ever shows
//! the series that occurred or were deliberately pre-created, exactly as
//! before.

use std::sync::OnceLock;

use prometheus::{Histogram, IntCounter, IntGauge};

use crate::metrics::AUTH_OUTCOMES;

/// One series' handle, resolved on first use and reused afterwards.
pub(crate) struct Slot<T>(OnceLock<T>);

impl<T> Slot<T> {
    pub(crate) const fn new() -> Self {
        Self(OnceLock::new())
    }

    /// The handle, resolving it with `init` the first time.
    #[inline]
    pub(crate) fn get(&self, init: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(init)
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// `N` unresolved slots.
pub(crate) fn slots<T, const N: usize>() -> [Slot<T>; N] {
    std::array::from_fn(|_| Slot::new())
}

/// The position of `value` in `set`.
#[inline]
pub(crate) fn position(set: &[&str], value: &str) -> Option<usize> {
    set.iter().position(|v| *v == value)
}

/// Token caches providers report in `Event::CacheLookup`.
pub(crate) const CACHE_NAMES: [&str; 3] = ["verified", "introspection", "userinfo"];

/// Outcomes of `Event::Upstream` with a pre-resolved handle (others still count,
/// through `with_label_values`).
pub(crate) const UPSTREAM_OUTCOMES: [&str; 10] = [
    "ok",
    "error",
    "timeout",
    "invalid_response",
    "rate_limited",
    "http_4xx",
    "http_5xx",
    "invalid_key",
    "bad_request",
    "malformed",
];

/// Outcomes of `Event::ToolCall` with a pre-resolved handle.
pub(crate) const TOOL_OUTCOMES: [&str; 11] = [
    "ok",
    "error",
    "invalid_params",
    "forbidden",
    "rate_limited",
    "timeout",
    "invalid_key",
    "bad_request",
    "malformed",
    "unknown_tool",
    "unauthenticated",
];

/// HTTP status codes with a pre-resolved handle, sorted (binary search).
pub(crate) const HTTP_STATUSES: [u16; 26] = [
    200, 201, 202, 204, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 406, 408, 409, 413, 415,
    422, 429, 431, 500, 502, 503, 504,
];

/// The handles of one provider (a configured name or `none`).
#[derive(Default)]
pub(crate) struct ProviderSlots {
    /// `warden_auth_decisions_total`, by position in [`AUTH_OUTCOMES`].
    pub(crate) auth: [Slot<IntCounter>; AUTH_OUTCOMES.len()],
    /// `warden_verify_duration_seconds`: `[hit, miss]`.
    pub(crate) verify: [Slot<Histogram>; 2],
    /// `warden_token_cache_lookups_total`: by cache (position in
    /// [`CACHE_NAMES`]), then `[hit, miss]`.
    pub(crate) lookups: [[Slot<IntCounter>; 2]; CACHE_NAMES.len()],
    /// `warden_token_cache_entries`, by cache.
    pub(crate) entries: [Slot<IntGauge>; CACHE_NAMES.len()],
}

/// The handles of one named thing with an outcome counter and a duration
/// histogram (an upstream or a tool).
pub(crate) struct CallSlots<const N: usize> {
    /// The `…_total{outcome}` counter, by position in the outcome set.
    pub(crate) outcomes: [Slot<IntCounter>; N],
    /// The `…_duration_seconds` histogram.
    pub(crate) duration: Slot<Histogram>,
}

impl<const N: usize> Default for CallSlots<N> {
    fn default() -> Self {
        Self {
            outcomes: slots(),
            duration: Slot::new(),
        }
    }
}

/// One slot table per known value of a label dimension.
pub(crate) fn table<T: Default>(len: usize) -> Box<[T]> {
    (0..len).map(|_| T::default()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_sorted_and_unique() {
        assert!(HTTP_STATUSES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn slot_resolves_once() {
        let slot = Slot::new();
        let mut calls = 0;
        for _ in 0..3 {
            slot.get(|| {
                calls += 1;
                7
            });
        }
        assert_eq!(calls, 1);
        assert_eq!(*slot.get(|| 0), 7);
    }
}
