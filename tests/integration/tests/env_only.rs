//! One env-only setup: the real `warden` binary,
//! started with no config file at all, configured only by environment
//! variables — `WARDEN_*` plus the Scalekit tutorial's `SCALEKIT_*` names —
//! or only by a `.env` file in its working directory; and `check-config`
//! taking a provider secret from the environment.
//!
//! The binary is a sibling of this test executable (`target/<profile>/warden`,
//! built by `cargo test --workspace`); when it is missing or older than this
//! test it is built first with `cargo build -p warden --bin warden`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use warden_test_support::idp::FakeIdp;
use warden_test_support::mcp::McpClient;

const RES: &str = "res_4711";
const SCALEKIT_SECRET: &str = "sk-client-secret-never-logged";
/// What the Scalekit tutorial's `.env` sets: the MCP server's own metadata URL.
const TUTORIAL_METADATA_URL: &str =
    "http://localhost:10000/.well-known/oauth-protected-resource/mcp";

/// The `warden` binary next to this test executable, built first when it is
/// missing or older than the newest `warden` library in the same target
/// directory (then it predates a change this test was compiled against).
/// `cargo test --workspace` links the binary after the library, so there
/// nothing is rebuilt here.
fn warden_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable");
        let deps = exe.parent().expect("target/<profile>/deps");
        let profile_dir = deps.parent().expect("target/<profile>");
        let bin = profile_dir.join(format!("warden{}", std::env::consts::EXE_SUFFIX));
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let newest_lib = std::fs::read_dir(deps)
            .expect("deps dir")
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("libwarden-") && name.ends_with(".rlib")
            })
            .filter_map(|e| modified(&e.path()))
            .max();
        let stale = match (modified(&bin), newest_lib) {
            (None, _) => true,
            (Some(bin), Some(lib)) => bin < lib,
            (Some(_), None) => false,
        };
        if stale {
            eprintln!("env_only: building the warden binary (missing or older than the library)");
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let mut build = Command::new(env!("CARGO"));
            build
                .current_dir(&workspace)
                .args(["build", "-p", "warden", "--bin", "warden"]);
            // Drop what `cargo test` sets for this test process: build scripts
            // (ring's) rerun when these differ, which would rebuild dependencies.
            for (key, _) in std::env::vars_os() {
                let key = key.to_string_lossy();
                if key.starts_with("CARGO_PKG_")
                    || key.starts_with("CARGO_MANIFEST_")
                    || [
                        "CARGO_CRATE_NAME",
                        "CARGO_BIN_NAME",
                        "CARGO_PRIMARY_PACKAGE",
                        "CARGO_TARGET_TMPDIR",
                        "CARGO_RUSTC_CURRENT_DIR",
                        "OUT_DIR",
                    ]
                    .contains(&key.as_ref())
                {
                    build.env_remove(key.as_ref());
                }
            }
            if !cfg!(debug_assertions) {
                build.arg("--release");
            }
            let status = build.status().expect("run cargo build");
            assert!(status.success(), "cargo build -p warden failed");
        }
        assert!(bin.exists(), "{} missing after build", bin.display());
        bin
    })
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let unique: u64 = rand_suffix();
        let dir = std::env::temp_dir().join(format!(
            "warden-env-only-{tag}-{}-{unique:x}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}

/// A `warden` process with a clean environment: nothing inherited, so only
/// what the test sets (or the child's `.env`) configures it.
fn warden(dir: &Path) -> Command {
    let mut c = Command::new(warden_bin());
    c.env_clear().current_dir(dir);
    c
}

/// The server child; killed (by its own id) and reaped on drop.
struct Server {
    child: std::process::Child,
    dir: TempDir,
}

impl Server {
    fn spawn(mut command: Command, dir: TempDir) -> Server {
        let out = std::fs::File::create(dir.path().join("stdout.log")).unwrap();
        let err = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let child = command
            .args(["serve"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn warden serve");
        Server { child, dir }
    }

    fn logs(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!("{}{}", read("stdout.log"), read("stderr.log"))
    }

    /// Polls until `token` is accepted by `initialize` (bounded); panics with
    /// the server's output if it exits or never accepts.
    async fn wait_accepts(&mut self, mcp_url: &str, token: &str) {
        let client = McpClient::new(mcp_url, Some(token.to_owned()));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("warden exited with {status}:\n{}", self.logs());
            }
            let attempt = client
                .http
                .post(mcp_url)
                .bearer_auth(token)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .body(initialize_body().to_string())
                .send()
                .await;
            let last = match attempt {
                Ok(resp) if resp.status().as_u16() == 200 => return,
                Ok(resp) => format!(
                    "{} {}",
                    resp.status(),
                    resp.text().await.unwrap_or_default()
                ),
                Err(e) => e.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "token never accepted (last: {last}):\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn initialize_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                      "clientInfo": {"name": "env-only", "version": "0"}}})
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The env-only setup: the host's `WARDEN_*` keys plus the Scalekit
/// tutorial's variables, for provider `sk` against `idp`.
fn env_only_vars(port: u16, idp: &FakeIdp) -> Vec<(&'static str, String)> {
    vec![
        ("WARDEN_SERVER__BIND", format!("127.0.0.1:{port}")),
        (
            "WARDEN_SERVER__PUBLIC_URL",
            format!("http://127.0.0.1:{port}"),
        ),
        ("WARDEN_ADMIN__BIND", "127.0.0.1:0".into()),
        ("WARDEN_AUTH__PROVIDERS", r#"["sk"]"#.into()),
        ("WARDEN_PROVIDERS__SK__KIND", "scalekit".into()),
        ("WARDEN_TOOLS__NEWS_SENTIMENT__ENABLED", "false".into()),
        ("SCALEKIT_ENVIRONMENT_URL", idp.origin()),
        ("SCALEKIT_AUDIENCE_NAME", RES.into()),
        (
            "SCALEKIT_RESOURCE_METADATA_URL",
            TUTORIAL_METADATA_URL.into(),
        ),
        ("SCALEKIT_CLIENT_ID", "skc_tutorial".into()),
        ("SCALEKIT_CLIENT_SECRET", SCALEKIT_SECRET.into()),
    ]
}

/// A Scalekit-shaped token: post-migration issuer, `aud` = the resource id,
/// `scopes` array.
fn scalekit_token(idp: &FakeIdp, aud: &str, sub: &str) -> String {
    let mut claims = idp.claims(aud, sub, "");
    claims["iss"] = json!(format!("{}/resources/{RES}", idp.origin()));
    claims.as_object_mut().unwrap().remove("scope");
    claims["scopes"] = json!(["news:read", "profile"]);
    idp.mint(claims)
}

/// Checks the running env-configured host: whoami names provider `sk`, the
/// metadata names Scalekit, a token for another audience is refused, and the
/// Scalekit client secret never reached the output.
async fn check_scalekit_host(server: &mut Server, idp: &FakeIdp, url: &str) {
    let mcp = format!("{url}/mcp");
    let token = scalekit_token(idp, RES, "usr_env");
    server.wait_accepts(&mcp, &token).await;

    let mut client = McpClient::new(mcp.as_str(), Some(token));
    assert_eq!(client.initialize().await.status, 200);
    let reply = client.call_tool("whoami", json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let me = &reply.result()["structuredContent"];
    assert_eq!(me["provider"], "sk", "{me}");
    assert_eq!(me["sub"], "usr_env", "{me}");
    assert_eq!(
        me["issuer"],
        format!("{}/resources/{RES}", idp.origin()),
        "{me}"
    );
    assert_eq!(me["scopes"], json!(["news:read", "profile"]), "{me}");

    let prm: Value = reqwest::get(format!("{url}/.well-known/oauth-protected-resource/mcp"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        prm["authorization_servers"],
        json!([format!("{}/resources/{RES}", idp.origin())]),
        "{prm}"
    );

    let foreign = McpClient::new(mcp.as_str(), Some(scalekit_token(idp, "res_other", "u")))
        .request("initialize", initialize_body()["params"].clone())
        .await;
    assert_eq!(foreign.status, 401, "{}", foreign.body);

    assert!(idp.counts().jwks >= 1, "{:?}", idp.counts());
    assert!(
        !server.logs().contains(SCALEKIT_SECRET),
        "{}",
        server.logs()
    );
    check_log_file(server).await;
}

/// The binary's log, written to a file by its log thread: access lines arrive
/// without the process exiting, carry no terminal colour codes, and nothing
/// buffered is lost when SIGTERM ends the process.
async fn check_log_file(server: &mut Server) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.logs().contains("warden::access") {
        assert!(
            Instant::now() < deadline,
            "no access log line while running:\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "warden ignored SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logs = server.logs();
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(logs.contains("server stopped"), "last lines lost:\n{logs}");
    assert!(
        !logs.contains('\x1b'),
        "colour codes in a log file:\n{logs}"
    );
}

#[tokio::test]
async fn env_only_scalekit_setup_serves_without_a_config_file() {
    let idp = FakeIdp::builder().jwks_path("/keys").start().await;
    let port = free_port();
    let dir = TempDir::new("env");
    let mut command = warden(dir.path());
    command.envs(env_only_vars(port, &idp));
    let mut server = Server::spawn(command, dir);
    check_scalekit_host(&mut server, &idp, &format!("http://127.0.0.1:{port}")).await;
}

#[tokio::test]
async fn dotenv_file_alone_configures_the_scalekit_setup() {
    let idp = FakeIdp::builder().jwks_path("/keys").start().await;
    let port = free_port();
    let dir = TempDir::new("dotenv");
    let dotenv: String = env_only_vars(port, &idp)
        .into_iter()
        .map(|(k, v)| format!("{k}='{v}'\n"))
        .collect();
    std::fs::write(dir.path().join(".env"), dotenv).unwrap();
    // No environment at all: everything comes from ./.env.
    let command = warden(dir.path());
    let mut server = Server::spawn(command, dir);
    check_scalekit_host(&mut server, &idp, &format!("http://127.0.0.1:{port}")).await;
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config")
        .join(format!("{name}.toml"))
}

fn check_config(dir: &Path, name: &str, env: &[(&str, &str)]) -> Output {
    warden(dir)
        .args(["check-config", "--config"])
        .arg(example(name))
        .envs(env.iter().copied())
        .output()
        .expect("run warden check-config")
}

#[test]
fn example_configs_pass_check_config_with_secrets_from_the_environment() {
    let dir = TempDir::new("check");
    for name in ["scalekit", "logto"] {
        let out = check_config(dir.path(), name, &[]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON config");
        assert_eq!(printed["auth"]["providers"], json!([name]), "{printed}");
    }

    // introspection.toml leaves the client secret to the environment.
    let missing = check_config(dir.path(), "introspection", &[]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("client_secret"), "{stderr}");

    let secret = "corp-secret-from-env-93f1";
    let out = check_config(
        dir.path(),
        "introspection",
        &[("WARDEN_PROVIDERS__CORP__CLIENT_SECRET", secret)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains(secret), "secret printed: {stdout}");
    let printed: Value = serde_json::from_str(&stdout).expect("JSON config");
    assert_eq!(printed["providers"]["corp"]["client_secret"], "***");
    assert_eq!(printed["providers"]["corp"]["kind"], "introspection");
}

#[test]
fn unrelated_warden_variables_are_ignored_but_typos_in_a_section_are_named() {
    let dir = TempDir::new("unrelated");
    // Scripts around warden use the prefix too (CI sets both of these).
    let out = check_config(
        dir.path(),
        "scalekit",
        &[
            ("WARDEN_BIN", "/usr/bin/warden"),
            ("WARDEN_REQUIRE_PROMETHEUS", "1"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let typo = check_config(dir.path(), "scalekit", &[("WARDEN_SERVER__BNID", "x")]);
    assert_eq!(typo.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert!(stderr.contains("bnid"), "{stderr}");
}

/// A provider defined without `auth.providers` would leave only the dev issuer
/// (with its well-known client secret) in charge: refused, naming the fix.
#[test]
fn a_provider_without_auth_providers_is_refused() {
    let dir = TempDir::new("implicit-dev");
    let out = warden(dir.path())
        .arg("check-config")
        .env("WARDEN_PROVIDERS__CORP__KIND", "jwt")
        .env("WARDEN_PROVIDERS__CORP__ISSUER", "https://idp.example")
        .output()
        .expect("run warden check-config");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("auth.providers") && stderr.contains(r#"["corp"]"#),
        "{stderr}"
    );
    let ok = warden(dir.path())
        .arg("check-config")
        .env("WARDEN_AUTH__PROVIDERS", r#"["corp"]"#)
        .env("WARDEN_PROVIDERS__CORP__KIND", "jwt")
        .env("WARDEN_PROVIDERS__CORP__ISSUER", "https://idp.example")
        .output()
        .expect("run warden check-config");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}
