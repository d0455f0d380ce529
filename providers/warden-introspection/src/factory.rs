//! `IntrospectionFactory`: `kind = "introspection"` → `IntrospectionVerifier`.

use std::sync::Arc;

use warden_core::{BuildError, ProviderContext, ProviderFactory, Verifier};
use warden_upstream::config::table_json;

use crate::config::IntrospectionConfig;
use crate::verifier::IntrospectionVerifier;
use crate::KIND;

/// Builds [`IntrospectionVerifier`]s from `[providers.NAME]` tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct IntrospectionFactory;

impl ProviderFactory for IntrospectionFactory {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn build(
        &self,
        ctx: &ProviderContext,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Verifier>, BuildError> {
        let config = IntrospectionConfig::from_value(&ctx.name, config)?;
        Ok(Arc::new(IntrospectionVerifier::new(&config, ctx)?))
    }

    fn describe(
        &self,
        provider: &str,
        config: serde_json::Value,
    ) -> Result<serde_json::Value, BuildError> {
        table_json(
            provider,
            &IntrospectionConfig::from_value(provider, config)?,
        )
    }
}
