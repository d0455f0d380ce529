//! The OpenAPI document tells the truth: every answer the server gives is one the document
//! allows, and every request the document allows is served (what
//! `tests/schemathesis/run.sh` checks against the real binary, here one point at a time).

mod common;

use std::sync::Arc;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use warden_admin::AdminState;
use warden_core::Verifier;

fn state(provider: Arc<FakeProvider>) -> AdminState {
    let (guard, tools) = fixture(vec![provider as Arc<dyn Verifier>], &[]);
    AdminState::new(guard, tools)
        .with_admin_token(ADMIN_TOKEN)
        .with_dev(Arc::new(|r: warden_admin::DevMintRequest| {
            Ok(format!("minted-for-{}-{}s", r.sub, r.ttl.as_secs()))
        }))
}

async fn spec(admin: &Admin) -> Value {
    let resp = admin
        .client
        .get(admin.url("/admin/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

fn schema<'a>(spec: &'a Value, name: &str) -> &'a Value {
    let s = &spec["components"]["schemas"][name];
    assert!(s.is_object(), "schema {name} missing");
    s
}

/// Every (path, method, operation) of the document.
fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

async fn post_raw(
    admin: &Admin,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut req = admin
        .client
        .post(admin.url(path))
        .bearer_auth(ADMIN_TOKEN)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn optional_fields_are_nullable_in_the_document_and_null_on_the_wire() {
    let admin = Admin::start(state(FakeProvider::new("fake", false))).await;
    let spec = spec(&admin).await;
    for (name, field) in [
        ("ProviderInfo", "last_refresh"),
        ("ProviderInfo", "last_error"),
        ("ProviderReadiness", "last_error"),
        ("ToolInfo", "title"),
        ("TokenExplanation", "provider"),
        ("TokenExplanation", "error"),
        ("TokenExplanation", "status"),
        ("TokenExplanation", "identity"),
        ("Identity", "sub"),
        ("Identity", "issuer"),
        ("Identity", "client_id"),
        ("Identity", "exp"),
        ("DevTokenRequest", "sub"),
        ("DevTokenRequest", "ttl"),
    ] {
        assert_eq!(
            schema(&spec, name)["properties"][field]["nullable"],
            true,
            "{name}.{field}"
        );
    }
    // Structurally: poem-openapi writes `None` as `null`, so every property that is not
    // required must be nullable.
    for (name, s) in spec["components"]["schemas"].as_object().unwrap() {
        let required: Vec<&str> = s["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (field, p) in s["properties"].as_object().into_iter().flatten() {
            if !required.contains(&field.as_str()) {
                assert_eq!(
                    p["nullable"], true,
                    "{name}.{field} is optional but not nullable"
                );
            }
        }
    }

    // And the server does send nulls: a provider never refreshed.
    let list: Value = admin.get("/admin/v1/providers").await.json().await.unwrap();
    assert_eq!(list["providers"][0]["last_refresh"], Value::Null);
    let ready: Value = admin.get("/admin/v1/ready").await.json().await.unwrap();
    assert!(ready["providers"][0]
        .as_object()
        .unwrap()
        .contains_key("last_error"));
    let healthy = Admin::start(state(FakeProvider::new("fake", true))).await;
    let ready: Value = healthy.get("/admin/v1/ready").await.json().await.unwrap();
    assert_eq!(ready["providers"][0]["last_error"], Value::Null);
}

#[tokio::test]
async fn a_body_in_another_content_type_is_415_and_documented() {
    let admin = Admin::start(state(FakeProvider::new("fake", true))).await;
    let spec = spec(&admin).await;
    let mut with_body = 0;
    for (path, method, op) in operations(&spec) {
        if method != "get" {
            assert_eq!(
                op["responses"]["413"]["content"]["application/json; charset=utf-8"]["schema"]
                    ["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} documents 413"
            );
        } else {
            assert!(op["responses"].get("413").is_none(), "{method} {path}");
        }
        if op.get("requestBody").is_some() {
            with_body += 1;
            assert_eq!(
                op["responses"]["415"]["content"]["application/json; charset=utf-8"]["schema"]
                    ["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} documents 415"
            );
        } else {
            assert!(op["responses"].get("415").is_none(), "{method} {path}");
        }
    }
    assert_eq!(with_body, 2);

    for path in ["/admin/v1/tokens/explain", "/admin/v1/dev/tokens"] {
        for (ct, body) in [
            (Some("text/plain"), r#"{"token":"good-alice"}"#),
            (
                Some("application/x-www-form-urlencoded"),
                "token=good-alice",
            ),
            (None, ""),
        ] {
            let resp = post_raw(&admin, path, ct, body).await;
            assert_eq!(
                resp.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{path} {ct:?}"
            );
            assert!(resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"));
            let err: Value = resp.json().await.unwrap();
            assert_eq!(err["error"], "unsupported_media_type");
        }
        let resp = post_raw(
            &admin,
            path,
            Some("application/json"),
            format!("{{\"sub\":\"{}\"}}", "a".repeat(70 * 1024)),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"], "payload_too_large");
    }
}

#[tokio::test]
async fn unknown_fields_are_rejected_and_the_document_says_so() {
    let admin = Admin::start(state(FakeProvider::new("fake", true))).await;
    let spec = spec(&admin).await;
    for name in ["ExplainRequest", "DevTokenRequest"] {
        assert_eq!(schema(&spec, name)["additionalProperties"], false, "{name}");
    }
    for (path, body) in [
        (
            "/admin/v1/tokens/explain",
            json!({ "token": "good-alice", "extra": 1 }),
        ),
        (
            "/admin/v1/dev/tokens",
            json!({ "sub": "bob", "subject": "x" }),
        ),
    ] {
        let resp = admin.post_json(path, body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            resp.json::<Value>().await.unwrap()["error"],
            "invalid_request"
        );
    }
}

#[tokio::test]
async fn a_blank_or_non_string_token_is_400_and_the_document_says_so() {
    let admin = Admin::start(state(FakeProvider::new("fake", true))).await;
    let spec = spec(&admin).await;
    let token = &schema(&spec, "ExplainRequest")["properties"]["token"];
    assert_eq!(token["type"], "string");
    assert!(token["pattern"].is_string(), "{token}");

    // Every Unicode White_Space character, alone or repeated, is blank (what `trim` removes
    // and what the pattern's class lists).
    let blanks: Vec<char> = (0..=0x10FFFFu32)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace())
        .collect();
    assert_eq!(blanks.len(), 25);
    let pattern = token["pattern"].as_str().unwrap();
    for c in &blanks {
        let spelled = match *c as u32 {
            0x09 => "\\t".to_owned(),
            0x0A => "\\n".to_owned(),
            0x0B => "\\v".to_owned(),
            0x0C => "\\f".to_owned(),
            0x0D => "\\r".to_owned(),
            0x20 => " ".to_owned(),
            n => format!("\\u{n:04x}"),
        };
        let range = (0x2000..=0x200A).contains(&(*c as u32));
        assert!(
            range || pattern.contains(&spelled),
            "pattern {pattern} misses U+{:04X}",
            *c as u32
        );
    }
    for c in blanks {
        for token in [c.to_string(), format!("{c}{c} {c}")] {
            let resp = admin
                .post_json("/admin/v1/tokens/explain", json!({ "token": token }))
                .await;
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "U+{:04X}", c as u32);
            let err: Value = resp.json().await.unwrap();
            assert_eq!(err["error"], "invalid_request");
            assert_eq!(err["error_description"], "token is empty");
        }
    }
    // Characters some regex dialects call space but Rust's `trim` does not: not blank, so
    // the token is examined (and rejected by the guard, with a 200 explanation).
    for c in ['\u{200B}', '\u{FEFF}', '\u{180E}', 'x'] {
        let resp = admin
            .post_json(
                "/admin/v1/tokens/explain",
                json!({ "token": format!(" {c} ") }),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "U+{:04X}", c as u32);
    }
    // `type: string` means a string: poem-openapi's own String would take these.
    for token in [json!(123), json!(true), json!(null), json!(["good-alice"])] {
        let resp = admin
            .post_json("/admin/v1/tokens/explain", json!({ "token": token }))
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{token}");
    }
}

#[tokio::test]
async fn dev_token_options_accept_exactly_what_the_document_allows() {
    let admin = Admin::start(state(FakeProvider::new("fake", true))).await;
    let spec = spec(&admin).await;
    let props = &schema(&spec, "DevTokenRequest")["properties"];
    assert!(props["ttl"]["pattern"].is_string());
    assert!(props["sub"]["pattern"].is_string());

    for (ttl, secs) in [
        ("90s", 90),
        ("15m", 900),
        ("1h", 3600),
        ("1h 30m", 5400),
        ("1h30m", 5400),
        ("1 hour", 3600),
        ("2 days", 172_800),
        ("1sec", 1),
        ("3wks", 1_814_400),
        ("1M", 2_630_016),
        ("1y", 31_557_600),
        ("1d 2h 3m 4s", 93_784),
        ("999999y", 999_999u64 * 31_557_600),
    ] {
        let resp = admin
            .post_json("/admin/v1/dev/tokens", json!({ "ttl": ttl }))
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "{ttl}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["expires_in"], secs, "{ttl}");
        assert_eq!(body["access_token"], format!("minted-for-alice-{secs}s"));
    }
    for ttl in [
        "",
        "0s",
        "00h",
        "500ms",
        "1.5h",
        "1h ",
        " 1h",
        "1  h",
        "1",
        "h",
        "soon",
        "1000000s",
        "1h 1h 1h 1h 1h",
        "1m s",
        "1 ms",
        "-1h",
        "1H",
    ] {
        let resp = admin
            .post_json("/admin/v1/dev/tokens", json!({ "ttl": ttl }))
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{ttl:?}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"], "invalid_request");
        assert!(
            err["error_description"]
                .as_str()
                .unwrap()
                .starts_with("ttl"),
            "{err}"
        );
    }
    for sub in [json!(""), json!(" "), json!("\u{3000}")] {
        let resp = admin
            .post_json("/admin/v1/dev/tokens", json!({ "sub": sub }))
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{sub}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error_description"], "sub must not be empty");
    }
    // null is the default, as the document's `nullable` says; other types are refused.
    let resp = admin
        .post_json(
            "/admin/v1/dev/tokens",
            json!({ "sub": null, "scope": null, "ttl": null, "aud": null }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["access_token"],
        "minted-for-alice-3600s"
    );
    for field in ["sub", "scope", "ttl", "aud"] {
        for value in [json!(false), json!(7), json!({})] {
            let resp = admin
                .post_json("/admin/v1/dev/tokens", json!({ field: value }))
                .await;
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{field}: {value}");
        }
    }
}

#[tokio::test]
async fn method_not_allowed_says_which_methods_are() {
    let admin = Admin::start(state(FakeProvider::new("fake", true))).await;
    let spec = spec(&admin).await;
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let documented: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_ascii_uppercase())
            .collect();
        let mut expected = documented.clone();
        if documented.iter().any(|m| m == "GET") {
            expected.push("HEAD".into());
        }
        let url = path.replace("{name}", "fake");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"] {
            if documented.iter().any(|m| m == method) {
                continue;
            }
            for auth in [true, false] {
                let mut req = admin.client.request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    admin.url(&url),
                );
                if auth {
                    req = req.bearer_auth(ADMIN_TOKEN);
                }
                let resp = req.send().await.unwrap();
                assert_eq!(
                    resp.status(),
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {url}"
                );
                let allow = resp
                    .headers()
                    .get("allow")
                    .unwrap_or_else(|| panic!("{method} {url}: 405 without Allow"))
                    .to_str()
                    .unwrap()
                    .to_owned();
                let mut got: Vec<String> = allow.split(", ").map(str::to_owned).collect();
                got.sort();
                let mut want = expected.clone();
                want.sort();
                assert_eq!(got, want, "{method} {url}: Allow: {allow}");
                assert_eq!(resp.headers()["cache-control"], "no-store");
                let err: Value = resp.json().await.unwrap();
                assert_eq!(err["error"], "method_not_allowed");
                checked += 1;
            }
        }
        // What Allow promises is served: HEAD on a GET route is not 405.
        if documented.iter().any(|m| m == "GET") {
            let resp = admin.send(Method::HEAD, &url).await;
            assert_ne!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "HEAD {url}");
        }
    }
    assert!(checked >= 50, "{checked}");
}

#[tokio::test]
async fn swagger_ui_shows_the_served_document() {
    let admin = Admin::start(state(FakeProvider::new("fake", true))).await;
    let spec_text = admin
        .client
        .get(admin.url("/admin/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = admin
        .client
        .get(admin.url("/admin/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("SwaggerUIBundle"));
    assert!(
        html.contains(&spec_text),
        "the UI embeds the served document"
    );
    assert!(spec_text.contains("\"additionalProperties\": false"));
}
