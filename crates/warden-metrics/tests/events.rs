//! Every `Event` variant becomes its series; no label carries an unbounded value.

use std::time::Duration;
use warden_core::Outcome;

use warden_core::{Event, Observer};
use warden_metrics::{Metrics, AUTH_OUTCOMES, METRIC_NAMES, PROCESS_METRIC_NAMES};

mod common;
use common::emit_one_of_each;

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.SECRET-TEST-TOKEN-VALUE.sig";

fn metrics() -> Metrics {
    Metrics::builder()
        .version("1.2.3")
        .providers(["dev", "corp"])
        .tools(["whoami", "news_sentiment"])
        .upstreams(["alphavantage", "idp:corp"])
        .build()
        .expect("metrics")
}

fn has_line(text: &str, prefix: &str) -> bool {
    text.lines().any(|l| l.starts_with(prefix))
}

#[test]
fn auth_decision_counts_by_provider_and_outcome() {
    let m = metrics();
    for outcome in Outcome::ALL {
        m.observe(&Event::AuthDecision {
            provider: "dev",
            outcome,
        });
    }
    m.observe(&Event::AuthDecision {
        provider: "none",
        outcome: Outcome::MissingToken,
    });
    let text = m.render();
    for outcome in AUTH_OUTCOMES {
        assert!(
            text.contains(&format!(
                "warden_auth_decisions_total{{outcome=\"{outcome}\",provider=\"dev\"}} 1"
            )),
            "{outcome} missing in\n{text}"
        );
    }
    assert!(
        text.contains("warden_auth_decisions_total{outcome=\"missing_token\",provider=\"none\"} 1")
    );
    // Pre-created zero series for the other known provider.
    assert!(text.contains("warden_auth_decisions_total{outcome=\"expired\",provider=\"corp\"} 0"));
}

#[test]
fn verification_observes_latency_by_cache() {
    let m = metrics();
    m.observe(&Event::Verification {
        provider: "corp",
        cache_hit: true,
        elapsed: Duration::from_micros(30),
    });
    m.observe(&Event::Verification {
        provider: "corp",
        cache_hit: false,
        elapsed: Duration::from_millis(3),
    });
    let text = m.render();
    assert!(
        text.contains("warden_verify_duration_seconds_count{cache=\"hit\",provider=\"corp\"} 1")
    );
    assert!(
        text.contains("warden_verify_duration_seconds_count{cache=\"miss\",provider=\"corp\"} 1")
    );
    assert!(has_line(
        &text,
        "warden_verify_duration_seconds_bucket{cache=\"miss\",provider=\"corp\",le=\"0.005\"} 1"
    ));
}

#[test]
fn keys_refreshed_counts_and_sets_key_gauge() {
    let m = metrics();
    m.observe(&Event::KeysRefreshed {
        provider: "corp",
        result: "ok",
        keys: 2,
    });
    m.observe(&Event::KeysRefreshed {
        provider: "corp",
        result: "error",
        keys: 2,
    });
    let text = m.render();
    assert!(text.contains("warden_jwks_refresh_total{provider=\"corp\",result=\"ok\"} 1"));
    assert!(text.contains("warden_jwks_refresh_total{provider=\"corp\",result=\"error\"} 1"));
    assert!(text.contains("warden_jwks_keys{provider=\"corp\"} 2"));
}

#[test]
fn cache_lookup_counts_and_sets_entries() {
    let m = metrics();
    m.observe(&Event::CacheLookup {
        provider: "corp",
        cache: "introspection",
        hit: false,
        entries: 0,
    });
    m.observe(&Event::CacheLookup {
        provider: "corp",
        cache: "introspection",
        hit: true,
        entries: 1,
    });
    let text = m.render();
    assert!(text.contains(
        "warden_token_cache_lookups_total{cache=\"introspection\",provider=\"corp\",result=\"hit\"} 1"
    ));
    assert!(text.contains(
        "warden_token_cache_lookups_total{cache=\"introspection\",provider=\"corp\",result=\"miss\"} 1"
    ));
    assert!(
        text.contains("warden_token_cache_entries{cache=\"introspection\",provider=\"corp\"} 1")
    );
}

#[test]
fn upstream_counts_and_observes() {
    let m = metrics();
    m.observe(&Event::Upstream {
        upstream: "alphavantage",
        outcome: "rate_limited",
        elapsed: Duration::from_millis(80),
    });
    let text = m.render();
    assert!(text.contains(
        "warden_upstream_requests_total{outcome=\"rate_limited\",upstream=\"alphavantage\"} 1"
    ));
    assert!(text
        .contains("warden_upstream_request_duration_seconds_count{upstream=\"alphavantage\"} 1"));
}

#[test]
fn tool_call_counts_and_observes() {
    let m = metrics();
    m.observe(&Event::ToolCall {
        tool: "news_sentiment",
        outcome: "invalid_params",
        elapsed: Duration::from_millis(1),
    });
    let text = m.render();
    assert!(text
        .contains("warden_tool_calls_total{outcome=\"invalid_params\",tool=\"news_sentiment\"} 1"));
    assert!(text.contains("warden_tool_call_duration_seconds_count{tool=\"news_sentiment\"} 1"));
}

#[test]
fn setters_build_info_sessions_and_readiness() {
    let m = metrics();
    m.set_sessions(4);
    m.sessions_gauge().inc();
    m.set_provider_ready("dev", true);
    m.set_provider_ready("corp", false);
    let text = m.render();
    assert!(text.contains("warden_build_info{version=\"1.2.3\"} 1"));
    m.set_build_info("1.2.4", "0123456789ab");
    let text = m.render();
    assert!(
        text.contains("warden_build_info{commit=\"0123456789ab\",version=\"1.2.4\"} 1"),
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("warden_build_info"))
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("warden_mcp_sessions_active 5"));
    assert!(text.contains("warden_provider_ready{provider=\"dev\"} 1"));
    assert!(text.contains("warden_provider_ready{provider=\"corp\"} 0"));
}

#[test]
fn every_family_is_exposed_after_one_of_each_event() {
    let m = metrics();
    emit_one_of_each(&m);
    let text = m.render();
    for name in METRIC_NAMES {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name} missing");
    }
}

#[test]
fn no_label_carries_a_token_or_unknown_name() {
    let m = metrics();
    m.observe(&Event::AuthDecision {
        provider: TOKEN,
        outcome: Outcome::Accepted,
    });
    m.observe(&Event::ToolCall {
        tool: TOKEN,
        outcome: "ok",
        elapsed: Duration::ZERO,
    });
    m.observe(&Event::Upstream {
        upstream: "https://evil.example/?apikey=SECRET-TEST-TOKEN-VALUE",
        outcome: "ok",
        elapsed: Duration::ZERO,
    });
    m.observe(&Event::Verification {
        provider: "unconfigured",
        cache_hit: false,
        elapsed: Duration::ZERO,
    });
    m.record_http(TOKEN, "POST", 200, Duration::ZERO);
    m.record_http("/mcp", "X-SECRET-TEST-TOKEN-VALUE", 999, Duration::ZERO);
    let text = m.render();
    assert!(!text.contains("SECRET-TEST-TOKEN-VALUE"), "{text}");
    assert!(!text.contains("unconfigured"), "{text}");
    assert!(text.contains("warden_auth_decisions_total{outcome=\"accepted\",provider=\"other\"} 1"));
    assert!(text.contains("warden_tool_calls_total{outcome=\"ok\",tool=\"other\"} 1"));
    assert!(text.contains(
        "warden_http_requests_total{method=\"other\",route=\"/mcp\",status=\"other\"} 1"
    ));
}

#[test]
fn dynamic_label_sets_are_capped() {
    let m = Metrics::new("0.0.0").expect("metrics");
    for i in 0..100 {
        let name = format!("p{i}");
        m.observe(&Event::AuthDecision {
            provider: &name,
            outcome: Outcome::Accepted,
        });
    }
    let text = m.render();
    let series = text
        .lines()
        .filter(|l| l.starts_with("warden_auth_decisions_total{"))
        .count();
    // 32 dynamic names plus `other`.
    assert_eq!(series, 33, "{text}");
}

#[test]
fn build_info_from_the_builder_and_bounded_values() {
    let m = Metrics::builder()
        .version("2.0.0")
        .commit("deadbeef")
        .build()
        .expect("metrics");
    assert!(m
        .render()
        .contains("warden_build_info{commit=\"deadbeef\",version=\"2.0.0\"} 1"));
    m.set_build_info("2.0.0", "");
    assert!(m
        .render()
        .contains("warden_build_info{commit=\"unknown\",version=\"2.0.0\"} 1"));
    m.set_build_info("2.0.0", "not a \"commit\"");
    let text = m.render();
    assert!(text.contains("warden_build_info{commit=\"other\",version=\"2.0.0\"} 1"));
    m.set_build_info(&"9".repeat(65), "abc");
    let text = m.render();
    assert!(text.contains("warden_build_info{commit=\"abc\",version=\"other\"} 1"));
}

#[test]
fn jwks_last_success_is_set_by_successful_refreshes_only() {
    let m = metrics();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    m.observe(&Event::KeysRefreshed {
        provider: "dev",
        result: "error",
        keys: 0,
    });
    let text = m.render();
    assert!(
        !text.contains("warden_jwks_last_success_timestamp_seconds{"),
        "{text}"
    );
    for result in ["ok", "not_modified"] {
        m.observe(&Event::KeysRefreshed {
            provider: "corp",
            result,
            keys: 2,
        });
        let text = m.render();
        let value: f64 = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("warden_jwks_last_success_timestamp_seconds{provider=\"corp\"} ")
            })
            .expect("timestamp series")
            .parse()
            .expect("number");
        assert!(value >= before.floor() && value < before + 60.0, "{value}");
        assert!(!text.contains("warden_jwks_last_success_timestamp_seconds{provider=\"dev\"}"));
    }
}

#[test]
fn process_metrics_are_exposed() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let text = metrics().render();
    for name in PROCESS_METRIC_NAMES {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name} missing");
        let value: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} has no sample"))
            .parse()
            .expect("number");
        if name != "process_cpu_seconds_total" {
            assert!(value > 0.0, "{name} = {value}");
        }
    }
}

/// The non-zero `warden_*` samples of an exposition (pre-created zero series
/// and process metrics left out).
fn nonzero_samples(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("warden_") && !l.ends_with(" 0"))
        .filter(|l| !l.starts_with("warden_build_info") && !l.contains("_sum{"))
        .filter(|l| !l.starts_with("warden_jwks_last_success_timestamp_seconds"))
        .map(str::to_owned)
        .collect();
    out.sort();
    out
}

/// Known label values take the pre-resolved handles, unknown ones
/// `with_label_values`: both record exactly the same series.
#[test]
fn pre_resolved_and_by_label_paths_record_the_same_series() {
    let known = Metrics::builder()
        .version("1")
        .providers(["dev", "corp"])
        .tools(["whoami", "news_sentiment"])
        .upstreams(["alphavantage", "idp:corp", "idp:dev"])
        .build()
        .expect("metrics");
    let dynamic = Metrics::new("1").expect("metrics");
    let d = Duration::from_millis(2);
    for m in [&known, &dynamic] {
        for _ in 0..3 {
            emit_one_of_each(m);
            for outcome in Outcome::ALL {
                m.observe(&Event::AuthDecision {
                    provider: "corp",
                    outcome,
                });
            }
            for (cache, hit) in [
                ("introspection", false),
                ("userinfo", true),
                ("odd-cache", true),
            ] {
                m.observe(&Event::CacheLookup {
                    provider: "corp",
                    cache,
                    hit,
                    entries: 5,
                });
            }
            m.observe(&Event::Verification {
                provider: "none",
                cache_hit: true,
                elapsed: d,
            });
            for outcome in ["http_5xx", "timeout", "brand_new_outcome"] {
                m.observe(&Event::Upstream {
                    upstream: "idp:corp",
                    outcome,
                    elapsed: d,
                });
            }
            for outcome in ["ok", "forbidden", "brand_new_outcome"] {
                m.observe(&Event::ToolCall {
                    tool: "whoami",
                    outcome,
                    elapsed: d,
                });
            }
        }
    }
    let (a, b) = (known.render(), dynamic.render());
    assert_eq!(nonzero_samples(&a), nonzero_samples(&b));
    assert!(a.contains(
        "warden_upstream_requests_total{outcome=\"brand_new_outcome\",upstream=\"idp:corp\"} 3"
    ));
    assert!(a.contains(
        "warden_token_cache_lookups_total{cache=\"odd-cache\",provider=\"corp\",result=\"hit\"} 3"
    ));
    assert!(a.contains("warden_auth_decisions_total{outcome=\"accepted\",provider=\"corp\"} 3"));
    assert!(a.contains("warden_verify_duration_seconds_count{cache=\"hit\",provider=\"none\"} 3"));
}

/// Pre-resolution does not create series: nothing beyond what was observed
/// (plus the documented pre-created zeros) is exposed.
#[test]
fn pre_resolution_creates_no_extra_series() {
    let m = metrics();
    let text = m.render();
    assert!(
        !text.contains("warden_verify_duration_seconds_count"),
        "{text}"
    );
    assert!(
        !text.contains("warden_token_cache_lookups_total{"),
        "{text}"
    );
    assert!(
        !text.contains("warden_tool_call_duration_seconds_count"),
        "{text}"
    );
    assert!(!text.contains("warden_http_requests_total{"), "{text}");
    assert!(!text.contains("warden_auth_decisions_total{outcome=\"accepted\",provider=\"none\"}"));
}
