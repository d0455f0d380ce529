//! # warden-metrics
//!
//! Prometheus metrics for warden, kept out of the core crates: warden-core
//! emits [`Event`](warden_core::Event)s through its
//! [`Observer`](warden_core::Observer) trait and [`Metrics`] turns them into
//! `warden_*` series; [`HttpMetrics`] is a poem middleware for the HTTP series.
//!
//! No label ever carries a token, subject, client id or raw path: events carry
//! only bounded names, routes are templates chosen by a [`RouteClassifier`],
//! and values outside the known sets (or too long, or with odd characters)
//! are recorded as `other`.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use warden_core::{Event, Observer, SharedObserver};
//! use warden_metrics::Metrics;
//!
//! let metrics = Arc::new(
//!     Metrics::builder().version("0.1.0").providers(["dev"]).tools(["whoami"]).build().unwrap(),
//! );
//! let observer: SharedObserver = metrics.clone(); // give this to the guard and providers
//! observer.observe(&Event::AuthDecision { provider: "dev", outcome: warden_core::Outcome::Expired });
//! metrics.set_sessions(3);
//! let text = metrics.render();
//! assert!(text.contains(r#"warden_auth_decisions_total{outcome="expired",provider="dev"} 1"#));
//! assert!(text.contains("warden_mcp_sessions_active 3"));
//! ```
#![deny(missing_docs)]

mod error;
pub mod labels;
mod metrics;
mod middleware;
mod slots;

pub use error::MetricsError;
pub use metrics::{Metrics, MetricsBuilder, AUTH_OUTCOMES, HTTP_METHODS};
pub use middleware::{HttpMetrics, HttpMetricsEndpoint, HttpRecorder, RouteClassifier};

/// The `process_*` families [`Metrics`] also exports (on Linux, from `/proc`):
/// CPU seconds, resident and virtual memory, open and maximum file
/// descriptors, start time and threads of the warden process.
pub const PROCESS_METRIC_NAMES: [&str; 7] = [
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
    "process_threads",
];

/// The content type of [`Metrics::render`]'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// Every `warden_*` metric family [`Metrics`] registers.
pub const METRIC_NAMES: [&str; 16] = [
    "warden_http_requests_total",
    "warden_http_request_duration_seconds",
    "warden_auth_decisions_total",
    "warden_verify_duration_seconds",
    "warden_jwks_refresh_total",
    "warden_jwks_keys",
    "warden_jwks_last_success_timestamp_seconds",
    "warden_token_cache_lookups_total",
    "warden_token_cache_entries",
    "warden_upstream_requests_total",
    "warden_upstream_request_duration_seconds",
    "warden_tool_calls_total",
    "warden_tool_call_duration_seconds",
    "warden_mcp_sessions_active",
    "warden_build_info",
    "warden_provider_ready",
];
