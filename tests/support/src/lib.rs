//! Shared helpers for warden's cross-crate tests: a fake identity provider
//! with real keys and signatures, a fake Alpha Vantage, token minting, and
//! an in-process warden host. Everything listens on loopback only.
#![allow(missing_docs)]

pub mod alphavantage;
pub mod idp;
pub mod tokens;
