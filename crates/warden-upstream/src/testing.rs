//! Misbehaving loopback servers for bounded-upstream tests (feature `testing`).
//!
//! * [`TestServer::silent`] accepts connections, reads what is sent and never
//!   answers;
//! * [`TestServer::huge`] answers `200 application/json` with a body of the
//!   given size, streamed without `Content-Length` until the connection
//!   closes (the client must stop reading at its cap);
//! * [`TestServer::huge_with_length`] does the same but announces the size in
//!   `Content-Length` (the client can refuse before reading);
//! * [`TestServer::answering`] answers every request with one fixed response
//!   (for tests of the well-behaved path);
//! * [`TestServer::routed`] answers by request path, 404 elsewhere (for
//!   tests that need several documents on one origin, such as discovery).
//!
//! Every server stops when dropped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// 50 MiB: the answer size the bounded-upstream tests use.
pub const FIFTY_MB: u64 = 50 * 1024 * 1024;

#[derive(Clone)]
enum Behaviour {
    Silent,
    Huge {
        bytes: u64,
        announce: bool,
    },
    Fixed(Arc<Vec<u8>>),
    /// Full responses by request path; anything else is answered 404.
    Routed(Arc<Vec<(String, Vec<u8>)>>),
}

/// One answer of a [`TestServer::routed`] server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The request path it answers (without query).
    pub path: String,
    /// The status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body (sent with its `Content-Length`).
    pub body: String,
}

impl Route {
    /// `200` with an `application/json` body.
    pub fn json(path: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    /// `status` with `headers` and `body`.
    pub fn status(
        path: impl Into<String>,
        status: u16,
        headers: &[(&str, &str)],
        body: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into(),
        }
    }
}

/// A complete HTTP/1.1 response that closes the connection.
fn response_bytes(status: u16, headers: &[(String, String)], body: &str) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 {status} Test\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(body);
    response.into_bytes()
}

/// A loopback HTTP server that misbehaves in one way.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    body_bytes_sent: Arc<AtomicU64>,
    requests: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Accepts connections and never answers.
    pub async fn silent() -> Self {
        Self::start(Behaviour::Silent).await
    }

    /// Answers every request with `bytes` of body and no `Content-Length`.
    pub async fn huge(bytes: u64) -> Self {
        Self::start(Behaviour::Huge {
            bytes,
            announce: false,
        })
        .await
    }

    /// Answers every request with `bytes` of body, announced in `Content-Length`.
    pub async fn huge_with_length(bytes: u64) -> Self {
        Self::start(Behaviour::Huge {
            bytes,
            announce: true,
        })
        .await
    }

    /// Answers every request with `status`, the `headers` given and `body`
    /// (with its `Content-Length`).
    pub async fn answering(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        Self::answering_for(status, headers, |_| body.to_owned()).await
    }

    /// [`answering`](Self::answering) with a body computed from the server's
    /// origin (`http://127.0.0.1:PORT`), e.g. a metadata document naming itself.
    pub async fn answering_for(
        status: u16,
        headers: &[(&str, &str)],
        body: impl FnOnce(&str) -> String,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let origin = format!("http://{}", listener.local_addr().expect("local address"));
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        let response = response_bytes(status, &headers, &body(&origin));
        Self::serve_on(listener, Behaviour::Fixed(Arc::new(response)))
    }

    /// Answers each request by its path with the matching [`Route`] (the
    /// first one listed wins), `404` for any other path. `routes` gets the
    /// server's origin (`http://127.0.0.1:PORT`), e.g. for documents that
    /// name their own issuer.
    pub async fn routed(routes: impl FnOnce(&str) -> Vec<Route>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let origin = format!("http://{}", listener.local_addr().expect("local address"));
        let routes = routes(&origin)
            .into_iter()
            .map(|r| (r.path, response_bytes(r.status, &r.headers, &r.body)))
            .collect();
        Self::serve_on(listener, Behaviour::Routed(Arc::new(routes)))
    }

    async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        Self::serve_on(listener, behaviour)
    }

    fn serve_on(listener: TcpListener, behaviour: Behaviour) -> Self {
        let addr = listener.local_addr().expect("local address");
        let connections = Arc::new(AtomicUsize::new(0));
        let body_bytes_sent = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (count, sent, seen) = (
            connections.clone(),
            body_bytes_sent.clone(),
            requests.clone(),
        );
        let task = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let conn = Connection {
                    behaviour: behaviour.clone(),
                    sent: sent.clone(),
                    seen: seen.clone(),
                };
                open.push(tokio::spawn(conn.serve(stream)));
            }
            for task in open {
                task.abort();
            }
        });
        Self {
            addr,
            connections,
            body_bytes_sent,
            requests,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Body bytes handed to the kernel so far, over all connections.
    pub fn body_bytes_sent(&self) -> u64 {
        self.body_bytes_sent.load(Ordering::SeqCst)
    }

    /// The request heads received so far (request line and headers, lossy UTF-8).
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The paths requested so far, in order (from the request lines).
    pub fn paths(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|head| request_path(head).to_owned())
            .collect()
    }
}

struct Connection {
    behaviour: Behaviour,
    sent: Arc<AtomicU64>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Connection {
    async fn serve(self, mut stream: TcpStream) {
        let mut buf = vec![0u8; 16 * 1024];
        let mut head = Vec::new();
        // Read the request head (the body of a POST, if any, is ignored).
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    head.extend_from_slice(&buf[..n]);
                    if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() > 64 * 1024 {
                        break;
                    }
                }
            }
        }
        let end = head
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(head.len());
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(String::from_utf8_lossy(&head[..end]).into_owned());
        match self.behaviour {
            Behaviour::Fixed(response) => {
                let _ = stream.write_all(&response).await;
                let _ = stream.shutdown().await;
            }
            Behaviour::Routed(routes) => {
                let head = String::from_utf8_lossy(&head[..end]);
                let path = request_path(&head);
                let not_found = response_bytes(404, &[], "");
                let response = routes
                    .iter()
                    .find(|(p, _)| p == path)
                    .map_or(&not_found, |(_, r)| r);
                let _ = stream.write_all(response).await;
                let _ = stream.shutdown().await;
            }
            Behaviour::Silent => {
                // Keep the connection open, never answer.
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                }
            }
            Behaviour::Huge { bytes, announce } => {
                let mut response = String::from(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n",
                );
                if announce {
                    response.push_str(&format!("content-length: {bytes}\r\n"));
                }
                response.push_str("\r\n");
                if stream.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let mut left = bytes;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    if stream.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    self.sent.fetch_add(n as u64, Ordering::SeqCst);
                    left -= n as u64;
                }
                let _ = stream.shutdown().await;
            }
        }
    }
}

/// The path of a request head's request line, without the query.
fn request_path(head: &str) -> &str {
    let target = head.split_whitespace().nth(1).unwrap_or("");
    target.split('?').next().unwrap_or("")
}
