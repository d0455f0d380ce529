//! Structured logs (`tracing`): text or JSON, and an access log that never
//! records query strings or headers (tokens could hide there).
//!
//! Each access log line names the request's `request_id` (the `x-request-id`
//! every answer carries, see [`crate::request_id`]) and, when the request
//! carried W3C trace context, its `trace_id`. Probes (`GET /healthz`,
//! `GET /readyz`) are logged at DEBUG, everything else at INFO.

use std::time::Instant;

use poem::http::Method;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing::field::Empty;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use warden_core::{TraceParent, TraceSlot, TRACEPARENT};
use warden_mcp::trace::SPAN_TARGET;

use crate::config::{LogConfig, LogFormat};
use crate::error::HostError;
use crate::log_fields::PlainFields;
use crate::log_writer::{BatchWriter, BatchWriterGuard};
use crate::telemetry::TelemetryConfig;

/// [`TRACEPARENT`] as a `HeaderName` (a lookup by `&str` parses the name).
const TRACEPARENT_HEADER: poem::http::HeaderName = poem::http::HeaderName::from_static(TRACEPARENT);

/// Installs the global subscriber (once per process; a later call installs
/// nothing and its flusher thread ends with its guard). Keep the returned guard
/// until the process ends: dropping it writes out buffered lines and stops the
/// flusher thread (later lines are written only once a batch fills up).
pub fn init(config: &LogConfig) -> Result<BatchWriterGuard, HostError> {
    let (writer, guard) = log_writer()?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(log_filter(config))
        .with_writer(writer)
        // Colour codes only for a person at a terminal, never into files or log shippers.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match config.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder.fmt_fields(PlainFields).try_init(),
    };
    Ok(guard)
}

/// What [`init_with_telemetry`] returns: keep it until the process ends.
/// Dropping it exports the spans still queued (bounded by
/// `telemetry.timeout`), then writes out buffered log lines.
#[derive(Debug)]
pub struct LogGuard {
    #[cfg(feature = "otlp")]
    exporter: Option<crate::telemetry::Exporter>,
    writer: BatchWriterGuard,
}

impl LogGuard {
    /// Exports every finished span still queued (when spans are exported)
    /// and writes out every log line logged so far.
    pub fn flush(&self) {
        #[cfg(feature = "otlp")]
        if let Some(exporter) = &self.exporter {
            exporter.flush();
        }
        self.writer.flush();
    }
}

/// [`init`], plus span export when `telemetry.otlp_endpoint` is set (the
/// `otlp` feature; without it such a config never validates).
pub fn init_with_telemetry(
    log: &LogConfig,
    telemetry: &TelemetryConfig,
) -> Result<LogGuard, HostError> {
    #[cfg(feature = "otlp")]
    if telemetry.enabled() {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        use tracing_subscriber::Layer;
        let (writer, guard) = log_writer()?;
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
        let fmt = match log.format {
            LogFormat::Json => fmt
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .boxed(),
            LogFormat::Text => fmt.fmt_fields(PlainFields).boxed(),
        };
        let registry = tracing_subscriber::registry().with(fmt.with_filter(log_filter(log)));
        let (otel, exporter) = crate::telemetry::layer(telemetry)?
            .ok_or_else(|| HostError::Config("telemetry.otlp_endpoint: not set".into()))?;
        let _ = registry.with(otel).try_init();
        return Ok(LogGuard {
            exporter: Some(exporter),
            writer: guard,
        });
    }
    telemetry.validate()?;
    Ok(LogGuard {
        #[cfg(feature = "otlp")]
        exporter: None,
        writer: init(log)?,
    })
}

/// Lines are formatted on the request's thread and written to stderr in
/// batches by a flusher thread (see [`crate::log_writer`]): within about
/// 20 ms, and without a thread wake-up or an allocation per line. Not lossy:
/// if stderr stalls, lines collect up to 16 MiB, then callers wait as they
/// would with a direct write.
fn log_writer() -> Result<(BatchWriter, BatchWriterGuard), HostError> {
    BatchWriter::stderr()
        .map_err(|e| HostError::Runtime(format!("cannot start the log flusher thread: {e}")))
}

/// The log filter: `RUST_LOG`, else `[log] level`; never warden's exported
/// spans (target [`SPAN_TARGET`]), which are for the exporter only.
fn log_filter(config: &LogConfig) -> EnvFilter {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(effective_filter(&config.level)));
    filter.add_directive(
        format!("{SPAN_TARGET}=off")
            .parse()
            .expect("a valid directive"),
    )
}

/// The filter for `[log] level`: rmcp logs several INFO events per request
/// (including a debug dump of the peer), about 15 % of a request's CPU at the
/// default level, so it is held at `warn` unless the filter names `rmcp` itself.
fn effective_filter(level: &str) -> String {
    if level.contains("rmcp") {
        level.to_owned()
    } else if level.trim().is_empty() {
        "rmcp=warn".to_owned()
    } else {
        format!("{level},rmcp=warn")
    }
}

/// Logs one line per request: method, path (no query), status, latency,
/// `request_id` and `trace_id`; answers every request with its
/// `x-request-id`; and runs the request in its `request` span (exported with
/// the `otlp` feature, parented to a valid `traceparent` header).
#[derive(Debug, Clone, Copy)]
pub struct AccessLog;

impl<E: Endpoint> Middleware<E> for AccessLog {
    type Output = AccessLogEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        AccessLogEndpoint(ep)
    }
}

/// The endpoint produced by [`AccessLog`].
pub struct AccessLogEndpoint<E>(E);
impl<E> std::fmt::Debug for AccessLogEndpoint<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLogEndpoint").finish_non_exhaustive()
    }
}

/// Whether a request is a probe, logged at DEBUG rather than INFO.
fn is_probe(method: &Method, path: &str) -> bool {
    method == Method::GET && matches!(path, "/healthz" | "/readyz")
}

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let started = Instant::now();
        let (request_id, kept) = crate::request_id::of(req.headers());
        if !kept {
            req.headers_mut()
                .insert(crate::request_id::X_REQUEST_ID, request_id.clone());
        }
        let id = request_id.to_str().unwrap_or_default();
        let header_trace = req
            .headers()
            .get(TRACEPARENT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(TraceParent::parse);
        // A POST may name its trace context in its body (`params._meta`): the MCP
        // layer reports it here when no header named one.
        let slot = (header_trace.is_none() && method == Method::POST).then(|| {
            let slot = TraceSlot::new();
            req.extensions_mut().insert(slot.clone());
            slot
        });
        let span = tracing::info_span!(
            target: SPAN_TARGET,
            "request",
            otel.kind = "server",
            http.request.method = %method,
            url.path = %path,
            http.route = Empty,
            http.response.status_code = Empty,
            request_id = id,
            otel.status_code = Empty,
        );
        let resp = if span.is_disabled() {
            self.0.call(req).await
        } else {
            if let Some(tp) = &header_trace {
                warden_mcp::trace::set_remote_parent(&span, tp);
            }
            self.0.call(req).instrument(span.clone()).await
        };
        let mut resp = match resp {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        let status = resp.status().as_u16();
        resp.headers_mut()
            .insert(crate::request_id::X_REQUEST_ID, request_id.clone());
        let trace_id = header_trace
            .or_else(|| slot.and_then(|s| s.get()))
            .map(|tp| tp.trace_id_hex())
            .or_else(|| crate::telemetry::exported_trace_id(&span));
        if !span.is_disabled() {
            span.record("http.response.status_code", i64::from(status));
            if status != 404 {
                span.record("http.route", path.as_str());
            }
            if status >= 500 {
                span.record("otel.status_code", "ERROR");
            }
        }
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let trace_id = trace_id.as_deref();
        if is_probe(&method, &path) {
            tracing::debug!(target: "warden::access", %method, path = %path, status, elapsed_ms, request_id = id, trace_id, "request");
        } else {
            tracing::info!(target: "warden::access", %method, path = %path, status, elapsed_ms, request_id = id, trace_id, "request");
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::effective_filter;

    #[test]
    fn rmcp_is_quiet_unless_named() {
        assert_eq!(effective_filter("info"), "info,rmcp=warn");
        assert_eq!(
            effective_filter("debug,warden=trace"),
            "debug,warden=trace,rmcp=warn"
        );
        assert_eq!(effective_filter("info,rmcp=debug"), "info,rmcp=debug");
        assert_eq!(effective_filter(""), "rmcp=warn");
        for level in ["info", "warn,warden::access=info", "trace"] {
            let filter = effective_filter(level);
            assert!(
                tracing_subscriber::EnvFilter::try_new(&filter).is_ok(),
                "{filter}"
            );
        }
    }
}
