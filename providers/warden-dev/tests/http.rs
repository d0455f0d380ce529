//! The dev issuer over real HTTP on 127.0.0.1: the token endpoint (happy
//! paths and every error), metadata, JWKS, and discovery by a `jwt` provider.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use warden_core::ProviderFactory;
use warden_dev::{DevClient, DevConfig};

#[tokio::test]
async fn client_credentials_with_basic_auth() {
    let dev = start(DevConfig::default()).await;
    let (status, headers, body) = dev
        .token(
            &[("grant_type", "client_credentials")],
            Some(("warden-dev-client", "warden-dev-secret")),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "news:read profile");
    let info = dev
        .issuer
        .verifier()
        .verify(body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(info.audiences, [format!("{}/mcp", dev.base)]);
    assert_eq!(info.client_id.as_deref(), Some("warden-dev-client"));
    assert_eq!(info.subject.as_deref(), Some("warden-dev-client"));
    assert_eq!(info.scopes, ["news:read", "profile"]);
}

#[tokio::test]
async fn client_credentials_with_post_auth_scope_and_resource() {
    let dev = start(DevConfig::default()).await;
    let resource = format!("{}/MCP", dev.base);
    // Scheme and host compare case-insensitively; the path does not.
    let resource_ok = format!("{}/mcp/", dev.base.replace("http://", "HTTP://"));
    let (status, _, body) = dev
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "warden-dev-client"),
                ("client_secret", "warden-dev-secret"),
                ("scope", "news:read"),
                ("resource", &resource_ok),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "news:read");
    let info = dev
        .issuer
        .verifier()
        .verify(body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        info.audiences,
        [format!("{}/mcp", dev.base)],
        "the configured form of the audience"
    );
    assert_eq!(info.scopes, ["news:read"]);
    assert_eq!(info.client_id.as_deref(), Some("warden-dev-client"));

    let (status, _, body) = dev
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "warden-dev-client"),
                ("client_secret", "warden-dev-secret"),
                ("resource", &resource),
            ],
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
}

/// Name, form, Basic credentials, expected status and `error`.
type ErrorCase<'a> = (
    &'a str,
    Vec<(&'a str, &'a str)>,
    Option<(&'a str, &'a str)>,
    u16,
    &'a str,
);

#[tokio::test]
async fn token_endpoint_errors() {
    let dev = start(DevConfig::default()).await;
    let good = Some(("warden-dev-client", "warden-dev-secret"));
    let cc = ("grant_type", "client_credentials");
    let cases: Vec<ErrorCase<'_>> = vec![
        ("no credentials", vec![cc], None, 401, "invalid_client"),
        (
            "wrong basic secret",
            vec![cc],
            Some(("warden-dev-client", "nope")),
            401,
            "invalid_client",
        ),
        (
            "unknown client",
            vec![cc],
            Some(("mallory", "warden-dev-secret")),
            401,
            "invalid_client",
        ),
        (
            "wrong post secret",
            vec![
                cc,
                ("client_id", "warden-dev-client"),
                ("client_secret", "nope"),
            ],
            None,
            401,
            "invalid_client",
        ),
        (
            "post secret without id",
            vec![cc, ("client_secret", "warden-dev-secret")],
            None,
            401,
            "invalid_client",
        ),
        (
            "two auth methods",
            vec![cc, ("client_secret", "warden-dev-secret")],
            good,
            400,
            "invalid_request",
        ),
        ("missing grant_type", vec![], good, 400, "invalid_request"),
        (
            "repeated grant_type",
            vec![cc, cc],
            good,
            400,
            "invalid_request",
        ),
        (
            "authorization_code",
            vec![("grant_type", "authorization_code"), ("code", "x")],
            good,
            400,
            "unsupported_grant_type",
        ),
        (
            "password grant",
            vec![("grant_type", "password")],
            good,
            400,
            "unsupported_grant_type",
        ),
        (
            "scope not allowed",
            vec![cc, ("scope", "news:read admin")],
            good,
            400,
            "invalid_scope",
        ),
        (
            "foreign resource",
            vec![cc, ("resource", "https://other.test/mcp")],
            good,
            400,
            "invalid_target",
        ),
        (
            "relative resource",
            vec![cc, ("resource", "/mcp")],
            good,
            400,
            "invalid_target",
        ),
        (
            "two resources",
            vec![
                cc,
                ("resource", "https://a.test/mcp"),
                ("resource", "https://b.test/mcp"),
            ],
            good,
            400,
            "invalid_target",
        ),
    ];
    for (name, form, basic, status, error) in cases {
        let (got, headers, body) = dev.token(&form, basic).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{name}: {body}"
        );
        assert_eq!(headers["cache-control"], "no-store", "{name}");
        assert!(!body.to_string().contains("warden-dev-secret"), "{name}");
        if status == 401 {
            assert!(
                headers["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Basic"),
                "{name}"
            );
        }
    }

    // Form-urlencoded Basic credentials (RFC 6749 §2.3.1) are decoded.
    let (status, _, _) = dev
        .token(&[cc], Some(("warden%2Ddev%2Dclient", "warden-dev-secret")))
        .await;
    assert_eq!(status, 200);

    // A JSON body is not a token request.
    let resp = dev
        .http
        .post(dev.url("/dev/token"))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");

    // Only POST.
    let resp = dev.http.get(dev.url("/dev/token")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
}

#[tokio::test]
async fn metadata_jwks_and_authorize() {
    let dev = start(DevConfig::default()).await;
    let issuer = format!("{}/dev", dev.base);
    let mut docs = Vec::new();
    for path in [
        "/.well-known/oauth-authorization-server/dev",
        "/dev/.well-known/oauth-authorization-server",
    ] {
        let resp = dev.http.get(dev.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        docs.push(resp.json::<Value>().await.unwrap());
    }
    assert_eq!(docs[0], docs[1]);
    let doc = &docs[0];
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(doc["token_endpoint"], format!("{issuer}/token"));
    assert_eq!(doc["jwks_uri"], format!("{issuer}/jwks"));
    assert_eq!(doc["grant_types_supported"], json!(["client_credentials"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(doc["scopes_supported"], json!(["news:read", "profile"]));
    assert_eq!(doc["response_types_supported"], json!([]));

    let jwks: Value = dev
        .http
        .get(doc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kid"], dev.issuer.kid());
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert!(key.get("d").is_none(), "no private part");

    let resp = dev
        .http
        .get(doc["authorization_endpoint"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_response_type");
}

#[tokio::test]
async fn a_jwt_provider_discovers_the_dev_issuer() {
    let dev = start(DevConfig::default()).await;
    let issuer = format!("{}/dev", dev.base);
    let jwt = warden_jwt::JwtProviderFactory
        .build(
            &ctx(&dev.base, dev.dir.clone()),
            json!({"issuer": issuer, "require_typ": "at+jwt", "algorithms": ["ES256"]}),
        )
        .unwrap();
    jwt.refresh().await.unwrap();
    let (_, _, body) = dev
        .token(
            &[("grant_type", "client_credentials")],
            Some(("warden-dev-client", "warden-dev-secret")),
        )
        .await;
    let info = jwt
        .verify(body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(info.client_id.as_deref(), Some("warden-dev-client"));
}

#[tokio::test]
async fn custom_issuer_path_clients_and_audience() {
    let dev = start_with(|base| DevConfig {
        issuer: Some(format!("{base}/auth/local/")),
        audience: Some(warden_jwt::OneOrMany(vec!["api://news".into()])),
        clients: vec![DevClient {
            client_id: "reader".into(),
            client_secret: "r-secret".into(),
            scopes: vec![],
        }],
        scopes_supported: vec!["news:read".into()],
        token_ttl: Duration::from_secs(60),
        ..Default::default()
    })
    .await;
    assert_eq!(dev.issuer.issuer(), format!("{}/auth/local", dev.base));
    let paths: Vec<String> = dev.issuer.routes().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "/.well-known/oauth-authorization-server/auth/local",
            "/auth/local/.well-known/oauth-authorization-server",
            "/auth/local/jwks",
            "/auth/local/token",
            "/auth/local/authorize",
        ]
    );
    let resp = dev
        .http
        .post(dev.url("/auth/local/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "reader"),
            ("client_secret", "r-secret"),
            ("resource", "api://news"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["scope"], "news:read");
    assert_eq!(answer["expires_in"], 60);
    let info = dev
        .issuer
        .verifier()
        .verify(answer["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(info.audiences, ["api://news"]);
}
