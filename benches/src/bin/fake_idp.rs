//! The in-tree fake IdP (`warden_test_support::idp::FakeIdp`) as a process,
//! for the introspection row of the load test.
//!
//! `fake-idp --aud http://127.0.0.1:10200/mcp --count 1 --tokens tokens.txt`
//! listens on `127.0.0.1:<random port>`, registers `count` active opaque
//! tokens for `aud` (valid for `--ttl`), writes them to `--tokens`, prints
//! `key=value` lines (`introspection_url`, `issuer`, `client_id`,
//! `client_secret`) and serves until SIGINT/SIGTERM, then prints the number
//! of introspection requests it answered (`introspections=N`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use serde_json::json;
use warden_test_support::idp::FakeIdp;
use warden_test_support::tokens::now;

/// A fake RFC 7662 authorization server on loopback.
#[derive(Debug, Parser)]
struct Args {
    /// The `aud` the registered tokens carry (warden's MCP URL).
    #[arg(long)]
    aud: String,
    /// How many opaque tokens to register.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Where to write the tokens, one per line.
    #[arg(long)]
    tokens: PathBuf,
    /// Space-delimited scopes of the tokens.
    #[arg(long, default_value = "news:read profile")]
    scope: String,
    /// Lifetime of the tokens (`exp` in the introspection answer).
    #[arg(long, default_value = "2h", value_parser = humantime::parse_duration)]
    ttl: Duration,
}

async fn terminated() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let idp = FakeIdp::builder()
        .algs([jsonwebtoken::Algorithm::ES256])
        .start()
        .await;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args.tokens)?);
    for i in 0..args.count {
        let iat = now();
        let token = idp.register_opaque(json!({
            "active": true,
            "scope": args.scope,
            "client_id": "warden-bench",
            "sub": format!("user{i}"),
            "aud": args.aud,
            "iss": idp.issuer(),
            "iat": iat,
            "exp": iat + args.ttl.as_secs() as i64,
            "token_type": "Bearer",
        }));
        writeln!(out, "{token}")?;
    }
    out.flush()?;
    println!("introspection_url={}", idp.introspection_url());
    println!("issuer={}", idp.issuer());
    println!("client_id={}", idp.client_id());
    println!("client_secret={}", idp.client_secret());
    println!("ready=1");
    std::io::stdout().flush()?;
    terminated().await;
    println!("introspections={}", idp.counts().introspection);
    idp.stop().await;
    Ok(())
}
