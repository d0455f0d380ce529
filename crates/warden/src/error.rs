//! The host's error enum.

/// Why the host could not start or a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The configuration is invalid (exit code 2); the message names the key.
    #[error("configuration error: {0}")]
    Config(String),
    /// A provider or tool could not be built from its table (exit code 2).
    #[error("configuration error: {0}")]
    Build(#[from] warden_core::BuildError),
    /// A command could not do its job (exit code 1).
    #[error("{0}")]
    Runtime(String),
    /// `explain-token`: the token would be rejected (exit code 1, details printed).
    #[error("the token would be rejected")]
    Rejected,
    /// I/O failure (binding, files).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl HostError {
    /// The process exit code for this error: 2 for configuration errors, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            HostError::Config(_) | HostError::Build(_) => 2,
            _ => 1,
        }
    }
}
