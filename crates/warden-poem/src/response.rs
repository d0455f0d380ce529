//! Rendering warden answers as poem responses.

use poem::http::StatusCode;
use poem::Response;
use warden_core::Rejection;

/// Renders a [`Rejection`] as a poem response. The status, headers and body
/// come from [`Rejection::to_response`], the one mapping of warden's
/// request-path errors to HTTP; this only changes the response type.
pub fn rejection_response(rejection: &Rejection) -> Response {
    let (parts, body) = rejection.to_response().into_parts();
    let mut resp = Response::builder().status(parts.status).body(body);
    *resp.headers_mut() = parts.headers;
    resp
}

/// A JSON error response `{ "error": code, "error_description": description }`
/// for answers outside the auth and MCP path (the authorization server
/// metadata mirror's 503).
pub fn json_error(status: StatusCode, code: &str, description: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(serde_json::json!({ "error": code, "error_description": description }).to_string())
}
