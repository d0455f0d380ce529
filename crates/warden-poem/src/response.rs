//! Rendering warden answers as poem responses.

use poem::http::{header, HeaderValue, StatusCode};
use poem::Response;
use warden_core::Challenge;

/// Renders a [`Challenge`] (the single auth-error → HTTP mapping of
/// warden-core) as a poem response.
pub fn challenge_response(challenge: &Challenge) -> Response {
    let status = StatusCode::from_u16(challenge.status).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut resp = Response::builder()
        .status(status)
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(challenge.body.to_json());
    if let Some(value) = challenge
        .www_authenticate
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    if let Some(secs) = challenge.retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// A JSON error response `{ "error": code, "error_description": description }`.
pub fn json_error(status: StatusCode, code: &str, description: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(serde_json::json!({ "error": code, "error_description": description }).to_string())
}
