//! The `guard` and `verifier` spans of the request path (see
//! [`warden_mcp::trace`]: target [`SPAN_TARGET`], off unless a host exports
//! them). Their attributes are bounded labels — provider name, outcome —
//! never a token or a claim.

use std::future::Future;

use http::request::Parts;
use tracing::field::Empty;
use tracing::{Instrument, Span};
use warden_core::provider::Route;
use warden_core::{AuthError, Authenticated, BearerGuard};
use warden_mcp::trace::SPAN_TARGET;

/// The span of one auth decision (token verification, then the resource's
/// scopes and the rate limit).
pub(crate) fn guard_span() -> Span {
    tracing::info_span!(
        target: SPAN_TARGET,
        "guard",
        provider = Empty,
        outcome = Empty,
        otel.status_code = Empty,
    )
}

/// Whether the request path's spans are being recorded at all.
pub(crate) fn spans_enabled() -> bool {
    tracing::span_enabled!(target: SPAN_TARGET, tracing::Level::INFO)
}

/// Records a bounded `outcome` (and the deciding provider, when known) on a
/// `guard` or `verifier` span.
pub(crate) fn record(span: &Span, outcome: &str, provider: Option<&str>) {
    if span.is_disabled() {
        return;
    }
    span.record("outcome", outcome);
    if let Some(provider) = provider {
        span.record("provider", provider);
    }
    if outcome != "accepted" {
        span.record("otel.status_code", "ERROR");
    }
}

/// [`BearerGuard::verify_request`] in a `verifier` span when the request
/// carries a token (no token: nothing to verify, no span).
pub(crate) async fn verify<'g>(
    guard: &'g BearerGuard,
    parts: &Parts,
) -> Result<Authenticated<'g>, AuthError> {
    let verification = guard.verify_request(&parts.headers, parts.uri.query());
    let Ok(token) = warden_core::bearer::bearer_token(&parts.headers, parts.uri.query()) else {
        return verification.await;
    };
    let routed = match guard.providers().route(token) {
        Ok(Route::Issuer(p)) => Some(p.descriptor().name.clone()),
        Ok(Route::Opaque(ps)) if ps.len() == 1 => Some(ps[0].descriptor().name.clone()),
        Ok(Route::Opaque(_)) | Err(_) => None,
    };
    let span = tracing::info_span!(
        target: SPAN_TARGET,
        "verifier",
        provider = routed.as_deref(),
        outcome = Empty,
        otel.status_code = Empty,
    );
    let result = verification.instrument(span.clone()).await;
    match &result {
        Ok(pending) => record(&span, "accepted", Some(&pending.info().provider)),
        Err(e) => record(&span, e.outcome().as_str(), None),
    }
    result
}

/// Runs `decision` in `span` (when enabled).
pub(crate) async fn in_span<F: Future>(span: &Span, decision: F) -> F::Output {
    if span.is_disabled() {
        decision.await
    } else {
        decision.instrument(span.clone()).await
    }
}
