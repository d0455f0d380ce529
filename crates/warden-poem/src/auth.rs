//! `BearerAuth`: the poem middleware that authenticates requests.

use std::sync::Arc;

use poem::{
    Endpoint, FromRequest, IntoResponse, Middleware, Request, RequestBody, Response, Result,
};
use warden_core::{AuthInfo, BearerGuard};

use crate::response::rejection_response;

/// Authenticates every request with a [`BearerGuard`] ([`BearerGuard::check`]:
/// one decision, one mapping to HTTP); on success the [`AuthInfo`] is inserted
/// into the request extensions (read it with [`Caller`]). `OPTIONS` (CORS
/// preflight) passes unauthenticated. The tower equivalent is
/// `warden_tower::BearerLayer`.
#[derive(Clone)]
pub struct BearerAuth {
    guard: Arc<BearerGuard>,
    required_scopes: Vec<String>,
}

impl BearerAuth {
    /// Protects routes with `guard` (the resource's required scopes apply).
    pub fn new(guard: Arc<BearerGuard>) -> Self {
        Self {
            guard,
            required_scopes: Vec::new(),
        }
    }

    /// Additionally requires these scopes on the wrapped routes (403 + step-up challenge otherwise).
    pub fn require_scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.required_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

impl std::fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerAuth")
            .field("required_scopes", &self.required_scopes)
            .finish_non_exhaustive()
    }
}

impl<E: Endpoint> Middleware<E> for BearerAuth {
    type Output = BearerAuthEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        BearerAuthEndpoint {
            inner: ep,
            auth: self.clone(),
        }
    }
}

/// The endpoint produced by [`BearerAuth`].
#[derive(Debug)]
pub struct BearerAuthEndpoint<E> {
    inner: E,
    auth: BearerAuth,
}

impl<E: Endpoint> Endpoint for BearerAuthEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        if req.method() == poem::http::Method::OPTIONS {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let guard = &self.auth.guard;
        let checked = guard
            .check_headers(req.headers(), req.uri().query(), &self.auth.required_scopes)
            .await;
        match checked {
            Ok(info) => {
                req.extensions_mut().insert(info);
                self.inner.call(req).await.map(IntoResponse::into_response)
            }
            Err(e) => Ok(rejection_response(&guard.reject(&e))),
        }
    }
}

/// Extractor for the authenticated caller inserted by [`BearerAuth`].
///
/// Using it on a route without the middleware answers 401.
#[derive(Debug, Clone)]
pub struct Caller(pub AuthInfo);

impl<'a> FromRequest<'a> for Caller {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> Result<Self> {
        match req.extensions().get::<AuthInfo>() {
            Some(info) => Ok(Caller(info.clone())),
            // A wiring mistake (no middleware on the route), not a caller's error.
            None => Err(poem::Error::from_response(crate::response::json_error(
                poem::http::StatusCode::UNAUTHORIZED,
                "invalid_request",
                "this route is not behind warden's BearerAuth middleware",
            ))),
        }
    }
}
