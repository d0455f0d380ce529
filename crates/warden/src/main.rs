//! The `warden` binary.

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = warden::cli::Cli::parse();
    if let Err(e) = warden::cli::run(cli).await {
        eprintln!("warden: {e}");
        std::process::exit(e.exit_code());
    }
}
