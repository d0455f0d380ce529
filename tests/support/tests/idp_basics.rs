//! The fake IdP speaks real HTTP and signs with real keys: tokens it mints
//! verify with `jsonwebtoken` against the JWKS it serves.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use warden_test_support::idp::{ClientAuth, FakeIdp, IdpEndpoint, Trap};
use warden_test_support::tokens;

const AUD: &str = "http://127.0.0.1:9/mcp";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

async fn get_json(url: &str) -> Value {
    let response = client().get(url).send().await.expect("GET");
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.expect("JSON body")
}

/// Verifies `token` the way a relying party would: discovery → JWKS → kid.
async fn verify_via_jwks(idp: &FakeIdp, token: &str, alg: Algorithm) -> Value {
    let discovery = get_json(&idp.discovery_url()).await;
    let jwks = get_json(discovery["jwks_uri"].as_str().expect("jwks_uri")).await;
    let kid = decode_header(token).expect("header").kid.expect("kid");
    let jwk_value = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} not in served JWKS"))
        .clone();
    let jwk: Jwk = serde_json::from_value(jwk_value).expect("served JWK parses");
    let key = DecodingKey::from_jwk(&jwk).expect("decoding key");
    let mut validation = Validation::new(alg);
    validation.set_audience(&[AUD]);
    validation.set_issuer(&[idp.issuer()]);
    decode::<Value>(token, &key, &validation)
        .expect("token verifies")
        .claims
}

#[tokio::test]
async fn minted_tokens_verify_against_served_jwks_for_every_alg() {
    let algs = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];
    let idp = FakeIdp::builder().algs(algs).start().await;
    let jwks = get_json(&idp.jwks_url()).await;
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), algs.len());

    for alg in algs {
        let served = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["kid"] == idp.key(alg).kid())
            .expect("key served")
            .clone();
        assert_eq!(served["alg"], tokens::alg_name(alg));
        assert_eq!(served["use"], "sig");
        let expected_kty = match alg {
            Algorithm::ES256 | Algorithm::ES384 => "EC",
            Algorithm::EdDSA => "OKP",
            _ => "RSA",
        };
        assert_eq!(served["kty"], expected_kty);

        let token = idp.mint_with(
            alg,
            json!({"typ": "at+jwt"}),
            idp.claims(AUD, "alice", "read"),
        );
        let claims = verify_via_jwks(&idp, &token, alg).await;
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["scope"], "read");

        let broken = tokens::corrupt_signature(&token);
        let key = idp.key(alg).decoding_key();
        let mut validation = Validation::new(alg);
        validation.set_audience(&[AUD]);
        assert!(
            decode::<Value>(&broken, &key, &validation).is_err(),
            "{alg:?} corrupt sig"
        );
    }
    assert_eq!(
        idp.current_key().alg(),
        Algorithm::RS256,
        "first alg is current"
    );
}

#[tokio::test]
async fn logto_style_layout_is_discoverable() {
    let idp = FakeIdp::builder().logto_style().start().await;
    assert_eq!(idp.issuer(), format!("{}/oidc", idp.origin()));
    let oidc = get_json(&idp.discovery_url()).await;
    assert_eq!(oidc["issuer"], idp.issuer());
    assert_eq!(oidc["jwks_uri"], idp.url("/oidc/jwks"));
    assert_eq!(oidc["userinfo_endpoint"], idp.url("/oidc/me"));
    assert_eq!(
        oidc["introspection_endpoint"],
        idp.url("/oidc/token/introspection")
    );
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        json!(["ES384"])
    );
    assert_eq!(
        oidc["introspection_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(
        idp.metadata_url(),
        idp.url("/.well-known/oauth-authorization-server/oidc")
    );
    assert_eq!(get_json(&idp.metadata_url()).await, oidc);
    let token = idp.access_token(AUD, "bob", "read");
    assert_eq!(
        verify_via_jwks(&idp, &token, Algorithm::ES384).await["sub"],
        "bob"
    );
    assert_eq!(idp.counts().discovery, 3);
    assert_eq!(idp.counts().jwks, 1);
    assert!(idp.unexpected_requests().is_empty());
}

#[tokio::test]
async fn introspection_checks_client_auth_and_answers_from_registry() {
    let idp = FakeIdp::start().await;
    let answer = json!({"active": true, "scope": ["read", "write"], "sub": "carol", "aud": AUD});
    let opaque = idp.register_opaque(answer.clone());
    let url = idp.introspection_url();
    let http = client();
    let form = [
        ("token", opaque.as_str()),
        ("token_type_hint", "access_token"),
    ];

    let basic = http
        .post(&url)
        .basic_auth(idp.client_id(), Some(idp.client_secret()))
        .form(&form)
        .send()
        .await
        .expect("introspect");
    assert_eq!(basic.status(), 200);
    assert_eq!(basic.json::<Value>().await.expect("json"), answer);

    let (id, secret) = (idp.client_id(), idp.client_secret());
    let post_form = [
        ("token", opaque.as_str()),
        ("client_id", id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let post = http
        .post(&url)
        .form(&post_form)
        .send()
        .await
        .expect("introspect");
    assert_eq!(post.json::<Value>().await.expect("json"), answer);

    let unknown = http
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .form(&[("token", "never-registered")])
        .send()
        .await
        .expect("introspect");
    assert_eq!(
        unknown.json::<Value>().await.expect("json"),
        json!({"active": false})
    );

    let wrong = http
        .post(&url)
        .basic_auth(&id, Some("wrong"))
        .form(&form)
        .send()
        .await
        .expect("send");
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().contains_key("www-authenticate"));
    let none = http.post(&url).form(&form).send().await.expect("send");
    assert_eq!(none.status(), 401);
    let both = http
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .form(&post_form)
        .send()
        .await
        .expect("send");
    assert_eq!(both.status(), 400);

    let calls = idp.introspections();
    let seen: Vec<(ClientAuth, bool, bool)> = calls
        .iter()
        .map(|c| (c.auth, c.credentials_ok, c.answered))
        .collect();
    assert_eq!(
        seen,
        vec![
            (ClientAuth::Basic, true, true),
            (ClientAuth::Post, true, true),
            (ClientAuth::Basic, true, true),
            (ClientAuth::Basic, false, false),
            (ClientAuth::None, false, false),
            (ClientAuth::Both, false, false),
        ]
    );
    assert_eq!(calls[0].token_type_hint.as_deref(), Some("access_token"));
    assert!(calls[0].known && !calls[2].known);
    assert_eq!(idp.counts().introspection, 6);

    idp.revoke(&opaque);
    let revoked = http
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .form(&form)
        .send()
        .await;
    assert_eq!(
        revoked.expect("send").json::<Value>().await.expect("json"),
        json!({"active": false})
    );
}

#[tokio::test]
async fn restricted_auth_methods_and_urlencoded_basic_credentials() {
    let idp = FakeIdp::builder()
        .client("svc a", "p:w/d")
        .client_auth_methods([ClientAuth::Basic])
        .start()
        .await;
    let opaque = idp.register_active("dave", "read", AUD);
    let http = client();
    // RFC 6749 §2.3.1: id and secret are form-urlencoded inside Basic.
    let header = format!("Basic {}", STANDARD.encode("svc+a:p%3Aw%2Fd"));
    let ok = http
        .post(idp.introspection_url())
        .header("authorization", header)
        .form(&[("token", opaque.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), 200);
    let answer: Value = ok.json().await.expect("json");
    assert_eq!(answer["active"], true);
    assert_eq!(answer["iss"], idp.issuer());

    let post = http
        .post(idp.introspection_url())
        .form(&[
            ("token", opaque.as_str()),
            ("client_id", "svc a"),
            ("client_secret", "p:w/d"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(post.status(), 401, "client_secret_post is not allowed here");
    let last = idp.introspections().pop().expect("recorded");
    assert_eq!(
        (last.auth, last.credentials_ok, last.answered),
        (ClientAuth::Post, true, false)
    );
}

#[tokio::test]
async fn userinfo_answers_registered_bearer_tokens_only() {
    let idp = FakeIdp::builder().userinfo_path("/me").start().await;
    let claims = json!({"sub": "erin", "name": "Erin", "email": "erin@example.test"});
    let token = idp.register_userinfo(claims.clone());
    let http = client();

    let ok = http
        .get(idp.userinfo_url())
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.expect("json"), claims);

    let unknown = http
        .get(idp.userinfo_url())
        .bearer_auth("nope")
        .send()
        .await
        .expect("send");
    assert_eq!(unknown.status(), 401);
    assert_eq!(
        unknown.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );

    let missing = http.get(idp.userinfo_url()).send().await.expect("send");
    assert_eq!(missing.status(), 401);
    assert!(!missing.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .contains("error="));

    idp.revoke(&token);
    let revoked = http
        .get(idp.userinfo_url())
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(revoked.status(), 401);
    assert_eq!(idp.counts().userinfo, 4);
    let recorded = idp.requests();
    assert_eq!(
        recorded[0].header("Authorization"),
        Some(format!("Bearer {token}").as_str())
    );
}

#[tokio::test]
async fn token_endpoint_issues_verifiable_access_tokens() {
    let idp = FakeIdp::builder().algs([Algorithm::ES256]).start().await;
    let response = client()
        .post(idp.token_url())
        .basic_auth(idp.client_id(), Some(idp.client_secret()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "read"),
            ("resource", AUD),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    let jwt = body["access_token"].as_str().expect("access_token");
    assert_eq!(
        decode_header(jwt).expect("header").typ.as_deref(),
        Some("at+jwt")
    );
    let claims = verify_via_jwks(&idp, jwt, Algorithm::ES256).await;
    assert_eq!(claims["aud"], AUD);
    assert_eq!(claims["scope"], "read");
    assert_eq!(claims["client_id"], idp.client_id());

    let refused = client()
        .post(idp.token_url())
        .basic_auth(idp.client_id(), Some(idp.client_secret()))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), 400);
    let calls = idp.token_calls();
    assert_eq!(calls.len(), 2);
    assert!(calls[0].issued && !calls[1].issued);
    assert_eq!(calls[0].resources, vec![AUD.to_owned()]);
}

#[tokio::test]
async fn rotation_adds_and_retires_kids() {
    let idp = FakeIdp::start().await;
    let first = idp.current_key();
    let second = idp.rotate();
    assert!(
        !first.same_material(&second),
        "rotation uses different key material"
    );
    let kids = |jwks: Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["kid"].as_str().expect("kid").to_owned())
            .collect()
    };
    assert_eq!(
        kids(get_json(&idp.jwks_url()).await),
        vec![first.kid(), second.kid()]
    );
    let token = idp.mint(idp.claims(AUD, "frank", "read"));
    assert_eq!(
        decode_header(&token).expect("header").kid.as_deref(),
        Some(second.kid())
    );

    assert_eq!(idp.retire_old(), vec![first.kid().to_owned()]);
    assert_eq!(kids(get_json(&idp.jwks_url()).await), vec![second.kid()]);

    let third = idp.roll();
    assert_eq!(kids(idp.jwks()), vec![third.kid()]);
    let extra = idp.add_key(Algorithm::EdDSA);
    assert!(idp.remove_key(extra.kid()));
    assert!(!idp.remove_key(extra.kid()));
    verify_via_jwks(
        &idp,
        &idp.mint(idp.claims(AUD, "frank", "read")),
        Algorithm::RS256,
    )
    .await;
}

#[tokio::test]
async fn counters_record_every_request_and_unexpected_paths() {
    let idp = FakeIdp::start().await;
    get_json(&idp.discovery_url()).await;
    get_json(&idp.metadata_url()).await;
    get_json(&idp.jwks_url()).await;
    let stray = client()
        .get(idp.url("/.well-known/jwks.json?x=1"))
        .send()
        .await
        .expect("send");
    assert_eq!(stray.status(), 404);
    let wrong_method = client().post(idp.jwks_url()).send().await.expect("send");
    assert_eq!(wrong_method.status(), 405);

    let counts = idp.counts();
    assert_eq!(
        (counts.discovery, counts.jwks, counts.unexpected),
        (2, 2, 1)
    );
    assert_eq!(counts.get(IdpEndpoint::Jwks), 2);
    assert_eq!(counts.total(), 5);
    assert_eq!(
        idp.unexpected_requests(),
        vec!["GET /.well-known/jwks.json?x=1".to_owned()]
    );
    idp.reset_counts();
    assert_eq!(idp.counts().total(), 0);
    assert!(idp.unexpected_requests().is_empty() && idp.requests().is_empty());
}

#[tokio::test]
async fn jwks_cache_control_is_switchable() {
    let idp = FakeIdp::builder()
        .cache_control_max_age(Some(300))
        .start()
        .await;
    let first = client().get(idp.jwks_url()).send().await.expect("send");
    assert_eq!(first.headers()["cache-control"], "max-age=300");
    idp.set_cache_control_max_age(None);
    let second = client().get(idp.jwks_url()).send().await.expect("send");
    assert!(!second.headers().contains_key("cache-control"));
    idp.set_jwks_cache_control(Some("no-store"));
    let third = client().get(idp.jwks_url()).send().await.expect("send");
    assert_eq!(third.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn trap_counts_whatever_reaches_it() {
    let trap = Trap::start().await;
    assert_eq!(trap.hits(), 0);
    let body = get_json(&trap.url_for("/keys.json")).await;
    assert_eq!(body, json!({"keys": []}));
    trap.serve_json(json!({"keys": [{"kty": "oct"}]}));
    let _ = client().post(trap.url()).send().await.expect("send");
    assert_eq!(trap.hits(), 2);
    assert_eq!(
        trap.requests(),
        vec!["GET /keys.json".to_owned(), "POST /".to_owned()]
    );
}
