//! Prometheus metrics for warden.
#![deny(missing_docs)]
