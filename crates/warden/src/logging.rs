//! Structured logs (`tracing`): text or JSON, and an access log that never
//! records query strings or headers (tokens could hide there).

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber (once per process; a later call installs
/// nothing and its writer thread ends with its guard). Keep the returned guard
/// until the process ends: dropping it writes out buffered lines and stops the
/// log thread, after which lines of that subscriber are lost.
pub fn init(config: &LogConfig) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(effective_filter(&config.level)));
    // Lines are formatted on the request's thread and written by a dedicated thread
    // (buffered, flushed whenever it has caught up), so no request waits on a
    // `write(2)` to stderr. Not lossy: if stderr stalls for 128k lines, callers wait
    // as they would with a direct write, rather than lines being dropped.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("warden-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colour codes only for a person at a terminal, never into files or log shippers.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match config.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
    guard
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

/// Logs one line per request: method, path (no query), status, latency.
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

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let started = Instant::now();
        let resp = match self.0.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        tracing::info!(
            target: "warden::access",
            %method,
            path = %path,
            status = resp.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
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
