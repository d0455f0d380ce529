//! Helpers around warden-test-support's fake IdP, laid out as these tests
//! expect (issuer `{origin}/oidc`, introspection at `/introspect`, only the
//! OpenID configuration published, a client whose secret needs encoding),
//! plus an event recorder and the provider under test.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use warden_core::{
    noop_observer, AuthError, Event, Observer, ProviderContext, ProviderFactory, SharedObserver,
    Verifier,
};
use warden_introspection::IntrospectionFactory;
use warden_test_support::idp::{FakeIdp, IntrospectionCall, MetadataDocument};

pub(crate) const CLIENT_ID: &str = "warden app";
pub(crate) const CLIENT_SECRET: &str = "s3cr3t:p@ss/w+rd &é";
pub(crate) const RESOURCE: &str = "http://127.0.0.1:10000/mcp";

/// The fake authorization server: issuer `{origin}/oidc`, introspection at
/// `{origin}/introspect` for [`CLIENT_ID`]/[`CLIENT_SECRET`] (Basic or
/// post), metadata only at `{issuer}/.well-known/openid-configuration`.
pub(crate) async fn start_idp() -> FakeIdp {
    let idp = FakeIdp::builder()
        .issuer_path("/oidc")
        .introspection_path("/introspect")
        .client(CLIENT_ID, CLIENT_SECRET)
        .start()
        .await;
    idp.set_metadata_documents(&[MetadataDocument::OpenIdConfiguration]);
    idp
}

/// The last introspection request the fake received.
pub(crate) fn last_seen(idp: &FakeIdp) -> IntrospectionCall {
    idp.introspections()
        .pop()
        .expect("an introspection request")
}

/// Records the events a verifier emits.
#[derive(Default)]
pub(crate) struct Recorder {
    pub events: Mutex<Vec<String>>,
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
            other => format!("{other:?}"),
        };
        self.events.lock().unwrap().push(line);
    }
}

pub(crate) fn ctx_with(observer: SharedObserver) -> ProviderContext {
    ProviderContext {
        name: "corp".into(),
        public_url: "http://127.0.0.1:10000".into(),
        resource: RESOURCE.into(),
        leeway: Duration::ZERO,
        observer,
        data_dir: std::env::temp_dir(),
    }
}

pub(crate) fn ctx() -> ProviderContext {
    ctx_with(noop_observer())
}

/// The provider table pointing at `fake`, with `extra` merged over it.
pub(crate) fn table(fake: &FakeIdp, extra: Value) -> Value {
    let mut table = json!({
        "introspection_url": fake.introspection_url(),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            table.as_object_mut().unwrap().remove(k);
        } else {
            table[k] = v.clone();
        }
    }
    table
}

pub(crate) fn build(fake: &FakeIdp, extra: Value) -> Arc<dyn Verifier> {
    IntrospectionFactory
        .build(&ctx(), table(fake, extra))
        .unwrap()
}

pub(crate) fn now() -> i64 {
    warden_core::now_unix()
}

/// An answer warden accepts.
pub(crate) fn good_answer() -> Value {
    json!({
        "active": true,
        "scope": "news:read profile",
        "client_id": "mcp-client",
        "sub": "alice",
        "aud": RESOURCE,
        "exp": now() + 3600,
        "iat": now() - 10,
        "token_type": "Bearer",
        "username": "alice@example.com",
    })
}

/// Asserts "could not verify", returns the retry hint, and checks the token
/// does not leak into the message.
pub(crate) fn expect_unavailable(
    result: Result<warden_core::AuthInfo, AuthError>,
    token: &str,
) -> (String, Duration) {
    let err = match result {
        Ok(info) => panic!("expected Unavailable, got {info:?}"),
        Err(e) => e,
    };
    no_leak(&err, token);
    match err {
        AuthError::Unavailable {
            reason,
            retry_after,
            ..
        } => (reason, retry_after),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

/// Asserts the error does not contain the token.
pub(crate) fn no_leak(err: &AuthError, token: &str) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains(token), "token leaked: {text}");
    assert!(!text.contains(CLIENT_SECRET), "secret leaked: {text}");
}

/// Waits (bounded) until `cond` holds.
pub(crate) async fn eventually(mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("condition not reached within 5 s");
}
