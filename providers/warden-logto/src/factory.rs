//! `LogtoFactory`: `kind = "logto"` → [`LogtoVerifier`].

use std::sync::Arc;

use warden_core::{BuildError, ProviderContext, ProviderFactory, Verifier};
use warden_upstream::config::table_json;

use crate::{LogtoConfig, LogtoVerifier, KIND};

/// Builds `kind = "logto"` providers from their config table.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogtoFactory;

impl LogtoFactory {
    /// Builds the verifier (no I/O), keeping its concrete type.
    pub fn build_verifier(
        &self,
        ctx: &ProviderContext,
        config: serde_json::Value,
    ) -> Result<Arc<LogtoVerifier>, BuildError> {
        let settings = LogtoConfig::from_value(&ctx.name, config)?.into_settings(ctx)?;
        LogtoVerifier::new(ctx, settings)
    }
}

impl ProviderFactory for LogtoFactory {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn build(
        &self,
        ctx: &ProviderContext,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Verifier>, BuildError> {
        Ok(self.build_verifier(ctx, config)?)
    }

    fn describe(
        &self,
        provider: &str,
        config: serde_json::Value,
    ) -> Result<serde_json::Value, BuildError> {
        table_json(provider, &LogtoConfig::from_value(provider, config)?)
    }
}
