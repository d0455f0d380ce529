//! What an operator installing the binary relies on: `--version` names the
//! commit, `WARDEN_CONFIG` selects the config file, shells get completions.

mod common;
use common::{free_port, wait_until_up, warden, Child};

fn stdout_of(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn built_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[test]
fn version_names_the_crate_version_and_the_git_commit() {
    let line = stdout_of(warden().arg("--version"));
    let commit = built_commit();
    assert_eq!(
        line.trim(),
        format!("warden {} (commit {commit})", env!("CARGO_PKG_VERSION")),
    );
    // `-V` is the same line.
    assert_eq!(stdout_of(warden().arg("-V")), line);
}

fn config_with_name(dir: &std::path::Path, file: &str, name: &str) -> std::path::PathBuf {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!("[server]\ndata_dir = \"data\"\n[resource]\nname = \"{name}\"\n"),
    )
    .unwrap();
    path
}

#[test]
fn warden_config_selects_the_file_and_config_flag_wins() {
    let dir = tempfile::tempdir().unwrap();
    let from_env = config_with_name(dir.path(), "env.toml", "from-the-env-file");
    let from_flag = config_with_name(dir.path(), "flag.toml", "from-the-flag-file");

    let shown = stdout_of(warden().arg("check-config").env("WARDEN_CONFIG", &from_env));
    assert!(shown.contains("from-the-env-file"), "{shown}");
    // Relative paths resolve against the selected file's directory, as with --config.
    let data = dir.path().join("data").display().to_string();
    assert!(shown.contains(&data), "{shown}");

    let shown = stdout_of(
        warden()
            .args(["check-config", "--config"])
            .arg(&from_flag)
            .env("WARDEN_CONFIG", &from_env),
    );
    assert!(shown.contains("from-the-flag-file"), "{shown}");

    // A missing file named by WARDEN_CONFIG is an error naming it, not the dev default.
    let out = warden()
        .arg("check-config")
        .env("WARDEN_CONFIG", dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing.toml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // `serve --help` documents the variable.
    let help = stdout_of(warden().args(["serve", "--help"]));
    assert!(help.contains("WARDEN_CONFIG"), "{help}");
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "_warden()"),
        ("zsh", "#compdef warden"),
        ("fish", "complete -c warden"),
    ] {
        let script = stdout_of(warden().args(["completions", shell]));
        assert!(script.contains(marker), "{shell}: {script}");
        for verb in [
            "serve",
            "token",
            "explain-token",
            "check-config",
            "completions",
        ] {
            assert!(script.contains(verb), "{shell} lacks {verb}");
        }
    }
    let out = warden().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The bash script is valid bash: sourcing it defines the completion function.
#[test]
fn bash_completion_script_sources_cleanly() {
    if std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_err()
    {
        return;
    }
    let script = stdout_of(warden().args(["completions", "bash"]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warden.bash");
    std::fs::write(&path, script).unwrap();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p warden", path.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("_warden"));
}

#[tokio::test]
async fn served_metrics_carry_the_build_version_and_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (port, admin) = (free_port(), free_port());
    let url = format!("http://127.0.0.1:{port}");
    let _server = Child(
        warden()
            .current_dir(dir.path())
            .arg("serve")
            .env("WARDEN_SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("WARDEN_SERVER__PUBLIC_URL", &url)
            .env("WARDEN_ADMIN__BIND", format!("127.0.0.1:{admin}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let metrics = format!("http://127.0.0.1:{admin}/metrics");
    wait_until_up(&metrics).await;
    let body = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
    let series = body
        .lines()
        .find(|l| l.starts_with("warden_build_info{"))
        .unwrap_or_else(|| panic!("no warden_build_info in {body}"));
    assert!(
        series.contains(&format!("commit=\"{}\"", built_commit()))
            && series.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION")))
            && series.ends_with(" 1"),
        "{series}"
    );
}
