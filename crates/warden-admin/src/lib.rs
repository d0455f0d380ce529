//! warden admin surface.
#![deny(missing_docs)]
