//! The OpenAPI document and Swagger UI of the admin API.

mod common;

use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use warden_admin::AdminState;
use warden_core::Verifier;

fn state(provider: Arc<FakeProvider>) -> AdminState {
    let (guard, tools) = fixture(vec![provider as Arc<dyn Verifier>], &[]);
    AdminState::new(guard, tools).with_admin_token(ADMIN_TOKEN)
}

#[tokio::test]
async fn openapi_document_is_openapi_3_and_covers_every_route() {
    let admin = Admin::start(state(FakeProvider::new("fake", true))).await;
    let resp = admin
        .client
        .get(admin.url("/admin/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let spec: Value = resp.json().await.unwrap();
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        spec["openapi"]
    );
    assert_eq!(spec["info"]["title"], "warden admin API");
    let paths = spec["paths"].as_object().unwrap();
    let expected = [
        ("/admin/v1/health", "get", false),
        ("/admin/v1/ready", "get", true),
        ("/admin/v1/providers", "get", true),
        ("/admin/v1/providers/{name}/refresh", "post", true),
        ("/admin/v1/providers/{name}/cache", "delete", true),
        ("/admin/v1/tools", "get", true),
        ("/admin/v1/config", "get", true),
        ("/admin/v1/tokens/explain", "post", true),
        ("/admin/v1/dev/tokens", "post", true),
        ("/metrics", "get", false),
    ];
    assert_eq!(
        paths.len(),
        expected.len(),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, method, protected) in expected {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(
            op["responses"]["200"].is_object(),
            "{method} {path} has no 200"
        );
        if protected {
            assert_eq!(op["security"], json!([{ "AdminToken": [] }]), "{path}");
            assert!(op["responses"]["401"].is_object(), "{path} documents 401");
            assert!(op["responses"]["403"].is_object(), "{path} documents 403");
        } else {
            assert!(op.get("security").is_none(), "{path}");
        }
    }
    assert!(paths["/admin/v1/ready"]["get"]["responses"]["503"].is_object());
    assert!(paths["/admin/v1/providers/{name}/refresh"]["post"]["responses"]["502"].is_object());
    assert!(paths["/admin/v1/tokens/explain"]["post"]["requestBody"].is_object());
    assert_eq!(
        spec["components"]["securitySchemes"]["AdminToken"]["scheme"],
        "bearer"
    );
    for schema in [
        "TokenExplanation",
        "ProviderInfo",
        "ErrorBody",
        "ExplainRequest",
        "DevTokenRequest",
        "ToolInfo",
        "ReadyBody",
    ] {
        assert!(
            spec["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }

    let docs = admin
        .client
        .get(admin.url("/admin/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
    assert_eq!(
        warden_admin::openapi_json(state(FakeProvider::new("fake", true)))
            .parse::<Value>()
            .unwrap(),
        spec
    );
}
