//! Helpers shared by the tests that drive the real `warden` binary.
#![allow(dead_code, unreachable_pub)]

use std::process::Command;
use std::time::Duration;

/// A per-test-process state directory, so no test writes to the real
/// `~/.local/state/warden` (tests that check the state directory set their own).
pub fn test_state_home() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

pub fn warden() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_warden"));
    c.env_remove("RUST_LOG");
    c.env("XDG_STATE_HOME", test_state_home());
    // Parallel tests must not fight over the default admin port.
    c.env("WARDEN_ADMIN__BIND", "127.0.0.1:0");
    for (k, _) in std::env::vars() {
        if k.starts_with("WARDEN_") {
            c.env_remove(k);
        }
    }
    c
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Child(pub std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn wait_until_up(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {url} did not come up");
}
