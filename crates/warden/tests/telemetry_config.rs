//! `[telemetry]` through the real binary's `check-config`: set from the
//! environment like every section, header values redacted, and an
//! `otlp_endpoint` refused by a binary built without the `otlp` feature.

use std::process::Output;

mod common;
use common::warden;

fn check_config(envs: &[(&str, &str)]) -> Output {
    let mut cmd = warden();
    cmd.arg("check-config");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn the_environment_sets_telemetry_and_header_values_stay_hidden() {
    let out = check_config(&[
        ("WARDEN_TELEMETRY__SERVICE_NAME", "edge-warden"),
        ("WARDEN_TELEMETRY__SAMPLE_RATIO", "0.25"),
        (
            "WARDEN_TELEMETRY__HEADERS",
            "{x-api-key = \"otlp-s3cret-value\"}",
        ),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let telemetry = &shown["telemetry"];
    assert_eq!(telemetry["service_name"], "edge-warden");
    assert_eq!(telemetry["sample_ratio"], 0.25);
    assert_eq!(telemetry["headers"]["x-api-key"], "***");
    assert!(!stdout.contains("otlp-s3cret-value") && !stderr.contains("otlp-s3cret-value"));
}

#[test]
fn an_endpoint_needs_the_otlp_feature() {
    let out = check_config(&[("WARDEN_TELEMETRY__OTLP_ENDPOINT", "http://127.0.0.1:4318")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if cfg!(feature = "otlp") {
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(stdout.contains("http://127.0.0.1:4318"), "{stdout}");
    } else {
        assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
        assert!(
            stderr.contains("telemetry.otlp_endpoint") && stderr.contains("`otlp` feature"),
            "{stderr}"
        );
    }
}

#[test]
fn bad_values_are_named() {
    for (key, value, named) in [
        (
            "WARDEN_TELEMETRY__SAMPLE_RATIO",
            "1.5",
            "telemetry.sample_ratio",
        ),
        (
            "WARDEN_TELEMETRY__OTLP_ENDPOINT",
            "ftp://collector",
            "telemetry.otlp_endpoint",
        ),
        ("WARDEN_TELEMETRY__TIMEOUT", "0s", "telemetry.timeout"),
    ] {
        let out = check_config(&[(key, value)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}={value}: {stderr}");
        assert!(stderr.contains(named), "{key}={value}: {stderr}");
    }
}
