//! The admin routes over real HTTP on loopback.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use warden_core::Outcome;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use warden_admin::AdminState;
use warden_core::{Event, Observer, Verifier};
use warden_metrics::Metrics;

/// Every protected route, as (method, path, JSON body).
const PROTECTED: [(&str, &str, Option<&str>); 7] = [
    ("GET", "/admin/v1/providers", None),
    ("POST", "/admin/v1/providers/fake/refresh", None),
    ("DELETE", "/admin/v1/providers/fake/cache", None),
    ("GET", "/admin/v1/tools", None),
    ("GET", "/admin/v1/config", None),
    (
        "POST",
        "/admin/v1/tokens/explain",
        Some(r#"{"token":"good-alice"}"#),
    ),
    ("POST", "/admin/v1/dev/tokens", Some("{}")),
];

fn state(provider: Arc<FakeProvider>) -> AdminState {
    let (guard, tools) = fixture(vec![provider as Arc<dyn Verifier>], &[]);
    AdminState::new(guard, tools)
        .with_admin_token(ADMIN_TOKEN)
        .with_config(
            json!({ "admin": { "token": "***" }, "server": { "bind": "127.0.0.1:10000" } }),
        )
        .with_dev(Arc::new(FakeMinter::default()))
        .with_metrics(Arc::new(Metrics::new("9.9.9").unwrap()))
}

async fn call(
    admin: &Admin,
    method: &str,
    path: &str,
    body: Option<&str>,
    auth: Option<&str>,
) -> reqwest::Response {
    let mut req = admin.client.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        admin.url(path),
    );
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.send().await.expect("request")
}

#[tokio::test]
async fn admin_auth_no_token_wrong_token_right_token() {
    let admin = Admin::start(state(FakeProvider::new("fake", true))).await;
    for (method, path, body) in PROTECTED {
        let resp = call(&admin, method, path, body, None).await;
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} without token"
        );
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Bearer realm=\"warden-admin\"",
            "{method} {path}"
        );
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"], "unauthorized");

        let resp = call(
            &admin,
            method,
            path,
            body,
            Some("Bearer not-the-admin-token"),
        )
        .await;
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} wrong token"
        );
        assert!(resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\""));
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"], "invalid_token");

        let resp = call(
            &admin,
            method,
            path,
            body,
            Some(&format!("Basic {ADMIN_TOKEN}")),
        )
        .await;
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} basic"
        );

        let resp = call(
            &admin,
            method,
            path,
            body,
            Some(&format!("Bearer {ADMIN_TOKEN}")),
        )
        .await;
        assert!(
            resp.status().is_success(),
            "{method} {path} right token: {}",
            resp.status()
        );
    }
    // A prefix or an extension of the admin token is not the admin token.
    let resp = call(
        &admin,
        "GET",
        "/admin/v1/config",
        None,
        Some(&format!("Bearer {}", &ADMIN_TOKEN[..10])),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = call(
        &admin,
        "GET",
        "/admin/v1/config",
        None,
        Some(&format!("Bearer {ADMIN_TOKEN}x")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // The scheme is case-insensitive.
    let resp = call(
        &admin,
        "GET",
        "/admin/v1/config",
        None,
        Some(&format!("bearer {ADMIN_TOKEN}")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn probes_metrics_and_docs_need_no_token() {
    let admin = Admin::start(state(FakeProvider::new("fake", true))).await;
    let ready = admin
        .client
        .get(admin.url("/admin/v1/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::UNAUTHORIZED,
        "readiness needs the admin token"
    );
    assert_eq!(admin.get("/admin/v1/ready").await.status(), StatusCode::OK);
    for path in [
        "/admin/v1/health",
        "/metrics",
        "/admin/openapi.json",
        "/admin/docs",
    ] {
        let resp = admin.client.get(admin.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
    let health: Value = admin
        .client
        .get(admin.url("/admin/v1/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({ "status": "ok" }));
}

#[tokio::test]
async fn without_a_configured_token_protected_routes_are_closed() {
    let (guard, tools) = fixture(
        vec![FakeProvider::new("fake", true) as Arc<dyn Verifier>],
        &[],
    );
    let admin = Admin::start(AdminState::new(guard, tools)).await;
    for (method, path, body) in PROTECTED {
        for auth in [None, Some("Bearer anything")] {
            let resp = call(&admin, method, path, body, auth).await;
            assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{method} {path}");
            let err: Value = resp.json().await.unwrap();
            assert_eq!(err["error"], "admin_token_not_configured");
            assert!(err["error_description"]
                .as_str()
                .unwrap()
                .contains("WARDEN_ADMIN__TOKEN"));
        }
    }
    let resp = admin
        .client
        .get(admin.url("/admin/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = admin
        .client
        .get(admin.url("/admin/v1/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Metrics were not configured: 404, not an auth error.
    let resp = admin
        .client
        .get(admin.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_can_require_the_admin_token() {
    let mut s = state(FakeProvider::new("fake", true));
    s.metrics_require_token = true;
    let admin = Admin::start(s).await;
    let resp = admin
        .client
        .get(admin.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer realm=\"warden-admin\""
    );
    let resp = call(&admin, "GET", "/metrics", None, Some("Bearer wrong")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = admin.get("/metrics").await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_are_served_in_text_format_with_provider_gauges() {
    let metrics = Arc::new(
        Metrics::builder()
            .version("9.9.9")
            .providers(["fake"])
            .build()
            .unwrap(),
    );
    metrics.observe(&Event::AuthDecision {
        provider: "fake",
        outcome: Outcome::Expired,
    });
    let provider = FakeProvider::new("fake", true);
    let s = state(provider).with_metrics(metrics);
    let admin = Admin::start(s).await;
    let resp = admin
        .client
        .get(admin.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert!(ct.contains("version=0.0.4"), "{ct}");
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("warden_build_info{version=\"9.9.9\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("warden_provider_ready{provider=\"fake\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("warden_jwks_keys{provider=\"fake\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("warden_token_cache_entries{cache=\"introspection\",provider=\"fake\"} 3")
    );
    assert!(text.contains("warden_auth_decisions_total{outcome=\"expired\",provider=\"fake\"} 1"));
}

#[tokio::test]
async fn config_is_served_as_given_and_the_admin_token_never_appears() {
    let config = json!({
        "admin": { "token": "***", "bind": "127.0.0.1:10001" },
        "providers": { "corp": { "kind": "introspection", "client_secret": "***" } },
    });
    let s = state(FakeProvider::new("fake", true)).with_config(config.clone());
    let admin = Admin::start(s).await;
    let resp = admin.get("/admin/v1/config").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), config);

    let mut seen = String::new();
    for path in [
        "/admin/v1/health",
        "/admin/v1/ready",
        "/admin/v1/providers",
        "/admin/v1/tools",
        "/admin/v1/config",
        "/metrics",
        "/admin/openapi.json",
        "/admin/docs",
        "/admin/v1/nope",
    ] {
        let resp = admin.get(path).await;
        seen.push_str(&format!("{:?}", resp.headers()));
        seen.push_str(&resp.text().await.unwrap());
    }
    for (method, path, body) in PROTECTED {
        for auth in [
            None,
            Some("Bearer wrong".to_owned()),
            Some(format!("Bearer {ADMIN_TOKEN}")),
        ] {
            let resp = call(&admin, method, path, body, auth.as_deref()).await;
            seen.push_str(&format!("{:?}", resp.headers()));
            seen.push_str(&resp.text().await.unwrap());
        }
    }
    assert!(!seen.contains(ADMIN_TOKEN));
    assert!(!seen.contains("S3CRET"));
}

#[tokio::test]
async fn refresh_and_flush_effects_are_visible_in_providers() {
    let provider = FakeProvider::new("fake", true);
    let admin = Admin::start(state(provider.clone())).await;

    let list: Value = admin.get("/admin/v1/providers").await.json().await.unwrap();
    let p = &list["providers"][0];
    assert_eq!(p["name"], "fake");
    assert_eq!(p["kind"], "fake");
    assert_eq!(p["issuers"], json!([ISSUER]));
    assert_eq!(p["audiences"], json!([RESOURCE]));
    assert_eq!(p["keys"], json!([{ "kid": "k1", "alg": "RS256" }]));
    assert_eq!(
        p["caches"][0],
        json!({ "name": "introspection", "entries": 3, "hits": 7, "misses": 2 })
    );
    assert!(p.get("last_refresh").is_none_or(Value::is_null));

    let resp = admin
        .send(Method::POST, "/admin/v1/providers/fake/refresh")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let refreshed: Value = resp.json().await.unwrap();
    assert_eq!(refreshed["last_refresh"], 1_700_000_001);
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);

    let resp = admin
        .send(Method::DELETE, "/admin/v1/providers/fake/cache")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(provider.flushes.load(Ordering::SeqCst), 1);

    let list: Value = admin.get("/admin/v1/providers").await.json().await.unwrap();
    let p = &list["providers"][0];
    assert_eq!(p["last_refresh"], 1_700_000_001);
    assert_eq!(p["caches"][0]["entries"], 0);

    for (method, path) in [
        (Method::POST, "/admin/v1/providers/nope/refresh"),
        (Method::DELETE, "/admin/v1/providers/nope/cache"),
    ] {
        let resp = admin.send(method, path).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], "not_found");
    }
}

#[tokio::test]
async fn ready_turns_200_once_the_idp_comes_up() {
    let provider = FakeProvider::new("fake", false);
    let admin = Admin::start(state(provider.clone())).await;

    let resp = admin.get("/admin/v1/ready").await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ready"], false);
    assert_eq!(body["providers"][0]["name"], "fake");
    assert_eq!(body["providers"][0]["state"], "jwks not loaded");

    // The IdP is still down: refresh reports 503 with the reason.
    let resp = admin
        .send(Method::POST, "/admin/v1/providers/fake/refresh")
        .await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"], "unavailable");
    assert!(err["error_description"]
        .as_str()
        .unwrap()
        .contains("connection refused"));

    provider.idp_up.store(true, Ordering::SeqCst);
    let resp = admin
        .send(Method::POST, "/admin/v1/providers/fake/refresh")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let resp = admin.get("/admin/v1/ready").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(body["providers"][0]["state"], "ready");
}

#[tokio::test]
async fn ready_without_providers_is_503() {
    let (guard, tools) = fixture(vec![], &[]);
    let admin = Admin::start(AdminState::new(guard, tools).with_admin_token(ADMIN_TOKEN)).await;
    let resp = admin.get("/admin/v1/ready").await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn tools_list_scopes_and_counters() {
    let (guard, tools) = fixture(
        vec![FakeProvider::new("fake", true) as Arc<dyn Verifier>],
        &[],
    );
    tools.get("news_sentiment").unwrap().record(true);
    tools.get("news_sentiment").unwrap().record(false);
    let admin = Admin::start(AdminState::new(guard, tools).with_admin_token(ADMIN_TOKEN)).await;
    let body: Value = admin.get("/admin/v1/tools").await.json().await.unwrap();
    assert_eq!(body["tools"][0]["name"], "whoami");
    assert_eq!(body["tools"][0]["required_scopes"], json!(["profile"]));
    let news = &body["tools"][1];
    assert_eq!(news["name"], "news_sentiment");
    assert_eq!(news["description"], "news_sentiment does things");
    assert_eq!(news["required_scopes"], json!(["news:read"]));
    assert_eq!(news["enabled"], true);
    assert_eq!(news["calls"], 2);
    assert_eq!(news["errors"], 1);
}

#[tokio::test]
async fn dev_tokens_are_minted_with_the_cli_defaults() {
    let (guard, tools) = fixture(
        vec![FakeProvider::new("fake", true) as Arc<dyn Verifier>],
        &[],
    );
    let minter = Arc::new(FakeMinter::default());
    let admin = Admin::start(
        AdminState::new(guard.clone(), tools.clone())
            .with_admin_token(ADMIN_TOKEN)
            .with_dev(minter.clone()),
    )
    .await;
    let resp = admin.post_json("/admin/v1/dev/tokens", json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["access_token"], "dev.jwt.minted");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "news:read profile");
    let last = minter.last.lock().unwrap().clone().unwrap();
    assert_eq!(last.sub, "alice");
    assert_eq!(last.audience, None);

    let resp = admin
        .post_json("/admin/v1/dev/tokens", json!({ "sub": "bob", "scope": "profile", "ttl": "15m", "aud": "https://x.example/mcp" }))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let last = minter.last.lock().unwrap().clone().unwrap();
    assert_eq!(
        (last.sub.as_str(), last.scopes.clone(), last.ttl.as_secs()),
        ("bob", vec!["profile".to_owned()], 900)
    );
    assert_eq!(last.audience.as_deref(), Some("https://x.example/mcp"));

    for bad in [
        json!({ "ttl": "soon" }),
        json!({ "ttl": "0s" }),
        json!({ "sub": " " }),
        json!({ "ttl": "48h" }),
        json!({ "subject": "x" }),
    ] {
        let resp = admin.post_json("/admin/v1/dev/tokens", bad.clone()).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            resp.json::<Value>().await.unwrap()["error"],
            "invalid_request"
        );
    }

    let closure = Admin::start(
        AdminState::new(guard.clone(), tools.clone())
            .with_admin_token(ADMIN_TOKEN)
            .with_dev(Arc::new(|r: warden_admin::DevMintRequest| {
                Ok(format!("minted-for-{}", r.sub))
            })),
    )
    .await;
    let resp = closure
        .post_json("/admin/v1/dev/tokens", json!({ "sub": "carol" }))
        .await;
    assert_eq!(
        resp.json::<Value>().await.unwrap()["access_token"],
        "minted-for-carol"
    );

    let without = Admin::start(AdminState::new(guard, tools).with_admin_token(ADMIN_TOKEN)).await;
    let resp = without.post_json("/admin/v1/dev/tokens", json!({})).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}
