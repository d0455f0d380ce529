//! Serving a poem endpoint on a loopback listener, and stopping it so that
//! the port refuses connections and open keep-alive connections break.

use std::time::Duration;

use poem::listener::TcpAcceptor;
use poem::{IntoEndpoint, Response};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Binds `127.0.0.1:port` (`0` = any free port). Tokio sets `SO_REUSEADDR`,
/// so a stopped server's port can be bound again at once.
pub(crate) async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).await
}

/// A server task; dropping it initiates shutdown.
pub(crate) struct Running {
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// Serves `ep` on `listener` in a background task.
    pub(crate) fn spawn<E>(listener: TcpListener, ep: E) -> Running
    where
        E: IntoEndpoint + Send + 'static,
        E::Endpoint: 'static,
        <E::Endpoint as poem::Endpoint>::Output: Into<Response>,
    {
        let acceptor = TcpAcceptor::from_tokio(listener).expect("loopback listener has an address");
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = poem::Server::new_with_acceptor(acceptor);
            // Zero grace period: in-flight requests (delays, hangs) are cut.
            let _ = server
                .run_with_graceful_shutdown(
                    ep,
                    async move {
                        let _ = signal.await;
                    },
                    Some(Duration::ZERO),
                )
                .await;
        });
        Running {
            shutdown: Some(shutdown),
            task,
        }
    }

    /// Stops accepting, breaks open connections and waits until the listener
    /// is closed.
    pub(crate) async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
