//! `ScalekitFactory`: `kind = "scalekit"` → a [`JwtVerifier`] preset.

use std::fmt;
use std::sync::Arc;

use warden_core::{BuildError, ProviderContext, ProviderFactory, Verifier};
use warden_jwt::JwtVerifier;
use warden_upstream::config::table_json;

use crate::env::{process_env, SharedEnvLookup};
use crate::{ScalekitConfig, KIND};

/// Builds `kind = "scalekit"` providers; env fallbacks come from the process
/// environment unless another lookup is injected with [`ScalekitFactory::with_env`].
#[derive(Clone)]
pub struct ScalekitFactory {
    env: SharedEnvLookup,
}

impl Default for ScalekitFactory {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ScalekitFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScalekitFactory").finish_non_exhaustive()
    }
}

impl ScalekitFactory {
    /// A factory reading env fallbacks with `std::env::var`.
    pub fn new() -> Self {
        Self {
            env: Arc::new(process_env),
        }
    }

    /// A factory reading env fallbacks through `env` (tests, embedding hosts).
    pub fn with_env(env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        Self { env: Arc::new(env) }
    }

    /// Builds the verifier (no I/O), keeping its concrete type.
    pub fn build_verifier(
        &self,
        ctx: &ProviderContext,
        config: serde_json::Value,
    ) -> Result<Arc<JwtVerifier>, BuildError> {
        let settings = ScalekitConfig::from_value(&ctx.name, config)?.resolve(ctx, &*self.env)?;
        JwtVerifier::new(ctx, settings.jwt)
    }
}

impl ProviderFactory for ScalekitFactory {
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
        table_json(provider, &ScalekitConfig::from_value(provider, config)?)
    }
}
