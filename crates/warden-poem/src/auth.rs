//! `BearerAuth`: the poem middleware that authenticates requests.

use std::sync::Arc;

use poem::{
    Endpoint, FromRequest, IntoResponse, Middleware, Request, RequestBody, Response, Result,
};
use warden_core::{AuthInfo, BearerGuard};

use crate::response::{challenge_response, json_error};

/// Authenticates every request with a [`BearerGuard`]; on success the
/// [`AuthInfo`] is inserted into the request extensions (read it with [`Caller`]).
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
        let info = match guard
            .check_headers(req.headers(), req.uri().query(), &self.auth.required_scopes)
            .await
        {
            Ok(info) => info,
            Err(e) => return Ok(challenge_response(&guard.challenge(&e))),
        };
        req.extensions_mut().insert(info);
        self.inner.call(req).await.map(IntoResponse::into_response)
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
            None => Err(poem::Error::from_response(json_error(
                poem::http::StatusCode::UNAUTHORIZED,
                "invalid_request",
                "this route is not behind warden's BearerAuth middleware",
            ))),
        }
    }
}
