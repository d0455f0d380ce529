//! An existing poem app protecting its own routes with warden.
//!
//! ```text
//! WARDEN_ISSUER=https://idp.example WARDEN_AUDIENCE=https://api.example \
//!   cargo run -p warden-poem --example protect_routes
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/api/hello
//! ```
//! Without a token the route answers 401 with a `WWW-Authenticate` challenge
//! pointing at the RFC 9728 document served next to it.

use std::sync::Arc;

use poem::{get, handler, listener::TcpListener, EndpointExt, Route, Server};
use warden_core::{
    metadata_url, noop_observer, BearerGuard, BearerPolicy, ChallengeContext,
    ProtectedResourceMetadata, ProviderContext, ProviderSet,
};
use warden_jwt::{JwtSettings, JwtVerifier};
use warden_poem::{metadata_endpoint, BearerAuth, Caller};

#[handler]
fn hello(Caller(me): Caller) -> String {
    format!("hello {}", me.subject.as_deref().unwrap_or("stranger"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer =
        std::env::var("WARDEN_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:10000/dev".into());
    let audience =
        std::env::var("WARDEN_AUDIENCE").unwrap_or_else(|_| "http://127.0.0.1:3000/api".into());
    let public_url = "http://127.0.0.1:3000";

    // 1. A verifier for your identity provider (JWKS discovered from the issuer).
    let ctx = ProviderContext {
        name: "idp".into(),
        public_url: public_url.into(),
        resource: audience.clone(),
        leeway: std::time::Duration::from_secs(60),
        observer: noop_observer(),
        data_dir: ".".into(),
    };
    let settings = JwtSettings {
        issuers: vec![issuer.clone()],
        audiences: vec![audience.clone()],
        ..Default::default()
    };
    let verifier = JwtVerifier::new(&ctx, settings)?;

    // 2. A guard: providers + required scopes + where the challenge points.
    let guard = Arc::new(BearerGuard::new(
        ProviderSet::new(vec![verifier]),
        BearerPolicy {
            required_scopes: vec!["profile".into()],
            ..Default::default()
        },
        ChallengeContext {
            resource_metadata: metadata_url(public_url, "/api"),
            scopes: vec!["profile".into()],
        },
        noop_observer(),
    ));

    // 3. Wrap your routes; serve the metadata document publicly.
    let app = Route::new()
        .at("/api/hello", get(hello).with(BearerAuth::new(guard)))
        .at(
            "/.well-known/oauth-protected-resource/api",
            metadata_endpoint(&ProtectedResourceMetadata::new(audience, vec![issuer])),
        );
    Server::new(TcpListener::bind("127.0.0.1:3000"))
        .run(app)
        .await?;
    Ok(())
}
