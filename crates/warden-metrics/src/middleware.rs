//! `HttpMetrics`: a poem middleware recording `warden_http_*` series.

use std::sync::Arc;
use std::time::Instant;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::labels::OTHER;
use crate::Metrics;

/// Maps a request path to a bounded route template.
///
/// A path matches a route when it equals it or continues it with `/`
/// (`/mcp/` and `/mcp/x` → `/mcp`; `/mcpx` does not match); the longest
/// matching route wins; anything else is `other`. The raw path never becomes
/// a label.
#[derive(Debug, Clone)]
pub struct RouteClassifier {
    routes: Vec<String>,
}

impl RouteClassifier {
    /// Classifies by these route templates (`/mcp`, `/.well-known/oauth-protected-resource`, …).
    pub fn new(routes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let mut routes: Vec<String> = routes
            .into_iter()
            .map(Into::into)
            .map(|r| {
                let trimmed = r.trim_end_matches('/');
                if trimmed.is_empty() {
                    "/".to_owned()
                } else {
                    trimmed.to_owned()
                }
            })
            .collect();
        routes.sort_by_key(|r| std::cmp::Reverse(r.len()));
        routes.dedup();
        Self { routes }
    }

    /// The template `path` belongs to, or `other`.
    pub fn classify(&self, path: &str) -> &str {
        for route in &self.routes {
            if route == "/" {
                if path == "/" {
                    return route;
                }
                continue;
            }
            if let Some(rest) = path.strip_prefix(route.as_str()) {
                if rest.is_empty() || rest.starts_with('/') {
                    return route;
                }
            }
        }
        OTHER
    }
}

/// Records `warden_http_requests_total{route,method,status}` and
/// `warden_http_request_duration_seconds{route,method}` for every request.
///
/// The duration runs until the handler returns its response head (for SSE
/// streams: until the stream starts).
///
/// ```
/// use std::sync::Arc;
/// use poem::{get, handler, EndpointExt, Route};
/// use warden_metrics::{HttpMetrics, Metrics, RouteClassifier};
///
/// #[handler]
/// fn hello() -> &'static str { "hi" }
///
/// let metrics = Arc::new(Metrics::new("0.1.0").unwrap());
/// let app = Route::new().at("/mcp", get(hello)).with(HttpMetrics::new(
///     metrics.clone(),
///     RouteClassifier::new(["/mcp", "/.well-known/oauth-protected-resource"]),
/// ));
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct HttpMetrics {
    metrics: Arc<Metrics>,
    classifier: Arc<RouteClassifier>,
}

impl std::fmt::Debug for HttpMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpMetrics").finish_non_exhaustive()
    }
}

impl HttpMetrics {
    /// Records into `metrics`, labelling routes with `classifier`.
    pub fn new(metrics: Arc<Metrics>, classifier: RouteClassifier) -> Self {
        Self {
            metrics,
            classifier: Arc::new(classifier),
        }
    }
}

impl<E: Endpoint> Middleware<E> for HttpMetrics {
    type Output = HttpMetricsEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        HttpMetricsEndpoint {
            inner: ep,
            config: self.clone(),
        }
    }
}

/// The endpoint produced by [`HttpMetrics`].
pub struct HttpMetricsEndpoint<E> {
    inner: E,
    config: HttpMetrics,
}

impl<E> std::fmt::Debug for HttpMetricsEndpoint<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpMetricsEndpoint")
            .finish_non_exhaustive()
    }
}

impl<E: Endpoint> Endpoint for HttpMetricsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let started = Instant::now();
        let route = self.config.classifier.classify(req.uri().path());
        let method = req.method().clone();
        let result = self.inner.call(req).await.map(IntoResponse::into_response);
        let status = match &result {
            Ok(resp) => resp.status(),
            Err(err) => err.status(),
        };
        self.config
            .metrics
            .record_http(route, method.as_str(), status.as_u16(), started.elapsed());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifier_uses_templates_only() {
        let c = RouteClassifier::new([
            "/mcp",
            "/.well-known/oauth-protected-resource",
            "/dev/token",
            "/",
        ]);
        assert_eq!(c.classify("/mcp"), "/mcp");
        assert_eq!(c.classify("/mcp/"), "/mcp");
        assert_eq!(c.classify("/mcpx"), OTHER);
        assert_eq!(
            c.classify("/.well-known/oauth-protected-resource/mcp"),
            "/.well-known/oauth-protected-resource"
        );
        assert_eq!(c.classify("/dev/token"), "/dev/token");
        assert_eq!(c.classify("/"), "/");
        assert_eq!(c.classify("/secret-token-in-path"), OTHER);
    }
}
