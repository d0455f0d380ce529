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
//! `{ "error", "error_description" }` and every answer is `Cache-Control: no-store`;
//! a 405 lists the path's methods in `Allow`.
//!
//! The OpenAPI document is the contract, checked against the real binary by
//! `tests/schemathesis/run.sh`: optional fields are `nullable` (they are sent as `null`),
//! request bodies say `additionalProperties: false` (unknown fields are a 400) and carry
//! the `pattern` the server enforces, and the 413/415 the middleware answers before an
//! operation runs are listed on the operations they can reach.
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

use poem::endpoint::make_sync;
use poem::web::Html;
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

/// The served OpenAPI document: poem-openapi's, completed with what its derive macros
/// cannot say but the server does (see [`complete`]).
fn document(service: &OpenApiService<api::AdminApi, ()>) -> serde_json::Value {
    let mut doc = serde_json::from_str(&service.spec()).expect("poem-openapi writes JSON");
    complete(&mut doc);
    doc
}

/// Adds to poem-openapi's document:
/// - `additionalProperties: false` on the request bodies that reject unknown fields
///   ([`schema::CLOSED_SCHEMAS`]);
/// - `413` on every operation whose method may carry a body (the [`auth::AdminErrors`]
///   middleware caps bodies at [`MAX_BODY_BYTES`] before routing);
/// - `415` on every operation with a request body (poem-openapi refuses any other
///   `Content-Type` before the operation runs).
fn complete(doc: &mut serde_json::Value) {
    use serde_json::{json, Value};
    for name in schema::CLOSED_SCHEMAS {
        if let Some(schema) = doc
            .pointer_mut(&format!("/components/schemas/{name}"))
            .and_then(Value::as_object_mut)
        {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    let error = |description: &str| {
        json!({
            "description": description,
            "content": {
                "application/json; charset=utf-8": {
                    "schema": { "$ref": "#/components/schemas/ErrorBody" }
                }
            }
        })
    };
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (method, operation) in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.iter_mut())
    {
        let has_body = operation.get("requestBody").is_some();
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if method != "get" && method != "head" {
            responses.insert(
                "413".into(),
                error(&format!(
                    "The request body is larger than {} KiB.",
                    MAX_BODY_BYTES / 1024
                )),
            );
        }
        if has_body {
            responses.insert(
                "415".into(),
                error("The body is not sent as `Content-Type: application/json`."),
            );
        }
    }
}

/// The OpenAPI document of the admin API (what `GET /admin/openapi.json` serves).
pub fn openapi_json(state: AdminState) -> String {
    spec_text(&document(&service(Arc::new(state.into()))))
}

fn spec_text(doc: &serde_json::Value) -> String {
    serde_json::to_string_pretty(doc).expect("a JSON value serializes")
}

/// Every admin route (see the crate docs), ready to serve on the admin listener.
pub fn admin_routes(state: AdminState) -> impl Endpoint<Output = Response> + 'static {
    let shared: Arc<state::Shared> = Arc::new(state.into());
    let service = service(shared.clone());
    let doc = document(&service);
    let allow = Arc::new(auth::AllowTable::of(&doc));
    let spec = spec_text(&doc);
    // Swagger UI embeds the document; show the completed one.
    let docs_html = service.swagger_ui_html().replace(&service.spec(), &spec);
    let spec_endpoint = make_sync(move |_| {
        Response::builder()
            .content_type("application/json")
            .body(spec.clone())
    });
    let docs = Route::new().at("/", make_sync(move |_| Html(docs_html.clone())));
    Route::new()
        .at("/admin/openapi.json", spec_endpoint)
        .nest("/admin/docs", docs)
        .nest("/", service)
        .with(auth::AdminErrors {
            shared: shared.clone(),
            allow,
        })
        .data(shared)
}
