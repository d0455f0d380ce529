//! `[telemetry]`: optional export of warden's spans over OTLP/HTTP.
//!
//! The spans — `request` (the host's access log middleware) → `guard` (the
//! bearer check) → `verifier` (the provider's verification) → `tool` (a
//! `tools/call`) — are `tracing` spans with the target
//! [`warden_mcp::trace::SPAN_TARGET`]. They never reach the logs, and unless
//! an exporter is configured nothing enables them, so they cost a
//! disabled-callsite check. With the `otlp` cargo feature and
//! `telemetry.otlp_endpoint` set, they are exported in batches
//! (`tracing-opentelemetry` → `opentelemetry_sdk` → `opentelemetry-otlp`,
//! OTLP/HTTP with JSON bodies), parented to the caller's W3C `traceparent`.
//! Their attributes are bounded labels (method, route, status, provider,
//! outcome, tool name); tokens and claims are never among them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use warden_core::Secret;

use crate::error::HostError;

/// `[telemetry]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// The OTLP/HTTP collector's base URL (`http://collector:4318`); spans go
    /// to `<otlp_endpoint>/v1/traces` (a URL already ending in `/v1/traces` is
    /// used as it is). Not set: nothing is exported. Needs the `otlp` feature.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the exported resource.
    pub service_name: String,
    /// The share of new traces recorded, 0.0–1.0. A request that arrives with
    /// a `traceparent` follows its caller's sampling decision instead.
    pub sample_ratio: f64,
    /// How long one export request may take.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Extra HTTP headers on export requests (an API key): secret values,
    /// shown as `***` by `check-config` and the admin API.
    pub headers: BTreeMap<String, Secret>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "warden".into(),
            sample_ratio: 1.0,
            timeout: Duration::from_secs(10),
            headers: BTreeMap::new(),
        }
    }
}

impl TelemetryConfig {
    /// Whether spans are to be exported.
    pub fn enabled(&self) -> bool {
        self.otlp_endpoint.is_some()
    }

    /// Checks the table; errors name the key.
    pub fn validate(&self) -> Result<(), HostError> {
        let bad = |key: &str, why: String| HostError::Config(format!("telemetry.{key}: {why}"));
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            return Err(bad(
                "sample_ratio",
                format!("must be between 0.0 and 1.0, not {}", self.sample_ratio),
            ));
        }
        if self.service_name.trim().is_empty() {
            return Err(bad("service_name", "must not be empty".into()));
        }
        if self.timeout.is_zero() {
            return Err(bad("timeout", "must be greater than 0".into()));
        }
        for (name, value) in &self.headers {
            if poem::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(bad("headers", format!("{name:?} is not a header name")));
            }
            // The value is secret: say what is wrong without repeating it.
            if poem::http::HeaderValue::from_str(value.expose()).is_err() {
                return Err(bad(
                    &format!("headers.{name}"),
                    "the value is not a valid header value".into(),
                ));
            }
        }
        let Some(endpoint) = &self.otlp_endpoint else {
            return Ok(());
        };
        let url = url::Url::parse(endpoint)
            .map_err(|e| bad("otlp_endpoint", format!("{e}: {endpoint:?}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad(
                "otlp_endpoint",
                format!("must be an http(s) URL (OTLP/HTTP), not {endpoint:?}"),
            ));
        }
        if !cfg!(feature = "otlp") {
            return Err(bad(
                "otlp_endpoint",
                "this warden binary was built without the `otlp` feature, so it cannot export \
                 traces; rebuild it with `--features otlp` (cargo build --release -p warden \
                 --features otlp), or remove the key"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The URL spans are posted to.
    pub fn traces_url(&self) -> Option<String> {
        let endpoint = self.otlp_endpoint.as_deref()?.trim_end_matches('/');
        Some(if endpoint.ends_with("/v1/traces") {
            endpoint.to_owned()
        } else {
            format!("{endpoint}/v1/traces")
        })
    }
}

/// The trace id of `span` as exported (32 hex digits), when spans are exported.
#[cfg(feature = "otlp")]
pub(crate) fn exported_trace_id(span: &tracing::Span) -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if span.is_disabled() {
        return None;
    }
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// The trace id of `span` as exported: none, without the `otlp` feature.
#[cfg(not(feature = "otlp"))]
pub(crate) fn exported_trace_id(_span: &tracing::Span) -> Option<String> {
    None
}

#[cfg(feature = "otlp")]
pub use export::Exporter;

#[cfg(feature = "otlp")]
pub(crate) use export::layer;

#[cfg(feature = "otlp")]
mod export {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider,
    };
    use opentelemetry::Context;
    use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
    use opentelemetry_sdk::Resource;
    use tracing::Span;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::Layer;
    use warden_core::TraceParent;
    use warden_mcp::trace::{TraceHooks, SPAN_TARGET};

    use super::TelemetryConfig;
    use crate::error::HostError;

    /// The running span exporter. Dropping it (or [`Exporter::shutdown`])
    /// exports what is still queued, waiting at most the export timeout.
    #[derive(Debug)]
    pub struct Exporter {
        provider: SdkTracerProvider,
    }

    impl Exporter {
        /// Exports every finished span still queued, now.
        pub fn flush(&self) {
            if let Err(e) = self.provider.force_flush() {
                tracing::warn!(error = %e, "telemetry: could not export spans");
            }
        }

        /// Exports what is queued and stops the exporter.
        pub fn shutdown(&self) {
            let _ = self.provider.shutdown();
        }
    }

    impl Drop for Exporter {
        fn drop(&mut self) {
            self.shutdown();
        }
    }

    /// The `tracing` layer exporting warden's spans per `config` (none when
    /// `otlp_endpoint` is not set), and the exporter to keep until exit.
    pub(crate) fn layer<S>(
        config: &TelemetryConfig,
    ) -> Result<Option<(impl Layer<S>, Exporter)>, HostError>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let Some(url) = config.traces_url() else {
            return Ok(None);
        };
        let headers = config
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.expose().to_owned()))
            .collect();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(url)
            .with_timeout(config.timeout)
            .with_headers(headers)
            .build()
            .map_err(|e| HostError::Config(format!("telemetry.otlp_endpoint: {e}")))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                config.sample_ratio,
            ))))
            .with_resource(
                Resource::builder()
                    .with_service_name(config.service_name.clone())
                    .build(),
            )
            .build();
        let tracer = provider.tracer("warden");
        warden_mcp::trace::set_hooks(TraceHooks {
            set_parent,
            add_link,
        });
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_filter(Targets::new().with_target(SPAN_TARGET, tracing::Level::TRACE));
        Ok(Some((layer, Exporter { provider })))
    }

    fn set_parent(span: &Span, parent: &TraceParent) {
        let remote = SpanContext::new(
            TraceId::from_bytes(parent.trace_id()),
            SpanId::from_bytes(parent.parent_id()),
            TraceFlags::new(parent.flags()),
            true,
            TraceState::default(),
        );
        let _ = span.set_parent(Context::new().with_remote_span_context(remote));
    }

    fn add_link(span: &Span, to: &Span) {
        let target = to.context().span().span_context().clone();
        if target.is_valid() {
            span.add_link(target);
        }
    }
}
