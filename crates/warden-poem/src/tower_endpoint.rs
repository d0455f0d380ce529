//! Serving warden-tower services from poem.

use poem::endpoint::TowerCompatExt;
use poem::{Endpoint, EndpointExt, Response};

/// A poem endpoint serving a warden-tower MCP service (`McpLayer` over rmcp's
/// `StreamableHttpService`, or the legacy transport's `SseService` /
/// `MessagesService`): poem's tower compatibility. Not boxed: a route boxes
/// its endpoint once, and each box is an allocation and a copy of the
/// request's future.
pub fn mcp_endpoint<S>(service: S) -> impl Endpoint<Output = Response>
where
    S: tower::Service<
            http::Request<http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>>,
            Response = http::Response<warden_tower::McpBody>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    service.compat().map_to_response()
}
