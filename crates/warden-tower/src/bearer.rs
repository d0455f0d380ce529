//! [`BearerLayer`]: bearer auth in front of any route.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Method, Request, Response};
use http_body_util::Either;
use tower::{Layer, Service};
use warden_core::BearerGuard;

use crate::body::{rejection_body, RejectionBody};

/// Protects the wrapped service with a [`BearerGuard`]: a request without a
/// valid token carrying the resource's scopes (plus [`BearerLayer::require_scopes`])
/// gets the challenge answer (401/403/400/503 with `WWW-Authenticate`); an
/// accepted one reaches the service with its [`AuthInfo`](warden_core::AuthInfo)
/// in the request extensions. `OPTIONS` (CORS preflight) passes unauthenticated.
///
/// ```no_run
/// # use std::sync::Arc;
/// # fn guard() -> Arc<warden_core::BearerGuard> { unimplemented!() }
/// use warden_tower::BearerLayer;
/// let layer = BearerLayer::new(guard()).require_scopes(["news:read"]);
/// // axum: Router::new().route("/api", get(handler)).layer(layer)
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct BearerLayer {
    guard: Arc<BearerGuard>,
    scopes: Arc<[String]>,
}

impl BearerLayer {
    /// Protects routes with `guard` (the resource's required scopes apply).
    pub fn new(guard: Arc<BearerGuard>) -> Self {
        Self {
            guard,
            scopes: Arc::from([]),
        }
    }

    /// Additionally requires these scopes (403 + step-up challenge otherwise).
    pub fn require_scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

impl std::fmt::Debug for BearerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerLayer")
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for BearerLayer {
    type Service = Bearer<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Bearer {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service produced by [`BearerLayer`].
#[derive(Clone, Debug)]
pub struct Bearer<S> {
    inner: S,
    layer: BearerLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Bearer<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Send + 'static,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Response = Response<Either<RejectionBody, ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The ready service answers this request; a fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            if req.method() == Method::OPTIONS {
                return inner.call(req).await.map(|r| r.map(Either::Right));
            }
            let (mut parts, body) = req.into_parts();
            let span = crate::trace::guard_span();
            let decision = if span.is_disabled() {
                layer.guard.check(&parts, &layer.scopes).await
            } else {
                let guard = &layer.guard;
                let decided = crate::trace::in_span(&span, async {
                    crate::trace::verify(guard, &parts)
                        .await?
                        .authorize(&layer.scopes)
                })
                .await;
                match &decided {
                    Ok(info) => crate::trace::record(&span, "accepted", Some(&info.provider)),
                    Err(e) => crate::trace::record(&span, e.outcome().as_str(), None),
                }
                decided.map_err(|e| guard.reject(&e))
            };
            match decision {
                Ok(info) => {
                    parts.extensions.insert(info);
                    let resp = inner.call(Request::from_parts(parts, body)).await?;
                    Ok(resp.map(Either::Right))
                }
                Err(rejection) => Ok(rejection_body(&rejection).map(Either::Left)),
            }
        })
    }
}
