//! An existing poem app protecting its own routes with
//! warden-poem's `BearerAuth`, verifying JWTs of the fake IdP over real HTTP.

use std::sync::Arc;

use poem::{get, handler, listener::TcpListener, EndpointExt, Route, Server};
use warden_core::{
    metadata_url, noop_observer, BearerGuard, BearerPolicy, ChallengeContext, ProviderContext,
    ProviderSet,
};
use warden_jwt::{JwtSettings, JwtVerifier};
use warden_poem::{BearerAuth, Caller};
use warden_test_support::idp::FakeIdp;

#[handler]
fn hello(Caller(me): Caller) -> String {
    format!("hello {}", me.subject.unwrap_or_default())
}

#[tokio::test]
async fn bearer_auth_protects_plain_poem_routes() {
    let idp = FakeIdp::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public = format!("http://127.0.0.1:{port}");
    let audience = format!("{public}/api");
    let ctx = ProviderContext {
        name: "idp".into(),
        public_url: public.clone(),
        resource: audience.clone(),
        leeway: std::time::Duration::from_secs(60),
        observer: noop_observer(),
        data_dir: ".".into(),
    };
    let verifier = JwtVerifier::new(
        &ctx,
        JwtSettings {
            issuers: vec![idp.issuer()],
            ..Default::default()
        },
    )
    .unwrap();
    let guard = Arc::new(BearerGuard::new(
        ProviderSet::new(vec![verifier]),
        BearerPolicy::default(),
        ChallengeContext {
            resource_metadata: metadata_url(&public, "/api"),
            scopes: vec![],
        },
        noop_observer(),
    ));
    let app = Route::new()
        .at(
            "/api/hello",
            get(hello).with(BearerAuth::new(guard.clone())),
        )
        .at(
            "/api/admin",
            get(hello).with(BearerAuth::new(guard).require_scopes(["admin"])),
        );
    let server = tokio::spawn(Server::new(TcpListener::bind(format!("127.0.0.1:{port}"))).run(app));
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{public}/api/hello")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(up);

    let anon = http
        .get(format!("{public}/api/hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    assert!(anon.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("/.well-known/oauth-protected-resource/api"));

    let token = idp.access_token(audience.as_str(), "alice", "profile");
    let ok = http
        .get(format!("{public}/api/hello"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "hello alice");

    let forbidden = http
        .get(format!("{public}/api/admin"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    assert!(forbidden.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("scope=\"admin\""));

    let other_aud = idp.access_token("https://elsewhere.example", "alice", "profile");
    let wrong = http
        .get(format!("{public}/api/hello"))
        .bearer_auth(&other_aud)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    server.abort();
}
