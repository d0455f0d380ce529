//! Response bodies: rejections, and the boxed body of the MCP path.

use bytes::Bytes;
use http::Response;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use warden_core::Rejection;

/// Any body error a layer accepts from the service it wraps.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of a [`Rejection`] answer (a small JSON document).
pub type RejectionBody = Full<Bytes>;

/// The body of every answer on the MCP path: a rejection, or rmcp's JSON or
/// SSE answer. (Its error is an `io::Error` so every framework accepts it.)
pub type McpBody = BoxBody<Bytes, std::io::Error>;

/// `rejection` as a response ([`Rejection::to_response`] is the one mapping).
pub fn rejection_body(rejection: &Rejection) -> Response<RejectionBody> {
    rejection
        .to_response()
        .map(|json| Full::new(Bytes::from(json)))
}

/// `rejection` as an MCP-path response.
pub(crate) fn rejection_response(rejection: &Rejection) -> Response<McpBody> {
    rejection_body(rejection).map(|b| b.map_err(|never| match never {}).boxed())
}

/// Boxes any body with `Bytes` data into an [`McpBody`].
pub(crate) fn boxed<B>(body: B) -> McpBody
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(|e| std::io::Error::other(e.into())).boxed()
}
