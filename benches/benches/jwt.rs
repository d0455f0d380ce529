//! JWT verification: cold (signature + claims, verified-token cache off) for
//! RS256 / ES256 / ES384, the verified-token cache hit, and the whole guard
//! (`Authorization` header → `AuthInfo`, routing by `iss` included) on a hit.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use warden_core::{
    noop_observer, BearerGuard, BearerPolicy, ChallengeContext, ProviderContext, ProviderSet,
    Verifier,
};
use warden_jwt::{JwtSettings, JwtVerifier, KeySourceConfig, StaticKeys, VerifiedCacheSettings};
use warden_test_support::tokens::{self, TestKey};

const ISSUER: &str = "https://idp.bench.example";
const RESOURCE: &str = "http://127.0.0.1:10000/mcp";

fn context() -> ProviderContext {
    ProviderContext {
        name: "corp".into(),
        public_url: "http://127.0.0.1:10000".into(),
        resource: RESOURCE.into(),
        leeway: Duration::from_secs(60),
        observer: noop_observer(),
        data_dir: std::env::temp_dir(),
    }
}

/// A verifier over a static key set holding `key` (plus an unrelated key, as
/// real JWKS have), with or without the verified-token cache.
fn verifier(key: &TestKey, cache: bool) -> Arc<JwtVerifier> {
    let other = TestKey::es256();
    let keys = StaticKeys::from_jwks(&json!({"keys": [other.public_jwk(), key.public_jwk()]}))
        .expect("key set");
    let verified_cache = if cache {
        VerifiedCacheSettings::default()
    } else {
        VerifiedCacheSettings {
            ttl: Duration::ZERO,
            max_entries: 0,
        }
    };
    JwtVerifier::new(
        &context(),
        JwtSettings {
            issuers: vec![ISSUER.into()],
            key_source: KeySourceConfig::Provided(Arc::new(keys)),
            verified_cache,
            ..Default::default()
        },
    )
    .expect("verifier")
}

/// A realistic access token: `iss`, `aud`, `sub`, two scopes, `client_id`, `iat`, `exp`, `jti`.
fn token(key: &TestKey) -> String {
    tokens::mint(
        key,
        serde_json::Value::Null,
        tokens::standard_claims(ISSUER, RESOURCE, "alice", "news:read profile", 3600),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn bench_cold(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("verify_cold");
    for key in [TestKey::rs256(), TestKey::es256(), TestKey::es384()] {
        let v = verifier(&key, false);
        let t = token(&key);
        rt.block_on(v.verify(&t)).expect("valid token");
        group.bench_function(format!("{:?}", key.alg()), |b| {
            b.to_async(&rt)
                .iter(|| async { v.verify(&t).await.unwrap() })
        });
    }
    group.finish();
}

fn bench_cache_hit(c: &mut Criterion) {
    let rt = runtime();
    let key = TestKey::es256();
    let v = verifier(&key, true);
    let t = token(&key);
    rt.block_on(v.verify(&t)).expect("valid token");
    let mut group = c.benchmark_group("verify_cache_hit");
    group.bench_function("ES256", |b| {
        b.to_async(&rt)
            .iter(|| async { v.verify(&t).await.unwrap() })
    });

    // The guard on top: header parsing, routing by the (unverified) `iss`,
    // the cache hit, the resource scope check.
    let guard = BearerGuard::new(
        ProviderSet::new(vec![v.clone() as Arc<dyn Verifier>]),
        BearerPolicy {
            required_scopes: vec!["profile".into()],
            ..Default::default()
        },
        ChallengeContext::default(),
        noop_observer(),
    );
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        format!("Bearer {t}").parse().expect("header"),
    );
    group.bench_function("guard_authenticate", |b| {
        b.to_async(&rt)
            .iter(|| async { guard.authenticate(&headers, None).await.unwrap() })
    });
    // The unverified look at the token that routing does on every request
    // (`peek_issuer`), and the full peek (header and claims maps) it replaced.
    group.bench_function("jwt_issuer_peek_for_routing", |b| {
        b.iter(|| warden_core::jwt_peek::peek_issuer(&t).unwrap())
    });
    group.bench_function("jwt_full_peek", |b| {
        b.iter(|| warden_core::jwt_peek::peek(&t).unwrap())
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(40)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_cold, bench_cache_hit
}
criterion_main!(benches);
