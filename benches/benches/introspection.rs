//! RFC 7662 introspection against the in-tree fake IdP on loopback: the
//! warm-cache hit (what a repeated opaque token costs) and, for scale, the
//! miss (one HTTP round trip to the fake, cache off).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use url::Url;
use warden_core::noop_observer;
use warden_introspection::{
    AnswerPolicy, AuthMethod, EndpointSource, Introspector, IntrospectorSettings, Secret,
};
use warden_test_support::idp::FakeIdp;

const RESOURCE: &str = "http://127.0.0.1:10000/mcp";

fn introspector(idp: &FakeIdp, cache_ttl: Duration) -> Introspector {
    Introspector::new(IntrospectorSettings {
        provider: "corp".into(),
        endpoint: EndpointSource::Fixed(Url::parse(&idp.introspection_url()).expect("url")),
        client_id: idp.client_id(),
        client_secret: Secret::new(idp.client_secret()),
        auth_method: AuthMethod::Basic,
        timeout: Duration::from_secs(5),
        cache_ttl,
        negative_cache_ttl: Duration::from_secs(10),
        cache_size: 10_000,
        policy: AnswerPolicy::new(
            "corp",
            Some(idp.issuer()),
            vec![RESOURCE.into()],
            Duration::from_secs(60),
        ),
        observer: noop_observer(),
    })
    .expect("introspector")
}

fn bench_introspection(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let idp = rt.block_on(
        FakeIdp::builder()
            .algs([jsonwebtoken::Algorithm::ES256])
            .start(),
    );
    let token = idp.register_active("alice", "news:read profile", RESOURCE);
    let mut group = c.benchmark_group("introspection");

    let cached = introspector(&idp, Duration::from_secs(600));
    rt.block_on(cached.verify(&token)).expect("active token");
    group.bench_function("cache_hit", |b| {
        b.to_async(&rt)
            .iter(|| async { cached.verify(&token).await.unwrap() })
    });
    assert_eq!(idp.counts().introspection, 1, "the warm cache answered");

    let uncached = introspector(&idp, Duration::ZERO);
    group.bench_function("miss_loopback_round_trip", |b| {
        b.to_async(&rt)
            .iter(|| async { uncached.verify(&token).await.unwrap() })
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
    targets = bench_introspection
}
criterion_main!(benches);
