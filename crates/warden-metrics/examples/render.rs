//! Prints the metrics exposition with every family populated, e.g. for
//! `cargo run -q -p warden-metrics --example render | promtool check metrics`.

#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let metrics = warden_metrics::Metrics::builder()
        .version(env!("CARGO_PKG_VERSION"))
        .providers(["dev"])
        .tools(["whoami", "news_sentiment"])
        .upstreams(["idp:dev", "alphavantage"])
        .build()
        .expect("metrics");
    metrics.set_build_info(env!("CARGO_PKG_VERSION"), "0123456789ab");
    common::emit_one_of_each(&metrics);
    print!("{}", metrics.render());
}
