//! The error type of warden-metrics.

/// Why the metrics could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// A metric could not be created or registered (duplicate name, bad options).
    #[error("metric {metric}: {reason}")]
    Register {
        /// The metric name.
        metric: String,
        /// What prometheus said.
        reason: String,
    },
}
