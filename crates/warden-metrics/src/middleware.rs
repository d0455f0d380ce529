//! `HttpMetrics`: a poem middleware recording `warden_http_*` series.

use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::http::Method;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use prometheus::{Histogram, IntCounter};

use crate::labels::OTHER;
use crate::slots::{position, slots, Slot, HTTP_STATUSES};
use crate::{Metrics, HTTP_METHODS};

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
        self.classify_index(path)
            .map_or(OTHER, |i| self.routes[i].as_str())
    }

    /// The route templates, longest first (the order of [`classify_index`](Self::classify_index)).
    pub fn routes(&self) -> &[String] {
        &self.routes
    }

    /// The position in [`routes`](Self::routes) of the template `path`
    /// belongs to, or `None` for `other`.
    pub fn classify_index(&self, path: &str) -> Option<usize> {
        self.routes.iter().position(|route| {
            if route == "/" {
                return path == "/";
            }
            path.strip_prefix(route.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// The record path of [`HttpMetrics`], usable without poem: classifies a
/// path with a [`RouteClassifier`] and records
/// `warden_http_requests_total{route,method,status}` and
/// `warden_http_request_duration_seconds{route,method}`.
///
/// The series handles of every route × method (and, for the common status
/// codes, × status) are resolved on first use and reused, so recording a
/// request does not hash label values or look series up by name. Other status
/// codes go through [`Metrics::record_http`]'s path.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use warden_metrics::Metrics;
///
/// let metrics = Arc::new(Metrics::new("0.1.0").unwrap());
/// let recorder = metrics.http_recorder(["/mcp", "/healthz"]);
/// recorder.record("/mcp", "POST", 200, Duration::from_millis(3));
/// recorder.record("/secret/path", "GET", 404, Duration::from_millis(1));
/// let text = metrics.render();
/// assert!(text.contains(r#"warden_http_requests_total{method="POST",route="/mcp",status="200"} 1"#));
/// assert!(text.contains(r#"warden_http_requests_total{method="GET",route="other",status="404"} 1"#));
/// ```
pub struct HttpRecorder {
    metrics: Arc<Metrics>,
    classifier: RouteClassifier,
    /// The classifier's routes in its order, then `other`.
    routes: Box<[RouteSlots]>,
}

impl std::fmt::Debug for HttpRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRecorder")
            .field("classifier", &self.classifier)
            .finish_non_exhaustive()
    }
}

/// The handles of one route.
struct RouteSlots {
    label: String,
    /// By position in [`HTTP_METHODS`], then `other`.
    methods: [MethodSlots; HTTP_METHODS.len() + 1],
}

/// The handles of one route × method.
struct MethodSlots {
    duration: Slot<Histogram>,
    /// By position in [`HTTP_STATUSES`].
    statuses: [Slot<IntCounter>; HTTP_STATUSES.len()],
}

impl HttpRecorder {
    /// Records into `metrics`, labelling routes with `classifier`.
    pub fn new(metrics: Arc<Metrics>, classifier: RouteClassifier) -> Self {
        let labels = classifier
            .routes()
            .iter()
            .map(|r| metrics.route_label(r).to_owned())
            .chain([OTHER.to_owned()]);
        let routes = labels
            .map(|label| RouteSlots {
                label,
                methods: std::array::from_fn(|_| MethodSlots {
                    duration: Slot::new(),
                    statuses: slots(),
                }),
            })
            .collect();
        Self {
            metrics,
            classifier,
            routes,
        }
    }

    /// The classifier in use.
    pub fn classifier(&self) -> &RouteClassifier {
        &self.classifier
    }

    /// Records one request to `path` (a raw path: it is classified, never
    /// used as a label) with `method`, answered with `status` after `elapsed`.
    pub fn record(&self, path: &str, method: &str, status: u16, elapsed: Duration) {
        let route = self.classifier.classify_index(path);
        let method = position(&HTTP_METHODS, method).unwrap_or(HTTP_METHODS.len());
        self.record_indexed(route, method, status, elapsed);
    }

    /// Records a request already classified: `route` from
    /// [`RouteClassifier::classify_index`], `method` a position in
    /// [`HTTP_METHODS`] (anything beyond is `other`).
    fn record_indexed(&self, route: Option<usize>, method: usize, status: u16, elapsed: Duration) {
        let other = self.routes.len() - 1;
        let route = &self.routes[route.map_or(other, |r| r.min(other))];
        let method = method.min(HTTP_METHODS.len());
        let method_label = HTTP_METHODS.get(method).copied().unwrap_or(OTHER);
        let slots = &route.methods[method];
        match HTTP_STATUSES.binary_search(&status) {
            Ok(s) => slots.statuses[s]
                .get(|| {
                    self.metrics
                        .http_counter(&route.label, method_label, status)
                })
                .inc(),
            Err(_) => self
                .metrics
                .http_counter(&route.label, method_label, status)
                .inc(),
        }
        slots
            .duration
            .get(|| self.metrics.http_histogram(&route.label, method_label))
            .observe(elapsed.as_secs_f64());
    }
}

/// The position of a request method in [`HTTP_METHODS`] (`HTTP_METHODS.len()` for `other`).
fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::DELETE => 2,
        Method::PUT => 3,
        Method::PATCH => 4,
        Method::OPTIONS => 5,
        Method::HEAD => 6,
        _ => HTTP_METHODS.len(),
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
    recorder: Arc<HttpRecorder>,
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
            recorder: Arc::new(HttpRecorder::new(metrics, classifier)),
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
        let recorder = &self.config.recorder;
        let route = recorder.classifier.classify_index(req.uri().path());
        let method = method_index(req.method());
        let result = self.inner.call(req).await.map(IntoResponse::into_response);
        let status = match &result {
            Ok(resp) => resp.status(),
            Err(err) => err.status(),
        };
        recorder.record_indexed(route, method, status.as_u16(), started.elapsed());
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
        assert_eq!(c.classify_index("/secret-token-in-path"), None);
        let mcp = c.classify_index("/mcp/x").expect("mcp");
        assert_eq!(c.routes()[mcp], "/mcp");
    }

    #[test]
    fn method_indexes_match_the_method_labels() {
        for (i, m) in HTTP_METHODS.iter().enumerate() {
            let method = Method::from_bytes(m.as_bytes()).expect("method");
            assert_eq!(method_index(&method), i, "{m}");
        }
        assert_eq!(method_index(&Method::TRACE), HTTP_METHODS.len());
    }
}
