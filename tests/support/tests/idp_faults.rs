//! Runtime switches (down, status, canned answers, delays, broken bodies),
//! stop/restart, and the hostile-token builders.

use std::time::Duration;

use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use warden_test_support::idp::{FakeIdp, Fault, IdpEndpoint};
use warden_test_support::tokens::{self, TestKey};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

async fn status(http: &reqwest::Client, url: &str) -> u16 {
    http.get(url).send().await.expect("send").status().as_u16()
}

#[tokio::test]
async fn faults_replace_answers_until_cleared() {
    let idp = FakeIdp::start().await;
    let http = client();
    let jwks = idp.jwks_url();

    idp.set_down(IdpEndpoint::Jwks, true);
    assert_eq!(status(&http, &jwks).await, 503);
    assert_eq!(
        status(&http, &idp.discovery_url()).await,
        200,
        "only JWKS is down"
    );

    idp.set_status(IdpEndpoint::Jwks, Some(500));
    assert_eq!(status(&http, &jwks).await, 500);

    idp.set_fault(
        IdpEndpoint::Jwks,
        Some(Fault::Respond {
            status: 200,
            content_type: "application/json".into(),
            body: "{not json".into(),
        }),
    );
    let canned = http.get(&jwks).send().await.expect("send");
    assert_eq!(canned.text().await.expect("text"), "{not json");

    idp.set_fault(IdpEndpoint::Jwks, Some(Fault::Truncated));
    let response = http
        .get(&jwks)
        .send()
        .await
        .expect("status and headers arrive");
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the body breaks off");

    idp.set_down(IdpEndpoint::Jwks, false);
    assert_eq!(status(&http, &jwks).await, 200);
    assert_eq!(idp.counts().jwks, 5, "faulty answers are counted too");
}

#[tokio::test]
async fn delays_and_hangs_make_clients_time_out() {
    let idp = FakeIdp::start().await;
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");

    idp.set_delay(IdpEndpoint::Discovery, Duration::from_secs(30));
    let slow = impatient
        .get(idp.discovery_url())
        .send()
        .await
        .expect_err("times out");
    assert!(slow.is_timeout());

    idp.set_delay(IdpEndpoint::Discovery, Duration::ZERO);
    idp.set_fault(IdpEndpoint::Introspection, Some(Fault::Hang));
    let hung = impatient
        .post(idp.introspection_url())
        .send()
        .await
        .expect_err("times out");
    assert!(hung.is_timeout());

    idp.clear_switches();
    assert_eq!(status(&impatient, &idp.discovery_url()).await, 200);
    assert!(
        idp.wait_for_count(IdpEndpoint::Discovery, 2, Duration::from_secs(5))
            .await
    );
}

#[tokio::test]
async fn start_down_then_come_up() {
    let idp = FakeIdp::start_down().await;
    let http = client();
    for url in [idp.discovery_url(), idp.jwks_url(), idp.userinfo_url()] {
        assert_eq!(status(&http, &url).await, 503, "{url}");
    }
    idp.set_all_down(false);
    assert_eq!(status(&http, &idp.jwks_url()).await, 200);
}

#[tokio::test]
async fn stop_refuses_connections_and_restart_serves_on_the_same_port() {
    let idp = FakeIdp::start().await;
    let http = client(); // one client: its pooled keep-alive connection must break too
    let jwks_before = idp.jwks();
    assert_eq!(status(&http, &idp.jwks_url()).await, 200);

    idp.stop().await;
    assert!(!idp.is_running());
    let refused = http.get(idp.jwks_url()).send().await.expect_err("refused");
    assert!(refused.is_connect() || refused.is_request(), "{refused:?}");

    idp.restart().await;
    assert!(idp.is_running());
    let after: Value = http
        .get(idp.jwks_url())
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(after, jwks_before);
    assert_eq!(idp.counts().jwks, 2, "the refused request never arrived");
}

#[tokio::test]
async fn start_stopped_comes_up_later() {
    let idp = FakeIdp::builder().start_stopped().await;
    let http = client();
    assert!(http.get(idp.discovery_url()).send().await.is_err());
    idp.restart().await;
    assert_eq!(status(&http, &idp.discovery_url()).await, 200);
}

#[tokio::test]
async fn hostile_token_builders() {
    let idp = FakeIdp::start().await;
    let victim = idp.current_key();
    let claims = idp.claims("http://127.0.0.1:9/mcp", "mallory", "admin");

    // alg=none, arbitrary signature part.
    let none = tokens::unsigned(&json!({"alg": "none", "typ": "JWT"}), &claims, "");
    assert!(none.ends_with('.'));
    assert_eq!(tokens::decode_parts(&none).0["alg"], "none");

    // HMAC key confusion: the public key PEM as HS256 secret, victim's kid.
    let pem = victim.public_key_pem();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let confused = tokens::hs_signed(
        "HS256",
        pem.as_bytes(),
        json!({"kid": victim.kid()}),
        &claims,
    );
    let mut hs = Validation::new(Algorithm::HS256);
    hs.set_audience(&["http://127.0.0.1:9/mcp"]);
    decode::<Value>(&confused, &DecodingKey::from_secret(pem.as_bytes()), &hs)
        .expect("a genuine HS256 signature over the PEM secret");
    let mut rs = Validation::new(Algorithm::RS256);
    rs.set_audience(&["http://127.0.0.1:9/mcp"]);
    assert!(decode::<Value>(&confused, &victim.decoding_key(), &rs).is_err());
    assert!(victim
        .rsa_public_key_pkcs1_pem()
        .expect("RSA")
        .contains("RSA PUBLIC KEY"));

    // An attacker's own key under the victim's kid does not verify.
    let attacker = TestKey::generate(Algorithm::RS256).with_kid(victim.kid());
    assert!(!attacker.same_material(&victim));
    let forged = tokens::mint(&attacker, Value::Null, &claims);
    assert!(decode::<Value>(&forged, &victim.decoding_key(), &rs).is_err());

    // Header says ES256, signature is RS256 (algorithm confusion).
    let mislabelled = tokens::mint(&victim, json!({"alg": "ES256"}), &claims);
    assert_eq!(tokens::decode_parts(&mislabelled).0["alg"], "ES256");

    // Tampering keeps the structure but breaks the signature.
    let genuine = idp.mint(&claims);
    decode::<Value>(&genuine, &victim.decoding_key(), &rs).expect("genuine verifies");
    let mut richer = claims.clone();
    richer["scope"] = json!("admin root");
    for bad in [
        tokens::tamper_claims(&genuine, &richer),
        tokens::corrupt_signature(&genuine),
        tokens::strip_signature(&genuine),
    ] {
        assert!(
            decode::<Value>(&bad, &victim.decoding_key(), &rs).is_err(),
            "{bad}"
        );
    }
}
