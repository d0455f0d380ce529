//! The crate's error enum.

/// Why the dev issuer could not mint a token.
///
/// Never carries a secret or a token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DevError {
    /// The mint request is unusable (empty subject, zero lifetime, …).
    #[error("invalid mint request: {reason}")]
    InvalidRequest {
        /// What was wrong.
        reason: String,
    },
    /// Signing failed.
    #[error("signing failed: {reason}")]
    Signing {
        /// What failed.
        reason: String,
    },
}
