//! Building the rmcp Streamable HTTP service.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::{FastPath, WardenMcp};

/// The concrete service warden mounts: rmcp's Streamable HTTP service behind
/// the stateless [`FastPath`].
pub type McpService = FastPath<StreamableHttpService<WardenMcp, LocalSessionManager>>;

/// Transport options.
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// No sessions, plain JSON answers (load balancers, benchmarks).
    pub stateless: bool,
    /// `Host` header values accepted (DNS-rebinding protection); empty disables the check.
    pub allowed_hosts: Vec<String>,
    /// Largest POST body accepted.
    pub max_body_bytes: usize,
    /// Cancelled on shutdown: ends SSE streams and sessions.
    pub shutdown: CancellationToken,
    /// rmcp's session store; shared so the host can count live sessions
    /// ([`live_sessions`]).
    pub sessions: Arc<LocalSessionManager>,
    /// In stateless mode, answer plain `tools/call` and `tools/list`
    /// requests directly ([`FastPath`]); `false` sends everything to rmcp.
    pub fast_path: bool,
    /// Counts the requests the fast path answered itself.
    pub fast_path_answers: Arc<AtomicU64>,
}

impl Default for McpOptions {
    fn default() -> Self {
        Self {
            stateless: false,
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            max_body_bytes: 4 * 1024 * 1024,
            shutdown: CancellationToken::new(),
            sessions: Arc::new(LocalSessionManager::default()),
            fast_path: true,
            fast_path_answers: Arc::default(),
        }
    }
}

/// Builds the Streamable HTTP service (a `tower::Service`) for `server`.
///
/// Origin validation and auth happen in front of it (warden-poem); this
/// service validates `Host`, the protocol version header and sessions.
pub fn streamable_http_service(server: WardenMcp, options: &McpOptions) -> McpService {
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(!options.stateless)
        .with_json_response(options.stateless)
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_cancellation_token(options.shutdown.clone());
    config = if options.allowed_hosts.is_empty() {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(options.allowed_hosts.clone())
    };
    let handler = server.clone();
    let rmcp = StreamableHttpService::new(
        move || Ok(handler.clone()),
        options.sessions.clone(),
        config,
    );
    FastPath::new(
        rmcp,
        server,
        &options.allowed_hosts,
        options.max_body_bytes,
        options.stateless && options.fast_path,
    )
    .counting(options.fast_path_answers.clone())
}

/// Streamable HTTP sessions alive now: rmcp drops a session on `DELETE`, when its
/// worker ends, or after its idle keep-alive (5 minutes by default).
pub async fn live_sessions(sessions: &LocalSessionManager) -> usize {
    sessions.sessions.read().await.len()
}
