//! The one error enum of this crate: why a tool could not be built.
//!
//! Failures *while running* a tool are [`warden_core::ToolError`]s; this enum
//! only covers construction (bad configuration, HTTP client setup).

/// Why a tool could not be constructed from its configuration.
///
/// Variants carry the offending value so operators can fix the config; none
/// ever carries the Alpha Vantage API key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolsError {
    /// `base_url` is not an absolute `http(s)` URL.
    #[error("invalid [tools.news_sentiment] base_url {base_url:?}: {reason}")]
    InvalidBaseUrl {
        /// The configured value.
        base_url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting is out of range.
    #[error("invalid [tools.{tool}] {field} = {value}: {reason}")]
    InvalidSetting {
        /// The tool table (`news_sentiment`, `whoami`).
        tool: &'static str,
        /// The key inside the table.
        field: &'static str,
        /// The offending value, rendered (never a secret).
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
    /// The HTTP client could not be built (TLS backend initialisation).
    #[error("could not build the HTTP client: {reason}")]
    HttpClient {
        /// The underlying error text.
        reason: String,
    },
}
