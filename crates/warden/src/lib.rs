//! # warden (host)
//!
//! The `warden` binary as a library, so tests and embedders can start the
//! host in-process: [`Config`] (figment: defaults < TOML < `.env` < `WARDEN_*`),
//! [`App`] (providers, guard, tools, routes) and [`serve`].
#![deny(missing_docs)]

pub mod app;
pub mod as_mirror;
pub mod cli;
pub mod config;
mod env_layer;
pub mod error;
pub mod limits;
pub mod log_fields;
pub mod log_writer;
pub mod logging;
pub mod request_id;
mod server;
pub mod telemetry;

pub use app::App;
pub use config::Config;
pub use error::HostError;
pub use server::{serve, Running};
