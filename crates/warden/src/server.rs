//! Running the HTTP server with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::Server;
use tokio::task::JoinHandle;

use crate::{App, HostError};

/// A host running in the background (tests, embedding).
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// The app being served.
    pub app: Arc<App>,
    handle: JoinHandle<Result<(), std::io::Error>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (up to 10 s), and waits.
    pub async fn shutdown(self) {
        self.app.shutdown.cancel();
        let _ = self.handle.await;
    }

    /// Waits until `app.shutdown` is cancelled and the server has drained.
    pub async fn shutdown_when_cancelled(self) {
        let _ = self.handle.await;
    }
}

/// Binds `app.config.server.bind` (port 0 picks one) and serves until
/// `app.shutdown` is cancelled. Returns once the listener is bound.
pub async fn serve(app: App) -> Result<Running, HostError> {
    let app = Arc::new(app);
    let acceptor = TcpListener::bind(app.config.server.bind)
        .into_acceptor()
        .await?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .ok_or_else(|| HostError::Runtime("listener has no socket address".into()))?;
    app.warm_up();
    let routes = app.routes();
    let shutdown = app.shutdown.clone();
    let handle = tokio::spawn(async move {
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                routes,
                async move { shutdown.cancelled().await },
                Some(Duration::from_secs(10)),
            )
            .await
    });
    Ok(Running { addr, app, handle })
}
