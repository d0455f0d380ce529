//! The command line: `serve`, `token`, `explain-token`, `check-config`, `completions`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::{Config, LogFormat};
use crate::error::HostError;
use crate::App;

/// The version line: the crate version and the git commit the binary was built
/// from (`unknown` when it was built outside a git checkout without
/// `WARDEN_GIT_COMMIT`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("WARDEN_GIT_COMMIT"),
    ")"
);

/// The git commit the binary was built from (`unknown` if not known).
pub const GIT_COMMIT: &str = env!("WARDEN_GIT_COMMIT");

/// warden: OAuth 2.1 in front of MCP tools.
#[derive(Debug, Parser)]
#[command(name = "warden", version = VERSION, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP behind bearer auth (without --config: the embedded dev default).
    Serve {
        /// TOML config file (default: `$WARDEN_CONFIG`, else the embedded dev default).
        #[arg(long, short, env = "WARDEN_CONFIG")]
        config: Option<PathBuf>,
        /// Log as JSON lines (same as `[log] format = "json"`).
        #[arg(long)]
        json_logs: bool,
    },
    /// Print a dev access token (JWT) signed by the embedded dev issuer.
    Token {
        /// TOML config file (default: `$WARDEN_CONFIG`, else the embedded dev default).
        #[arg(long, short, env = "WARDEN_CONFIG")]
        config: Option<PathBuf>,
        /// Subject.
        #[arg(long, default_value = "alice")]
        sub: String,
        /// Space-delimited scopes.
        #[arg(long, default_value = "news:read profile")]
        scope: String,
        /// Lifetime (`1h`, `15m`).
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        ttl: Duration,
        /// Audience (default: the canonical MCP URL).
        #[arg(long)]
        aud: Option<String>,
    },
    /// Run a token through every check without serving anything (reads `-` from stdin).
    ExplainToken {
        /// TOML config file (default: `$WARDEN_CONFIG`, else the embedded dev default).
        #[arg(long, short, env = "WARDEN_CONFIG")]
        config: Option<PathBuf>,
        /// The token, or `-` to read it from standard input.
        token: String,
    },
    /// Print the effective config (secrets redacted); exit 0 if valid, 2 if not.
    CheckConfig {
        /// TOML config file (default: `$WARDEN_CONFIG`, else the embedded dev default).
        #[arg(long, short, env = "WARDEN_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print a shell completion script (`warden completions bash > /etc/bash_completion.d/warden`).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> Result<(), HostError> {
    match cli.command {
        Command::Serve { config, json_logs } => {
            let mut cfg = Config::load(config.as_deref())?;
            if json_logs {
                cfg.log.format = LogFormat::Json;
            }
            let _log_writer = crate::logging::init_with_telemetry(&cfg.log, &cfg.telemetry)?;
            let app = App::build(cfg, warden_core::noop_observer())?;
            let running = crate::serve(app).await?;
            let cfg = &running.app.config;
            let dev = running
                .app
                .dev
                .as_ref()
                .map(|d| d.issuer().to_owned())
                .unwrap_or_else(|| "-".into());
            tracing::info!(
                bind = %running.addr,
                mcp = %cfg.resource_url(),
                prm = %warden_core::metadata_url(&cfg.server.public_url, &cfg.server.mcp_path),
                dev_issuer = %dev,
                "warden listening: MCP {} | PRM {} | dev issuer {}",
                cfg.resource_url(),
                warden_core::metadata_url(&cfg.server.public_url, &cfg.server.mcp_path),
                dev
            );
            let shutdown = running.app.shutdown.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                tracing::info!("shutting down: finishing in-flight requests");
                shutdown.cancel();
            });
            running.shutdown_when_cancelled().await;
            Ok(())
        }
        Command::Token {
            config,
            sub,
            scope,
            ttl,
            aud,
        } => {
            let cfg = Config::load(config.as_deref())?;
            let app = App::build(cfg, warden_core::noop_observer())?;
            let dev = app.dev.as_ref().ok_or_else(|| {
                HostError::Runtime("no dev provider is configured: add a [providers.NAME] table with kind = \"dev\" and list it in [auth] providers".into())
            })?;
            let token = dev
                .mint(warden_dev::MintRequest {
                    sub,
                    scopes: warden_core::scope::split_scopes(&scope),
                    ttl,
                    audience: aud,
                    client_id: None,
                })
                .map_err(|e| HostError::Runtime(e.to_string()))?;
            println!("{token}");
            Ok(())
        }
        Command::ExplainToken { config, token } => {
            let cfg = Config::load(config.as_deref())?;
            let app = App::build(cfg, warden_core::noop_observer())?;
            let token = if token == "-" {
                let mut buf = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut buf)?;
                buf.trim().to_owned()
            } else {
                token
            };
            for provider in app.guard.providers().providers() {
                let _ = provider.refresh().await;
            }
            let explanation = warden_admin::explain_token(&app.guard, &app.tools, &token).await;
            println!(
                "{}",
                serde_json::to_string_pretty(&explanation).unwrap_or_default()
            );
            if explanation.accepted {
                Ok(())
            } else {
                Err(HostError::Rejected)
            }
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "warden", &mut std::io::stdout());
            Ok(())
        }
        Command::CheckConfig { config } => {
            let cfg = Config::load(config.as_deref())?;
            let shown = cfg.redacted(&crate::app::provider_registry());
            App::check(cfg)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&shown).unwrap_or_default()
            );
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
