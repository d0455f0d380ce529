//! Origin validation (DNS-rebinding protection) and CORS for poem routes:
//! warden-tower's [`OriginPolicy`](warden_tower::OriginPolicy) — one rule for
//! every front — plus poem's CORS middleware driven by the same rule.

use poem::http::Method;
use poem::middleware::Cors;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use warden_tower::{ALLOWED_HEADERS, EXPOSED_HEADERS};

use crate::response::rejection_response;

/// Which browser origins may call a route, as a poem middleware: a request
/// whose `Origin` the policy refuses gets 403 JSON before anything else runs;
/// allowed ones get CORS headers. The rule itself (RFC 6454 tuples, loopback
/// origins, the configured extras) is [`warden_tower::OriginPolicy`].
#[derive(Debug, Clone)]
pub struct OriginPolicy(warden_tower::OriginPolicy);

impl OriginPolicy {
    /// The policy for a server reachable at `public_url` plus `extra` origins.
    pub fn new(public_url: &str, extra: &[String]) -> Self {
        Self(warden_tower::OriginPolicy::new(public_url, extra))
    }

    /// Whether a request carrying this `Origin` value may proceed.
    pub fn allows(&self, origin: &str) -> bool {
        self.0.allows(origin)
    }

    /// A poem CORS middleware consistent with this policy.
    pub fn cors(&self) -> Cors {
        let policy = self.clone();
        Cors::new()
            .allow_origins_fn(move |o| policy.allows(o))
            .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
            .allow_headers(ALLOWED_HEADERS)
            .expose_headers(EXPOSED_HEADERS)
            .max_age(600)
    }
}

/// Rejects disallowed Origins with 403 JSON, then applies CORS.
impl<E: Endpoint> Middleware<E> for OriginPolicy {
    type Output = OriginEndpoint<<Cors as Middleware<E>>::Output>;

    fn transform(&self, ep: E) -> Self::Output {
        OriginEndpoint {
            inner: self.cors().transform(ep),
            policy: self.clone(),
        }
    }
}

/// The endpoint produced by [`OriginPolicy`].
#[derive(Debug)]
pub struct OriginEndpoint<E> {
    inner: E,
    policy: OriginPolicy,
}

impl<E: Endpoint> Endpoint for OriginEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        if let Err(rejection) = self.policy.0.check(req.headers()) {
            return Ok(rejection_response(&rejection));
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::StatusCode;

    #[tokio::test]
    async fn cors_uses_the_same_policy() {
        use poem::{handler, EndpointExt};

        #[handler]
        fn ok() -> &'static str {
            "ok"
        }
        let p = OriginPolicy::new(
            "https://mcp.example.com:443",
            &["https://app.example.com:443/".into()],
        );
        let ep = ok.with(p);
        for (origin, allowed) in [
            ("https://mcp.example.com", true),
            ("https://app.example.com", true),
            ("http://mcp.example.com", false),
            ("https://app.example.com:8443", false),
        ] {
            let preflight = Request::builder()
                .method(Method::OPTIONS)
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .finish();
            let resp = ep.get_response(preflight).await;
            let acao = resp
                .headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_owned());
            if allowed {
                assert!(resp.status().is_success(), "{origin}: {resp:?}");
                assert_eq!(acao.as_deref(), Some(origin), "{origin}");
            } else {
                assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{origin}");
                assert_eq!(acao, None, "{origin}");
            }
            let post = Request::builder()
                .method(Method::POST)
                .header("origin", origin)
                .finish();
            let expected = if allowed {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(ep.get_response(post).await.status(), expected, "{origin}");
        }
    }
}
