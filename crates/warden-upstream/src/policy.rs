//! [`UpstreamPolicy`]: the limits every outbound call obeys.

use std::time::Duration;

/// The `User-Agent` of every outbound request: `warden/<version>`.
pub const USER_AGENT: &str = concat!("warden/", env!("CARGO_PKG_VERSION"));

/// The body cap when the policy sets none (1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Whether redirects are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Redirects {
    /// Never (the default): a 3xx is returned as it is. A redirected request
    /// would carry its `Authorization` header or query-string key elsewhere.
    #[default]
    None,
    /// At most this many hops (for credential-free GETs such as JWKS).
    Limited(usize),
}

/// The limits of one upstream: connect and total timeouts, body cap,
/// redirect policy. Build the client with [`Upstream::new`](crate::Upstream::new).
///
/// ```
/// use std::time::Duration;
/// use warden_upstream::{Redirects, UpstreamPolicy, DEFAULT_MAX_BODY_BYTES};
///
/// let p = UpstreamPolicy::new(Duration::from_secs(3));
/// assert_eq!(p.timeout(), Duration::from_secs(3));
/// assert_eq!(p.max_body_bytes(), DEFAULT_MAX_BODY_BYTES);
/// // A connect timeout longer than the total one is cut to it.
/// let p = p.with_connect_timeout(Duration::from_secs(60)).with_redirects(Redirects::Limited(5));
/// assert_eq!(p.connect_timeout(), Duration::from_secs(3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamPolicy {
    timeout: Duration,
    connect_timeout: Duration,
    max_body_bytes: usize,
    redirects: Redirects,
}

impl UpstreamPolicy {
    /// Every call ends within `timeout` (connect, send, read the whole body);
    /// connecting alone may take all of it; bodies up to
    /// [`DEFAULT_MAX_BODY_BYTES`]; no redirects.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            connect_timeout: timeout,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            redirects: Redirects::None,
        }
    }

    /// Bounds establishing the TCP/TLS connection (never more than the total timeout).
    pub fn with_connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = connect_timeout;
        self
    }

    /// Refuses answers whose body is larger than `bytes`.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets the redirect policy (default [`Redirects::None`]).
    pub fn with_redirects(mut self, redirects: Redirects) -> Self {
        self.redirects = redirects;
        self
    }

    /// The total timeout of one call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connect timeout in effect: the configured one, at most [`timeout`](Self::timeout).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout.min(self.timeout)
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The redirect policy.
    pub fn redirects(&self) -> Redirects {
        self.redirects
    }

    /// `Err((setting, value))` for a limit that would make every call fail.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        if self.timeout.is_zero() {
            return Err(("timeout", format!("{:?}", self.timeout)));
        }
        if self.connect_timeout.is_zero() {
            return Err(("connect_timeout", format!("{:?}", self.connect_timeout)));
        }
        if self.max_body_bytes == 0 {
            return Err(("max_body_bytes", "0".into()));
        }
        Ok(())
    }
}
