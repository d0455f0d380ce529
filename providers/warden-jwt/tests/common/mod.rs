//! Test helpers around warden-test-support's fake IdP and keys: claims for a
//! fixed issuer and resource, an event recorder and a provider context.

#![allow(dead_code)]

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use warden_core::{Event, Observer, ProviderContext, SharedObserver};
use warden_test_support::idp::FakeIdp;
use warden_test_support::tokens::{self, TestKey};

#[allow(unused_imports)]
pub(crate) use warden_test_support::tokens::{b64url as b64, jwk_set as jwks};

pub(crate) const ISSUER: &str = "https://idp.test";
pub(crate) const RESOURCE: &str = "http://127.0.0.1:8080/mcp";

/// Valid claims for [`ISSUER`] and [`RESOURCE`], expiring in 5 minutes.
pub(crate) fn claims() -> Value {
    let mut claims = tokens::standard_claims(ISSUER, RESOURCE, "alice", "news:read profile", 300);
    claims["client_id"] = json!("cli-1");
    claims
}

/// A key for `alg` with the kid `kid`.
pub(crate) fn signing_key(alg: jsonwebtoken::Algorithm, kid: &str) -> TestKey {
    TestKey::new(alg).with_kid(kid)
}

/// The default header of [`sign`]: `alg`, `kid`, `typ: at+jwt`.
pub(crate) fn header(key: &TestKey) -> Value {
    json!({"alg": tokens::alg_name(key.alg()), "kid": key.kid(), "typ": "at+jwt"})
}

/// `claims` signed by `key` under [`header`].
pub(crate) fn sign(key: &TestKey, claims: &Value) -> String {
    tokens::sign_with_header(key, &header(key), claims)
}

/// The fake IdP publishing exactly `keys` (the first one current).
pub(crate) async fn start_idp(keys: &[&TestKey]) -> FakeIdp {
    FakeIdp::builder()
        .keys(keys.iter().map(|k| (*k).clone()))
        .start()
        .await
}

/// Requests the fake IdP received for paths containing `fragment`.
pub(crate) fn requests_to(idp: &FakeIdp, fragment: &str) -> usize {
    idp.requests()
        .iter()
        .filter(|r| r.path.contains(fragment))
        .count()
}

/// Records events as short strings.
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Vec<String>>);

impl Observer for Recorder {
    fn observe(&self, event: &Event<'_>) {
        let line = match event {
            Event::KeysRefreshed {
                provider,
                result,
                keys,
            } => format!("keys {provider} {result} {keys}"),
            Event::Upstream {
                upstream, outcome, ..
            } => format!("upstream {upstream} {outcome}"),
            Event::CacheLookup {
                provider,
                cache,
                hit,
                ..
            } => format!(
                "cache {provider} {cache} {}",
                if *hit { "hit" } else { "miss" }
            ),
            other => format!("{other:?}"),
        };
        self.0.lock().unwrap().push(line);
    }
}

impl Recorder {
    pub(crate) fn count(&self, prefix: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .count()
    }
    pub(crate) fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

pub(crate) fn ctx_with(name: &str, observer: SharedObserver) -> ProviderContext {
    ProviderContext {
        name: name.into(),
        public_url: "http://127.0.0.1:8080".into(),
        resource: RESOURCE.into(),
        leeway: Duration::from_secs(60),
        observer,
        data_dir: std::env::temp_dir(),
    }
}

/// Polls `cond` every 20 ms for at most `secs` seconds.
pub(crate) async fn eventually(secs: u64, mut cond: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond().await
}
