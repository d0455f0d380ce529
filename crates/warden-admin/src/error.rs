//! The error type of warden-admin.

use std::net::SocketAddr;

/// Why the admin configuration is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The admin listener binds to a non-loopback address without a token.
    #[error(
        "admin.token: the admin listener binds to {bind}, which is not loopback, and no token is set; \
         set admin.token (environment WARDEN_ADMIN__TOKEN) or bind to 127.0.0.1"
    )]
    TokenRequired {
        /// The offending `admin.bind`.
        bind: SocketAddr,
    },
    /// `admin.metrics_require_token` is on but no token is set.
    #[error(
        "admin.token: admin.metrics_require_token is true but no token is set \
         (environment WARDEN_ADMIN__TOKEN)"
    )]
    MetricsTokenWithoutToken,
}
