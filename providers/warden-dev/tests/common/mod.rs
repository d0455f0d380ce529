//! Shared helpers: a scratch data dir, a provider context, and the dev
//! issuer's routes served on 127.0.0.1:0. (The dev issuer is the crate
//! under test, not a fake: it is served here as the host serves it. Token
//! decoding comes from warden-test-support.)

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Route, Server};
use serde_json::Value;
use warden_core::{noop_observer, ProviderContext};
use warden_dev::{DevConfig, DevIssuer, MintRequest};

pub(crate) fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("warden-dev-test-{}", uuid::Uuid::new_v4()))
}

pub(crate) fn ctx(public_url: &str, data_dir: PathBuf) -> ProviderContext {
    ProviderContext {
        name: "dev".into(),
        public_url: public_url.into(),
        resource: format!("{public_url}/mcp"),
        leeway: Duration::from_secs(60),
        observer: noop_observer(),
        data_dir,
    }
}

pub(crate) struct Running {
    pub issuer: Arc<DevIssuer>,
    pub base: String,
    pub dir: PathBuf,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Running {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn token(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.post(self.url("/dev/token")).form(form);
        if let Some((id, secret)) = basic {
            req = req.header(
                "authorization",
                format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
            );
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body: Value = resp.json().await.unwrap();
        (status, headers, body)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) async fn start(cfg: DevConfig) -> Running {
    start_with(|_| cfg).await
}

/// Serves the issuer's routes; `cfg` gets the server's base URL.
pub(crate) async fn start_with(cfg: impl FnOnce(&str) -> DevConfig) -> Running {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let base = format!("http://{addr}");
    let dir = scratch_dir();
    let issuer = DevIssuer::new(&ctx(&base, dir.clone()), cfg(&base)).unwrap();
    let mut app = Route::new();
    for (path, ep) in issuer.routes() {
        app = app.at(path, ep);
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app,
                async move {
                    let _ = rx.await;
                },
                Some(Duration::from_millis(100)),
            )
            .await;
    });
    Running {
        issuer,
        base,
        dir,
        http: reqwest::Client::new(),
        stop: Some(tx),
    }
}

pub(crate) fn mint_req(sub: &str) -> MintRequest {
    MintRequest {
        sub: sub.into(),
        scopes: vec!["news:read".into(), "profile".into()],
        ttl: Duration::from_secs(600),
        audience: None,
        client_id: None,
    }
}
