//! Mints many distinct dev tokens at once, the way `warden token` mints one:
//! the same config, the same persisted dev key, the same `DevIssuer::mint`.
//!
//! `mint-tokens --config warden.toml --count 10000 --out tokens.txt`
//! writes one token per line (subjects `user0`, `user1`, …). Minting runs on
//! two threads; 100 000 ES256 tokens take a few seconds.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use warden::{App, Config};
use warden_dev::MintRequest;

/// Mint dev tokens for the load test.
#[derive(Debug, Parser)]
struct Args {
    /// The warden config (the one the server under test runs with).
    #[arg(long)]
    config: PathBuf,
    /// How many tokens.
    #[arg(long)]
    count: usize,
    /// Output file, one token per line.
    #[arg(long)]
    out: PathBuf,
    /// Space-delimited scopes.
    #[arg(long, default_value = "news:read profile")]
    scope: String,
    /// Lifetime.
    #[arg(long, default_value = "2h", value_parser = humantime::parse_duration)]
    ttl: Duration,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // Building the app may start background tasks; give it a runtime.
    let runtime = tokio::runtime::Runtime::new()?;
    let _entered = runtime.enter();
    let config = Config::load(Some(&args.config))?;
    let app = App::build(config, warden_core::noop_observer())?;
    let dev = app
        .dev
        .as_ref()
        .ok_or("the config has no dev provider listed in [auth] providers")?;
    let scopes = warden_core::scope::split_scopes(&args.scope);
    let threads = 2;
    let chunks: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let scopes = scopes.clone();
                s.spawn(move || {
                    (t..args.count)
                        .step_by(threads)
                        .map(|i| {
                            dev.mint(MintRequest {
                                sub: format!("user{i}"),
                                scopes: scopes.clone(),
                                ttl: args.ttl,
                                audience: None,
                                client_id: Some("warden-bench".into()),
                            })
                            .map_err(|e| e.to_string())
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("minting thread"))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args.out)?);
    for token in chunks.iter().flatten() {
        writeln!(out, "{token}")?;
    }
    out.flush()?;
    Ok(())
}
