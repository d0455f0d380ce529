//! kind = "scalekit" against the in-tree fake IdP laid out like Scalekit
//! (issuer = environment URL, JWKS at `/keys`), over real loopback HTTP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use warden_core::{
    noop_observer, AuthError, ProviderContext, ProviderFactory, ProviderSet, Verifier,
};
use warden_scalekit::ScalekitFactory;
use warden_test_support::idp::{FakeIdp, IdpEndpoint};

const RES: &str = "res_88056357768398086";
const MCP: &str = "http://127.0.0.1:10000/mcp";

fn ctx() -> ProviderContext {
    ProviderContext {
        name: "scalekit".into(),
        public_url: "http://127.0.0.1:10000".into(),
        resource: MCP.into(),
        leeway: Duration::from_secs(5),
        observer: noop_observer(),
        data_dir: std::env::temp_dir(),
    }
}

async fn scalekit_idp() -> FakeIdp {
    FakeIdp::builder().jwks_path("/keys").start().await
}

fn no_env() -> ScalekitFactory {
    ScalekitFactory::with_env(|_| None)
}

fn provider(idp: &FakeIdp) -> Arc<dyn Verifier> {
    no_env()
        .build(
            &ctx(),
            json!({"environment_url": idp.issuer(), "resource_id": RES}),
        )
        .unwrap()
}

/// A token as Scalekit issues it: `scopes` array, `aud` list, chosen `iss`.
fn scalekit_claims(idp: &FakeIdp, iss: &str, aud: Value) -> Value {
    let mut claims = idp.claims(aud, "usr_1", "");
    claims["iss"] = json!(iss);
    claims.as_object_mut().unwrap().remove("scope");
    claims["scopes"] = json!(["news:read", "profile"]);
    claims
}

#[tokio::test]
async fn both_issuers_are_accepted_and_routed_here() {
    let idp = scalekit_idp().await;
    let set = ProviderSet::new(vec![provider(&idp)]);
    let env = idp.issuer();
    let migrated = format!("{env}/resources/{RES}");
    for iss in [env.as_str(), migrated.as_str()] {
        let token = idp.mint(scalekit_claims(&idp, iss, json!([RES, MCP])));
        let info = set.verify(&token).await.unwrap();
        assert_eq!(info.issuer.as_deref(), Some(iss));
        assert_eq!(info.subject.as_deref(), Some("usr_1"));
        assert_eq!(info.provider, "scalekit");
    }
    let stranger = idp.mint(scalekit_claims(
        &idp,
        &format!("{env}/resources/res_other"),
        json!(RES),
    ));
    let (who, err) = set.verify(&stranger).await.unwrap_err();
    assert_eq!(who, "none");
    assert!(matches!(err, AuthError::WrongIssuer { .. }), "{err:?}");
}

#[tokio::test]
async fn audience_is_the_resource_id_or_the_mcp_url() {
    let idp = scalekit_idp().await;
    let v = provider(&idp);
    let iss = idp.issuer();
    for aud in [
        json!(RES),
        json!(MCP),
        json!(["https://other.example", RES]),
    ] {
        let token = idp.mint(scalekit_claims(&idp, &iss, aud.clone()));
        assert!(v.verify(&token).await.is_ok(), "aud {aud} must be accepted");
    }
    for aud in [
        json!("res_someone_else"),
        json!("https://other.example/mcp"),
    ] {
        let token = idp.mint(scalekit_claims(&idp, &iss, aud.clone()));
        let err = v.verify(&token).await.unwrap_err();
        assert!(
            matches!(err, AuthError::WrongAudience { .. }),
            "aud {aud}: {err:?}"
        );
    }
}

#[tokio::test]
async fn scopes_array_and_scope_string_both_count() {
    let idp = scalekit_idp().await;
    let v = provider(&idp);
    let array = idp.mint(scalekit_claims(&idp, &idp.issuer(), json!(RES)));
    assert_eq!(
        v.verify(&array).await.unwrap().scopes,
        ["news:read", "profile"]
    );
    let string = idp.mint(idp.claims(RES, "usr_2", "news:read  mcp:*"));
    assert_eq!(
        v.verify(&string).await.unwrap().scopes,
        ["news:read", "mcp:*"]
    );
    let mut both = scalekit_claims(&idp, &idp.issuer(), json!(RES));
    both["scope"] = json!("offline profile");
    let both = idp.mint(both);
    assert_eq!(
        v.verify(&both).await.unwrap().scopes,
        ["offline", "profile", "news:read"]
    );
}

#[tokio::test]
async fn keys_come_from_environment_keys_endpoint() {
    let idp = scalekit_idp().await;
    let v = provider(&idp);
    assert!(!v.status().ready);
    v.refresh().await.unwrap();
    let status = v.status();
    assert!(status.ready);
    assert_eq!(status.keys.len(), 1);
    assert_eq!(status.keys[0].kid, idp.current_key().kid());
    let token = idp.mint(scalekit_claims(&idp, &idp.issuer(), json!(RES)));
    v.verify(&token).await.unwrap();
    let paths: Vec<String> = idp.requests().into_iter().map(|r| r.path).collect();
    assert!(!paths.is_empty());
    assert!(paths.iter().all(|p| p == "/keys"), "{paths:?}");
    assert_eq!(idp.counts().discovery, 0, "no discovery for Scalekit");
    assert!(idp.unexpected_requests().is_empty());
}

#[tokio::test]
async fn env_only_setup_builds_a_working_provider() {
    let idp = scalekit_idp().await;
    let vars: HashMap<&'static str, String> = HashMap::from([
        ("SCALEKIT_ENVIRONMENT_URL", idp.issuer()),
        ("SCALEKIT_CLIENT_ID", "skc_123".to_owned()),
        ("SCALEKIT_CLIENT_SECRET", "tutorial-secret".to_owned()),
        ("SCALEKIT_AUDIENCE_NAME", RES.to_owned()),
        (
            "SCALEKIT_RESOURCE_METADATA_URL",
            "http://localhost:10000/.well-known/oauth-protected-resource/mcp".to_owned(),
        ),
    ]);
    let factory = ScalekitFactory::with_env(move |name| vars.get(name).cloned());
    let v = factory.build_verifier(&ctx(), json!({})).unwrap();
    assert!(!format!("{v:?}").contains("tutorial-secret"));
    let d = v.descriptor();
    assert_eq!(d.kind, "scalekit");
    assert_eq!(
        d.issuers,
        [idp.issuer(), format!("{}/resources/{RES}", idp.issuer())]
    );
    assert_eq!(d.audiences, [RES, MCP]);
    let token = idp.mint(scalekit_claims(&idp, &idp.issuer(), json!(RES)));
    let info = v.verify(&token).await.unwrap();
    assert_eq!(info.scopes, ["news:read", "profile"]);
}

#[tokio::test]
async fn prm_names_the_resource_authorization_server() {
    let idp = scalekit_idp().await;
    let v = provider(&idp);
    let expected = format!("{}/resources/{RES}", idp.issuer());
    assert_eq!(
        v.descriptor().authorization_servers,
        std::slice::from_ref(&expected)
    );
    assert_eq!(
        ProviderSet::new(vec![v]).authorization_servers(),
        [expected]
    );

    let overridden = no_env()
        .build(
            &ctx(),
            json!({"environment_url": idp.issuer(), "resource_id": RES,
                   "authorization_server": "https://auth.example.com"}),
        )
        .unwrap();
    assert_eq!(
        overridden.descriptor().authorization_servers,
        ["https://auth.example.com"]
    );
}

#[tokio::test]
async fn keys_endpoint_down_means_unavailable_not_invalid() {
    let idp = scalekit_idp().await;
    idp.set_down(IdpEndpoint::Jwks, true);
    let v = provider(&idp);
    assert!(v.refresh().await.unwrap_err().is_unavailable());
    let token = idp.mint(scalekit_claims(&idp, &idp.issuer(), json!(RES)));
    assert!(v.verify(&token).await.unwrap_err().is_unavailable());
    assert!(!v.status().ready);
}
