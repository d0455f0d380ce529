//! # warden-admin
//!
//! The operator's surface of warden, served on its own listener
//! (`[admin] bind`, default `127.0.0.1:10001`) with poem-openapi:
//!
//! | route | auth | what |
//! |---|---|---|
//! | `GET /admin/v1/health` | none | liveness |
//! | `GET /admin/v1/ready` | admin | 200 when every provider is ready, else 503 with each provider's state and last error |
//! | `GET /admin/v1/providers` | admin | state, keys, last refresh/error, caches |
//! | `POST /admin/v1/providers/{name}/refresh` | admin | force discovery/JWKS refresh |
//! | `DELETE /admin/v1/providers/{name}/cache` | admin | flush token caches |
//! | `GET /admin/v1/tools` | admin | tools, scopes, counters |
//! | `GET /admin/v1/config` | admin | effective config (redacted by the host) |
//! | `POST /admin/v1/tokens/explain` | admin | token dry-run through the real guard |
//! | `POST /admin/v1/dev/tokens` | admin | mint a dev token (404 without a dev provider) |
//! | `GET /metrics` | none, or admin with `metrics_require_token` | Prometheus text format |
//! | `GET /admin/openapi.json`, `/admin/docs` | none | the spec and Swagger UI |
//!
//! "admin" means `Authorization: Bearer <admin.token>`, compared in constant
//! time; a missing or wrong token gets 401 with
//! `WWW-Authenticate: Bearer realm="warden-admin"` (plus `error="invalid_token"`
//! for a wrong one). With no token configured the admin routes, readiness
//! included, answer 403 and say how to set one; health, metrics (unless
//! `metrics_require_token`), the OpenAPI document and Swagger UI keep working
//! without a token. Every error is JSON
//! `{ "error", "error_description" }` and every answer is `Cache-Control: no-store`.
//!
//! ```
//! use std::sync::Arc;
//! use warden_admin::{admin_routes, AdminState};
//! use warden_core::*;
//!
//! let guard = BearerGuard::new(
//!     ProviderSet::new(vec![]),
//!     BearerPolicy::default(),
//!     ChallengeContext { resource_metadata: "http://127.0.0.1:10000/.well-known/oauth-protected-resource/mcp".into(), scopes: vec![] },
//!     noop_observer(),
//! );
//! let state = AdminState::new(Arc::new(guard), Arc::new(ToolRegistry::new()))
//!     .with_admin_token("change-me-admin-token");
//! let app = admin_routes(state);
//! // poem::Server::new(poem::listener::TcpListener::bind("127.0.0.1:10001")).run(app).await
//! # let _ = app;
//! ```
#![deny(missing_docs)]

mod api;
mod auth;
mod config;
mod error;
mod explain;
mod schema;
mod state;

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, Response, Route};
use poem_openapi::OpenApiService;

pub use config::AdminConfig;
pub use error::AdminError;
pub use explain::explain_token;
pub use schema::{
    CacheItem, CheckItem, DevToken, DevTokenRequest, ErrorBody, ExplainRequest, HealthBody,
    Identity, KeyItem, ProviderInfo, ProviderList, ProviderReadiness, ReadyBody, TokenExplanation,
    ToolAccess, ToolInfo, ToolList,
};
pub use state::{AdminState, DevMintRequest, DevMinter};

/// Largest admin request body, bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn service(shared: Arc<state::Shared>) -> OpenApiService<api::AdminApi, ()> {
    OpenApiService::new(
        api::AdminApi { shared },
        "warden admin API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Operate warden: probes, provider state and refresh, tool counters, the effective \
         config, token dry-runs, dev tokens and Prometheus metrics. Admin routes need \
         `Authorization: Bearer <admin.token>`.",
    )
}

/// The OpenAPI document of the admin API (what `GET /admin/openapi.json` serves).
pub fn openapi_json(state: AdminState) -> String {
    service(Arc::new(state.into())).spec()
}

/// Every admin route (see the crate docs), ready to serve on the admin listener.
pub fn admin_routes(state: AdminState) -> impl Endpoint<Output = Response> + 'static {
    let shared: Arc<state::Shared> = Arc::new(state.into());
    let service = service(shared.clone());
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    Route::new()
        .at("/admin/openapi.json", spec)
        .nest("/admin/docs", docs)
        .nest("/", service)
        .with(auth::AdminErrors {
            shared: shared.clone(),
        })
        .data(shared)
}
