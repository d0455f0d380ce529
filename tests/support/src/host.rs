//! Starting a real warden host in-process on 127.0.0.1:0.

use std::path::PathBuf;

use warden::{App, Config, Running};
use warden_core::SharedObserver;

/// A running warden host with its public URL.
pub struct TestHost {
    pub running: Option<Running>,
    pub url: String,
    pub data_dir: tempfile::TempDir,
}

impl TestHost {
    /// Starts warden with `toml`. `{url}` in the TOML is replaced by the public
    /// URL (the port is reserved before the config is built so the issuer and
    /// resource URLs are right), `{data_dir}` by a fresh temp dir.
    pub async fn start(toml: &str) -> TestHost {
        Self::start_with(toml, warden_core::noop_observer()).await
    }

    pub async fn start_with(toml: &str, observer: SharedObserver) -> TestHost {
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
        let running = warden::serve(app).await.expect("serve");
        TestHost {
            running: Some(running),
            url,
            data_dir,
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
        &self.running.as_ref().unwrap().app
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
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        if let Some(r) = &self.running {
            r.app.shutdown.cancel();
        }
    }
}

/// Puts the `[server]` lines of `base` into `toml`'s `[server]` table (or adds one).
fn merge_server(base: &str, toml: &str) -> String {
    let server_lines: String = base.lines().skip(1).map(|l| format!("{l}\n")).collect();
    if let Some(idx) = toml.find("[server]\n") {
        let (a, b) = toml.split_at(idx + "[server]\n".len());
        // Keys in `toml` win: drop base keys that `toml` sets itself in [server].
        let server_body: String = b.split("\n[").next().unwrap_or("").to_string();
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
