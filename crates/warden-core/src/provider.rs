//! Provider factories (kind name → builder) and the routing set of providers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::{jwt_peek, AuthError, AuthInfo, Check, SharedObserver, Verifier};

/// Where hosts serve the legacy HTTP+SSE transport (MCP 2024-11-05).
pub const LEGACY_SSE_PATH: &str = "/sse";

/// What every provider builder gets from the host besides its own table.
#[derive(Clone)]
pub struct ProviderContext {
    /// The `[providers.NAME]` table name.
    pub name: String,
    /// `server.public_url`, no trailing slash.
    pub public_url: String,
    /// The canonical MCP resource URL (`public_url` + `mcp_path`).
    pub resource: String,
    /// `auth.leeway`.
    pub leeway: Duration,
    /// Where metrics events go.
    pub observer: SharedObserver,
    /// A directory for state a provider persists (the dev key).
    pub data_dir: PathBuf,
}

impl ProviderContext {
    /// Audiences a provider expects when its config names none: the canonical MCP
    /// URL, then the legacy HTTP+SSE endpoint's URL (`{public_url}/sse`) — the same
    /// server, which SSE clients discover as its own RFC 9728 resource and ask
    /// tokens for.
    pub fn default_audiences(&self) -> Vec<String> {
        vec![
            self.resource.clone(),
            format!("{}{LEGACY_SSE_PATH}", self.public_url.trim_end_matches('/')),
        ]
    }
}

impl std::fmt::Debug for ProviderContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderContext")
            .field("name", &self.name)
            .field("public_url", &self.public_url)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

/// Why a provider could not be built from its config table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No factory is registered for this kind.
    #[error("providers.{provider}.kind: unknown provider kind {kind:?} (known: {known})")]
    UnknownKind {
        /// Provider table name.
        provider: String,
        /// The unknown kind.
        kind: String,
        /// Registered kinds, comma-separated.
        known: String,
    },
    /// The table does not describe a valid provider.
    #[error("providers.{provider}: {message}")]
    InvalidConfig {
        /// Provider table name.
        provider: String,
        /// What is wrong, naming the key.
        message: String,
    },
}

impl BuildError {
    /// Shorthand for an invalid-config error.
    pub fn invalid(provider: impl Into<String>, message: impl Into<String>) -> Self {
        BuildError::InvalidConfig {
            provider: provider.into(),
            message: message.into(),
        }
    }
}

/// Builds a provider of one kind from its config table.
pub trait ProviderFactory: Send + Sync {
    /// The `kind = "…"` this factory answers to.
    fn kind(&self) -> &'static str;
    /// Builds the verifier. `config` is the provider's table (without `kind`).
    /// Must not do network I/O; [`Verifier::refresh`] does that.
    fn build(
        &self,
        ctx: &ProviderContext,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Verifier>, BuildError>;

    /// The table (without `kind`) as `warden check-config` and `GET /admin/v1/config`
    /// show it. Factories override this to parse it into their typed config and
    /// serialize that, so defaults show and every [`Secret`](crate::Secret) field
    /// shows as `"***"`. The default hides every value (keys stay visible): safe for
    /// a factory that does not know which of its values are secret.
    fn describe(
        &self,
        provider: &str,
        config: serde_json::Value,
    ) -> Result<serde_json::Value, BuildError> {
        let _ = provider;
        Ok(hide_values(config))
    }
}

/// Replaces every scalar in a JSON tree with `"***"`, keeping its shape and keys.
pub fn hide_values(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, hide_values(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(hide_values).collect()),
        Value::Null => Value::Null,
        _ => Value::String(crate::REDACTED.to_owned()),
    }
}

/// Maps provider kind names to factories.
#[derive(Default)]
pub struct ProviderRegistry {
    factories: BTreeMap<&'static str, Arc<dyn ProviderFactory>>,
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field("kinds", &self.factories.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ProviderRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a factory under its kind (replacing an earlier one).
    pub fn register(&mut self, factory: impl ProviderFactory + 'static) -> &mut Self {
        self.factories.insert(factory.kind(), Arc::new(factory));
        self
    }

    /// Registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.factories.keys().copied().collect()
    }

    /// Builds the provider `ctx.name` of `kind` from `config`.
    pub fn build(
        &self,
        kind: &str,
        ctx: &ProviderContext,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Verifier>, BuildError> {
        let factory = self
            .factories
            .get(kind)
            .ok_or_else(|| BuildError::UnknownKind {
                provider: ctx.name.clone(),
                kind: kind.to_owned(),
                known: self.kinds().join(", "),
            })?;
        factory.build(ctx, config)
    }

    /// The provider `provider`'s table as its factory describes it
    /// ([`ProviderFactory::describe`]): for display, secrets hidden.
    pub fn describe(
        &self,
        kind: &str,
        provider: &str,
        config: serde_json::Value,
    ) -> Result<serde_json::Value, BuildError> {
        let factory = self
            .factories
            .get(kind)
            .ok_or_else(|| BuildError::UnknownKind {
                provider: provider.to_owned(),
                kind: kind.to_owned(),
                known: self.kinds().join(", "),
            })?;
        factory.describe(provider, config)
    }
}

/// The configured providers in fallback order, routing tokens to them.
///
/// JWTs go to the one provider owning their (unverified) `iss`; a JWT whose
/// issuer nobody owns is rejected without any network call. Opaque tokens are
/// tried in order on providers that accept them; if none accepts and one could
/// not verify, the answer is "unavailable" (fail closed, but honestly).
#[derive(Clone, Default)]
pub struct ProviderSet {
    providers: Vec<Arc<dyn Verifier>>,
}

impl std::fmt::Debug for ProviderSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.providers.iter().map(|p| p.descriptor()))
            .finish()
    }
}

/// Where a token goes.
#[derive(Clone)]
pub enum Route {
    /// A JWT owned by this provider.
    Issuer(Arc<dyn Verifier>),
    /// An opaque token: try these in order.
    Opaque(Vec<Arc<dyn Verifier>>),
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Route::Issuer(p) => f.debug_tuple("Issuer").field(&p.descriptor().name).finish(),
            Route::Opaque(ps) => f
                .debug_tuple("Opaque")
                .field(&ps.iter().map(|p| &p.descriptor().name).collect::<Vec<_>>())
                .finish(),
        }
    }
}

impl ProviderSet {
    /// A set of providers in fallback order.
    pub fn new(providers: Vec<Arc<dyn Verifier>>) -> Self {
        Self { providers }
    }

    /// The providers in order.
    pub fn providers(&self) -> &[Arc<dyn Verifier>] {
        &self.providers
    }

    /// The provider named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Verifier>> {
        self.providers.iter().find(|p| p.descriptor().name == name)
    }

    /// Decides which provider(s) get the token, without verifying anything.
    pub fn route(&self, token: &str) -> Result<Route, AuthError> {
        if jwt_peek::looks_like_jwt(token) {
            let issuer = jwt_peek::peek_issuer(token)?;
            let issuer = issuer.as_deref().unwrap_or("");
            return self
                .providers
                .iter()
                .find(|p| p.descriptor().issuers.iter().any(|i| i == issuer))
                .cloned()
                .map(Route::Issuer)
                .ok_or_else(|| AuthError::WrongIssuer {
                    issuer: issuer.to_owned(),
                });
        }
        let opaque: Vec<_> = self
            .providers
            .iter()
            .filter(|p| p.descriptor().accepts_opaque)
            .cloned()
            .collect();
        if opaque.is_empty() {
            return Err(AuthError::malformed(
                "token is not a JWT and no provider accepts opaque tokens",
            ));
        }
        Ok(Route::Opaque(opaque))
    }

    /// Verifies a token with the provider(s) it routes to.
    ///
    /// Returns the identity, or the error together with the name of the
    /// provider that decided (`"none"` when routing failed).
    pub async fn verify(&self, token: &str) -> Result<AuthInfo, (String, AuthError)> {
        self.run(token, None).await
    }

    /// The one verification run, serving ([`ProviderSet::verify`]) and
    /// explaining alike: route, then ask the provider(s) in order. With a
    /// `trace`, each step is recorded there and providers run their traced
    /// verification ([`Verifier::explain`]); the verdict is the same either way.
    ///
    /// An opaque token tried on several providers gets the first acceptance;
    /// failing that, the first "could not verify" (503, fail closed but
    /// honest) wins over "invalid", else the last rejection.
    pub async fn run(
        &self,
        token: &str,
        mut trace: Option<&mut Vec<Check>>,
    ) -> Result<AuthInfo, (String, AuthError)> {
        if trace.is_none() {
            if let Some(info) = self.recall(token).await {
                return Ok(info);
            }
        }
        let candidates = match self.route(token) {
            Ok(Route::Issuer(p)) => vec![p],
            Ok(Route::Opaque(list)) => list,
            Err(e) => {
                if let Some(t) = trace.as_deref_mut() {
                    t.push(Check::new("routing", false, e.to_string()));
                }
                return Err(("none".to_owned(), e));
            }
        };
        let mut unavailable = None;
        let mut last = None;
        for p in candidates {
            let name = &p.descriptor().name;
            let result = match trace.as_deref_mut() {
                Some(t) => {
                    t.push(Check::new(
                        "routing",
                        true,
                        format!("provider {name} ({})", p.descriptor().kind),
                    ));
                    let (mut steps, result) = p.explain(token).await;
                    t.append(&mut steps);
                    result
                }
                None => p.verify(token).await,
            };
            match result {
                Ok(info) => return Ok(info),
                Err(e) if e.is_unavailable() => {
                    unavailable.get_or_insert((name.clone(), e));
                }
                Err(e) => last = Some((name.clone(), e)),
            }
        }
        Err(unavailable
            .or(last)
            .unwrap_or_else(|| ("none".into(), AuthError::Inactive)))
    }

    /// The answer of the one provider a JWT can route to, when that provider
    /// already verified this very token ([`Verifier::recall`]): the answer
    /// routing and [`Verifier::verify`] would give, without decoding the token
    /// to route it. Only with a single provider, where routing has one
    /// destination: a token that provider verified routed to it (its `iss`
    /// is one of the provider's issuers), and routes there again. Opaque
    /// tokens, which may be tried on several providers, always take the
    /// regular path.
    async fn recall(&self, token: &str) -> Option<AuthInfo> {
        match self.providers.as_slice() {
            [only] if jwt_peek::looks_like_jwt(token) => only.recall(token).await,
            _ => None,
        }
    }

    /// `authorization_servers` for the PRM: every provider's, de-duplicated, in order.
    pub fn authorization_servers(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.providers {
            for s in &p.descriptor().authorization_servers {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;
    use crate::ProviderDescriptor;

    /// A JWT provider for `https://idp` that recalls one token and rejects
    /// everything it is asked to verify, so a test sees which path answered.
    struct Recalling {
        descriptor: ProviderDescriptor,
        known: String,
    }

    #[async_trait]
    impl Verifier for Recalling {
        async fn verify(&self, _token: &str) -> Result<AuthInfo, AuthError> {
            Err(AuthError::Inactive)
        }
        async fn recall(&self, token: &str) -> Option<AuthInfo> {
            (token == self.known).then(|| AuthInfo {
                subject: Some("alice".into()),
                provider: self.descriptor.name.clone(),
                ..Default::default()
            })
        }
        fn descriptor(&self) -> &ProviderDescriptor {
            &self.descriptor
        }
    }

    fn jwt(iss: &str) -> String {
        let part = |json: String| URL_SAFE_NO_PAD.encode(json);
        format!(
            "{}.{}.c2ln",
            part(r#"{"alg":"ES256"}"#.into()),
            part(format!(r#"{{"iss":"{iss}"}}"#))
        )
    }

    fn recalling(name: &str, known: &str) -> Arc<dyn Verifier> {
        Arc::new(Recalling {
            descriptor: ProviderDescriptor {
                name: name.into(),
                kind: "jwt".into(),
                issuers: vec!["https://idp".into()],
                ..Default::default()
            },
            known: known.into(),
        })
    }

    /// With one provider, a JWT it recalls is answered without routing or
    /// `verify`; with two, or when explaining, routing and `verify` decide.
    #[tokio::test]
    async fn a_single_provider_recalls_before_routing() {
        let token = jwt("https://idp");
        let one = ProviderSet::new(vec![recalling("a", &token)]);
        let info = one.verify(&token).await.unwrap();
        assert_eq!(
            (info.subject.as_deref(), info.provider.as_str()),
            (Some("alice"), "a")
        );
        // Anything it does not recall takes the regular path.
        let other = jwt("https://other");
        let (provider, e) = one.verify(&other).await.unwrap_err();
        assert_eq!(provider, "none");
        assert!(matches!(e, AuthError::WrongIssuer { .. }), "{e}");
        let (_, e) = one.verify(&jwt("https://idp ")).await.unwrap_err();
        assert!(matches!(e, AuthError::WrongIssuer { .. }), "{e}");
        let mut trace = Vec::new();
        let (provider, e) = one.run(&token, Some(&mut trace)).await.unwrap_err();
        assert_eq!((provider.as_str(), e), ("a", AuthError::Inactive));
        let two = ProviderSet::new(vec![recalling("a", &token), recalling("b", &token)]);
        let (provider, e) = two.verify(&token).await.unwrap_err();
        assert_eq!((provider.as_str(), e), ("a", AuthError::Inactive));
    }
}
