//! Spans for exported traces: the `tool` span of a `tools/call`, and the
//! pieces that tie it to the HTTP request it came in.
//!
//! Every warden span has the target [`SPAN_TARGET`]. The host keeps that
//! target out of its logs and enables it only for the OTLP exporter, so when
//! nothing exports, creating one of these spans costs a disabled-callsite
//! check and nothing else.
//!
//! Trace context: a `traceparent` HTTP header parents the request's spans
//! (the host's `request` span, and through it `guard`, `verifier` and `tool`).
//! A `tools/call` without a valid header but with a valid
//! `params._meta.traceparent` (MCP SEP-414) gets its `tool` span parented
//! there instead, with a span link to the request's span; the HTTP spans ran
//! before the body was read (authentication comes first), so they stay in
//! the request's own trace. When both are present the header wins.

use std::sync::OnceLock;

use tracing::Span;
use warden_core::{TraceParent, TraceSlot, TRACEPARENT};

/// The `tracing` target of every span warden creates for export.
pub const SPAN_TARGET: &str = "warden::otel";

/// The span a request's `tools/call` span hangs under (the host's request
/// span). The MCP layer puts it in the request extensions, because rmcp may
/// run the handler on another task, where the current span is not the
/// request's.
#[derive(Debug, Clone)]
pub struct ParentSpan(pub Span);

/// What the exporter does with the trace context that [`tracing`] itself
/// cannot express. Installed once per process by the host when it exports
/// ([`set_hooks`]); without them a remote parent is ignored.
#[derive(Debug, Clone, Copy)]
pub struct TraceHooks {
    /// Makes the remote span `parent` the parent of `span` (before it has children).
    pub set_parent: fn(span: &Span, parent: &TraceParent),
    /// Adds a link from `span` to `to`.
    pub add_link: fn(span: &Span, to: &Span),
}

static HOOKS: OnceLock<TraceHooks> = OnceLock::new();

/// Installs the exporter's hooks (once per process; `false` if already installed).
pub fn set_hooks(hooks: TraceHooks) -> bool {
    HOOKS.set(hooks).is_ok()
}

/// Makes `parent` (a remote span) the parent of `span`, when an exporter is installed.
pub fn set_remote_parent(span: &Span, parent: &TraceParent) {
    if let Some(hooks) = HOOKS.get() {
        if !span.is_disabled() {
            (hooks.set_parent)(span, parent);
        }
    }
}

fn add_link(span: &Span, to: &Span) {
    if let Some(hooks) = HOOKS.get() {
        if !span.is_disabled() && !to.is_disabled() {
            (hooks.add_link)(span, to);
        }
    }
}

/// The span of one `tools/call` of `tool`. `parts` are the HTTP request's
/// (its [`ParentSpan`], `traceparent` header and [`TraceSlot`]), `meta_traceparent`
/// the request's `params._meta.traceparent` (see the [module docs](self)).
pub(crate) fn tool_span(
    tool: &str,
    parts: Option<&http::request::Parts>,
    meta_traceparent: Option<&str>,
) -> Span {
    let from_meta = meta_traceparent.and_then(TraceParent::parse);
    let header = parts.is_some_and(|p| {
        p.headers
            .get(TRACEPARENT)
            .and_then(|v| v.to_str().ok())
            .and_then(TraceParent::parse)
            .is_some()
    });
    let from_meta = from_meta.filter(|_| !header);
    if let (Some(tp), Some(slot)) = (
        from_meta,
        parts.and_then(|p| p.extensions.get::<TraceSlot>()),
    ) {
        slot.report(tp);
    }
    let request = parts.and_then(|p| p.extensions.get::<ParentSpan>());
    match (from_meta, request) {
        (Some(tp), request) => {
            let span = tracing::info_span!(
                target: SPAN_TARGET,
                parent: None,
                "tool",
                mcp.method.name = "tools/call",
                gen_ai.tool.name = tool,
                outcome = tracing::field::Empty,
                otel.status_code = tracing::field::Empty,
            );
            set_remote_parent(&span, &tp);
            if let Some(request) = request {
                add_link(&span, &request.0);
            }
            span
        }
        (None, Some(request)) => tracing::info_span!(
            target: SPAN_TARGET,
            parent: &request.0,
            "tool",
            mcp.method.name = "tools/call",
            gen_ai.tool.name = tool,
            outcome = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        ),
        (None, None) => tracing::info_span!(
            target: SPAN_TARGET,
            "tool",
            mcp.method.name = "tools/call",
            gen_ai.tool.name = tool,
            outcome = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        ),
    }
}

/// Records a tool call's bounded outcome label on its span.
pub(crate) fn record_outcome(span: &Span, outcome: &str) {
    if span.is_disabled() {
        return;
    }
    span.record("outcome", outcome);
    if outcome != "ok" {
        span.record("otel.status_code", "ERROR");
    }
}
