//! Sends one MCP `tools/call whoami` per token in a file, each token exactly
//! once, `--concurrency` at a time: fills warden's token caches with a known
//! number of distinct tokens (for the RSS measurement) and checks they were
//! all accepted.
//!
//! `drive --url http://127.0.0.1:10200/mcp --tokens tokens.txt --concurrency 32`
//! prints `sent=N ok=M other=K seconds=S` (ok = HTTP 200 with a JSON-RPC result).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use futures::StreamExt;

/// Drive each token once through warden.
#[derive(Debug, Parser)]
struct Args {
    /// The MCP endpoint (loopback).
    #[arg(long)]
    url: String,
    /// Token file, one per line.
    #[arg(long)]
    tokens: PathBuf,
    /// Requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

const BODY: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let url = reqwest::Url::parse(&args.url)?;
    if !url
        .host_str()
        .is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]")
    {
        return Err("drive only talks to loopback".into());
    }
    let text = std::fs::read_to_string(&args.tokens)?;
    let tokens: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let started = Instant::now();
    let results: Vec<bool> = futures::stream::iter(tokens.iter())
        .map(|token| {
            let client = client.clone();
            let url = url.clone();
            async move {
                let response = client
                    .post(url)
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", "2025-11-25")
                    .body(BODY)
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status() == 200 => {
                        r.text().await.is_ok_and(|body| body.contains("\"result\""))
                    }
                    _ => false,
                }
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let ok = results.iter().filter(|r| **r).count();
    println!(
        "sent={} ok={} other={} seconds={:.2}",
        results.len(),
        ok,
        results.len() - ok,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
