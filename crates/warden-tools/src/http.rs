//! The single place where this crate builds its outbound HTTP client.

use std::time::Duration;

use crate::ToolsError;

/// How long establishing a TCP/TLS connection may take at most.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the one reqwest client a tool uses for its upstream.
///
/// * `timeout` bounds each whole request (connect, send, read body);
/// * redirects are not followed, so a query-string API key never travels to
///   another host;
/// * no default headers: nothing about the MCP caller is ever forwarded.
pub(crate) fn build_client(timeout: Duration) -> Result<reqwest::Client, ToolsError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("warden-tools/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ToolsError::HttpClient {
            reason: e.without_url().to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_a_short_timeout() {
        assert!(build_client(Duration::from_millis(50)).is_ok());
    }
}
