//! `JwtProviderFactory`: `kind = "jwt"` → [`JwtVerifier`](crate::JwtVerifier).

use std::sync::Arc;

use warden_core::{BuildError, ProviderContext, ProviderFactory, Verifier};
use warden_upstream::config::table_json;

use crate::{JwtConfig, JwtVerifier};

/// Builds `kind = "jwt"` providers from their config table.
#[derive(Debug, Default, Clone, Copy)]
pub struct JwtProviderFactory;

impl ProviderFactory for JwtProviderFactory {
    fn kind(&self) -> &'static str {
        "jwt"
    }

    fn build(
        &self,
        ctx: &ProviderContext,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Verifier>, BuildError> {
        let settings = JwtConfig::from_value(&ctx.name, config)?.into_settings(&ctx.name)?;
        Ok(JwtVerifier::new(ctx, settings)?)
    }

    fn describe(
        &self,
        provider: &str,
        config: serde_json::Value,
    ) -> Result<serde_json::Value, BuildError> {
        table_json(provider, &JwtConfig::from_value(provider, config)?)
    }
}
