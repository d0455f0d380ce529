//! `IntrospectionVerifier`: the `Verifier` for `kind = "introspection"`.

use async_trait::async_trait;
use warden_core::{
    AuthError, AuthInfo, BuildError, Check, ProviderContext, ProviderDescriptor, ProviderStatus,
    Verifier,
};

use crate::config::IntrospectionConfig;
use crate::introspector::{Introspector, IntrospectorSettings};
use crate::KIND;

/// Verifies opaque tokens by asking the authorization server (RFC 7662).
///
/// Its descriptor owns no JWT issuers (`issuers: []`): opaque tokens reach
/// it through the fallback order. A JWT whose `iss` is this provider's
/// issuer is therefore not routed here; configure a `jwt` provider for
/// that issuer if the server also issues JWT access tokens.
#[derive(Debug, Clone)]
pub struct IntrospectionVerifier {
    introspector: Introspector,
    descriptor: ProviderDescriptor,
}

impl IntrospectionVerifier {
    /// Builds the verifier for provider `ctx.name` (no network I/O).
    pub fn new(config: &IntrospectionConfig, ctx: &ProviderContext) -> Result<Self, BuildError> {
        config.validate(&ctx.name)?;
        let settings = IntrospectorSettings::from_config(config, ctx)?;
        let descriptor = ProviderDescriptor {
            name: ctx.name.clone(),
            kind: KIND.into(),
            issuers: Vec::new(),
            accepts_opaque: true,
            authorization_servers: config
                .prm_authorization_server()
                .map(str::to_owned)
                .into_iter()
                .collect(),
            audiences: settings.policy.bearer.audiences.clone(),
        };
        if descriptor.authorization_servers.is_empty() {
            tracing::warn!(provider = %ctx.name, "introspection provider has neither issuer nor authorization_server: it adds nothing to the PRM's authorization_servers");
        }
        Ok(IntrospectionVerifier {
            introspector: Introspector::new(settings)?,
            descriptor,
        })
    }

    /// The underlying introspection client (shares the cache).
    pub fn introspector(&self) -> &Introspector {
        &self.introspector
    }
}

#[async_trait]
impl Verifier for IntrospectionVerifier {
    async fn verify(&self, token: &str) -> Result<AuthInfo, AuthError> {
        self.introspector.verify(token).await
    }

    fn descriptor(&self) -> &ProviderDescriptor {
        &self.descriptor
    }

    fn status(&self) -> ProviderStatus {
        self.introspector.status()
    }

    async fn refresh(&self) -> Result<(), AuthError> {
        self.introspector.refresh().await
    }

    fn flush_caches(&self) {
        self.introspector.flush();
    }

    async fn explain(&self, token: &str) -> (Vec<Check>, Result<AuthInfo, AuthError>) {
        self.introspector.explain(token).await
    }
}
