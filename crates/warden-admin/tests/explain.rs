//! `POST /admin/v1/tokens/explain` for accepted tokens and each failure kind.

mod common;

use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use warden_admin::AdminState;
use warden_core::Verifier;

/// A JWT (unsigned garbage signature) from an issuer no provider owns.
const FOREIGN_JWT: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL3Vua25vd24uZXhhbXBsZSIsInN1YiI6Im1hbGxvcnkifQ.c2lnbmF0dXJlLXNlY3JldC1wYXJ0";

async fn start(resource_scopes: &[&str]) -> Admin {
    let (guard, tools) = fixture(
        vec![FakeProvider::new("fake", true) as Arc<dyn Verifier>],
        resource_scopes,
    );
    Admin::start(AdminState::new(guard, tools).with_admin_token(ADMIN_TOKEN)).await
}

async fn explain(admin: &Admin, token: &str) -> Value {
    let resp = admin
        .post_json("/admin/v1/tokens/explain", json!({ "token": token }))
        .await;
    assert_eq!(resp.status(), StatusCode::OK, "{token}");
    let text = resp.text().await.unwrap();
    assert!(!text.contains(token), "the token is echoed: {text}");
    serde_json::from_str(&text).unwrap()
}

fn check<'a>(e: &'a Value, name: &str) -> &'a Value {
    e["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {e}"))
}

#[tokio::test]
async fn accepted_token_shows_identity_and_per_tool_access() {
    let admin = start(&[]).await;
    let e = explain(&admin, "good-profile-only").await;
    assert_eq!(e["provider"], "fake");
    assert_eq!(e["accepted"], true);
    assert_eq!(e["outcome"], "accepted");
    assert!(e.get("status").is_none_or(Value::is_null));
    assert_eq!(check(&e, "routing")["passed"], true);
    assert_eq!(check(&e, "introspection")["passed"], true);
    assert_eq!(check(&e, "scopes")["passed"], true);
    assert_eq!(
        e["identity"],
        json!({
            "sub": "alice",
            "issuer": ISSUER,
            "client_id": "client-123",
            "audiences": [RESOURCE],
            "scopes": ["profile"],
            "exp": 4_000_000_000i64,
        })
    );
    let tools = e["tools"].as_array().unwrap();
    assert_eq!(tools[0]["name"], "whoami");
    assert_eq!(tools[0]["allowed"], true);
    assert_eq!(tools[0]["missing_scopes"], json!([]));
    assert_eq!(tools[1]["name"], "news_sentiment");
    assert_eq!(tools[1]["allowed"], false);
    assert_eq!(tools[1]["missing_scopes"], json!(["news:read"]));
    assert_eq!(tools[1]["required_scopes"], json!(["news:read"]));
}

#[tokio::test]
async fn each_failure_kind_is_explained() {
    let admin = start(&[]).await;
    let cases = [
        ("expired-token", "expired", "expiry", 401),
        ("wrong-aud-token", "wrong_audience", "audience", 401),
        ("bad-sig-token", "bad_signature", "signature", 401),
        ("future-token", "not_yet_valid", "not_before", 401),
        ("revoked-token", "inactive", "introspection", 401),
        ("idp-down-token", "unavailable", "introspection", 503),
    ];
    for (token, outcome, failed_check, status) in cases {
        let e = explain(&admin, token).await;
        assert_eq!(e["accepted"], false, "{token}");
        assert_eq!(e["provider"], "fake", "{token}");
        assert_eq!(e["outcome"], outcome, "{token}");
        assert_eq!(e["status"], status, "{token}");
        assert!(e["error"].is_string(), "{token}");
        assert_eq!(check(&e, "routing")["passed"], true, "{token}");
        assert_eq!(check(&e, failed_check)["passed"], false, "{token}");
        assert!(e.get("identity").is_none_or(Value::is_null), "{token}");
        for tool in e["tools"].as_array().unwrap() {
            assert_eq!(tool["allowed"], false);
            assert_eq!(tool["reason"], format!("token rejected: {outcome}"));
        }
    }
}

#[tokio::test]
async fn routing_failures_name_no_provider() {
    let admin = start(&[]).await;
    let e = explain(&admin, FOREIGN_JWT).await;
    assert!(e.get("provider").is_none_or(Value::is_null));
    assert_eq!(e["outcome"], "wrong_issuer");
    assert_eq!(check(&e, "routing")["passed"], false);
    assert!(check(&e, "routing")["detail"]
        .as_str()
        .unwrap()
        .contains("https://unknown.example"));

    let e = explain(&admin, "not-base64!.still-not.json").await;
    assert_eq!(e["outcome"], "malformed");
    assert_eq!(e["status"], 401);
}

#[tokio::test]
async fn resource_scopes_are_checked_and_reported_per_tool() {
    let admin = start(&["news:read"]).await;
    let e = explain(&admin, "good-no-scopes").await;
    assert_eq!(e["accepted"], false);
    assert_eq!(e["outcome"], "insufficient_scope");
    assert_eq!(e["status"], 403);
    assert_eq!(check(&e, "scopes")["passed"], false);
    assert_eq!(e["tools"][0]["missing_scopes"], json!(["news:read"]));

    let e = explain(&admin, "good-alice").await;
    assert_eq!(e["accepted"], true);
    assert_eq!(
        e["tools"][0]["required_scopes"],
        json!(["news:read", "profile"])
    );
    assert_eq!(e["tools"][0]["allowed"], true);
    assert_eq!(e["tools"][1]["allowed"], true);
}

#[tokio::test]
async fn a_provider_echoing_the_token_is_scrubbed() {
    let admin = start(&[]).await;
    let token = "leaky-opaque-token-0123456789";
    let e = explain(&admin, token).await;
    assert_eq!(
        check(&e, "introspection")["detail"],
        "server said no to <redacted>"
    );
}

#[tokio::test]
async fn bad_bodies_are_400_without_echo() {
    let admin = start(&[]).await;
    let resp = admin
        .post_json("/admin/v1/tokens/explain", json!({ "token": "   " }))
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );

    let secretish = "eyJzZWNyZXQiOiJ0cnVuY2F0ZWQ";
    let resp = admin
        .client
        .post(admin.url("/admin/v1/tokens/explain"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(format!("{{\"token\": \"{secretish}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let text = resp.text().await.unwrap();
    assert!(!text.contains(secretish), "{text}");
    assert!(text.contains("invalid_request"), "{text}");

    let resp = admin
        .post_json("/admin/v1/tokens/explain", json!({ "jwt": secretish }))
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(!resp.text().await.unwrap().contains(secretish));

    let resp = admin
        .client
        .post(admin.url("/admin/v1/tokens/explain"))
        .bearer_auth(ADMIN_TOKEN)
        .body(format!("token={secretish}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(!resp.text().await.unwrap().contains(secretish));

    let resp = admin
        .client
        .post(admin.url("/admin/v1/tokens/explain"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(format!("{{\"token\":\"{}\"}}", "a".repeat(70 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn explain_token_fn_matches_the_route() {
    let (guard, tools) = fixture(
        vec![FakeProvider::new("fake", true) as Arc<dyn Verifier>],
        &[],
    );
    let direct = warden_admin::explain_token(&guard, &tools, "expired-token").await;
    let admin = Admin::start(AdminState::new(guard, tools).with_admin_token(ADMIN_TOKEN)).await;
    let via_http = explain(&admin, "expired-token").await;
    assert_eq!(serde_json::to_value(&direct).unwrap(), via_http);
}
