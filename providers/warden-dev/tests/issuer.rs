//! The dev issuer as a library: key persistence and sharing, minting, config errors.

mod common;

use std::time::Duration;

use common::*;
use warden_core::AuthError;
use warden_dev::{DevClient, DevConfig, DevIssuer, MintRequest};
use warden_test_support::tokens;

#[tokio::test]
async fn key_is_persisted_0600_and_shared_between_instances() {
    let dir = scratch_dir();
    let c = ctx("http://127.0.0.1:9", dir.clone());
    let first = DevIssuer::new(&c, DevConfig::default()).unwrap();
    let path = dir.join("dev-es256.pem");
    assert_eq!(first.key_path(), path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));

    let second = DevIssuer::new(&c, DevConfig::default()).unwrap();
    assert_eq!(first.kid(), second.kid());
    let token = first.mint(mint_req("alice")).unwrap();
    let info = second.verifier().verify(&token).await.unwrap();
    assert_eq!(info.subject.as_deref(), Some("alice"));

    // Another data dir means another key, whose tokens are not accepted.
    let other_dir = scratch_dir();
    let other = DevIssuer::new(
        &ctx("http://127.0.0.1:9", other_dir.clone()),
        DevConfig::default(),
    )
    .unwrap();
    assert_ne!(other.kid(), first.kid());
    assert!(matches!(
        other.verifier().verify(&token).await,
        Err(AuthError::UnknownKey { .. })
    ));
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(other_dir).unwrap();
}

#[test]
fn concurrent_first_starts_agree_on_one_key() {
    let dir = scratch_dir();
    let c = ctx("http://127.0.0.1:9", dir.clone());
    let kids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    DevIssuer::new(&c, DevConfig::default())
                        .unwrap()
                        .kid()
                        .to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(kids.iter().all(|k| *k == kids[0]), "{kids:?}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temp files remain"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn minted_tokens_are_rfc9068_and_verify() {
    let dir = scratch_dir();
    let issuer = DevIssuer::new(
        &ctx("http://127.0.0.1:9", dir.clone()),
        DevConfig::default(),
    )
    .unwrap();
    let token = issuer.mint(mint_req("alice")).unwrap();
    let (header, claims) = tokens::decode_parts(&token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], issuer.kid());
    assert_eq!(claims["iss"], "http://127.0.0.1:9/dev");
    assert_eq!(claims["aud"], "http://127.0.0.1:9/mcp");
    assert_eq!(claims["scope"], "news:read profile");
    assert_eq!(claims["client_id"], "alice");
    assert!(claims.get("nbf").is_none());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    assert_eq!(claims["jti"].as_str().unwrap().len(), 36);

    let v = issuer.verifier();
    let info = v.verify(&token).await.unwrap();
    assert_eq!(info.scopes, ["news:read", "profile"]);
    assert_eq!(info.client_id.as_deref(), Some("alice"));
    assert_eq!(info.provider, "dev");
    let d = v.descriptor();
    assert_eq!(d.kind, "dev");
    assert_eq!(d.issuers, ["http://127.0.0.1:9/dev"]);
    assert_eq!(d.authorization_servers, ["http://127.0.0.1:9/dev"]);
    assert_eq!(
        d.audiences,
        ["http://127.0.0.1:9/mcp", "http://127.0.0.1:9/sse"]
    );
    assert!(v.status().ready);

    let foreign = issuer
        .mint(MintRequest {
            audience: Some("https://elsewhere.test/mcp".into()),
            client_id: Some("cli".into()),
            ..mint_req("bob")
        })
        .unwrap();
    assert!(matches!(
        v.verify(&foreign).await,
        Err(AuthError::WrongAudience { .. })
    ));
    assert!(issuer
        .mint(MintRequest {
            ttl: Duration::ZERO,
            ..mint_req("a")
        })
        .is_err());
    assert!(issuer.mint(mint_req("")).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn invalid_configs_name_the_key() {
    let dir = scratch_dir();
    let c = ctx("http://127.0.0.1:9", dir.clone());
    let err = |cfg: DevConfig| DevIssuer::new(&c, cfg).unwrap_err().to_string();
    let client = |id: &str, scopes: Vec<String>| DevClient {
        client_id: id.into(),
        client_secret: "s".into(),
        scopes,
    };
    assert!(err(DevConfig {
        issuer: Some("not a url".into()),
        ..Default::default()
    })
    .contains("issuer: "));
    assert!(err(DevConfig {
        issuer: Some("http://h/a:b".into()),
        ..Default::default()
    })
    .contains("issuer: "));
    assert!(err(DevConfig {
        clients: vec![client("a", vec!["admin".into()])],
        ..Default::default()
    })
    .contains("clients[0].scopes: \"admin\" is not in scopes_supported"));
    assert!(err(DevConfig {
        clients: vec![client("a", vec![]), client("a", vec![])],
        ..Default::default()
    })
    .contains("clients[1].client_id"));
    assert!(err(DevConfig {
        clients: vec![],
        ..Default::default()
    })
    .contains("clients: "));
    assert!(err(DevConfig {
        token_ttl: Duration::ZERO,
        ..Default::default()
    })
    .contains("token_ttl"));

    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let msg = err(DevConfig {
        key_path: Some(garbage),
        ..Default::default()
    });
    assert!(msg.starts_with("providers.dev: key_path: "), "{msg}");
    std::fs::remove_dir_all(dir).unwrap();
}
