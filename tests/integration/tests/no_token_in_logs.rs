//! Every rejection path, logs captured at TRACE as JSON;
//! no token string ever appears in logs or responses.

use serde_json::json;
use warden_test_support::host::TestHost;
use warden_test_support::logs;
use warden_test_support::mcp::McpClient;

#[tokio::test]
async fn rejections_never_log_tokens() {
    let logs = logs::capture();
    let host = TestHost::start(
        "[resource]\nrequired_scopes = [\"profile\"]\n[providers.dev]\nkind = \"dev\"\n[tools.whoami]\nrequired_scopes = [\"profile\", \"admin\"]\n[tools.news_sentiment]\nenabled = false\n",
    )
    .await;
    let valid = host.dev_token("alice", "profile");
    // Signed with the dev issuer's real key, with the given claims.
    let signed = |claims: serde_json::Value| {
        let dev = host.app().dev.as_ref().unwrap();
        let key = jsonwebtoken::EncodingKey::from_ec_pem(&std::fs::read(dev.key_path()).unwrap())
            .unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(dev.kid().to_owned());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    let now = warden_test_support::tokens::now();
    let dev_issuer = host.app().dev.as_ref().unwrap().issuer().to_owned();
    let expired = signed(
        json!({"iss": dev_issuer, "aud": host.mcp_url(), "sub": "alice", "scope": "profile", "iat": now - 7200, "exp": now - 3600}),
    );
    let not_yet_valid = signed(
        json!({"iss": dev_issuer, "aud": host.mcp_url(), "sub": "alice", "scope": "profile", "iat": now, "nbf": now + 3600, "exp": now + 7200}),
    );
    let wrong_issuer = signed(
        json!({"iss": "https://elsewhere.example/dev", "aud": host.mcp_url(), "sub": "alice", "scope": "profile", "iat": now, "exp": now + 600}),
    );
    let wrong_aud = host.dev_token_with(
        "alice",
        "profile",
        std::time::Duration::from_secs(600),
        Some("https://other.example/mcp".into()),
    );
    let no_scope = host.dev_token("alice", "news:read");
    let tampered = {
        let mut t = valid.clone();
        t.pop();
        t.push(if valid.ends_with('A') { 'B' } else { 'A' });
        t
    };
    let garbage = "opaque-garbage-token-0123456789".to_owned();
    let tokens = [
        expired,
        not_yet_valid,
        wrong_issuer,
        wrong_aud,
        no_scope,
        tampered,
        garbage,
        valid.clone(),
    ];
    let http = reqwest::Client::new();
    for t in &tokens {
        let mut c = McpClient::new(host.mcp_url(), Some(t.clone()));
        let r = c.initialize().await;
        assert!(!r.body.contains(t.as_str()));
        let r = c.call_tool("whoami", json!({})).await;
        assert!(!r.body.contains(t.as_str()));
        // Token in the query string (refused) and two Authorization headers.
        let q = http
            .post(format!("{}?access_token={t}", host.mcp_url()))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(q.status(), 400);
        assert!(!q.text().await.unwrap().contains(t.as_str()));
        let two = http
            .post(host.mcp_url())
            .header("authorization", format!("Bearer {t}"))
            .header("authorization", format!("Bearer {t}"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(two.status(), 400);
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let captured = logs.contents();
    assert!(
        captured.contains("warden::access") || captured.contains("\"status\""),
        "logs were captured"
    );
    for t in &tokens {
        assert!(
            !captured.contains(t.as_str()),
            "a token leaked into the logs"
        );
        // Not even the signature part alone.
        if let Some(sig) = t.rsplit('.').next().filter(|s| s.len() > 20) {
            assert!(
                !captured.contains(sig),
                "a token signature leaked into the logs"
            );
        }
    }
}
