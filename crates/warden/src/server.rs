//! Running the HTTP server with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::web::{LocalAddr, RemoteAddr};
use poem::Server;
use tokio::task::JoinHandle;

use crate::{App, HostError};

/// A host running in the background (tests, embedding).
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// The admin listener's address, when enabled.
    pub admin_addr: Option<SocketAddr>,
    /// The app being served.
    pub app: Arc<App>,
    handle: JoinHandle<Result<(), std::io::Error>>,
    admin: Option<JoinHandle<Result<(), std::io::Error>>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("addr", &self.addr)
            .field("admin_addr", &self.admin_addr)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (up to 10 s), closes
    /// sessions and streams, and waits.
    pub async fn shutdown(self) {
        self.app.shutdown.cancel();
        let _ = self.handle.await;
        if let Some(admin) = self.admin {
            let _ = admin.await;
        }
    }

    /// Waits until `app.shutdown` is cancelled and the server has drained.
    pub async fn shutdown_when_cancelled(self) {
        let _ = self.handle.await;
        if let Some(admin) = self.admin {
            let _ = admin.await;
        }
    }
}

/// Accepts TCP connections with `TCP_NODELAY` set: an answer written in
/// several pieces (SSE events, a chunked body) must not wait for the peer's
/// delayed ACK (Nagle), which stalled each stateful MCP answer by ~40 ms.
struct NoDelay(TcpAcceptor);

impl Acceptor for NoDelay {
    type Io = tokio::net::TcpStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> std::io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.0.accept().await?;
        if let Err(e) = io.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        Ok((io, local, remote, scheme))
    }
}

/// Binds `app.config.server.bind` (port 0 picks one) and serves until
/// `app.shutdown` is cancelled. Returns once the listener is bound.
pub async fn serve(app: App) -> Result<Running, HostError> {
    let app = Arc::new(app);
    let acceptor = NoDelay(
        TcpListener::bind(app.config.server.bind)
            .into_acceptor()
            .await?,
    );
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .ok_or_else(|| HostError::Runtime("listener has no socket address".into()))?;
    let (admin_addr, admin) = if app.config.admin.enabled {
        let admin_acceptor = NoDelay(
            TcpListener::bind(app.config.admin.bind)
                .into_acceptor()
                .await?,
        );
        let admin_addr = admin_acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied());
        let routes = app.admin_routes();
        let shutdown = app.shutdown.clone();
        let handle = tokio::spawn(async move {
            Server::new_with_acceptor(admin_acceptor)
                .run_with_graceful_shutdown(
                    routes,
                    async move { shutdown.cancelled().await },
                    Some(Duration::from_secs(5)),
                )
                .await
        });
        (admin_addr, Some(handle))
    } else {
        (None, None)
    };
    app.warm_up();
    spawn_gauges(app.clone());
    spawn_drain(app.clone());
    let routes = app.routes();
    let shutdown = app.shutdown.clone();
    let handle = tokio::spawn(async move {
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                routes,
                async move { shutdown.cancelled().await },
                Some(DRAIN_LIMIT + Duration::from_secs(2)),
            )
            .await
    });
    Ok(Running {
        addr,
        admin_addr,
        app,
        handle,
        admin,
    })
}

/// How long shutdown waits for in-flight tool calls before closing streams.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Once shutdown starts (the listener no longer accepts), waits for in-flight
/// tool calls and POST answers, then closes MCP sessions and SSE streams so the
/// server's connections end and it can return.
fn spawn_drain(app: Arc<App>) {
    tokio::spawn(async move {
        app.shutdown.cancelled().await;
        let drained = app.in_flight.idle(DRAIN_LIMIT).await;
        if !drained {
            tracing::warn!(
                in_flight = app.in_flight.count(),
                "shutdown: in-flight calls still running after {DRAIN_LIMIT:?}; closing streams"
            );
        }
        // Let answers already produced reach their streams.
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.streams.cancel();
    });
}

/// Keeps the session and provider-readiness gauges current.
fn spawn_gauges(app: Arc<App>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    app.metrics.set_sessions(app.active_sessions().await as i64);
                    app.metrics.observe_providers(app.guard.providers());
                }
                _ = app.shutdown.cancelled() => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_connections_have_nodelay() {
        let mut acceptor = NoDelay(
            TcpListener::bind("127.0.0.1:0")
                .into_acceptor()
                .await
                .unwrap(),
        );
        let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        let client = tokio::net::TcpStream::connect(addr);
        let (accepted, client) = tokio::join!(acceptor.accept(), client);
        let (io, ..) = accepted.unwrap();
        assert!(io.nodelay().unwrap());
        drop(client);
    }
}
