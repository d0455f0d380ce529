//! The dev issuer's HTTP surface as poem endpoints, for the host to mount.

use std::sync::Arc;

use poem::endpoint::{make, make_sync, BoxEndpoint};
use poem::http::StatusCode;
use poem::{EndpointExt, Request, Response, RouteMethod};
use serde_json::{json, Value};

use crate::token::TokenError;
use crate::DevIssuer;

/// Largest token request body read (bytes).
const MAX_FORM_BYTES: usize = 16 * 1024;

fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .header("cache-control", "no-store")
        .header("pragma", "no-cache")
        .body(body.to_string())
}

/// A public, cacheable JSON document (metadata, JWKS).
fn public_document(body: String) -> BoxEndpoint<'static> {
    RouteMethod::new()
        .get(make_sync(move |_| {
            Response::builder()
                .content_type("application/json")
                .header("cache-control", "public, max-age=300")
                .header("access-control-allow-origin", "*")
                .body(body.clone())
        }))
        .boxed()
}

fn error_response(e: &TokenError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = json_response(status, &e.body());
    if e.status == 401 {
        response.headers_mut().insert(
            "www-authenticate",
            poem::http::HeaderValue::from_static("Basic realm=\"warden-dev\""),
        );
    }
    response
}

async fn token(issuer: Arc<DevIssuer>, mut req: Request) -> Response {
    let form = req
        .header("content-type")
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(true);
    if !form {
        return error_response(&TokenError {
            status: 400,
            error: "invalid_request",
            description: "the body must be application/x-www-form-urlencoded".into(),
        });
    }
    let authorization = req.header("authorization").map(str::to_owned);
    let Ok(body) = req.take_body().into_bytes_limit(MAX_FORM_BYTES).await else {
        return error_response(&TokenError {
            status: 400,
            error: "invalid_request",
            description: format!("the body is unreadable or over {MAX_FORM_BYTES} bytes"),
        });
    };
    match issuer.token_response(&body, authorization.as_deref()) {
        Ok(answer) => json_response(StatusCode::OK, &answer),
        Err(e) => error_response(&e),
    }
}

impl DevIssuer {
    /// The endpoints to mount, as `(absolute path, endpoint)` pairs, for
    /// issuer path `P` (default `/dev`):
    ///
    /// * `/.well-known/oauth-authorization-server{P}` and
    ///   `{P}/.well-known/oauth-authorization-server`: RFC 8414 metadata (GET);
    /// * `{P}/jwks`: the public key set (GET);
    /// * `{P}/token`: the `client_credentials` token endpoint (POST);
    /// * `{P}/authorize`: answers `unsupported_response_type` (GET, POST).
    ///
    /// The host mounts each with `Route::at(path, endpoint)`; other methods get 405.
    pub fn routes(self: &Arc<Self>) -> Vec<(String, BoxEndpoint<'static>)> {
        let metadata = self.metadata().to_string();
        let mut routes = vec![(
            format!("/.well-known/oauth-authorization-server{}", self.path),
            public_document(metadata.clone()),
        )];
        if !self.path.is_empty() {
            routes.push((
                format!("{}/.well-known/oauth-authorization-server", self.path),
                public_document(metadata),
            ));
        }
        routes.push((
            format!("{}/jwks", self.path),
            public_document(self.jwks().to_string()),
        ));
        let issuer = self.clone();
        routes.push((
            format!("{}/token", self.path),
            RouteMethod::new()
                .post(make(move |req| token(issuer.clone(), req)))
                .boxed(),
        ));
        let refusal = json!({
            "error": "unsupported_response_type",
            "error_description": format!(
                "the warden dev issuer has no interactive login; get tokens with the client_credentials grant at {}",
                self.token_endpoint()
            ),
        });
        let authorize = move |_| json_response(StatusCode::BAD_REQUEST, &refusal);
        routes.push((
            format!("{}/authorize", self.path),
            RouteMethod::new()
                .get(make_sync(authorize.clone()))
                .post(make_sync(authorize))
                .boxed(),
        ));
        routes
    }
}
