//! `Metrics`: the registry of `warden_*` series and the [`Observer`] feeding it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus::core::{Collector, Desc};
use prometheus::{
    proto, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use warden_core::{Event, Observer, Outcome, ProviderSet};

use crate::labels::{fixed, static_label, well_formed, LabelSet, OTHER};
use crate::slots::{
    position, table, CallSlots, ProviderSlots, CACHE_NAMES, TOOL_OUTCOMES, UPSTREAM_OUTCOMES,
};
use crate::{HttpRecorder, MetricsError, RouteClassifier};

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

/// JWKS refresh results that mean the provider holds a current key set
/// (they set `warden_jwks_last_success_timestamp_seconds`).
const JWKS_SUCCESS: [&str; 2] = ["ok", "not_modified"];

/// The `commit` label of `warden_build_info` until the host says otherwise.
const UNKNOWN_COMMIT: &str = "unknown";

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
    jwks_last_success: GaugeVec,
    cache_lookups: IntCounterVec,
    cache_entries: IntGaugeVec,
    upstream_requests: IntCounterVec,
    upstream_duration: HistogramVec,
    tool_calls: IntCounterVec,
    tool_duration: HistogramVec,
    sessions: IntGauge,
    provider_ready: IntGaugeVec,
    build_info: BuildInfo,
    /// Pre-resolved handles, by [`LabelSet::index`] of each dimension.
    hot_providers: Box<[ProviderSlots]>,
    hot_tools: Box<[CallSlots<{ TOOL_OUTCOMES.len() }>]>,
    hot_upstreams: Box<[CallSlots<{ UPSTREAM_OUTCOMES.len() }>]>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Configures [`Metrics`]: the build (version, commit) and the known label values.
///
/// A dimension given a list (`providers`, `tools`, `upstreams`) records only
/// those values (others become `other`) and pre-creates their zero series so
/// dashboards and alerts see them before the first event. A dimension without
/// a list accepts the first 32 well-formed values.
#[derive(Debug, Clone, Default)]
pub struct MetricsBuilder {
    version: String,
    commit: Option<String>,
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

    /// The `commit` label of `warden_build_info` (e.g. a short git hash).
    /// Without it the series has only the `version` label; see also
    /// [`Metrics::set_build_info`].
    pub fn commit(mut self, commit: impl Into<String>) -> Self {
        self.commit = Some(commit.into());
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
        let providers = set(self.providers, PROVIDER_EXTRA);
        let tools = set(self.tools, &[]);
        let upstreams = set(self.upstreams, &[]);
        let build_info = BuildInfo::new(&self.version, self.commit.as_deref())?;
        registry
            .register(Box::new(build_info.clone()))
            .map_err(|e| MetricsError::Register {
                metric: BUILD_INFO.into(),
                reason: e.to_string(),
            })?;
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .map_err(|e| MetricsError::Register {
                metric: "process_*".into(),
                reason: e.to_string(),
            })?;
        let metrics = Metrics {
            registry: registry.clone(),
            hot_providers: table(providers.indexed_len()),
            hot_tools: table(tools.indexed_len()),
            hot_upstreams: table(upstreams.indexed_len()),
            providers,
            tools,
            upstreams,
            build_info,
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
            jwks_last_success: register(r, GaugeVec::new(
                Opts::new(
                    "warden_jwks_last_success_timestamp_seconds",
                    "Unix time of the last successful key set (JWKS) fetch, by provider; only providers that fetch a JWKS have it.",
                ),
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

    /// The underlying registry (to add the host's own metrics). It already
    /// holds the `process_*` collector on Linux: registering another one fails.
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

    /// Sets `warden_build_info{version,commit} 1`, replacing the series the
    /// builder created (there is only ever one `warden_build_info` series).
    ///
    /// Call it once at startup with the crate version and the git commit the
    /// binary was built from, e.g.
    /// `metrics.set_build_info(env!("CARGO_PKG_VERSION"), env!("WARDEN_GIT_COMMIT"))`.
    /// An empty commit is recorded as `unknown`; values longer than 64 bytes
    /// or not made of name characters (ASCII letters, digits, `_ - . : /`) as
    /// `other`.
    pub fn set_build_info(&self, version: &str, commit: &str) {
        self.build_info.set(version, commit);
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

    /// Records one HTTP request. `route` must be a template (`/mcp`), never a
    /// raw path: values not starting with `/`, too long, oddly formed, or
    /// beyond the first 32 distinct routes are recorded as `other`.
    ///
    /// This resolves the series by label values on every call; the
    /// [`HttpMetrics`](crate::HttpMetrics) middleware and [`HttpRecorder`]
    /// resolve them once per route, method and common status code instead.
    pub fn record_http(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let route = self.route_label(route);
        let method = fixed(method, &HTTP_METHODS);
        self.http_counter(route, method, status).inc();
        self.http_histogram(route, method)
            .observe(elapsed.as_secs_f64());
    }

    /// An [`HttpRecorder`] over these metrics: the record path of
    /// [`HttpMetrics`](crate::HttpMetrics) for servers other than poem
    /// (`routes` as for [`RouteClassifier::new`]).
    pub fn http_recorder(
        self: &Arc<Self>,
        routes: impl IntoIterator<Item = impl Into<String>>,
    ) -> HttpRecorder {
        HttpRecorder::new(self.clone(), RouteClassifier::new(routes))
    }

    /// The bounded `route` label of a route template.
    pub(crate) fn route_label<'a>(&self, route: &'a str) -> &'a str {
        if route.starts_with('/') {
            self.routes.label(route)
        } else {
            OTHER
        }
    }

    /// `warden_http_requests_total{route,method,status}` (labels already bounded,
    /// the status code not yet).
    pub(crate) fn http_counter(&self, route: &str, method: &str, status: u16) -> IntCounter {
        let status = StatusLabel::new(status);
        let status = status.as_ref().map_or(OTHER, StatusLabel::as_str);
        self.http_requests
            .with_label_values(&[route, method, status])
    }

    /// `warden_http_request_duration_seconds{route,method}` (labels already bounded).
    pub(crate) fn http_histogram(&self, route: &str, method: &str) -> Histogram {
        self.http_duration.with_label_values(&[route, method])
    }

    fn precreate(&self) {
        for (i, p) in self.providers.known_values().iter().enumerate() {
            for (slot, outcome) in self.hot_providers[i].auth.iter().zip(AUTH_OUTCOMES) {
                slot.get(|| {
                    self.auth_decisions
                        .with_label_values(&[p.as_str(), outcome])
                });
            }
            self.jwks_refresh.with_label_values(&[p.as_str(), "ok"]);
            self.jwks_refresh.with_label_values(&[p.as_str(), "error"]);
        }
        for t in self.tools.known_values() {
            self.tool_calls.with_label_values(&[t.as_str(), "ok"]);
            self.tool_calls.with_label_values(&[t.as_str(), "error"]);
        }
        for u in self.upstreams.known_values() {
            self.upstream_requests
                .with_label_values(&[u.as_str(), "ok"]);
            self.upstream_requests
                .with_label_values(&[u.as_str(), "error"]);
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

/// The position of `outcome` in [`Outcome::ALL`] (and [`AUTH_OUTCOMES`]).
#[inline]
fn outcome_index(outcome: Outcome) -> Option<usize> {
    Outcome::ALL.iter().position(|o| *o == outcome)
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Metrics {
    fn auth_decision(&self, provider: &str, outcome: Outcome) {
        if let (Some(p), Some(o)) = (self.providers.index(provider), outcome_index(outcome)) {
            self.hot_providers[p].auth[o]
                .get(|| {
                    self.auth_decisions
                        .with_label_values(&[provider, outcome.as_str()])
                })
                .inc();
            return;
        }
        let provider = self.providers.label(provider);
        self.auth_decisions
            .with_label_values(&[provider, outcome.as_str()])
            .inc();
    }

    fn verification(&self, provider: &str, cache_hit: bool, elapsed: Duration) {
        let (i, cache) = if cache_hit { (0, "hit") } else { (1, "miss") };
        let seconds = elapsed.as_secs_f64();
        match self.providers.index(provider) {
            Some(p) => self.hot_providers[p].verify[i]
                .get(|| self.verify_duration.with_label_values(&[provider, cache]))
                .observe(seconds),
            None => self
                .verify_duration
                .with_label_values(&[self.providers.label(provider), cache])
                .observe(seconds),
        }
    }

    fn keys_refreshed(&self, provider: &str, result: &'static str, keys: usize) {
        let provider = self.providers.label(provider);
        self.jwks_refresh
            .with_label_values(&[provider, static_label(result)])
            .inc();
        self.jwks_keys
            .with_label_values(&[provider])
            .set(keys.min(i64::MAX as usize) as i64);
        if JWKS_SUCCESS.contains(&result) {
            self.jwks_last_success
                .with_label_values(&[provider])
                .set(unix_now());
        }
    }

    fn cache_lookup(&self, provider: &str, cache: &'static str, hit: bool, entries: u64) {
        let entries = entries.min(i64::MAX as u64) as i64;
        let result = usize::from(!hit);
        if let (Some(p), Some(c)) = (
            self.providers.index(provider),
            position(&CACHE_NAMES, cache),
        ) {
            let slots = &self.hot_providers[p];
            slots.lookups[c][result]
                .get(|| {
                    self.cache_lookups.with_label_values(&[
                        provider,
                        cache,
                        ["hit", "miss"][result],
                    ])
                })
                .inc();
            slots.entries[c]
                .get(|| self.cache_entries.with_label_values(&[provider, cache]))
                .set(entries);
            return;
        }
        let provider = self.providers.label(provider);
        let cache = static_label(cache);
        self.cache_lookups
            .with_label_values(&[provider, cache, ["hit", "miss"][result]])
            .inc();
        self.cache_entries
            .with_label_values(&[provider, cache])
            .set(entries);
    }

    fn upstream(&self, upstream: &str, outcome: &'static str, elapsed: Duration) {
        let Some(u) = self.upstreams.index(upstream) else {
            let upstream = self.upstreams.label(upstream);
            self.upstream_requests
                .with_label_values(&[upstream, static_label(outcome)])
                .inc();
            self.upstream_duration
                .with_label_values(&[upstream])
                .observe(elapsed.as_secs_f64());
            return;
        };
        let slots = &self.hot_upstreams[u];
        match position(&UPSTREAM_OUTCOMES, outcome) {
            Some(o) => slots.outcomes[o]
                .get(|| {
                    self.upstream_requests
                        .with_label_values(&[upstream, outcome])
                })
                .inc(),
            None => self
                .upstream_requests
                .with_label_values(&[upstream, static_label(outcome)])
                .inc(),
        }
        slots
            .duration
            .get(|| self.upstream_duration.with_label_values(&[upstream]))
            .observe(elapsed.as_secs_f64());
    }

    fn tool_call(&self, tool: &str, outcome: &'static str, elapsed: Duration) {
        let Some(t) = self.tools.index(tool) else {
            let tool = self.tools.label(tool);
            self.tool_calls
                .with_label_values(&[tool, static_label(outcome)])
                .inc();
            self.tool_duration
                .with_label_values(&[tool])
                .observe(elapsed.as_secs_f64());
            return;
        };
        let slots = &self.hot_tools[t];
        match position(&TOOL_OUTCOMES, outcome) {
            Some(o) => slots.outcomes[o]
                .get(|| self.tool_calls.with_label_values(&[tool, outcome]))
                .inc(),
            None => self
                .tool_calls
                .with_label_values(&[tool, static_label(outcome)])
                .inc(),
        }
        slots
            .duration
            .get(|| self.tool_duration.with_label_values(&[tool]))
            .observe(elapsed.as_secs_f64());
    }
}

impl Observer for Metrics {
    fn observe(&self, event: &Event<'_>) {
        match *event {
            Event::AuthDecision { provider, outcome } => self.auth_decision(provider, outcome),
            Event::Verification {
                provider,
                cache_hit,
                elapsed,
            } => self.verification(provider, cache_hit, elapsed),
            Event::KeysRefreshed {
                provider,
                result,
                keys,
            } => self.keys_refreshed(provider, result, keys),
            Event::CacheLookup {
                provider,
                cache,
                hit,
                entries,
            } => self.cache_lookup(provider, cache, hit, entries),
            Event::Upstream {
                upstream,
                outcome,
                elapsed,
            } => self.upstream(upstream, outcome, elapsed),
            Event::ToolCall {
                tool,
                outcome,
                elapsed,
            } => self.tool_call(tool, outcome, elapsed),
            _ => {}
        }
    }
}

/// The name of the build-info gauge.
const BUILD_INFO: &str = "warden_build_info";
const BUILD_INFO_HELP: &str =
    "Always 1; the version and commit labels say which warden build is running.";

/// `warden_build_info`: a single gauge at 1 whose labels can be replaced.
///
/// A custom collector rather than an `IntGaugeVec` so that the `commit` label
/// is present only once a commit is known (`{version}` before, `{commit,
/// version}` after [`Metrics::set_build_info`]), and so that replacing the
/// labels never leaves a scrape without the series.
#[derive(Clone)]
struct BuildInfo {
    desc: Arc<Desc>,
    current: Arc<Mutex<IntGauge>>,
}

impl BuildInfo {
    fn new(version: &str, commit: Option<&str>) -> Result<Self, MetricsError> {
        let gauge = Self::gauge(version, commit)?;
        let desc =
            gauge
                .desc()
                .first()
                .map(|d| (*d).clone())
                .ok_or_else(|| MetricsError::Register {
                    metric: BUILD_INFO.into(),
                    reason: "no descriptor".into(),
                })?;
        Ok(Self {
            desc: Arc::new(desc),
            current: Arc::new(Mutex::new(gauge)),
        })
    }

    fn gauge(version: &str, commit: Option<&str>) -> Result<IntGauge, MetricsError> {
        let bounded = |v: &str| {
            if well_formed(v) {
                v.to_owned()
            } else {
                OTHER.to_owned()
            }
        };
        let mut opts =
            Opts::new(BUILD_INFO, BUILD_INFO_HELP).const_label("version", bounded(version));
        if let Some(commit) = commit {
            opts = opts.const_label("commit", bounded(commit));
        }
        let gauge = IntGauge::with_opts(opts).map_err(|e| MetricsError::Register {
            metric: BUILD_INFO.into(),
            reason: e.to_string(),
        })?;
        gauge.set(1);
        Ok(gauge)
    }

    fn set(&self, version: &str, commit: &str) {
        let commit = if commit.is_empty() {
            UNKNOWN_COMMIT
        } else {
            commit
        };
        if let Ok(gauge) = Self::gauge(version, Some(commit)) {
            *self.current.lock().unwrap_or_else(PoisonError::into_inner) = gauge;
        }
    }
}

impl Collector for BuildInfo {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<proto::MetricFamily> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .collect()
    }
}
