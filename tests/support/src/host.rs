//! Starting a real warden host in-process on 127.0.0.1:0 — warden's own poem
//! host, or the same configuration embedded in the axum example app
//! (`crates/warden-tower/examples/axum.rs`).

use std::path::PathBuf;
use std::sync::Arc;

use warden::{App, Config, Running};
use warden_core::SharedObserver;

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../../crates/warden-tower/examples/axum.rs"]
mod axum_example;

/// Which HTTP front serves the host's guard and tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// warden's own host (poem, every route).
    Poem,
    /// The axum embedding example: `/mcp` behind `McpLayer`, the metadata
    /// documents, `/api/hello` behind `BearerLayer`.
    Axum,
}

impl Front {
    /// Both fronts.
    pub const ALL: [Front; 2] = [Front::Poem, Front::Axum];
}

/// A running warden host with its public URL.
#[derive(Debug)]
pub struct TestHost {
    pub running: Option<Running>,
    pub url: String,
    pub data_dir: tempfile::TempDir,
    /// The app when served by the axum front.
    axum: Option<(Arc<App>, tokio::task::JoinHandle<()>)>,
}

impl TestHost {
    /// Starts warden with `toml`. `{url}` in the TOML is replaced by the public
    /// URL (the port is reserved before the config is built so the issuer and
    /// resource URLs are right), `{data_dir}` by a fresh temp dir.
    pub async fn start(toml: &str) -> TestHost {
        Self::start_with(toml, warden_core::noop_observer()).await
    }

    /// Starts warden with `toml`, served by `front`.
    pub async fn start_on(front: Front, toml: &str) -> TestHost {
        Self::start_front(front, toml, warden_core::noop_observer()).await
    }

    pub async fn start_with(toml: &str, observer: SharedObserver) -> TestHost {
        Self::start_front(Front::Poem, toml, observer).await
    }

    async fn start_front(front: Front, toml: &str, observer: SharedObserver) -> TestHost {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = format!("http://127.0.0.1:{port}");
        let data_dir = tempfile::tempdir().unwrap();
        let toml = toml
            .replace("{url}", &url)
            .replace("{data_dir}", &data_dir.path().display().to_string());
        let base = format!(
            "[server]\nbind = \"127.0.0.1:{port}\"\npublic_url = \"{url}\"\ndata_dir = \"{}\"\n",
            data_dir.path().display()
        );
        let mut config = Config::from_toml(&merge_server(&base, &toml)).expect("config");
        if !toml.contains("[admin]") {
            // Parallel tests must not fight over the default admin port.
            config.admin.bind = "127.0.0.1:0".parse().unwrap();
        }
        let app = App::build(config, observer).expect("app");
        match front {
            Front::Poem => {
                let running = warden::serve(app).await.expect("serve");
                TestHost {
                    running: Some(running),
                    url,
                    data_dir,
                    axum: None,
                }
            }
            Front::Axum => {
                let app = Arc::new(app);
                app.warm_up();
                let path = app.config.server.mcp_path.clone();
                let router = axum_example::router(axum_example::Parts {
                    guard: app.guard.clone(),
                    tools: app.tools.clone(),
                    server: app.mcp_server(),
                    public_url: url.clone(),
                    metadata: app.protected_resource_metadata(&path),
                    mcp: app.mcp_options(),
                });
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .expect("bind the axum front");
                let shutdown = app.shutdown.clone();
                let handle = tokio::spawn(async move {
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async move { shutdown.cancelled().await })
                        .await;
                });
                TestHost {
                    running: None,
                    url,
                    data_dir,
                    axum: Some((app, handle)),
                }
            }
        }
    }

    pub fn mcp_url(&self) -> String {
        format!("{}{}", self.url, self.app().config.server.mcp_path)
    }

    /// `http://127.0.0.1:PORT` of the admin listener.
    pub fn admin_url(&self) -> String {
        let addr = self
            .running
            .as_ref()
            .unwrap()
            .admin_addr
            .expect("admin listener enabled");
        format!("http://{addr}")
    }

    pub fn app(&self) -> &App {
        match (&self.running, &self.axum) {
            (Some(running), _) => &running.app,
            (None, Some((app, _))) => app,
            (None, None) => panic!("host stopped"),
        }
    }

    /// A dev token (requires a dev provider).
    pub fn dev_token(&self, sub: &str, scope: &str) -> String {
        self.dev_token_with(sub, scope, std::time::Duration::from_secs(3600), None)
    }

    pub fn dev_token_with(
        &self,
        sub: &str,
        scope: &str,
        ttl: std::time::Duration,
        aud: Option<String>,
    ) -> String {
        self.app()
            .dev
            .as_ref()
            .expect("dev provider")
            .mint(warden_dev::MintRequest {
                sub: sub.into(),
                scopes: warden_core::scope::split_scopes(scope),
                ttl,
                audience: aud,
                client_id: Some("warden-tests".into()),
            })
            .unwrap()
    }

    pub fn data_path(&self) -> PathBuf {
        self.data_dir.path().to_path_buf()
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        if let Some((app, handle)) = self.axum.take() {
            app.shutdown.cancel();
            let _ = handle.await;
        }
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        if let Some(r) = &self.running {
            r.app.shutdown.cancel();
        }
        if let Some((app, _)) = &self.axum {
            app.shutdown.cancel();
        }
    }
}

/// Puts the `[server]` lines of `base` into `toml`'s `[server]` table (or adds one).
fn merge_server(base: &str, toml: &str) -> String {
    let server_lines: String = base.lines().skip(1).map(|l| format!("{l}\n")).collect();
    if let Some(idx) = toml.find("[server]\n") {
        let (a, b) = toml.split_at(idx + "[server]\n".len());
        // Keys in `toml` win: drop base keys that `toml` sets itself in [server].
        let server_body: String = b.split("\n[").next().unwrap_or("").to_owned();
        let kept: String = server_lines
            .lines()
            .filter(|l| {
                let key = l.split('=').next().unwrap_or("").trim();
                !server_body
                    .lines()
                    .any(|sl| sl.split('=').next().unwrap_or("").trim() == key)
            })
            .map(|l| format!("{l}\n"))
            .collect();
        format!("{a}{kept}{b}")
    } else {
        format!("[server]\n{server_lines}\n{toml}")
    }
}
