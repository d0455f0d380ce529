//! What the provider crates' tests need from the fake IdP: chosen metadata
//! documents and their content, chosen keys, `Retry-After` on faults, the
//! client secret an introspection request presented, and tokens signed
//! under an exact header.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use warden_test_support::idp::{ClientAuth, FakeIdp, Fault, IdpEndpoint, MetadataDocument};
use warden_test_support::tokens::{self, TestKey};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

async fn get(url: &str) -> (u16, Option<String>, Value) {
    let response = client().get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("ASCII").to_owned());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

#[tokio::test]
async fn metadata_documents_can_be_chosen_and_replaced() {
    let idp = FakeIdp::builder().issuer_path("/tenant").start().await;
    let oidc = idp.metadata_document_url(MetadataDocument::OpenIdConfiguration);
    let inserted = idp.metadata_document_url(MetadataDocument::OAuthPathInserted);
    let suffix = idp.metadata_document_url(MetadataDocument::OAuthSuffix);
    assert_eq!(oidc, idp.discovery_url());
    assert_eq!(inserted, idp.metadata_url());
    assert_eq!(
        suffix,
        idp.url("/tenant/.well-known/oauth-authorization-server")
    );
    for url in [&oidc, &inserted, &suffix] {
        let (status, _, doc) = get(url).await;
        assert_eq!(
            (status, doc["issuer"].as_str()),
            (200, Some(&*idp.issuer()))
        );
    }

    idp.set_metadata_documents(&[MetadataDocument::OAuthPathInserted]);
    assert_eq!(get(&oidc).await.0, 404);
    assert_eq!(get(&suffix).await.0, 404);
    assert_eq!(get(&inserted).await.0, 200);
    assert_eq!(
        idp.counts().discovery,
        6,
        "unpublished documents are still counted"
    );
    assert!(idp.unexpected_requests().is_empty());

    let custom = json!({"issuer": "https://elsewhere.test", "jwks_uri": "/jwks"});
    idp.set_discovery_document(Some(custom.clone()));
    assert_eq!(get(&inserted).await.2, custom);
    assert_eq!(get(&oidc).await.0, 404, "still unpublished");
    idp.set_discovery_document(None);
    assert_eq!(get(&inserted).await.2, idp.discovery_document());

    idp.set_metadata_documents(&[]);
    idp.set_down(IdpEndpoint::Discovery, true);
    assert_eq!(get(&inserted).await.0, 503, "a fault wins over publication");
}

#[tokio::test]
async fn without_an_issuer_path_both_rfc8414_forms_are_one_url() {
    let idp = FakeIdp::start().await;
    assert_eq!(
        idp.metadata_document_url(MetadataDocument::OAuthPathInserted),
        idp.metadata_document_url(MetadataDocument::OAuthSuffix)
    );
    idp.set_metadata_documents(&[MetadataDocument::OAuthSuffix]);
    assert_eq!(get(&idp.metadata_url()).await.0, 200);
    assert_eq!(get(&idp.discovery_url()).await.0, 404);
}

#[tokio::test]
async fn faults_can_carry_retry_after() {
    let idp = FakeIdp::start().await;
    idp.set_fault(
        IdpEndpoint::Jwks,
        Some(Fault::RetryAfter {
            status: 429,
            retry_after: "12".into(),
        }),
    );
    let (status, retry_after, body) = get(&idp.jwks_url()).await;
    assert_eq!((status, retry_after.as_deref()), (429, Some("12")));
    assert_eq!(body["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn chosen_keys_are_published_and_replaced() {
    let k1 = TestKey::es256().with_kid("k1");
    let k2 = TestKey::eddsa().with_kid("k2");
    let idp = FakeIdp::builder()
        .keys([k1.clone(), k2.clone()])
        .start()
        .await;
    let kids = |jwks: &Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["kid"].as_str().expect("kid").to_owned())
            .collect()
    };
    assert_eq!(kids(&get(&idp.jwks_url()).await.2), ["k1", "k2"]);
    assert_eq!(idp.current_key().kid(), "k1");

    let k3 = TestKey::es384().with_kid("k3");
    idp.set_keys(vec![k3.clone(), k1.clone()]);
    assert_eq!(kids(&get(&idp.jwks_url()).await.2), ["k3", "k1"]);
    assert_eq!(idp.current_key().kid(), "k3");
    assert_eq!(idp.key(Algorithm::ES384).kid(), "k3");
    assert_eq!(tokens::jwk_set(&[&k3, &k1]), idp.jwks());
}

#[tokio::test]
async fn introspection_records_the_presented_secret() {
    let idp = FakeIdp::builder().client("id x", "s:e c&").start().await;
    let token = idp.register_active("alice", "read", "http://127.0.0.1:9/mcp");
    let basic = STANDARD.encode("id+x:s%3Ae+c%26");
    let response = client()
        .post(idp.introspection_url())
        .header("authorization", format!("Basic {basic}"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    let call = idp.introspections().pop().expect("a call");
    assert_eq!(call.auth, ClientAuth::Basic);
    assert_eq!(call.client_id.as_deref(), Some("id x"));
    assert_eq!(call.client_secret.as_deref(), Some("s:e c&"));
    assert!(call.credentials_ok);
}

#[test]
fn tokens_can_be_signed_under_an_exact_header() {
    let key = TestKey::es256().with_kid("k1");
    let header = json!({"alg": "ES256", "crit": ["exp"]});
    let token = tokens::sign_with_header(&key, &header, json!({"sub": "a"}));
    let (decoded, claims) = tokens::decode_parts(&token);
    assert_eq!(decoded, header, "no kid or typ added");
    assert_eq!(claims, json!({"sub": "a"}));

    // The signature is real: a plain header verifies with jsonwebtoken.
    let plain = tokens::sign_with_header(
        &key,
        &json!({"alg": "ES256", "kid": "k1"}),
        json!({"sub": "a"}),
    );
    let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let data =
        jsonwebtoken::decode::<Value>(&plain, &key.decoding_key(), &validation).expect("verifies");
    assert_eq!(data.claims["sub"], "a");
}
