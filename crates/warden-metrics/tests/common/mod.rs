//! Drives every metric of `Metrics` once (shared by tests and the `render` example).
#![allow(dead_code)]

use std::time::Duration;
use warden_core::Outcome;

use warden_core::{Event, Observer};
use warden_metrics::Metrics;

/// Emits at least one event of every kind and calls every setter, so every
/// metric family has a series.
pub(crate) fn emit_one_of_each(m: &Metrics) {
    let d = Duration::from_millis(1);
    m.observe(&Event::AuthDecision {
        provider: "dev",
        outcome: Outcome::Accepted,
    });
    m.observe(&Event::AuthDecision {
        provider: "none",
        outcome: Outcome::MissingToken,
    });
    m.observe(&Event::Verification {
        provider: "dev",
        cache_hit: false,
        elapsed: d,
    });
    m.observe(&Event::KeysRefreshed {
        provider: "dev",
        result: "ok",
        keys: 1,
    });
    m.observe(&Event::CacheLookup {
        provider: "dev",
        cache: "verified",
        hit: true,
        entries: 1,
    });
    m.observe(&Event::Upstream {
        upstream: "idp:dev",
        outcome: "ok",
        elapsed: d,
    });
    m.observe(&Event::Upstream {
        upstream: "alphavantage",
        outcome: "rate_limited",
        elapsed: d,
    });
    m.observe(&Event::ToolCall {
        tool: "news_sentiment",
        outcome: "rate_limited",
        elapsed: d,
    });
    m.set_provider_ready("dev", true);
    m.set_sessions(1);
    m.record_http("/mcp", "POST", 200, d);
}
