//! Outbound requests made by the host itself are bounded: the
//! authorization-server metadata mirror (`/.well-known/oauth-authorization-server`
//! for a remote provider) against an AS that never answers, and one that
//! answers 50 MB. (Discovery, JWKS, introspection, userinfo and Alpha Vantage
//! have the same tests beside their crates: `*/tests/bounded_upstream.rs`.)

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use warden_test_support::host::TestHost;

const FIFTY_MB: u64 = 50 * 1024 * 1024;

/// A loopback "authorization server": `None` never answers, `Some(n)` answers
/// 200 with `n` body bytes and no `Content-Length` (the client must stop reading).
struct FakeAs {
    origin: String,
    connections: Arc<AtomicUsize>,
    body_bytes_sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeAs {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAs {
    async fn start(answer: Option<u64>) -> FakeAs {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let body_bytes_sent = Arc::new(AtomicU64::new(0));
        let (count, sent) = (connections.clone(), body_bytes_sent.clone());
        let task = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let sent = sent.clone();
                open.push(tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut head = Vec::new();
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let Some(mut left) = answer else {
                        // Never answer; hold the connection until the client leaves.
                        while let Ok(n) = stream.read(&mut buf).await {
                            if n == 0 {
                                return;
                            }
                        }
                        return;
                    };
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
                    if stream.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let chunk = vec![b' '; 64 * 1024];
                    while left > 0 {
                        let n = left.min(chunk.len() as u64) as usize;
                        if stream.write_all(&chunk[..n]).await.is_err() {
                            return;
                        }
                        sent.fetch_add(n as u64, Ordering::SeqCst);
                        left -= n as u64;
                    }
                }));
            }
            for task in open {
                task.abort();
            }
        });
        FakeAs {
            origin,
            connections,
            body_bytes_sent,
            task,
        }
    }
}

/// A host whose primary provider is a JWT provider of issuer `issuer` (its keys
/// come from a closed port, so only the mirror talks to the issuer).
async fn host_for(issuer: &str) -> TestHost {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    TestHost::start(&format!(
        "[auth]\nproviders = [\"corp\"]\n[providers.corp]\nkind = \"jwt\"\nissuer = \"{issuer}\"\njwks_url = \"http://{closed}/jwks\"\n[tools.news_sentiment]\nenabled = false\n"
    ))
    .await
}

/// GETs the mirror; returns (status, Retry-After, time taken).
async fn get_mirror(host: &TestHost) -> (u16, Option<String>, Duration) {
    let started = Instant::now();
    let resp = reqwest::get(format!(
        "{}/.well-known/oauth-authorization-server",
        host.url
    ))
    .await
    .unwrap();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (resp.status().as_u16(), retry_after, started.elapsed())
}

#[tokio::test]
async fn mirror_of_an_authorization_server_that_never_answers() {
    let fake = FakeAs::start(None).await;
    let host = host_for(&fake.origin).await;
    let (status, retry_after, took) = get_mirror(&host).await;
    assert_eq!(status, 503);
    assert_eq!(retry_after.as_deref(), Some("30"));
    // The host gives the mirror 5 s for all candidate URLs together (it took
    // 5 s per URL, 15 s, before). Generous bound, not a timing assertion.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // The next request within the back-off answers from memory.
    let connections = fake.connections.load(Ordering::SeqCst);
    let (status, _, took) = get_mirror(&host).await;
    assert_eq!(status, 503);
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(fake.connections.load(Ordering::SeqCst), connections);
    host.stop().await;
}

#[tokio::test]
async fn mirror_of_an_authorization_server_that_answers_fifty_megabytes() {
    let fake = FakeAs::start(Some(FIFTY_MB)).await;
    let host = host_for(&fake.origin).await;
    let (status, _, took) = get_mirror(&host).await;
    assert_eq!(status, 503);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // Neither answer was read to the end (the old mirror read every byte of
    // each candidate's answer before failing to parse it).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = fake.body_bytes_sent.load(Ordering::SeqCst);
    assert!(sent < FIFTY_MB, "{sent} bytes sent");
    // Both candidate URLs were asked (the issuer has no path: two distinct URLs).
    assert_eq!(fake.connections.load(Ordering::SeqCst), 2);
    host.stop().await;
}
