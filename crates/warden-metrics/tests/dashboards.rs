//! `dashboards/warden-overview.json` and `dashboards/alerts.yml` only use
//! series `Metrics` really exports, with label names those series carry.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;
use warden_metrics::Metrics;

fn dashboards_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dashboards")
}

/// Metric family name → (type, label names seen on its series).
fn exported() -> BTreeMap<String, (String, BTreeSet<String>)> {
    let m = Metrics::builder()
        .version("test")
        .providers(["dev"])
        .tools(["whoami", "news_sentiment"])
        .upstreams(["idp:dev", "alphavantage"])
        .build()
        .expect("metrics");
    common::emit_one_of_each(&m);
    let text = m.render();
    let mut out: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').expect("TYPE line");
            out.entry(name.to_owned()).or_default().0 = ty.to_owned();
        }
    }
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let series = line.split_once(' ').map_or(line, |(s, _)| s);
        let (name, labels) = series.split_once('{').unwrap_or((series, ""));
        let family = family_of(name, &out).unwrap_or_else(|| panic!("series {name} has no family"));
        let entry = out.get_mut(&family).expect("family");
        for pair in labels
            .trim_end_matches('}')
            .split(',')
            .filter(|p| !p.is_empty())
        {
            let (label, _) = pair.split_once('=').expect("label pair");
            entry.1.insert(label.to_owned());
        }
    }
    out
}

/// The family a series name belongs to (`x_bucket` → `x` for histograms).
fn family_of(
    name: &str,
    families: &BTreeMap<String, (String, BTreeSet<String>)>,
) -> Option<String> {
    if families.contains_key(name) {
        return Some(name.to_owned());
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if families.get(base).is_some_and(|(ty, _)| ty == "histogram") {
                return Some(base.to_owned());
            }
        }
    }
    None
}

/// Labels Prometheus adds to every scraped series (target labels).
const TARGET_LABELS: [&str; 2] = ["job", "instance"];

/// Every `warden_*` and `process_*` selector in a PromQL expression:
/// (series name, label names in its matcher).
fn selectors(expr: &str) -> Vec<(String, Vec<String>)> {
    selectors_with_matchers(expr)
        .into_iter()
        .map(|(name, matchers)| {
            let labels = matchers
                .iter()
                .map(|m| {
                    m.trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .filter(|l| !l.is_empty())
                .collect();
            (name, labels)
        })
        .collect()
}

/// The first `warden_` or `process_` series name at or after `from`.
fn next_name(expr: &str, from: usize) -> Option<usize> {
    ["warden_", "process_"]
        .iter()
        .filter_map(|p| expr[from..].find(p))
        .min()
        .map(|pos| from + pos)
}

/// Every `warden_*` and `process_*` selector: (series name, its matchers as written).
fn selectors_with_matchers(expr: &str) -> Vec<(String, Vec<String>)> {
    let bytes = expr.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(start) = next_name(expr, i) {
        if start > 0 && ident(bytes[start - 1]) {
            i = start + 1;
            continue;
        }
        let mut end = start;
        while end < bytes.len() && ident(bytes[end]) {
            end += 1;
        }
        let name = expr[start..end].to_string();
        let mut matchers = Vec::new();
        if bytes.get(end) == Some(&b'{') {
            let close = expr[end..].find('}').expect("closing brace") + end;
            matchers = split_matchers(&expr[end + 1..close])
                .into_iter()
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
                .collect();
            end = close;
        }
        out.push((name, matchers));
        i = end;
    }
    out
}

/// Splits `a="x,y", b=~"z"` on commas outside quotes.
fn split_matchers(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn check_exprs(source: &str, exprs: &[String]) {
    let families = exported();
    let mut problems = Vec::new();
    let mut used = 0;
    for expr in exprs {
        for (name, labels) in selectors(expr) {
            used += 1;
            let Some(family) = family_of(&name, &families) else {
                problems.push(format!("{source}: {name} is not exported (in `{expr}`)"));
                continue;
            };
            let known = &families[&family].1;
            for label in labels {
                let ok = known.contains(&label)
                    || TARGET_LABELS.contains(&label.as_str())
                    || (label == "le" && name.ends_with("_bucket"));
                if !ok {
                    problems.push(format!(
                        "{source}: {name} has no label {label} (in `{expr}`)"
                    ));
                }
            }
        }
    }
    assert!(used > 0, "{source}: no warden_ or process_ series found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Panels, flattening rows.
fn panels(dash: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in dash["panels"].as_array().expect("panels") {
        out.push(p);
        if let Some(inner) = p["panels"].as_array() {
            out.extend(inner);
        }
    }
    out
}

#[test]
fn grafana_dashboard_uses_only_exported_series() {
    let text =
        std::fs::read_to_string(dashboards_dir().join("warden-overview.json")).expect("dashboard");
    let dash: Value = serde_json::from_str(&text).expect("dashboard is JSON");
    assert!(dash["schemaVersion"].as_u64().expect("schemaVersion") >= 39);
    assert!(dash["uid"].is_string() && dash["title"].is_string());

    let vars = dash["templating"]["list"].as_array().expect("templating");
    let ds = vars
        .iter()
        .find(|v| v["name"] == "datasource")
        .expect("datasource variable");
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["query"], "prometheus");
    for (name, query) in [
        ("job", "label_values(warden_build_info, job)"),
        (
            "instance",
            "label_values(warden_build_info{job=~\"$job\"}, instance)",
        ),
    ] {
        let var = vars
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no {name} variable"));
        assert_eq!(var["type"], "query", "{name}");
        assert_eq!(var["datasource"]["uid"], "${datasource}", "{name}");
        assert_eq!(var["definition"], query, "{name}");
        assert_eq!(var["query"]["query"], query, "{name}");
        assert_eq!(var["multi"], true, "{name}");
        assert_eq!(var["includeAll"], true, "{name}");
        assert_eq!(var["allValue"], ".*", "{name}");
    }

    let mut exprs = Vec::new();
    let mut ids = BTreeSet::new();
    for p in panels(&dash) {
        assert!(
            ids.insert(p["id"].as_u64().expect("panel id")),
            "duplicate panel id"
        );
        if p["type"] == "row" {
            continue;
        }
        let title = p["title"].as_str().expect("title");
        assert_eq!(p["datasource"]["uid"], "${datasource}", "panel {title}");
        assert_eq!(p["datasource"]["type"], "prometheus", "panel {title}");
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {title} has no query");
        for t in targets {
            assert_eq!(t["datasource"]["uid"], "${datasource}", "target of {title}");
            exprs.push(t["expr"].as_str().expect("expr").to_owned());
        }
    }
    check_exprs("warden-overview.json", &exprs);

    // Every query is scoped to the selected jobs and instances.
    for expr in &exprs {
        let found = selectors_with_matchers(expr);
        assert!(!found.is_empty(), "no series in `{expr}`");
        for (name, matchers) in found {
            for scope in [r#"job=~"$job""#, r#"instance=~"$instance""#] {
                assert!(
                    matchers.iter().any(|m| m == scope),
                    "{name} is not filtered by {scope} in `{expr}`"
                );
            }
        }
    }

    // Every area the issue asks for has a panel (matched without the
    // job/instance scope, which every selector carries).
    let all = exprs
        .join("\n")
        .replace(r#"{job=~"$job", instance=~"$instance"}"#, "")
        .replace(r#"job=~"$job", instance=~"$instance", "#, "");
    for needle in [
        "warden_http_requests_total",
        "warden_auth_decisions_total",
        "histogram_quantile(0.99, sum by (le, provider) (rate(warden_verify_duration_seconds_bucket",
        "histogram_quantile(0.5, sum by (le, provider) (rate(warden_verify_duration_seconds_bucket",
        "warden_token_cache_lookups_total{result=\"hit\"}",
        "warden_jwks_refresh_total{result=\"error\"}",
        "upstream=~\"idp:.*\"",
        "upstream=\"alphavantage\"",
        "outcome=\"rate_limited\"",
        "warden_tool_calls_total",
        "warden_tool_call_duration_seconds_bucket",
        "warden_mcp_sessions_active",
        // Error ratios: auth rejections, upstream errors, HTTP 5xx.
        "sum by (provider) (rate(warden_auth_decisions_total{outcome!=\"accepted\"}[$__rate_interval])) / sum by (provider) (rate(warden_auth_decisions_total[$__rate_interval]))",
        "sum by (upstream) (rate(warden_upstream_requests_total{outcome!=\"ok\"}[$__rate_interval])) / sum by (upstream) (rate(warden_upstream_requests_total[$__rate_interval]))",
        "sum(rate(warden_http_requests_total{status=~\"5..\"}[$__rate_interval])) / sum(rate(warden_http_requests_total[$__rate_interval]))",
        // Verification latency by cache hit / miss.
        "histogram_quantile(0.99, sum by (le, provider, cache) (rate(warden_verify_duration_seconds_bucket",
        "histogram_quantile(0.5, sum by (le, provider, cache) (rate(warden_verify_duration_seconds_bucket",
        // warden's own 429s (rate-limit refusals).
        "warden_http_requests_total{status=\"429\"}",
        // Readiness over time, JWKS freshness, build, process.
        "max by (provider) (warden_provider_ready)",
        "time() - max by (provider) (warden_jwks_last_success_timestamp_seconds)",
        "max by (instance, version, commit) (warden_build_info)",
        "process_resident_memory_bytes",
        "rate(process_cpu_seconds_total",
        "process_open_fds",
        "process_max_fds",
    ] {
        assert!(all.contains(needle), "no panel uses {needle}");
    }
}

#[test]
fn alert_rules_use_only_exported_series_and_say_what_to_check() {
    let text = std::fs::read_to_string(dashboards_dir().join("alerts.yml")).expect("alerts");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("alerts are YAML");
    let mut exprs = Vec::new();
    let mut names = BTreeSet::new();
    for group in doc["groups"].as_sequence().expect("groups") {
        for rule in group["rules"].as_sequence().expect("rules") {
            let alert = rule["alert"].as_str().expect("alert name").to_owned();
            let summary = rule["annotations"]["summary"].as_str().unwrap_or_default();
            let description = rule["annotations"]["description"]
                .as_str()
                .unwrap_or_default();
            assert!(
                !summary.is_empty() && !description.is_empty(),
                "{alert} lacks summary/description"
            );
            assert!(
                description.to_lowercase().contains("check"),
                "{alert} does not say what to check"
            );
            assert!(
                rule["labels"]["severity"].is_string(),
                "{alert} has no severity"
            );
            exprs.push(rule["expr"].as_str().expect("expr").to_owned());
            names.insert(alert);
        }
    }
    for expected in [
        "WardenIdpUnavailable",
        "WardenJwksRefreshFailing",
        "WardenAuthFailureSpike",
        "WardenAlphaVantageRateLimited",
        "WardenHighLatencyP99",
        "WardenTargetDown",
        "WardenHttp5xxRatioHigh",
        "WardenJwksRefreshStale",
    ] {
        assert!(names.contains(expected), "missing alert {expected}");
    }
    check_exprs("alerts.yml", &exprs);
}

#[test]
fn target_down_alert_uses_the_job_convention() {
    let text = std::fs::read_to_string(dashboards_dir().join("alerts.yml")).expect("alerts");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("alerts are YAML");
    let rule = doc["groups"]
        .as_sequence()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_sequence().expect("rules"))
        .find(|r| r["alert"] == "WardenTargetDown")
        .expect("WardenTargetDown");
    assert!(
        rule["expr"]
            .as_str()
            .expect("expr")
            .contains(r#"up{job="warden"} == 0"#),
        "{rule:?}"
    );
}

#[test]
fn selector_extraction() {
    let s = selectors(
        r#"sum(rate(warden_http_request_duration_seconds_bucket{route!="other", le=~"1|2"}[5m])) / warden_x unless foo_warden_y"#,
    );
    assert_eq!(
        s,
        vec![
            (
                "warden_http_request_duration_seconds_bucket".to_owned(),
                vec!["route".to_owned(), "le".to_owned()]
            ),
            ("warden_x".to_owned(), vec![]),
        ]
    );
    let s = selectors_with_matchers(
        r#"rate(process_cpu_seconds_total{job=~"$job", instance=~"$instance"}[5m]) + up"#,
    );
    assert_eq!(
        s,
        vec![(
            "process_cpu_seconds_total".to_owned(),
            vec![
                r#"job=~"$job""#.to_owned(),
                r#"instance=~"$instance""#.to_owned()
            ]
        )]
    );
}

#[test]
fn every_alert_has_a_firing_and_a_quiet_promtool_test() {
    let read = |f: &str| std::fs::read_to_string(dashboards_dir().join(f)).expect(f);
    let rules: serde_yaml::Value = serde_yaml::from_str(&read("alerts.yml")).expect("alerts");
    let tests: serde_yaml::Value = serde_yaml::from_str(&read("alerts.test.yml")).expect("tests");
    assert_eq!(tests["rule_files"][0].as_str(), Some("alerts.yml"));
    let mut firing = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for t in tests["tests"].as_sequence().expect("tests") {
        for case in t["alert_rule_test"].as_sequence().expect("alert_rule_test") {
            let name = case["alertname"].as_str().expect("alertname").to_owned();
            if case["exp_alerts"]
                .as_sequence()
                .is_some_and(|a| !a.is_empty())
            {
                firing.insert(name);
            } else {
                quiet.insert(name);
            }
        }
    }
    for group in rules["groups"].as_sequence().expect("groups") {
        for rule in group["rules"].as_sequence().expect("rules") {
            let alert = rule["alert"].as_str().expect("alert");
            assert!(
                firing.contains(alert),
                "alerts.test.yml never fires {alert}"
            );
            assert!(
                quiet.contains(alert),
                "alerts.test.yml has no case where {alert} stays quiet"
            );
        }
    }
}
