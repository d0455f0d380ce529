//! The metrics hot path: `Metrics::observe` for the events of one typical
//! authenticated tool call (auth decision, verification on a verified-token
//! cache hit, the cache lookup, the tool call and its upstream call), and the
//! HTTP middleware's record path: `HttpRecorder::record` (what `HttpMetrics`
//! does per request: classify the path, then update pre-resolved handles) and
//! the by-label-values `Metrics::record_http`.
//!
//! The `Metrics` is the one a real host builds (`warden::App`, dev provider),
//! so the label sets are the host's: providers `dev`, tools `whoami` and
//! `news_sentiment`, upstreams `idp:dev` and `alphavantage`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use warden_core::{Event, Observer, Outcome};

/// The route templates the host's `HttpMetrics` classifies by.
const ROUTES: [&str; 9] = [
    "/mcp",
    "/sse",
    "/messages",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-authorization-server",
    "/dev",
    "/healthz",
    "/readyz",
    "/",
];

fn app() -> warden::App {
    let dir = std::env::temp_dir().join(format!("warden-bench-metrics-{}", std::process::id()));
    let toml = format!(
        "[server]\ndata_dir = {:?}\n[providers.dev]\nkind = \"dev\"\n",
        dir.display().to_string()
    );
    let config = warden::Config::from_toml(&toml).expect("config");
    warden::App::build(config, warden_core::noop_observer()).expect("app")
}

/// The events one authenticated `tools/call` of `news_sentiment` emits.
fn request_events(d: Duration) -> [Event<'static>; 5] {
    [
        Event::AuthDecision {
            provider: "dev",
            outcome: Outcome::Accepted,
        },
        Event::Verification {
            provider: "dev",
            cache_hit: true,
            elapsed: d,
        },
        Event::CacheLookup {
            provider: "dev",
            cache: "verified",
            hit: true,
            entries: 100,
        },
        Event::Upstream {
            upstream: "alphavantage",
            outcome: "ok",
            elapsed: d,
        },
        Event::ToolCall {
            tool: "news_sentiment",
            outcome: "ok",
            elapsed: d,
        },
    ]
}

fn bench_metrics(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let app = app();
    let metrics = app.metrics.clone();
    let d = Duration::from_micros(42);
    let events = request_events(d);

    let mut group = c.benchmark_group("metrics");
    group.bench_function("observe_request_events", |b| {
        b.iter(|| {
            for event in black_box(&events) {
                metrics.observe(event);
            }
        })
    });
    group.bench_function("record_http", |b| {
        b.iter(|| {
            metrics.record_http(
                black_box("/mcp"),
                black_box("POST"),
                black_box(200),
                black_box(d),
            )
        })
    });
    let recorder = metrics.http_recorder(ROUTES);
    group.bench_function("http_recorder", |b| {
        b.iter(|| {
            recorder.record(
                black_box("/mcp"),
                black_box("POST"),
                black_box(200),
                black_box(d),
            )
        })
    });
    group.bench_function("request_total", |b| {
        b.iter(|| {
            for event in black_box(&events) {
                metrics.observe(event);
            }
            recorder.record(
                black_box("/mcp"),
                black_box("POST"),
                black_box(200),
                black_box(d),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench_metrics);
criterion_main!(benches);
