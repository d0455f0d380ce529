//! Providers chosen by config, at the host level, over real loopback HTTP against fake IdPs:
//! the example configs in `config/` switch the provider without code changes
//! (behaviour 1), several providers serve at once with JWTs routed by `iss`
//! and opaque tokens tried in order (2), and a host whose IdPs are down
//! starts, reports not-ready, answers 503 and recovers on its own (7).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use warden::{App, Config};
use warden_test_support::host::TestHost;
use warden_test_support::idp::{ClientAuth, FakeIdp, Trap};
use warden_test_support::mcp::{McpClient, McpReply};

/// The resource id in `config/scalekit.toml`.
const SCALEKIT_RES: &str = "res_88056357768398086";
/// The client id in `config/introspection.toml`.
const CORP_CLIENT: &str = "warden";
const CORP_SECRET: &str = "corp-test-secret";
/// The admin token: readiness is an admin route.
const ADMIN_TOKEN: &str = "providers-by-config-admin";

/// Starts a host with `toml` plus an admin listener on port 0 with [`ADMIN_TOKEN`].
async fn start(toml: &str) -> TestHost {
    TestHost::start(&format!(
        "{toml}\n[admin]\nbind = \"127.0.0.1:0\"\ntoken = \"{ADMIN_TOKEN}\"\n"
    ))
    .await
}

fn example_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../config")
        .join(format!("{name}.toml"))
}

/// `config/{name}.toml` made runnable by a [`TestHost`]: the listen address and
/// public URL come from the host (`{url}`), every `(from, to)` replacement is
/// applied, and Alpha Vantage points at `trap` (which must never be called).
fn example(name: &str, replacements: &[(&str, String)], trap: &Trap) -> String {
    let text = std::fs::read_to_string(example_path(name)).expect("example config");
    let mut out: String = text
        .lines()
        .filter(|l| !l.starts_with("bind = ") && !l.starts_with("public_url = "))
        .map(|l| format!("{l}\n"))
        .collect();
    out = out.replace("http://localhost:10000", "{url}");
    for (from, to) in replacements {
        assert!(out.contains(from), "{name}.toml has no {from:?}");
        out = out.replace(from, to);
    }
    out.replace(
        "[tools.news_sentiment]\n",
        &format!("[tools.news_sentiment]\nbase_url = \"{}\"\n", trap.url()),
    )
}

/// Polls `/admin/v1/ready` until it answers 200 (bounded); returns its body.
async fn wait_ready(host: &TestHost) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = ready_probe(host).await;
        if status == 200 {
            return body;
        }
        assert!(Instant::now() < deadline, "never ready: {status} {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /admin/v1/ready`: status and body.
async fn ready_probe(host: &TestHost) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}/admin/v1/ready", host.admin_url()))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("ready probe");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// One `initialize` with `token`, as the first request of a client.
async fn initialize(host: &TestHost, token: &str) -> McpReply {
    McpClient::new(host.mcp_url(), Some(token.to_owned()))
        .request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "providers-by-config", "version": "0"}}),
        )
        .await
}

/// A client with a session, initialized with `token`.
async fn session(host: &TestHost, token: &str) -> McpClient {
    let mut client = McpClient::new(host.mcp_url(), Some(token.to_owned()));
    let reply = client.initialize().await;
    assert_eq!(reply.status, 200, "initialize: {}", reply.body);
    client
}

/// `whoami`'s structured answer for `token`.
async fn whoami(host: &TestHost, token: &str) -> Value {
    let client = session(host, token).await;
    let reply = client.call_tool("whoami", json!({})).await;
    assert_eq!(reply.status, 200, "whoami: {}", reply.body);
    let result = reply.result();
    assert_ne!(result["isError"], json!(true), "{result}");
    result["structuredContent"].clone()
}

/// `authorization_servers` of the path-suffixed Protected Resource Metadata.
async fn authorization_servers(host: &TestHost) -> Value {
    let url = format!("{}/.well-known/oauth-protected-resource/mcp", host.url);
    let prm: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(prm["resource"], host.mcp_url(), "{prm}");
    prm["authorization_servers"].clone()
}

fn assert_rejected(reply: &McpReply, what: &str) {
    assert_eq!(reply.status, 401, "{what}: {}", reply.body);
    let www = reply.www_authenticate().unwrap_or_default();
    assert!(www.contains("error=\"invalid_token\""), "{what}: {www}");
}

/// Claims as Scalekit issues them: `scopes` array, `aud` list, chosen `iss`.
fn scalekit_claims(idp: &FakeIdp, iss: &str, aud: Value, sub: &str) -> Value {
    let mut claims = idp.claims(aud, sub, "");
    claims["iss"] = json!(iss);
    claims.as_object_mut().unwrap().remove("scope");
    claims["scopes"] = json!(["news:read", "profile"]);
    claims
}

// ---- behaviour 1: switch by config ---------------------------------------------

#[tokio::test]
async fn example_configs_load_and_build_without_network() {
    for (name, kind) in [
        ("scalekit", "scalekit"),
        ("logto", "logto"),
        ("introspection", "introspection"),
    ] {
        let path = example_path(name);
        let config = Config::load(Some(&path)).unwrap_or_else(|e| panic!("{name}.toml: {e}"));
        let tables = config.provider_tables();
        assert_eq!(tables.len(), 1, "{name}.toml");
        assert_eq!(tables[0].1, kind, "{name}.toml");
        assert_eq!(config.resource_url(), "http://localhost:10000/mcp");

        let mut buildable = config.clone();
        if kind == "introspection" {
            // The secret is deliberately not in the file (it comes from
            // WARDEN_PROVIDERS__CORP__CLIENT_SECRET); without it the build names the key.
            let err = App::build(config.clone(), warden_core::noop_observer())
                .expect_err("no client_secret");
            assert!(err.to_string().contains("client_secret"), "{err}");
            buildable.providers.get_mut("corp").unwrap()["client_secret"] = json!("from-env");
        }
        // Building does no network I/O: the placeholder hosts do not exist.
        let app = App::build(buildable, warden_core::noop_observer())
            .unwrap_or_else(|e| panic!("{name}.toml: {e}"));
        let servers = app.guard.providers().authorization_servers();
        let expected = match kind {
            "scalekit" => format!("https://acme.scalekit.dev/resources/{SCALEKIT_RES}"),
            "logto" => "https://your-tenant.logto.app/oidc".into(),
            _ => "https://idp.example.com".into(),
        };
        assert_eq!(servers, [expected], "{name}.toml");
    }
}

#[tokio::test]
async fn scalekit_example_config_serves_scalekit_tokens() {
    let idp = FakeIdp::builder().jwks_path("/keys").start().await;
    let trap = Trap::start().await;
    let toml = example(
        "scalekit",
        &[("https://acme.scalekit.dev", idp.origin())],
        &trap,
    );
    let host = start(&toml).await;
    wait_ready(&host).await;
    let env = idp.origin();
    let migrated = format!("{env}/resources/{SCALEKIT_RES}");

    for iss in [env.as_str(), migrated.as_str()] {
        let token = idp.mint(scalekit_claims(
            &idp,
            iss,
            json!([SCALEKIT_RES, host.mcp_url()]),
            "usr_42",
        ));
        let me = whoami(&host, &token).await;
        assert_eq!(me["provider"], "scalekit", "{me}");
        assert_eq!(me["sub"], "usr_42", "{me}");
        assert_eq!(me["issuer"], iss, "{me}");
        assert_eq!(me["scopes"], json!(["news:read", "profile"]), "{me}");
    }
    // Audience defaults: the resource id alone is enough; a stranger's is not.
    let res_only = idp.mint(scalekit_claims(&idp, &migrated, json!(SCALEKIT_RES), "u"));
    assert_eq!(initialize(&host, &res_only).await.status, 200);
    let stranger = idp.mint(scalekit_claims(&idp, &migrated, json!("res_other"), "u"));
    assert_rejected(&initialize(&host, &stranger).await, "foreign audience");

    assert_eq!(authorization_servers(&host).await, json!([migrated]));
    assert_eq!(idp.unexpected_requests(), Vec::<String>::new());
    assert_eq!(trap.hits(), 0);
}

#[tokio::test]
async fn logto_example_config_serves_userinfo_and_jwt_tokens() {
    let idp = FakeIdp::builder().logto_style().start().await;
    let trap = Trap::start().await;
    let toml = example(
        "logto",
        &[("https://your-tenant.logto.app/oidc", idp.issuer())],
        &trap,
    );
    let host = start(&toml).await;
    wait_ready(&host).await;

    // Opaque token (no API resource): verified by userinfo, whose claims whoami shows.
    let opaque = idp.register_userinfo(json!({
        "sub": "u_ada", "name": "Ada Lovelace", "username": "ada",
        "email": "ada@example.com", "email_verified": true,
    }));
    let me = whoami(&host, &opaque).await;
    assert_eq!(me["provider"], "logto", "{me}");
    assert_eq!(me["sub"], "u_ada", "{me}");
    assert_eq!(me["name"], "Ada Lovelace", "{me}");
    assert_eq!(me["username"], "ada", "{me}");
    assert_eq!(me["email"], "ada@example.com", "{me}");
    assert_eq!(me["issuer"], idp.issuer(), "{me}");
    assert!(idp.counts().userinfo >= 1);

    // Userinfo grants no scopes: news_sentiment (news:read) asks to step up,
    // before any upstream call.
    let client = session(&host, &opaque).await;
    let denied = client
        .call_tool("news_sentiment", json!({"ticker": "AAPL"}))
        .await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    let www = denied.www_authenticate().unwrap_or_default();
    assert!(www.contains("error=\"insufficient_scope\""), "{www}");
    assert!(www.contains("scope=\"news:read\""), "{www}");
    assert_eq!(trap.hits(), 0);

    // JWT access token for the API resource (ES384, aud = the configured indicator).
    let jwt = idp.mint(idp.claims(host.mcp_url(), "u_grace", "news:read profile"));
    let me = whoami(&host, &jwt).await;
    assert_eq!(me["provider"], "logto", "{me}");
    assert_eq!(me["sub"], "u_grace", "{me}");
    assert_eq!(me["scopes"], json!(["news:read", "profile"]), "{me}");
    assert_eq!(me["audiences"], json!([host.mcp_url()]), "{me}");

    assert_eq!(authorization_servers(&host).await, json!([idp.issuer()]));
    assert_eq!(idp.unexpected_requests(), Vec::<String>::new());
}

#[tokio::test]
async fn introspection_example_config_serves_opaque_tokens() {
    let idp = FakeIdp::builder()
        .client(CORP_CLIENT, CORP_SECRET)
        .introspection_path("/oauth2/introspect")
        .start()
        .await;
    let trap = Trap::start().await;
    let toml = example(
        "introspection",
        &[
            ("https://idp.example.com", idp.origin()),
            (
                "client_id = \"warden\"\n",
                format!("client_id = \"warden\"\nclient_secret = \"{CORP_SECRET}\"\n"),
            ),
        ],
        &trap,
    );
    let host = start(&toml).await;
    wait_ready(&host).await;

    let token = idp.register_active("svc_billing", "news:read", host.mcp_url());
    let me = whoami(&host, &token).await;
    assert_eq!(me["provider"], "corp", "{me}");
    assert_eq!(me["sub"], "svc_billing", "{me}");
    assert_eq!(me["client_id"], CORP_CLIENT, "{me}");
    assert_eq!(me["scopes"], json!(["news:read"]), "{me}");
    let calls = idp.introspections();
    assert!(!calls.is_empty());
    assert!(
        calls
            .iter()
            .all(|c| c.auth == ClientAuth::Basic && c.credentials_ok),
        "{calls:?}"
    );

    let elsewhere = idp.register_active("svc", "news:read", "https://other.example/mcp");
    assert_rejected(&initialize(&host, &elsewhere).await, "foreign audience");

    assert_eq!(authorization_servers(&host).await, json!([idp.origin()]));
    assert_eq!(trap.hits(), 0);
}

// ---- behaviour 2: several providers at once ------------------------------------

#[tokio::test]
async fn several_providers_route_jwts_by_issuer_and_try_opaque_in_order() {
    let sk = FakeIdp::builder().jwks_path("/keys").start().await;
    let corp = FakeIdp::start().await;
    let toml = format!(
        r#"
[server]
stateless = true
[auth]
providers = ["scalekit", "corp", "sk_opaque", "corp_opaque"]
[providers.scalekit]
kind = "scalekit"
environment_url = "{sk_env}"
resource_id = "res_123"
[providers.corp]
kind = "jwt"
issuer = "{corp_iss}"
jwks_url = "{corp_jwks}"
[providers.sk_opaque]
kind = "introspection"
introspection_url = "{sk_introspect}"
issuer = "{sk_env}"
client_id = "{client_id}"
client_secret = "{client_secret}"
[providers.corp_opaque]
kind = "introspection"
introspection_url = "{corp_introspect}"
issuer = "{corp_iss}"
client_id = "{client_id}"
client_secret = "{client_secret}"
[tools.news_sentiment]
enabled = false
"#,
        sk_env = sk.origin(),
        sk_introspect = sk.introspection_url(),
        corp_iss = corp.issuer(),
        corp_jwks = corp.jwks_url(),
        corp_introspect = corp.introspection_url(),
        client_id = corp.client_id(),
        client_secret = corp.client_secret(),
    );
    let host = start(&toml).await;
    wait_ready(&host).await;
    let mcp = host.mcp_url();

    // Fresh signing keys on both sides, so verifying costs each owner one JWKS fetch.
    sk.rotate();
    corp.rotate();
    sk.reset_counts();
    corp.reset_counts();

    let sk_token = sk.mint(scalekit_claims(
        &sk,
        &format!("{}/resources/res_123", sk.origin()),
        json!("res_123"),
        "usr_sk",
    ));
    let me = whoami(&host, &sk_token).await;
    assert_eq!(
        (me["provider"].as_str(), me["sub"].as_str()),
        (Some("scalekit"), Some("usr_sk"))
    );
    assert_eq!(sk.counts().jwks, 1, "{:?}", sk.counts());
    assert_eq!(
        corp.counts().total(),
        0,
        "corp was asked about a Scalekit JWT"
    );

    let corp_token = corp.mint(corp.claims(mcp.as_str(), "emp_7", "profile"));
    let me = whoami(&host, &corp_token).await;
    assert_eq!(
        (me["provider"].as_str(), me["sub"].as_str()),
        (Some("corp"), Some("emp_7"))
    );
    assert_eq!(corp.counts().jwks, 1, "{:?}", corp.counts());
    assert_eq!(
        sk.counts().total(),
        1,
        "Scalekit was asked about a corp JWT"
    );

    // Opaque tokens: tried in the configured order, sk_opaque first.
    sk.reset_counts();
    corp.reset_counts();
    let corp_opaque = corp.register_active("emp_8", "profile", mcp.as_str());
    let me = whoami(&host, &corp_opaque).await;
    assert_eq!(me["provider"], "corp_opaque", "{me}");
    assert_eq!(me["sub"], "emp_8", "{me}");
    assert_eq!(sk.counts().introspection, 1, "sk_opaque was asked first");
    assert_eq!(corp.counts().introspection, 1);

    sk.reset_counts();
    corp.reset_counts();
    let sk_opaque = sk.register_active("usr_9", "profile", mcp.as_str());
    let me = whoami(&host, &sk_opaque).await;
    assert_eq!(me["provider"], "sk_opaque", "{me}");
    assert_eq!(sk.counts().introspection, 1);
    assert_eq!(
        corp.counts().total(),
        0,
        "the first provider answered; no fallback"
    );

    // A token nobody accepts.
    let reply = initialize(&host, "opaque-token-nobody-issued").await;
    assert_rejected(&reply, "unknown opaque token");
    let wrong_aud = corp.mint(corp.claims("https://other.example/mcp", "emp_7", "profile"));
    assert_rejected(
        &initialize(&host, &wrong_aud).await,
        "corp JWT for another audience",
    );

    // A JWT whose `iss` nobody owns: rejected without any network call.
    sk.reset_counts();
    corp.reset_counts();
    let mut claims = sk.claims(mcp.as_str(), "mallory", "profile");
    claims["iss"] = json!("https://unknown-issuer.example");
    let reply = initialize(&host, &sk.mint(claims)).await;
    assert_rejected(&reply, "unknown issuer");
    assert_eq!(sk.counts().total(), 0, "{:?}", sk.counts());
    assert_eq!(corp.counts().total(), 0, "{:?}", corp.counts());

    // Every provider contributes to the metadata, in order, without duplicates.
    assert_eq!(
        authorization_servers(&host).await,
        json!([
            format!("{}/resources/res_123", sk.origin()),
            corp.issuer(),
            sk.origin()
        ])
    );
}

// ---- behaviour 7: startup while the IdPs are down -------------------------------

#[tokio::test]
async fn host_starts_with_idps_down_answers_503_and_recovers_without_restart() {
    // Scalekit's JWKS answers 503; Logto refuses connections altogether.
    let sk = FakeIdp::builder().jwks_path("/keys").down().start().await;
    let logto = FakeIdp::builder().logto_style().start_stopped().await;
    let toml = format!(
        r#"
[auth]
providers = ["scalekit", "logto"]
[providers.scalekit]
kind = "scalekit"
environment_url = "{sk_env}"
resource_id = "res_123"
jwks_cooldown = "1s"
[providers.logto]
kind = "logto"
issuer = "{logto_iss}"
jwks_cooldown = "1s"
[tools.news_sentiment]
enabled = false
"#,
        sk_env = sk.origin(),
        logto_iss = logto.issuer(),
    );
    let host = start(&toml).await;
    let sk_token = sk.mint(scalekit_claims(
        &sk,
        &sk.origin(),
        json!("res_123"),
        "usr_1",
    ));
    let logto_jwt = logto.mint(logto.claims(host.mcp_url(), "u_1", "profile"));
    let logto_opaque = logto.register_userinfo(json!({"sub": "u_2", "name": "Opaque"}));

    let (status, body) = ready_probe(&host).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["ready"], false, "{body}");
    let providers = body["providers"].as_array().expect("providers listed");
    for name in ["scalekit", "logto"] {
        let p = providers
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {body}"));
        assert_eq!(p["ready"], false, "{p}");
    }

    for (what, token) in [
        ("scalekit JWT", &sk_token),
        ("logto JWT", &logto_jwt),
        ("logto opaque", &logto_opaque),
    ] {
        let reply = initialize(&host, token).await;
        assert_eq!(reply.status, 503, "{what}: {}", reply.body);
        let retry_after: u64 = reply
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{what}: no Retry-After"));
        assert!(retry_after >= 1, "{what}");
        assert_eq!(reply.json()["error"], "temporarily_unavailable", "{what}");
        assert!(
            reply.www_authenticate().is_none(),
            "{what}: 503 is not a challenge"
        );
    }

    sk.set_all_down(false);
    logto.restart().await;
    let body = wait_ready(&host).await;
    assert_eq!(body["ready"], true, "{body}");

    let me = whoami(&host, &sk_token).await;
    assert_eq!(me["provider"], "scalekit", "{me}");
    let me = whoami(&host, &logto_jwt).await;
    assert_eq!(
        (me["provider"].as_str(), me["sub"].as_str()),
        (Some("logto"), Some("u_1"))
    );
    let me = whoami(&host, &logto_opaque).await;
    assert_eq!(
        (me["provider"].as_str(), me["name"].as_str()),
        (Some("logto"), Some("Opaque"))
    );
}
