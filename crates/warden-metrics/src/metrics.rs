//! `Metrics`: the registry of `warden_*` series and the [`Observer`] feeding it.

use std::time::Duration;

use prometheus::core::Collector;
use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use warden_core::{Event, Observer, Outcome, ProviderSet};

use crate::labels::{fixed, static_label, well_formed, LabelSet, OTHER};
use crate::MetricsError;

/// Every `outcome` of `warden_auth_decisions_total`: [`Outcome::ALL`]'s labels.
pub const AUTH_OUTCOMES: [&str; Outcome::ALL.len()] = {
    let mut labels = [""; Outcome::ALL.len()];
    let mut i = 0;
    while i < labels.len() {
        labels[i] = Outcome::ALL[i].as_str();
        i += 1;
    }
    labels
};

/// HTTP methods kept as `method` labels (anything else is `other`).
pub const HTTP_METHODS: [&str; 7] = ["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"];

/// Provider label values always accepted besides the configured names
/// (`none`: the guard decided before reaching a provider).
const PROVIDER_EXTRA: &[&str] = &["none"];

const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const VERIFY_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0,
];
const UPSTREAM_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The `warden_*` metrics of one warden process.
///
/// Implements [`Observer`]: hand an `Arc<Metrics>` to the guard and providers
/// as their observer and every [`Event`] becomes a series. Label values for
/// providers, tools and upstreams are bounded (see [`MetricsBuilder`]); no
/// label ever carries a token, subject or client id because events never do
/// and unknown values collapse into `other`.
pub struct Metrics {
    registry: Registry,
    providers: LabelSet,
    tools: LabelSet,
    upstreams: LabelSet,
    routes: LabelSet,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    auth_decisions: IntCounterVec,
    verify_duration: HistogramVec,
    jwks_refresh: IntCounterVec,
    jwks_keys: IntGaugeVec,
    cache_lookups: IntCounterVec,
    cache_entries: IntGaugeVec,
    upstream_requests: IntCounterVec,
    upstream_duration: HistogramVec,
    tool_calls: IntCounterVec,
    tool_duration: HistogramVec,
    sessions: IntGauge,
    provider_ready: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Configures [`Metrics`]: the build version and the known label values.
///
/// A dimension given a list (`providers`, `tools`, `upstreams`) records only
/// those values (others become `other`) and pre-creates their zero series so
/// dashboards and alerts see them before the first event. A dimension without
/// a list accepts the first 32 well-formed values.
#[derive(Debug, Clone, Default)]
pub struct MetricsBuilder {
    version: String,
    providers: Option<Vec<String>>,
    tools: Option<Vec<String>>,
    upstreams: Option<Vec<String>>,
}

impl MetricsBuilder {
    /// The `version` label of `warden_build_info` (e.g. `env!("CARGO_PKG_VERSION")`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The configured provider names.
    pub fn providers(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.providers = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// The registered tool names.
    pub fn tools(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.tools = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// The upstream names (`idp:<provider>`, `alphavantage`).
    pub fn upstreams(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.upstreams = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Creates and registers every metric.
    pub fn build(self) -> Result<Metrics, MetricsError> {
        let set = |known: Option<Vec<String>>, extra: &'static [&'static str]| match known {
            Some(list) => LabelSet::known(list, extra),
            None => LabelSet::dynamic(extra),
        };
        let registry = Registry::new();
        let r = &registry;
        let metrics = Metrics {
            registry: registry.clone(),
            providers: set(self.providers, PROVIDER_EXTRA),
            tools: set(self.tools, &[]),
            upstreams: set(self.upstreams, &[]),
            routes: LabelSet::dynamic(&[OTHER, "/"]),
            http_requests: register(r, counter(
                "warden_http_requests_total",
                "HTTP requests served, by route template, method and status code.",
                &["route", "method", "status"],
            ))?,
            http_duration: register(r, histogram(
                "warden_http_request_duration_seconds",
                "Time to produce an HTTP response (headers), by route template and method.",
                &["route", "method"],
                HTTP_BUCKETS,
            ))?,
            auth_decisions: register(r, counter(
                "warden_auth_decisions_total",
                "Bearer auth decisions, by provider and outcome (accepted or the rejection reason).",
                &["provider", "outcome"],
            ))?,
            verify_duration: register(r, histogram(
                "warden_verify_duration_seconds",
                "Token verification time, by provider and whether a cache answered (hit|miss).",
                &["provider", "cache"],
                VERIFY_BUCKETS,
            ))?,
            jwks_refresh: register(r, counter(
                "warden_jwks_refresh_total",
                "Key set (JWKS) fetches, by provider and result (ok, error, not_modified).",
                &["provider", "result"],
            ))?,
            jwks_keys: register(r, gauge(
                "warden_jwks_keys",
                "Signing keys a provider currently holds.",
                &["provider"],
            ))?,
            cache_lookups: register(r, counter(
                "warden_token_cache_lookups_total",
                "Token cache lookups, by provider, cache and result (hit|miss).",
                &["provider", "cache", "result"],
            ))?,
            cache_entries: register(r, gauge(
                "warden_token_cache_entries",
                "Entries in a provider's token cache.",
                &["provider", "cache"],
            ))?,
            upstream_requests: register(r, counter(
                "warden_upstream_requests_total",
                "Outbound HTTP calls (IdPs, Alpha Vantage), by upstream and outcome.",
                &["upstream", "outcome"],
            ))?,
            upstream_duration: register(r, histogram(
                "warden_upstream_request_duration_seconds",
                "Outbound HTTP call time, by upstream.",
                &["upstream"],
                UPSTREAM_BUCKETS,
            ))?,
            tool_calls: register(r, counter(
                "warden_tool_calls_total",
                "MCP tool calls, by tool and outcome (ok, error, invalid_params, forbidden, rate_limited, ...).",
                &["tool", "outcome"],
            ))?,
            tool_duration: register(r, histogram(
                "warden_tool_call_duration_seconds",
                "MCP tool call time, by tool.",
                &["tool"],
                UPSTREAM_BUCKETS,
            ))?,
            sessions: register(r, IntGauge::new(
                "warden_mcp_sessions_active",
                "MCP sessions currently open.",
            ))?,
            provider_ready: register(r, gauge(
                "warden_provider_ready",
                "1 when a provider has what it needs (discovery, keys), else 0.",
                &["provider"],
            ))?,
        };
        let build_info: IntGaugeVec = register(
            r,
            gauge(
                "warden_build_info",
                "Always 1; the version label says which warden is running.",
                &["version"],
            ),
        )?;
        let version = if well_formed(&self.version) {
            self.version.as_str()
        } else {
            OTHER
        };
        build_info.with_label_values(&[version]).set(1);
        metrics.precreate();
        Ok(metrics)
    }
}

fn counter(name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec, prometheus::Error> {
    IntCounterVec::new(Opts::new(name, help), labels)
}

fn gauge(name: &str, help: &str, labels: &[&str]) -> Result<IntGaugeVec, prometheus::Error> {
    IntGaugeVec::new(Opts::new(name, help), labels)
}

fn histogram(
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> Result<HistogramVec, prometheus::Error> {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )
}

fn register<C: Collector + Clone + 'static>(
    registry: &Registry,
    collector: Result<C, prometheus::Error>,
) -> Result<C, MetricsError> {
    let wrap = |e: prometheus::Error, c: Option<&C>| MetricsError::Register {
        metric: c
            .and_then(|c| c.desc().first().map(|d| d.fq_name.clone()))
            .unwrap_or_else(|| "?".into()),
        reason: e.to_string(),
    };
    let collector = collector.map_err(|e| wrap(e, None))?;
    registry
        .register(Box::new(collector.clone()))
        .map_err(|e| wrap(e, Some(&collector)))?;
    Ok(collector)
}

impl Metrics {
    /// Starts configuring metrics.
    pub fn builder() -> MetricsBuilder {
        MetricsBuilder::default()
    }

    /// Metrics with dynamic (capped) label sets and the given build version.
    pub fn new(version: impl Into<String>) -> Result<Self, MetricsError> {
        Self::builder().version(version).build()
    }

    /// The underlying registry (to add process metrics or the host's own).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Everything in the Prometheus text exposition format
    /// (serve it with content type [`CONTENT_TYPE`](crate::CONTENT_TYPE)).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out) {
            out.push_str(&format!("# encoding error: {e}\n"));
        }
        out
    }

    /// Sets `warden_mcp_sessions_active`.
    pub fn set_sessions(&self, active: i64) {
        self.sessions.set(active);
    }

    /// A handle on `warden_mcp_sessions_active` (inc/dec from a session store).
    pub fn sessions_gauge(&self) -> IntGauge {
        self.sessions.clone()
    }

    /// Sets `warden_provider_ready{provider}`.
    pub fn set_provider_ready(&self, provider: &str, ready: bool) {
        let provider = self.providers.label(provider);
        self.provider_ready
            .with_label_values(&[provider])
            .set(i64::from(ready));
    }

    /// Updates readiness, key count and cache-size gauges from every
    /// provider's [`status`](warden_core::Verifier::status) (call before a scrape).
    pub fn observe_providers(&self, providers: &ProviderSet) {
        for p in providers.providers() {
            let name = self.providers.label(&p.descriptor().name);
            let status = p.status();
            self.provider_ready
                .with_label_values(&[name])
                .set(i64::from(status.ready));
            self.jwks_keys
                .with_label_values(&[name])
                .set(status.keys.len() as i64);
            for cache in &status.caches {
                let cache_name = if well_formed(&cache.name) {
                    cache.name.as_str()
                } else {
                    OTHER
                };
                self.cache_entries
                    .with_label_values(&[name, cache_name])
                    .set(cache.entries.min(i64::MAX as u64) as i64);
            }
        }
    }

    /// Records one HTTP request (used by [`HttpMetrics`](crate::HttpMetrics)).
    /// `route` must be a template (`/mcp`), never a raw path: values not
    /// starting with `/`, too long, oddly formed, or beyond the first 32
    /// distinct routes are recorded as `other`.
    pub fn record_http(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let route = if route.starts_with('/') {
            self.routes.label(route)
        } else {
            OTHER
        };
        let method = fixed(method, &HTTP_METHODS);
        let status = StatusLabel::new(status);
        let status = status.as_ref().map_or(OTHER, StatusLabel::as_str);
        self.http_requests
            .with_label_values(&[route, method, status])
            .inc();
        self.http_duration
            .with_label_values(&[route, method])
            .observe(elapsed.as_secs_f64());
    }

    fn precreate(&self) {
        for p in self.providers.known_values() {
            for outcome in AUTH_OUTCOMES {
                self.auth_decisions.with_label_values(&[p, outcome]);
            }
            self.jwks_refresh.with_label_values(&[p, "ok"]);
            self.jwks_refresh.with_label_values(&[p, "error"]);
        }
        for t in self.tools.known_values() {
            self.tool_calls.with_label_values(&[t, "ok"]);
            self.tool_calls.with_label_values(&[t, "error"]);
        }
        for u in self.upstreams.known_values() {
            self.upstream_requests.with_label_values(&[u, "ok"]);
            self.upstream_requests.with_label_values(&[u, "error"]);
        }
    }
}

/// Three ASCII digits of an HTTP status code, on the stack.
struct StatusLabel([u8; 3]);

impl StatusLabel {
    fn new(status: u16) -> Option<Self> {
        if !(100..=599).contains(&status) {
            return None;
        }
        Some(Self([
            b'0' + (status / 100) as u8,
            b'0' + (status / 10 % 10) as u8,
            b'0' + (status % 10) as u8,
        ]))
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or(OTHER)
    }
}

impl Observer for Metrics {
    fn observe(&self, event: &Event<'_>) {
        match event {
            Event::AuthDecision { provider, outcome } => {
                let provider = self.providers.label(provider);
                let outcome = outcome.as_str();
                self.auth_decisions
                    .with_label_values(&[provider, outcome])
                    .inc();
            }
            Event::Verification {
                provider,
                cache_hit,
                elapsed,
            } => {
                let provider = self.providers.label(provider);
                let cache = if *cache_hit { "hit" } else { "miss" };
                self.verify_duration
                    .with_label_values(&[provider, cache])
                    .observe(elapsed.as_secs_f64());
            }
            Event::KeysRefreshed {
                provider,
                result,
                keys,
            } => {
                let provider = self.providers.label(provider);
                self.jwks_refresh
                    .with_label_values(&[provider, static_label(result)])
                    .inc();
                self.jwks_keys
                    .with_label_values(&[provider])
                    .set(*keys as i64);
            }
            Event::CacheLookup {
                provider,
                cache,
                hit,
                entries,
            } => {
                let provider = self.providers.label(provider);
                let cache = static_label(cache);
                let result = if *hit { "hit" } else { "miss" };
                self.cache_lookups
                    .with_label_values(&[provider, cache, result])
                    .inc();
                self.cache_entries
                    .with_label_values(&[provider, cache])
                    .set((*entries).min(i64::MAX as u64) as i64);
            }
            Event::Upstream {
                upstream,
                outcome,
                elapsed,
            } => {
                let upstream = self.upstreams.label(upstream);
                self.upstream_requests
                    .with_label_values(&[upstream, static_label(outcome)])
                    .inc();
                self.upstream_duration
                    .with_label_values(&[upstream])
                    .observe(elapsed.as_secs_f64());
            }
            Event::ToolCall {
                tool,
                outcome,
                elapsed,
            } => {
                let tool = self.tools.label(tool);
                self.tool_calls
                    .with_label_values(&[tool, static_label(outcome)])
                    .inc();
                self.tool_duration
                    .with_label_values(&[tool])
                    .observe(elapsed.as_secs_f64());
            }
            _ => {}
        }
    }
}
