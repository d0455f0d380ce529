//! Origin validation (DNS-rebinding protection) and CORS for the MCP endpoint.

use std::sync::Arc;

use poem::http::{header, Method, StatusCode};
use poem::middleware::Cors;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::response::json_error;

/// Request headers browsers may send to the MCP endpoint.
pub const ALLOWED_HEADERS: [&str; 5] = [
    "authorization",
    "content-type",
    "mcp-protocol-version",
    "mcp-session-id",
    "last-event-id",
];

/// Response headers browsers may read.
pub const EXPOSED_HEADERS: [&str; 2] = ["www-authenticate", "mcp-session-id"];

/// Which browser origins may call the MCP endpoint.
///
/// Allowed: the origin of `public_url`, loopback origins (`http://localhost:*`,
/// `http://127.0.0.1:*`, `http://[::1]:*`, any scheme), and the configured
/// extras. Requests without `Origin` (non-browser clients) pass. Any other
/// Origin gets 403 with a JSON body, before authentication.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    allowed: Arc<Vec<String>>,
}

fn normalise(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    Some(normalise(&format!("{scheme}://{authority}")))
}

fn is_loopback_origin(origin: &str) -> bool {
    let Some((_, rest)) = origin.split_once("://") else {
        return false;
    };
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']')
            .next()
            .map(|h| format!("[{h}]"))
            .unwrap_or_default()
    } else {
        rest.split(':').next().unwrap_or("").to_string()
    };
    matches!(host.as_str(), "localhost" | "[::1]")
        || host.starts_with("127.")
            && host.split('.').count() == 4
            && host.split('.').all(|p| p.parse::<u8>().is_ok())
}

impl OriginPolicy {
    /// The policy for a server reachable at `public_url` plus `extra` origins.
    pub fn new(public_url: &str, extra: &[String]) -> Self {
        let mut allowed: Vec<String> = extra.iter().map(|o| normalise(o)).collect();
        if let Some(o) = origin_of(public_url) {
            allowed.push(o);
        }
        Self {
            allowed: Arc::new(allowed),
        }
    }

    /// Whether a request carrying this `Origin` value may proceed.
    pub fn allows(&self, origin: &str) -> bool {
        let o = normalise(origin);
        is_loopback_origin(&o) || self.allowed.contains(&o)
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
pub struct OriginEndpoint<E> {
    inner: E,
    policy: OriginPolicy,
}

impl<E: Endpoint> Endpoint for OriginEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let ok = origin
                .to_str()
                .map(|o| self.policy.allows(o))
                .unwrap_or(false);
            if !ok {
                tracing::warn!(origin = ?origin, "rejected request from a disallowed Origin");
                return Ok(json_error(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "Origin is not allowed (DNS-rebinding protection); add it to server.allowed_origins",
                ));
            }
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let p = OriginPolicy::new(
            "https://MCP.example.com/base",
            &["https://app.example".into()],
        );
        assert!(p.allows("https://mcp.example.com"));
        assert!(p.allows("https://app.example/"));
        assert!(p.allows("http://localhost:6274"));
        assert!(p.allows("http://127.0.0.1:3000"));
        assert!(p.allows("http://[::1]:8080"));
        assert!(!p.allows("http://evil.example"));
        assert!(!p.allows("http://localhost.evil.example"));
        assert!(!p.allows("http://127.0.0.1.evil.example"));
        assert!(!p.allows("null"));
    }
}
