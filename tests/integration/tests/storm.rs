//! A storm of concurrent requests carrying one token warden has never
//! seen costs the identity provider exactly one introspection call
//! (single-flight per token hash), and later requests are answered from the
//! cache. Real host (`kind = "introspection"`), real fake IdP, loopback HTTP.

use std::time::Duration;

use serde_json::json;
use warden_test_support::host::TestHost;
use warden_test_support::idp::{FakeIdp, IdpEndpoint};
use warden_test_support::mcp::McpClient;

const CONCURRENT: usize = 100;

fn config(idp: &FakeIdp) -> String {
    format!(
        r#"
[server]
stateless = true
[auth]
providers = ["corp"]
[providers.corp]
kind = "introspection"
introspection_url = "{}"
issuer = "{}"
client_id = "{}"
client_secret = "{}"
[tools.news_sentiment]
enabled = false
"#,
        idp.introspection_url(),
        idp.issuer(),
        idp.client_id(),
        idp.client_secret()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_with_one_new_opaque_token_is_introspected_once() {
    let idp = FakeIdp::builder()
        .algs([jsonwebtoken::Algorithm::ES256])
        .start()
        .await;
    let host = TestHost::start(&config(&idp)).await;
    let token = idp.register_active("alice", "news:read profile", host.mcp_url());
    // The IdP answers slowly, so the requests pile up behind the first
    // introspection instead of arriving after its answer is cached.
    idp.set_delay(IdpEndpoint::Introspection, Duration::from_millis(800));

    let client = McpClient::new(host.mcp_url(), Some(token.clone()));
    let storm = (0..CONCURRENT).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.call_tool("whoami", json!({})).await })
    });
    let replies = futures::future::join_all(storm).await;
    assert_eq!(replies.len(), CONCURRENT);
    for reply in replies {
        let reply = reply.expect("request task");
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.result()["structuredContent"]["sub"],
            json!("alice"),
            "{}",
            reply.body
        );
    }
    assert_eq!(
        idp.counts().introspection,
        1,
        "one introspection call for {CONCURRENT} concurrent requests"
    );
    let calls = idp.introspections();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].credentials_ok && calls[0].answered);
    assert_eq!(calls[0].token.as_deref(), Some(token.as_str()));

    // Afterwards the cached answer serves the token without asking again.
    idp.set_delay(IdpEndpoint::Introspection, Duration::ZERO);
    for _ in 0..10 {
        assert_eq!(client.call_tool("whoami", json!({})).await.status, 200);
    }
    assert_eq!(idp.counts().introspection, 1);

    // A different new token is a different cache key: one more call.
    let other = idp.register_active("bob", "profile", host.mcp_url());
    let reply = McpClient::new(host.mcp_url(), Some(other))
        .call_tool("whoami", json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.result()["structuredContent"]["sub"], json!("bob"));
    assert_eq!(idp.counts().introspection, 2);
    host.stop().await;
}
