//! The pieces of the MCP request path both transports share: admission
//! (authentication and rate limit), the body cap, and a tool's scopes.

use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http_body_util::{BodyExt, Limited};
use rmcp::model::ClientRequest;
use warden_core::mcp_peek::{peek_call, McpCall};
use warden_core::{Authenticated, BearerGuard, ChallengeContext, Rejection, ToolRegistry};
use warden_mcp::tool_request::ParsedBody;
use warden_mcp::InFlight;

use crate::body::BoxError;
use crate::{RateLimit, SessionBindings};

/// Largest MCP request body by default (4 MiB).
pub(crate) const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// What the MCP path needs to admit a request.
#[derive(Clone)]
pub(crate) struct Gate {
    pub(crate) guard: Arc<BearerGuard>,
    pub(crate) tools: Arc<ToolRegistry>,
    pub(crate) sessions: SessionBindings,
    pub(crate) max_body: usize,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) in_flight: Option<Arc<InFlight>>,
    pub(crate) fail_closed: bool,
}

impl Gate {
    pub(crate) fn new(guard: Arc<BearerGuard>, tools: Arc<ToolRegistry>) -> Self {
        Self {
            guard,
            tools,
            sessions: SessionBindings::default(),
            max_body: DEFAULT_MAX_BODY,
            rate_limit: None,
            in_flight: None,
            fail_closed: false,
        }
    }

    /// Verifies the request's token (auth errors rendered against `challenge`)
    /// and applies the rate limit. The auth decision stays open until the
    /// caller knows the scopes the request needs ([`Authenticated::authorize`]).
    pub(crate) async fn admit<'g>(
        &'g self,
        parts: &Parts,
        challenge: &ChallengeContext,
    ) -> Result<Authenticated<'g>, Rejection> {
        let span = crate::trace::guard_span();
        if span.is_disabled() {
            let pending = self
                .guard
                .verify_request(&parts.headers, parts.uri.query())
                .await
                .map_err(|e| Rejection::auth(&e, challenge))?;
            return self.limit(pending);
        }
        let verified = crate::trace::in_span(&span, crate::trace::verify(&self.guard, parts)).await;
        let pending = match verified {
            Ok(pending) => pending,
            Err(e) => {
                crate::trace::record(&span, e.outcome().as_str(), None);
                return Err(Rejection::auth(&e, challenge));
            }
        };
        let provider = pending.info().provider.clone();
        let limited = span.in_scope(|| self.limit(pending));
        let outcome = if limited.is_ok() {
            "accepted"
        } else {
            "rate_limited"
        };
        crate::trace::record(&span, outcome, Some(&provider));
        limited
    }

    /// Applies the rate limit to a verified caller.
    fn limit<'g>(&self, pending: Authenticated<'g>) -> Result<Authenticated<'g>, Rejection> {
        if let Some(rl) = &self.rate_limit {
            rl.check(pending.info())
                .map_err(|retry_after| Rejection::RateLimited { retry_after })?;
        }
        Ok(pending)
    }

    /// Reads a request body of at most `max_body` bytes.
    pub(crate) async fn read_body<B>(&self, body: B) -> Result<Bytes, Rejection>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                Err(Rejection::PayloadTooLarge {
                    limit: self.max_body,
                })
            }
            Err(_) => Err(Rejection::UnreadableBody),
        }
    }

    /// The scopes of the tool a `tools/call` body names (none for anything else,
    /// or for a tool that does not exist: the MCP layer answers that).
    pub(crate) fn tool_scopes(&self, body: &[u8]) -> &[String] {
        match peek_call(body) {
            McpCall::ToolCall(name) => self.scopes_of(Some(&name)),
            McpCall::Other => &[],
        }
    }

    /// [`Gate::tool_scopes`] of the body `parsed` was read from: the tool a
    /// `tools/call` request names when the body parsed as one (the name
    /// [`peek_call`] finds there too), else what [`peek_call`] finds.
    pub(crate) fn parsed_tool_scopes(&self, parsed: &ParsedBody, body: &[u8]) -> &[String] {
        match parsed.request().map(|r| &r.request) {
            Some(ClientRequest::CallToolRequest(call)) => self.scopes_of(Some(&call.params.name)),
            Some(_) => &[],
            None => self.tool_scopes(body),
        }
    }

    /// The scopes of the named tool (none when there is no such tool).
    pub(crate) fn scopes_of(&self, tool: Option<&str>) -> &[String] {
        tool.and_then(|name| self.tools.get(name))
            .map_or(&[][..], |tool| tool.required_scopes.as_slice())
    }
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("max_body", &self.max_body)
            .field("rate_limit", &self.rate_limit.is_some())
            .field("fail_closed", &self.fail_closed)
            .finish_non_exhaustive()
    }
}
