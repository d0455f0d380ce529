//! The CLI contract, driving the real `warden` binary.

use std::process::Stdio;
use std::time::Duration;

mod common;
use common::{free_port, wait_until_up, warden, Child};

#[tokio::test]
async fn serve_without_config_and_token_from_another_process() {
    // The embedded default binds 127.0.0.1:10000; the environment moves it to a
    // free port (the layering contract) so tests can run anywhere.
    let dir = tempfile::tempdir().unwrap();
    // `warden token` runs from another directory: without a config file both
    // processes keep state in $XDG_STATE_HOME/warden, so they share the key.
    let elsewhere = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _server = Child(
        warden()
            .current_dir(dir.path())
            .args(["serve"])
            .env("WARDEN_SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("WARDEN_SERVER__PUBLIC_URL", &url)
            .env("XDG_STATE_HOME", state.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until_up(&format!("{url}/healthz")).await;

    let out = warden()
        .current_dir(elsewhere.path())
        .env("XDG_STATE_HOME", state.path())
        .args(["token", "--scope", "news:read", "--sub", "carol"])
        .env("WARDEN_SERVER__PUBLIC_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(token.split('.').count(), 3);

    let key = state.path().join("warden").join("dev-es256.pem");
    assert!(!dir.path().join(".warden").exists() && !elsewhere.path().join(".warden").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key)
            .expect("dev key persisted")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let client = reqwest::Client::new();
    let init = serde_json::json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let resp = client
        .post(format!("{url}/mcp"))
        .bearer_auth(&token)
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(body.contains("\"protocolVersion\""), "{body}");

    let resp = client
        .post(format!("{url}/mcp"))
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[test]
fn check_config_prints_redacted_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.toml");
    std::fs::write(
        &path,
        r#"
[server]
data_dir = "DATA"
[providers.dev]
kind = "dev"
clients = [{ client_id = "c1", client_secret = "super-secret-value", scopes = ["news:read"] }]
[tools.news_sentiment]
api_key = "AV-SECRET-KEY"
"#
        .replace("DATA", &dir.path().display().to_string()),
    )
    .unwrap();
    let out = warden()
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"bind\""), "{stdout}");
    assert!(!stdout.contains("super-secret-value"), "{stdout}");
    assert!(!stdout.contains("AV-SECRET-KEY"), "{stdout}");
    assert!(stdout.contains("***"));
}

/// Secrets set in the environment are strings whatever they look like (all
/// digits, leading zeros, decimals), never appear in any output, and booleans
/// still show as booleans.
#[test]
fn secrets_from_the_environment_are_strings_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.toml");
    std::fs::write(
        &path,
        r#"
[auth]
providers = ["corp"]
[providers.corp]
kind = "introspection"
introspection_url = "http://127.0.0.1:9/introspect"
client_id = "warden"
"#,
    )
    .unwrap();
    let secrets = [
        ("WARDEN_ADMIN__TOKEN", "98765432109876"),
        ("WARDEN_TOOLS__NEWS_SENTIMENT__API_KEY", "0123456789"),
        ("WARDEN_PROVIDERS__CORP__CLIENT_SECRET", "31415.92653"),
    ];
    let run = |extra: &[(&str, &str)]| {
        let mut cmd = warden();
        cmd.current_dir(dir.path())
            .args(["check-config", "--config"])
            .arg(&path)
            .env("WARDEN_ADMIN__METRICS_REQUIRE_TOKEN", "true");
        for (k, v) in secrets.iter().chain(extra) {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for (_, secret) in secrets {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{stdout}{stderr}"
        );
    }
    let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["admin"]["token"], "***");
    assert_eq!(shown["admin"]["metrics_require_token"], true);
    assert_eq!(shown["tools"]["news_sentiment"]["api_key"], "***");
    assert_eq!(shown["providers"]["corp"]["client_secret"], "***");
    assert_eq!(shown["providers"]["corp"]["client_id"], "warden");
    assert_eq!(shown["providers"]["corp"]["kind"], "introspection");

    // A configuration error elsewhere repeats none of the secrets either.
    let out = run(&[("WARDEN_SERVER__MAX_BODY_BYTES", "lots")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("max_body_bytes") || stderr.contains("MAX_BODY_BYTES"),
        "{stderr}"
    );
    for (_, secret) in secrets {
        assert!(!stderr.contains(secret), "{stderr}");
    }
    // A secret of the wrong shape is named, not shown.
    let out = run(&[("WARDEN_ADMIN__TOKEN", "[98765432109876]")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("TOKEN") && stderr.contains("secret string"),
        "{stderr}"
    );
    assert!(!stderr.contains("98765432109876"), "{stderr}");
}

/// `warden check-config` writes nothing: no dev key, no state directory.
#[test]
fn check_config_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let out = warden()
        .current_dir(dir.path())
        .env("XDG_STATE_HOME", &state)
        .arg("check-config")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "check-config wrote {left:?}");
}

/// An all-digit admin token set in the environment works as the admin bearer token.
#[tokio::test]
async fn all_digit_admin_token_opens_the_admin_api() {
    let dir = tempfile::tempdir().unwrap();
    let (port, admin) = (free_port(), free_port());
    let token = "0098765432109876";
    let _server = Child(
        warden()
            .current_dir(dir.path())
            .arg("serve")
            .env("WARDEN_SERVER__BIND", format!("127.0.0.1:{port}"))
            .env(
                "WARDEN_SERVER__PUBLIC_URL",
                format!("http://127.0.0.1:{port}"),
            )
            .env("WARDEN_ADMIN__BIND", format!("127.0.0.1:{admin}"))
            .env("WARDEN_ADMIN__TOKEN", token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{admin}");
    wait_until_up(&format!("{base}/admin/v1/health")).await;
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("{base}/admin/v1/config"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(
        !body.contains(token) && !body.contains("98765432109876"),
        "{body}"
    );
    let shown: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown["admin"]["token"], "***");
    assert_eq!(shown["admin"]["metrics_require_token"], false);
    // The number it would have been read as is not the token.
    let resp = client
        .get(format!("{base}/admin/v1/config"))
        .bearer_auth("98765432109876")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[test]
fn config_errors_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[server]\nbindd = \"127.0.0.1:1\"\n", "bindd"),
        ("[server]\npublic_url = \"::nope\"\n", "server.public_url"),
        ("[auth]\nproviders = [\"corp\"]\n", "corp"),
        ("[providers.dev]\nkind = \"dev\"\nbogus = 1\n", "bogus"),
        ("[auth]\nleeway = \"soon\"\n", "leeway"),
        (
            "[auth]\nproviders = [\"x\"]\n[providers.x]\nkind = \"martian\"\n",
            "martian",
        ),
    ];
    for (i, (toml, needle)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, toml).unwrap();
        let out = warden()
            .args(["check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {stderr}");
        assert!(stderr.contains(needle), "case {i}: {stderr}");
    }
}

#[test]
fn env_overrides_toml_with_double_underscore_nesting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.toml");
    std::fs::write(&path, "[server]\nmcp_path = \"/mcp\"\n").unwrap();
    let out = warden()
        .current_dir(dir.path())
        .args(["check-config", "--config"])
        .arg(&path)
        .env("WARDEN_SERVER__MCP_PATH", "/tools")
        .env("WARDEN_AUTH__LEEWAY", "5m")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"/tools\""), "{stdout}");
    assert!(stdout.contains("5m"), "{stdout}");
}

#[test]
fn dotenv_file_sits_between_toml_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "WARDEN_SERVER__MCP_PATH=/from-dotenv\nWARDEN_RESOURCE__NAME=dotenv-name\n",
    )
    .unwrap();
    let out = warden()
        .current_dir(dir.path())
        .args(["check-config"])
        .env("WARDEN_RESOURCE__NAME", "env-name")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("/from-dotenv"), "{stdout}");
    assert!(
        stdout.contains("env-name") && !stdout.contains("dotenv-name"),
        "{stdout}"
    );
}

#[test]
fn token_without_dev_provider_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.toml");
    std::fs::write(
        &path,
        "[auth]\nproviders = [\"corp\"]\n[providers.corp]\nkind = \"jwt\"\nissuer = \"https://idp.example\"\njwks_url = \"https://idp.example/jwks\"\n",
    )
    .unwrap();
    let out = warden()
        .args(["token", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no dev provider"), "{stderr}");
}

#[test]
fn dev_issuer_refuses_non_loopback_bind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.toml");
    std::fs::write(
        &path,
        "[server]\nbind = \"0.0.0.0:10000\"\n[providers.dev]\nkind = \"dev\"\n",
    )
    .unwrap();
    let out = warden()
        .current_dir(dir.path())
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("allow_non_loopback"), "{stderr}");
}

#[tokio::test]
async fn serve_logs_urls_as_json_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let log = dir.path().join("stderr.log");
    let _server = Child(
        warden()
            .current_dir(dir.path())
            .args(["serve", "--json-logs"])
            .env("WARDEN_SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("WARDEN_SERVER__PUBLIC_URL", &url)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_until_up(&format!("{url}/healthz")).await;
    let mut line = None;
    for _ in 0..100 {
        let text = std::fs::read_to_string(&log).unwrap();
        line = text
            .lines()
            .find(|l| l.contains("warden listening"))
            .map(str::to_owned);
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = line.expect("startup line");
    let v: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
    assert_eq!(v["mcp"], format!("{url}/mcp"));
    assert_eq!(
        v["prm"],
        format!("{url}/.well-known/oauth-protected-resource/mcp")
    );
    assert_eq!(v["dev_issuer"], format!("{url}/dev"));
}

#[test]
fn explain_token_reports_every_check_and_exits_by_verdict() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let token = {
        let out = warden()
            .current_dir(dir.path())
            .args(["token", "--scope", "profile"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let out = warden()
        .current_dir(dir.path())
        .args(["explain-token", &token])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["accepted"], true);
    assert_eq!(v["provider"], "dev");
    let names: Vec<_> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    for n in ["signature", "issuer", "audience", "expiry"] {
        assert!(names.iter().any(|x| x == n), "{names:?}");
    }
    assert!(!stdout.contains(&token));

    // From stdin, with a tampered token: rejected, exit 1, the failing check named.
    let mut bad = token.clone();
    bad.truncate(bad.len() - 4);
    bad.push_str("AAAA");
    let mut child = warden()
        .current_dir(dir.path())
        .args(["explain-token", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(bad.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["accepted"], false);
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "signature" && c["passed"] == false),
        "{v}"
    );
}
