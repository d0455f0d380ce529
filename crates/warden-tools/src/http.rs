//! The outbound policy of this crate's upstream (Alpha Vantage), built on
//! the shared one ([`warden_upstream`]).

use std::time::Duration;

use warden_core::SharedObserver;
use warden_upstream::{Upstream, UpstreamError, UpstreamPolicy};

use crate::ToolsError;

/// How long establishing a TCP/TLS connection may take at most.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the client a tool uses for its upstream `name`.
///
/// * `timeout` bounds each whole request (connect, send, read body);
///   connecting alone at most 5 s;
/// * bodies larger than `max_body_bytes` are refused without reading them;
/// * redirects are not followed, so a query-string API key never travels to
///   another host;
/// * no default headers beyond `User-Agent: warden/<version>`: nothing about
///   the MCP caller is ever forwarded;
/// * every call is an `Event::Upstream` named `name`.
pub(crate) fn build_upstream(
    name: &str,
    timeout: Duration,
    max_body_bytes: usize,
    observer: SharedObserver,
) -> Result<Upstream, ToolsError> {
    let policy = UpstreamPolicy::new(timeout)
        .with_connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        .with_max_body_bytes(max_body_bytes);
    Upstream::new(name, policy, observer).map_err(|e| ToolsError::HttpClient {
        reason: match e {
            UpstreamError::Client { reason } => reason,
            other => other.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_a_short_timeout_and_caps_connecting() {
        let up = build_upstream(
            "alphavantage",
            Duration::from_millis(50),
            1024,
            warden_core::noop_observer(),
        )
        .unwrap();
        assert_eq!(up.policy().connect_timeout(), Duration::from_millis(50));
        let up = build_upstream(
            "alphavantage",
            Duration::from_secs(60),
            1024,
            warden_core::noop_observer(),
        )
        .unwrap();
        assert_eq!(up.policy().connect_timeout(), MAX_CONNECT_TIMEOUT);
        assert_eq!(up.policy().max_body_bytes(), 1024);
    }

    #[test]
    fn a_zero_timeout_is_a_build_error() {
        let err = build_upstream(
            "alphavantage",
            Duration::ZERO,
            1024,
            warden_core::noop_observer(),
        )
        .unwrap_err();
        assert!(matches!(err, ToolsError::HttpClient { .. }), "{err}");
    }
}
