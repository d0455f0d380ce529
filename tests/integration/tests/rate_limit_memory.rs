//! With `[limits.rate_limit]` on, the limiter's per-caller state is bounded
//! (governor's keyed map would otherwise grow with every distinct subject).
//! The real host (dev issuer, stateless MCP over loopback) serves 100 000
//! distinct verified subjects, one request each; the limiter the host built
//! from its config (`App::rate_limit`, the same instance the MCP path checks)
//! must forget them once they are idle, with nothing but its own housekeeping
//! task — the host never calls `forget_idle`. About 1 ms of CPU per request
//! in a debug build (each token is verified once: ES256).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use warden_test_support::host::TestHost;

const SUBJECTS: usize = 100_000;
const IN_FLIGHT: usize = 32;

/// `per_minute = 60000`, `burst = 1`: a bucket refills in 1 ms, so a subject is
/// forgettable 2 ms after its request and the default sweep runs every second.
const CONFIG: &str = "[server]\nstateless = true\n[providers.dev]\nkind = \"dev\"\n[tools.news_sentiment]\nenabled = false\n[limits.rate_limit]\nenabled = true\nkey = \"subject\"\nper_minute = 60000\nburst = 1\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limiter_state_shrinks_back_after_100_000_distinct_subjects() {
    let host = Arc::new(TestHost::start(CONFIG).await);
    let limiter = host
        .app()
        .rate_limit
        .clone()
        .expect("[limits.rate_limit] enabled");
    assert_eq!(limiter.idle_window(), Duration::from_millis(2));
    assert_eq!(
        limiter.housekeeping_interval(),
        Some(Duration::from_secs(1)),
        "the host's limiter runs its own housekeeping"
    );
    assert_eq!(limiter.tracked_keys(), 0);

    // Sample the state size while the subjects arrive.
    let peak = Arc::new(AtomicUsize::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (limiter, peak, sampling) = (limiter.clone(), peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(limiter.tracked_keys(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let started = Instant::now();
    let client = reqwest::Client::new();
    let url = host.mcp_url();
    // A cheap MCP message: a notification, answered 202 without a body.
    let notification = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
    let failures: Vec<String> = futures::stream::iter(0..SUBJECTS)
        .map(|i| {
            let (host, client, url, notification) = (
                host.clone(),
                client.clone(),
                url.clone(),
                notification.clone(),
            );
            async move {
                let token = host.dev_token(&format!("subject-{i:06}"), "profile");
                let resp = client
                    .post(&url)
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .body(notification)
                    .send()
                    .await
                    .expect("request");
                let status = resp.status().as_u16();
                let body = resp.text().await.unwrap_or_default();
                (status != 202).then(|| format!("subject-{i:06}: {status} {body}"))
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .filter_map(|f| async move { f })
        .collect()
        .await;
    let drive = started.elapsed();
    assert!(
        failures.is_empty(),
        "{} of {SUBJECTS} requests failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );

    // Every request reached the limiter: each subject was tracked, and the
    // sweeps kept the map well below the number of subjects while they came.
    sampling.store(false, Ordering::Relaxed);
    sampler.await.unwrap();
    let peak = peak.load(Ordering::Relaxed).max(limiter.tracked_keys());
    assert!(peak > 0, "the limiter never saw a subject");
    assert!(
        peak < SUBJECTS / 2,
        "state grew to {peak} keys for {SUBJECTS} subjects over {drive:?}: not swept"
    );

    // After the idle window (+ one sweep interval) nothing is left.
    let idle_since = Instant::now();
    let at_end = limiter.tracked_keys();
    while limiter.tracked_keys() > 0 {
        assert!(
            idle_since.elapsed() < Duration::from_secs(10),
            "{} keys still tracked 10 s after the last of {SUBJECTS} subjects",
            limiter.tracked_keys()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "{SUBJECTS} subjects in {drive:?} ({IN_FLIGHT} in flight); peak {peak} keys, \
         {at_end} at the end, 0 after {:?}",
        idle_since.elapsed()
    );
}
