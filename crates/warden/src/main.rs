//! The `warden` binary.

use clap::Parser;

/// mimalloc instead of glibc malloc: a request allocates and frees many small
/// buffers on both worker threads, and glibc's arenas spent about 15 % of the
/// CPU under load (`benches/results/profile.md`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = warden::cli::Cli::parse();
    if let Err(e) = warden::cli::run(cli).await {
        eprintln!("warden: {e}");
        std::process::exit(e.exit_code());
    }
}
