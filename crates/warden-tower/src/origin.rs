//! Origin validation (DNS-rebinding protection) for browser clients.

use std::net::Ipv4Addr;
use std::sync::Arc;

use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt};
use http::{header, Request, Response};
use http_body_util::Either;
use tower::{Layer, Service};
use url::{Host, Url};
use warden_core::Rejection;

use crate::body::{rejection_body, RejectionBody};

/// Request headers browsers may send to the MCP endpoint.
pub const ALLOWED_HEADERS: [&str; 7] = [
    "authorization",
    "content-type",
    "mcp-protocol-version",
    "mcp-session-id",
    "last-event-id",
    "traceparent",
    "x-request-id",
];

/// Response headers browsers may read.
pub const EXPOSED_HEADERS: [&str; 3] = ["www-authenticate", "mcp-session-id", "x-request-id"];

/// Which browser origins may call the MCP endpoint.
///
/// Origins are compared as RFC 6454 tuples (scheme, host, port), as
/// [`url::Url::origin`] computes them: scheme and host are case-insensitive
/// and a scheme's default port is the same as no port, so
/// `https://mcp.example.com`, `https://MCP.example.com:443` and
/// `https://mcp.example.com:443/` are one origin, while `http://mcp.example.com`
/// and `https://mcp.example.com:8443` are two others.
///
/// Allowed: the origin of `public_url`, loopback origins (host `localhost`,
/// `127.0.0.0/8` or `[::1]`, any scheme and port), and the configured extras.
/// An extra that has no tuple origin (`null`, `file:///…`, `chrome-extension://…`,
/// not a URL) allows nothing. Requests without `Origin` (non-browser clients)
/// pass. Any other `Origin` gets 403 with a JSON body, before authentication:
/// one that is not a serialized origin (unparsable, or with credentials, a
/// path, a query or a fragment; a trailing `/` is tolerated), an opaque one
/// (`null`), or one not allowed.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    allowed: Arc<Vec<url::Origin>>,
}

/// The tuple origin of `url`; `None` when it is opaque.
fn tuple_origin(url: &Url) -> Option<url::Origin> {
    let origin = url.origin();
    origin.is_tuple().then_some(origin)
}

/// The tuple origin of a configured URL (`public_url`, an `allowed_origins` entry).
fn configured_origin(value: &str) -> Option<url::Origin> {
    Url::parse(value.trim())
        .ok()
        .as_ref()
        .and_then(tuple_origin)
}

/// Parses an `Origin` header value: `scheme://host[:port]`, nothing else
/// (a trailing `/` is tolerated).
fn parse_origin_header(value: &str) -> Option<Url> {
    let url = Url::parse(value.trim()).ok()?;
    let bare = url.username().is_empty()
        && url.password().is_none()
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none();
    bare.then_some(url)
}

/// Host `localhost`, `127.0.0.0/8` or `[::1]` (any scheme).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        // Hosts of non-special schemes are not parsed as IPv4 by `url`.
        Some(Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl OriginPolicy {
    /// The policy for a server reachable at `public_url` plus `extra` origins.
    pub fn new(public_url: &str, extra: &[String]) -> Self {
        let mut allowed = Vec::with_capacity(extra.len() + 1);
        for entry in extra {
            match configured_origin(entry) {
                Some(o) => allowed.push(o),
                None => tracing::warn!(
                    entry = %entry,
                    "server.allowed_origins: not a URL with a (scheme, host, port) origin; it allows nothing"
                ),
            }
        }
        if let Some(o) = configured_origin(public_url) {
            allowed.push(o);
        }
        allowed.dedup();
        Self {
            allowed: Arc::new(allowed),
        }
    }

    /// Whether a request carrying this `Origin` value may proceed.
    pub fn allows(&self, origin: &str) -> bool {
        let Some(url) = parse_origin_header(origin) else {
            return false;
        };
        is_loopback(&url) || tuple_origin(&url).is_some_and(|o| self.allowed.contains(&o))
    }

    /// Whether the request's `Origin` (if any) is allowed; the refusal otherwise.
    pub fn check(&self, headers: &http::HeaderMap) -> Result<(), Rejection> {
        match headers.get(header::ORIGIN) {
            None => Ok(()),
            Some(origin) if origin.to_str().is_ok_and(|o| self.allows(o)) => Ok(()),
            Some(origin) => {
                tracing::warn!(origin = ?origin, "rejected request from a disallowed Origin");
                Err(Rejection::OriginNotAllowed)
            }
        }
    }
}

/// Refuses requests whose `Origin` the [`OriginPolicy`] does not allow (403
/// JSON, before authentication); requests without `Origin` pass. CORS headers
/// are the host's business (e.g. tower-http's `CorsLayer` with
/// `AllowOrigin::predicate` calling [`OriginPolicy::allows`]); use
/// [`ALLOWED_HEADERS`] and [`EXPOSED_HEADERS`] there.
#[derive(Debug, Clone)]
pub struct OriginLayer {
    policy: OriginPolicy,
}

impl OriginLayer {
    /// A layer enforcing `policy`.
    pub fn new(policy: OriginPolicy) -> Self {
        Self { policy }
    }
}

impl<S> Layer<S> for OriginLayer {
    type Service = Origin<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Origin {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// The service produced by [`OriginLayer`].
#[derive(Debug, Clone)]
pub struct Origin<S> {
    inner: S,
    policy: OriginPolicy,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Origin<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
{
    type Response = Response<Either<RejectionBody, ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        match self.policy.check(req.headers()) {
            Ok(()) => self
                .inner
                .call(req)
                .map(|r| r.map(|resp| resp.map(Either::Right)))
                .boxed(),
            Err(rejection) => {
                let resp = rejection_body(&rejection).map(Either::Left);
                futures::future::ready(Ok(resp)).boxed()
            }
        }
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

    /// Origins are (scheme, host, port) tuples with default ports normalised,
    /// for `public_url` and for `allowed_origins`.
    #[test]
    fn default_ports_are_the_same_origin() {
        let p = OriginPolicy::new(
            "https://mcp.example.com:443",
            &[
                "https://app.example.com:443/".into(),
                "http://plain.example:80".into(),
                "https://custom.example:8443".into(),
            ],
        );
        for allowed in [
            "https://mcp.example.com",
            "https://mcp.example.com:443",
            "https://MCP.Example.COM",
            "HTTPS://mcp.example.com/",
            "https://app.example.com",
            "https://app.example.com:443",
            "http://plain.example",
            "https://custom.example:8443",
        ] {
            assert!(p.allows(allowed), "{allowed} must be allowed");
        }
        for refused in [
            "http://mcp.example.com",
            "http://mcp.example.com:443",
            "https://mcp.example.com:8443",
            "wss://mcp.example.com",
            "https://app.example.com:8443",
            "http://app.example.com",
            "https://plain.example",
            "https://custom.example",
            "https://sub.mcp.example.com",
            "https://mcp.example.com.evil.example",
        ] {
            assert!(!p.allows(refused), "{refused} must be refused");
        }
        // Without an explicit port the same holds the other way round.
        let p = OriginPolicy::new("http://mcp.example.com", &[]);
        assert!(p.allows("http://mcp.example.com:80"));
        assert!(!p.allows("https://mcp.example.com"));
        assert!(!p.allows("http://mcp.example.com:8080"));
    }

    #[test]
    fn values_that_are_not_serialized_origins_are_refused() {
        let p = OriginPolicy::new("https://mcp.example.com", &[]);
        for refused in [
            "",
            "null",
            "mcp.example.com",
            "https://",
            "https://mcp.example.com/path",
            "https://mcp.example.com?q",
            "https://mcp.example.com#f",
            "https://user@mcp.example.com",
            "https://user:pw@mcp.example.com",
            "https://mcp.example.com:99999",
            "data:text/html,hi",
            "file:///etc/passwd",
            "https://mcp.example.com, https://evil.example",
        ] {
            assert!(!p.allows(refused), "{refused:?} must be refused");
        }
    }

    #[test]
    fn opaque_origins_never_match() {
        // Entries without a tuple origin allow nothing, not even themselves.
        let p = OriginPolicy::new(
            "https://mcp.example.com",
            &[
                "null".into(),
                "file:///tmp/x".into(),
                "chrome-extension://abcdef".into(),
                "not a url".into(),
            ],
        );
        assert_eq!(p.allowed.len(), 1, "{p:?}");
        assert!(!p.allows("null"));
        assert!(!p.allows("file://"));
        assert!(!p.allows("chrome-extension://abcdef"));
    }

    #[test]
    fn loopback_origins_of_any_scheme_and_port() {
        let p = OriginPolicy::new("https://mcp.example.com", &[]);
        for allowed in [
            "http://localhost",
            "https://LOCALHOST:8443",
            "http://127.0.0.1",
            "http://127.1.2.3:9",
            "https://[::1]",
            "http://[0:0:0:0:0:0:0:1]:6274",
            "vscode-webview://localhost:1",
            "custom://127.0.0.1",
        ] {
            assert!(p.allows(allowed), "{allowed} must be allowed");
        }
        for refused in [
            "http://localhost.",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://128.0.0.1",
            "http://0.0.0.0",
            "http://[::2]",
            "http://[::ffff:8.8.8.8]",
        ] {
            assert!(!p.allows(refused), "{refused} must be refused");
        }
    }
}
