//! Admin authentication: `Authorization: Bearer <admin token>`, compared in
//! constant time, and the JSON shape of every admin error.

use std::sync::Arc;

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::auth::Bearer;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, SecurityScheme};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::schema::ErrorBody;
use crate::state::Shared;

/// `WWW-Authenticate` of a request without credentials.
pub(crate) const CHALLENGE: &str = "Bearer realm=\"warden-admin\"";
/// `WWW-Authenticate` of a request with a wrong token.
pub(crate) const CHALLENGE_INVALID: &str = "Bearer realm=\"warden-admin\", error=\"invalid_token\"";

/// SHA-256 of a token: tokens are compared as fixed-length digests so the
/// comparison time says nothing about the token's length or content.
pub(crate) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The admin token (`Authorization: Bearer …`).
#[derive(SecurityScheme)]
#[oai(rename = "AdminToken", ty = "bearer", checker = "check_admin_token")]
pub(crate) struct AdminToken(());

async fn check_admin_token(req: &Request, bearer: Bearer) -> poem::Result<()> {
    let shared = req.data::<Arc<Shared>>().ok_or_else(|| {
        poem::Error::from_response(error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "admin state missing",
        ))
    })?;
    shared.authorize(Some(&bearer.token)).map_err(Into::into)
}

/// Why an admin request was refused.
#[derive(ApiResponse)]
pub(crate) enum AuthFailure {
    /// No or wrong admin token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// No admin token is configured, so protected routes are closed.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
}

impl Shared {
    /// Checks a presented admin token (`None` = no credentials).
    pub(crate) fn authorize(&self, presented: Option<&str>) -> Result<(), AuthFailure> {
        let Some(expected) = &self.token_digest else {
            return Err(AuthFailure::Forbidden(Json(ErrorBody::new(
                "admin_token_not_configured",
                "no admin token is configured, so this route is closed; set admin.token \
                 (environment WARDEN_ADMIN__TOKEN) and send it as Authorization: Bearer <token>",
            ))));
        };
        match presented {
            None => Err(AuthFailure::Unauthorized(
                Json(ErrorBody::new(
                    "unauthorized",
                    "send the admin token as Authorization: Bearer <token>",
                )),
                CHALLENGE.into(),
            )),
            Some(token) if bool::from(digest(token).ct_eq(expected)) => Ok(()),
            Some(_) => Err(AuthFailure::Unauthorized(
                Json(ErrorBody::new(
                    "invalid_token",
                    "the admin token is not valid",
                )),
                CHALLENGE_INVALID.into(),
            )),
        }
    }

    /// Checks the `Authorization` header of `req` (for routes guarded conditionally).
    pub(crate) fn authorize_request(&self, req: &Request) -> Result<(), AuthFailure> {
        self.authorize(bearer_of(req))
    }
}

/// The bearer credentials of a request, if it has exactly that.
fn bearer_of(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// What a request body field that fails its schema `pattern` should look like.
const FIELD_HINTS: [(&str, &str); 3] = [
    ("token", "token is empty"),
    ("sub", "sub must not be empty"),
    (
        "ttl",
        "ttl: use whole units from seconds up, e.g. 90s, 15m, 1h or 1h 30m (see /admin/openapi.json)",
    ),
];

/// A JSON error response.
pub(crate) fn error_response(status: StatusCode, code: &str, description: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(
            serde_json::to_string(&ErrorBody::new(code, description))
                .unwrap_or_else(|_| "{}".into()),
        )
}

/// Turns framework errors into the admin JSON error shape (never echoing
/// request content) and marks every answer `Cache-Control: no-store`.
pub(crate) struct AdminErrors {
    pub(crate) shared: Arc<Shared>,
    pub(crate) allow: Arc<AllowTable>,
}

/// The methods each documented path answers, for the `Allow` header of a 405.
pub(crate) struct AllowTable {
    /// (path template split at `/`, `Allow` value), from the OpenAPI document.
    routes: Vec<(Vec<String>, HeaderValue)>,
}

impl AllowTable {
    /// Reads the paths of `doc`; a `GET` operation also answers `HEAD`.
    pub(crate) fn of(doc: &serde_json::Value) -> Self {
        const ORDER: [&str; 7] = ["get", "head", "post", "put", "patch", "delete", "options"];
        let routes = doc
            .get("paths")
            .and_then(serde_json::Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(path, item)| {
                let item = item.as_object()?;
                let methods: Vec<String> = ORDER
                    .iter()
                    .filter(|m| {
                        item.contains_key(**m) || (**m == "head" && item.contains_key("get"))
                    })
                    .map(|m| m.to_ascii_uppercase())
                    .collect();
                let value = HeaderValue::from_str(&methods.join(", ")).ok()?;
                Some((path.split('/').map(str::to_owned).collect(), value))
            })
            .collect();
        Self { routes }
    }

    /// The `Allow` value of the documented path matching `path`, if any.
    fn allow(&self, path: &str) -> Option<&HeaderValue> {
        let segments: Vec<&str> = path.split('/').collect();
        self.routes
            .iter()
            .find(|(template, _)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(t, s)| {
                        t == s || (t.starts_with('{') && t.ends_with('}') && !s.is_empty())
                    })
            })
            .map(|(_, value)| value)
    }
}

impl<E: Endpoint> Middleware<E> for AdminErrors {
    type Output = AdminErrorsEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AdminErrorsEndpoint {
            inner: ep,
            shared: self.shared.clone(),
            allow: self.allow.clone(),
        }
    }
}

/// The endpoint produced by [`AdminErrors`].
pub(crate) struct AdminErrorsEndpoint<E> {
    inner: E,
    shared: Arc<Shared>,
    allow: Arc<AllowTable>,
}

impl<E: Endpoint> Endpoint for AdminErrorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            // Buffer the (small) body with a hard limit, chunked or not.
            match req
                .take_body()
                .into_bytes_limit(crate::MAX_BODY_BYTES)
                .await
            {
                Ok(bytes) => req.set_body(bytes),
                Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                    return Ok(no_store(error_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "admin request bodies are limited to 64 KiB",
                    )))
                }
                Err(_) => {
                    return Ok(no_store(error_response(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "the request body could not be read",
                    )))
                }
            }
        }
        let path = req.uri().path().to_owned();
        let resp = match self.inner.call(req).await {
            Ok(resp) => resp.into_response(),
            Err(err) => self.map_error(err, &path),
        };
        Ok(no_store(resp))
    }
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

impl<E> AdminErrorsEndpoint<E> {
    fn map_error(&self, err: poem::Error, path: &str) -> Response {
        use poem_openapi::error::{
            AuthorizationError, ContentTypeError, ParseParamError, ParseRequestPayloadError,
        };
        if err.is::<AuthorizationError>() {
            // The Authorization header is absent or not `Bearer …`.
            return match self.shared.authorize(None) {
                Ok(()) => error_response(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "admin token required",
                ),
                Err(failure) => failure.into_response(),
            };
        }
        if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
            // The reason may quote the request (e.g. a value of the wrong type): only
            // our own field names are looked for in it, and only fixed text is answered.
            let description = FIELD_HINTS
                .iter()
                .find(|(field, _)| {
                    e.reason
                        .contains(&format!("field `{field}` verification failed"))
                })
                .map_or(
                    "the request body does not match this route's schema (see /admin/openapi.json)",
                    |(_, hint)| hint,
                );
            return error_response(StatusCode::BAD_REQUEST, "invalid_request", description);
        }
        if err.is::<ParseParamError>() {
            return error_response(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the request parameters do not match this route's schema (see /admin/openapi.json)",
            );
        }
        if err.is::<ContentTypeError>() {
            return error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as Content-Type: application/json",
            );
        }
        if err.is::<poem::error::NotFoundError>() {
            return error_response(StatusCode::NOT_FOUND, "not_found", "no such admin route");
        }
        if err.is::<poem::error::MethodNotAllowedError>() {
            let mut resp = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not answer this method; the Allow header lists those it does",
            );
            if let Some(allow) = self.allow.allow(path) {
                resp.headers_mut().insert(header::ALLOW, allow.clone());
            }
            return resp;
        }
        if err.has_source() {
            let status = err.status();
            let code = status
                .canonical_reason()
                .unwrap_or("error")
                .to_ascii_lowercase()
                .replace(' ', "_");
            return error_response(status, &code, "the request could not be served");
        }
        // Already a complete response (our own errors, e.g. from the token checker).
        err.into_response()
    }
}
