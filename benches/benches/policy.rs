//! The per-request pieces around verification: the policy check
//! (`BearerPolicy::validate` + `check_scopes`), building challenges
//! (`AuthError::challenge`), the per-tool scope peek (`mcp_peek::peek_call`),
//! and the `whoami` tool's answer (what every row-(b) load request computes).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use warden_core::mcp_peek::{peek_call, McpCall};
use warden_core::{now_unix, AuthError, AuthInfo, BearerPolicy, ChallengeContext};

const ISSUER: &str = "http://127.0.0.1:10000/dev";
const RESOURCE: &str = "http://127.0.0.1:10000/mcp";

/// What a dev token verifies to.
fn auth_info() -> AuthInfo {
    let now = now_unix();
    let claims = json!({
        "iss": ISSUER, "sub": "alice", "aud": RESOURCE, "exp": now + 3600, "iat": now,
        "jti": "6f1c7c0e-3f7e-4d7e-9d1a-0c4a3c1d2b3e", "client_id": "warden-dev-client",
        "scope": "news:read profile",
    });
    AuthInfo {
        subject: Some("alice".into()),
        issuer: Some(ISSUER.into()),
        client_id: Some("warden-dev-client".into()),
        audiences: vec![RESOURCE.into()],
        scopes: vec!["news:read".into(), "profile".into()],
        expires_at: Some(now + 3600),
        claims: claims.as_object().cloned().unwrap_or_default(),
        provider: "dev".into(),
    }
}

fn bench_policy(c: &mut Criterion) {
    let policy = BearerPolicy {
        issuers: vec![ISSUER.into()],
        audiences: vec![RESOURCE.into()],
        ..Default::default()
    };
    let info = auth_info();
    let tool_scopes = vec!["news:read".to_owned()];
    let wildcard = vec!["mcp:tools:*".to_owned(), "profile".to_owned()];
    let deep = vec!["mcp:tools:news_sentiment:read".to_owned()];
    let mut group = c.benchmark_group("policy");
    group.bench_function("validate+check_scopes", |b| {
        b.iter(|| {
            let now = now_unix();
            policy.validate(black_box(&info), now).unwrap();
            policy
                .check_scopes(black_box(&info.scopes), black_box(&tool_scopes))
                .unwrap();
        })
    });
    group.bench_function("check_scopes_wildcard", |b| {
        b.iter(|| {
            policy
                .check_scopes(black_box(&wildcard), black_box(&deep))
                .unwrap()
        })
    });
    group.finish();
}

fn bench_challenge(c: &mut Criterion) {
    let ctx = ChallengeContext {
        resource_metadata: "http://127.0.0.1:10000/.well-known/oauth-protected-resource/mcp".into(),
        scopes: vec!["news:read".into(), "profile".into()],
    };
    let mut group = c.benchmark_group("challenge");
    group.bench_function("401_missing_token", |b| {
        b.iter(|| black_box(&AuthError::MissingToken).challenge(black_box(&ctx)))
    });
    let expired = AuthError::Expired { exp: 1_700_000_000 };
    group.bench_function("401_invalid_token", |b| {
        b.iter(|| black_box(&expired).challenge(black_box(&ctx)))
    });
    let scope = AuthError::InsufficientScope {
        required: vec!["news:read".into()],
        missing: vec!["news:read".into()],
    };
    group.bench_function("403_insufficient_scope", |b| {
        b.iter(|| black_box(&scope).challenge(black_box(&ctx)))
    });
    group.bench_function("401_missing_token+json_body", |b| {
        b.iter(|| {
            black_box(&AuthError::MissingToken)
                .challenge(black_box(&ctx))
                .body
                .to_json()
        })
    });
    group.finish();
}

fn bench_peek(c: &mut Criterion) {
    let call = br#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"news_sentiment","arguments":{"ticker":"AAPL","limit":3},"_meta":{"progressToken":"c0ffee-17"}}}"#;
    assert_eq!(peek_call(call), McpCall::ToolCall("news_sentiment".into()));
    // A call whose arguments come first and are large (the peek must skip them).
    let big_args = json!({
        "jsonrpc": "2.0", "id": 43, "method": "tools/call",
        "params": {"arguments": {"text": "x".repeat(4096), "tags": (0..64).collect::<Vec<_>>()},
                   "name": "whoami"}
    })
    .to_string();
    assert_eq!(
        peek_call(big_args.as_bytes()),
        McpCall::ToolCall("whoami".into())
    );
    let list = br#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}"#;
    let mut group = c.benchmark_group("mcp_peek");
    group.bench_function("tools_call", |b| b.iter(|| peek_call(black_box(call))));
    group.bench_function("tools_call_4k_arguments", |b| {
        b.iter(|| peek_call(black_box(big_args.as_bytes())))
    });
    group.bench_function("tools_list", |b| b.iter(|| peek_call(black_box(list))));
    group.finish();
}

fn bench_whoami(c: &mut Criterion) {
    use warden_core::Tool;
    let tool = warden_tools::WhoamiTool::new();
    let info = auth_info();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    c.bench_function("whoami/call", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                tool.call(serde_json::Map::new(), black_box(&info))
                    .await
                    .unwrap(),
            )
        })
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_policy, bench_challenge, bench_peek, bench_whoami
}
criterion_main!(benches);
