//! Public JSON documents: RFC 9728 metadata (and mirrors of AS metadata).

use poem::http::{header, StatusCode};
use poem::{endpoint::make_sync, Endpoint, IntoEndpoint, Response};
use warden_core::ProtectedResourceMetadata;

/// A public endpoint serving `metadata` as JSON with `Access-Control-Allow-Origin: *`.
pub fn metadata_endpoint(metadata: &ProtectedResourceMetadata) -> impl Endpoint<Output = Response> {
    json_document_endpoint(serde_json::to_value(metadata).unwrap_or_default())
}

/// A public endpoint serving a fixed JSON document, CORS-open (`*`), cacheable for a minute.
/// Preflight (`OPTIONS`) is answered too, since browsers may send one.
pub fn json_document_endpoint(document: serde_json::Value) -> impl Endpoint<Output = Response> {
    let body = document.to_string();
    make_sync(move |req| {
        let builder = Response::builder()
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
            .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, OPTIONS")
            .header(header::ACCESS_CONTROL_ALLOW_HEADERS, "*");
        match *req.method() {
            poem::http::Method::OPTIONS => builder.status(StatusCode::NO_CONTENT).finish(),
            poem::http::Method::GET | poem::http::Method::HEAD => builder
                .content_type("application/json")
                .header(header::CACHE_CONTROL, "public, max-age=60")
                .body(body.clone()),
            _ => builder.status(StatusCode::METHOD_NOT_ALLOWED).finish(),
        }
    })
    .into_endpoint()
}
