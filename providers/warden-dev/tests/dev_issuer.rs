//! The dev issuer over real HTTP on 127.0.0.1: key persistence, minting,
//! the token endpoint (happy paths and every error), metadata and JWKS.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Route, Server};
use serde_json::{json, Value};
use warden_core::{noop_observer, AuthError, ProviderContext, ProviderFactory};
use warden_dev::{DevClient, DevConfig, DevIssuer, MintRequest};

fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("warden-dev-test-{}", uuid::Uuid::new_v4()))
}

fn ctx(public_url: &str, data_dir: PathBuf) -> ProviderContext {
    ProviderContext {
        name: "dev".into(),
        public_url: public_url.into(),
        resource: format!("{public_url}/mcp"),
        leeway: Duration::from_secs(60),
        observer: noop_observer(),
        data_dir,
    }
}

struct Running {
    issuer: Arc<DevIssuer>,
    base: String,
    dir: PathBuf,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn token(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.post(self.url("/dev/token")).form(form);
        if let Some((id, secret)) = basic {
            req = req.header(
                "authorization",
                format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
            );
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body: Value = resp.json().await.unwrap();
        (status, headers, body)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn start(cfg: DevConfig) -> Running {
    start_with(|_| cfg).await
}

/// Serves the issuer's routes; `cfg` gets the server's base URL.
async fn start_with(cfg: impl FnOnce(&str) -> DevConfig) -> Running {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let base = format!("http://{addr}");
    let dir = scratch_dir();
    let issuer = DevIssuer::new(&ctx(&base, dir.clone()), cfg(&base)).unwrap();
    let mut app = Route::new();
    for (path, ep) in issuer.routes() {
        app = app.at(path, ep);
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app,
                async move {
                    let _ = rx.await;
                },
                Some(Duration::from_millis(100)),
            )
            .await;
    });
    Running {
        issuer,
        base,
        dir,
        http: reqwest::Client::new(),
        stop: Some(tx),
    }
}

fn decode_part(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn mint_req(sub: &str) -> MintRequest {
    MintRequest {
        sub: sub.into(),
        scopes: vec!["news:read".into(), "profile".into()],
        ttl: Duration::from_secs(600),
        audience: None,
        client_id: None,
    }
}

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
                        .to_string()
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
    let header = decode_part(&token, 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], issuer.kid());
    let claims = decode_part(&token, 1);
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
    assert_eq!(d.audiences, ["http://127.0.0.1:9/mcp"]);
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
    let cases: Vec<ErrorCase> = vec![
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
