//! openidconnect / oauth2 requests through an [`Upstream`].
//!
//! `oauth2::AsyncHttpClient` (re-exported by openidconnect 4) is implemented
//! for every `Fn(http::Request<Vec<u8>>) -> Future<Output = Result<http::Response<Vec<u8>>, E>>`;
//! [`Upstream::oidc_client`] is such a function, so openidconnect's discovery,
//! JWKS and token calls obey the same policy (timeouts, body cap, redirects,
//! user agent, events) without this crate depending on openidconnect.

use std::future::Future;
use std::pin::Pin;

use crate::{Request, Upstream, UpstreamError};

/// The request type of openidconnect's HTTP clients.
pub type OidcHttpRequest = http::Request<Vec<u8>>;
/// The response type of openidconnect's HTTP clients.
pub type OidcHttpResponse = http::Response<Vec<u8>>;
/// The future returned by [`Upstream::oidc_client`]'s function.
pub type HttpFuture =
    Pin<Box<dyn Future<Output = Result<OidcHttpResponse, UpstreamError>> + Send + 'static>>;

impl Upstream {
    /// An HTTP client for openidconnect (`&upstream.oidc_client()` is an
    /// `openidconnect::AsyncHttpClient`), bounded by this upstream's policy.
    /// The body of every status is read (openidconnect parses error bodies).
    ///
    /// ```no_run
    /// # async fn demo(upstream: warden_upstream::Upstream) {
    /// let http = upstream.oidc_client();
    /// let request = http::Request::get("https://idp.example.com/.well-known/openid-configuration")
    ///     .body(Vec::new())
    ///     .unwrap();
    /// let response = http(request).await.unwrap();
    /// assert!(response.status().is_success());
    /// # }
    /// ```
    pub fn oidc_client(&self) -> impl Fn(OidcHttpRequest) -> HttpFuture + Clone + Send + Sync {
        let upstream = self.clone();
        move |request: OidcHttpRequest| {
            let upstream = upstream.clone();
            Box::pin(async move {
                let (parts, body) = request.into_parts();
                let request =
                    Request::raw(parts.method, parts.uri.to_string(), parts.headers, body);
                let reply = upstream.send(request).await?;
                let mut response = http::Response::new(reply.body);
                *response.status_mut() = http::StatusCode::from_u16(reply.status)
                    .unwrap_or(http::StatusCode::BAD_GATEWAY);
                *response.headers_mut() = reply.headers;
                Ok(response)
            }) as HttpFuture
        }
    }
}
