//! # warden-tools
//!
//! warden's built-in MCP tools, implementing [`warden_core::Tool`]:
//!
//! * [`WhoamiTool`] (`whoami`): what warden verified about the caller's token;
//! * [`NewsSentimentTool`] (`news_sentiment`): Alpha Vantage news sentiment for
//!   a ticker, with per-ticker caching, single-flight, retries and precise
//!   classification of Alpha Vantage's HTTP-200 error bodies.
//!
//! Configuration is the `[tools.*]` table, [`ToolsConfig`];
//! [`ToolsConfig::register`] builds the enabled tools into a
//! [`ToolRegistry`](warden_core::ToolRegistry). Upstream HTTP attempts are
//! reported as [`Event::Upstream`](warden_core::Event::Upstream) with
//! `upstream = "alphavantage"`.
//!
//! ```
//! use std::sync::Arc;
//! use warden_core::{noop_observer, AuthInfo, Tool, ToolRegistry};
//! use warden_tools::{NewsSentimentConfig, NewsSentimentTool, WhoamiTool};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let whoami = WhoamiTool::new();
//! let caller = AuthInfo {
//!     subject: Some("alice".into()),
//!     provider: "dev".into(),
//!     ..Default::default()
//! };
//! let out = whoami.call(Default::default(), &caller).await?;
//! assert_eq!(out.structured["sub"], "alice");
//!
//! // Builds the HTTP client and cache; nothing is sent until a call.
//! let cfg = NewsSentimentConfig { api_key: Some("demo".into()), ..Default::default() };
//! let news = NewsSentimentTool::new(&cfg, noop_observer())?;
//!
//! let mut registry = ToolRegistry::new();
//! registry
//!     .register(Arc::new(whoami), None)
//!     .register(Arc::new(news), Some(cfg.required_scopes.clone()));
//! assert_eq!(registry.get("news_sentiment").unwrap().required_scopes, ["news:read"]);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod alphavantage;
mod args;
mod config;
mod error;
mod feed;
mod http;
mod news;
mod sentiment;
mod setup;
mod ticker;
mod time_fmt;
mod whoami;

pub use config::{
    ApiKeySource, NewsSentimentConfig, ToolsConfig, WhoamiConfig, API_KEY_ENV, DEFAULT_BASE_URL,
    DEMO_API_KEY,
};
pub use error::ToolsError;
pub use news::{NewsSentimentTool, NEWS_SENTIMENT};
pub use ticker::Ticker;
pub use whoami::{WhoamiTool, WHOAMI};
