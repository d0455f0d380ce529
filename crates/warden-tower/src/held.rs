//! [`HeldBody`]: keeps an in-flight guard alive until a streamed answer ends.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use warden_mcp::InFlightGuard;

use crate::body::McpBody;

/// A streamed (SSE) answer and the in-flight guard it holds until written.
pub(crate) struct HeldBody {
    inner: McpBody,
    _held: InFlightGuard,
}

impl HeldBody {
    pub(crate) fn new(inner: McpBody, held: InFlightGuard) -> Self {
        Self { inner, _held: held }
    }
}

impl Body for HeldBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
