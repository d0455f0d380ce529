//! Shared helpers for warden's cross-crate tests: a fake identity provider
//! with real keys and signatures, a fake Alpha Vantage, token minting, a raw
//! MCP client, and an in-process warden host. Everything listens on loopback only.
#![allow(missing_docs)]

pub mod alphavantage;
pub mod host;
pub mod idp;
pub mod logs;
pub mod mcp;
pub mod tokens;
