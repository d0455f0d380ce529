//! Helpers: a Logto-shaped fake IdP, a provider context with an event
//! recorder, and the provider under test.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use warden_core::{AuthError, ChallengeContext, Event, Observer, ProviderContext, SharedObserver};
use warden_logto::{LogtoFactory, LogtoVerifier};
use warden_test_support::idp::FakeIdp;

pub(crate) const MCP: &str = "http://127.0.0.1:10000/mcp";
pub(crate) const API: &str = "https://api.example.com";

/// Records `CacheLookup` and `Upstream` events as short strings.
#[derive(Default)]
pub(crate) struct Recorder {
    events: Mutex<Vec<String>>,
}

impl Recorder {
    pub(crate) fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }

    pub(crate) fn count(&self, prefix: &str) -> usize {
        self.events()
            .iter()
            .filter(|e| e.starts_with(prefix))
            .count()
    }
}

impl Observer for Recorder {
    fn observe(&self, event: &Event<'_>) {
        let line = match event {
            Event::CacheLookup {
                provider,
                cache,
                hit,
                ..
            } => format!("cache:{provider}:{cache}:{hit}"),
            Event::Upstream {
                upstream, outcome, ..
            } => format!("upstream:{upstream}:{outcome}"),
            _ => return,
        };
        self.events.lock().unwrap().push(line);
    }
}

pub(crate) fn ctx(observer: SharedObserver) -> ProviderContext {
    ProviderContext {
        name: "logto".into(),
        public_url: "http://127.0.0.1:10000".into(),
        resource: MCP.into(),
        leeway: Duration::from_secs(5),
        observer,
        data_dir: std::env::temp_dir(),
    }
}

/// Issuer `/oidc`, JWKS `/oidc/jwks`, userinfo `/oidc/me`, introspection
/// `/oidc/token/introspection`, ES384 key.
pub(crate) async fn logto_idp() -> FakeIdp {
    FakeIdp::builder().logto_style().start().await
}

/// The provider for `idp` with `extra` merged into the table
/// (`issuer` and `audience = [API]` by default).
pub(crate) fn provider_with(idp: &FakeIdp, extra: Value) -> (Arc<LogtoVerifier>, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let mut table = json!({"issuer": idp.issuer(), "audience": [API]});
    for (k, v) in extra.as_object().unwrap() {
        table[k] = v.clone();
    }
    let verifier = LogtoFactory
        .build_verifier(&ctx(recorder.clone()), table)
        .unwrap();
    (verifier, recorder)
}

pub(crate) fn provider(idp: &FakeIdp) -> (Arc<LogtoVerifier>, Arc<Recorder>) {
    provider_with(idp, json!({}))
}

/// The HTTP status warden would answer with.
pub(crate) fn http_status(err: &AuthError) -> u16 {
    err.challenge(&ChallengeContext {
        resource_metadata: format!("{MCP}/.well-known/oauth-protected-resource/mcp"),
        scopes: vec![],
    })
    .status
}

pub(crate) fn profile(sub: &str) -> Value {
    json!({
        "sub": sub,
        "name": "Ada Lovelace",
        "username": "ada",
        "email": "ada@example.com",
        "picture": "https://example.com/ada.png",
    })
}
