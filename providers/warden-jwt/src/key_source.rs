//! `KeySource`: where a [`JwtVerifier`](crate::JwtVerifier) gets its keys,
//! and `StaticKeys`, a fixed key set.

use std::sync::Arc;

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use warden_core::{AuthError, KeyInfo, ProviderStatus};

use crate::{JwtError, KeySet};

/// Supplies verification keys by `(kid, alg)`.
///
/// `key` tells "no such key" ([`AuthError::UnknownKey`], 401) from "could not
/// find out" ([`AuthError::Unavailable`], 503).
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The key for a token with this `kid` header (if any) and `alg`.
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<DecodingKey>, AuthError>;

    /// Keys held now.
    fn keys(&self) -> Vec<KeyInfo>;

    /// Whether the key for `(kid, alg)` is still held, without any I/O.
    ///
    /// A cached verdict on a token is only reused while its key is held, so
    /// removing a key from the set revokes cached verdicts at once. The
    /// default says yes.
    fn holds(&self, kid: Option<&str>, alg: Algorithm) -> bool {
        let _ = (kid, alg);
        true
    }

    /// Loads the keys now (startup, admin refresh). The default does nothing.
    async fn refresh(&self) -> Result<(), AuthError> {
        Ok(())
    }

    /// Readiness, keys and refresh history (without cache stats). The default
    /// says "ready" with [`KeySource::keys`].
    fn status(&self) -> ProviderStatus {
        ProviderStatus {
            keys: self.keys(),
            ..ProviderStatus::always_ready()
        }
    }
}

/// A fixed set of keys, always ready (the dev issuer's own key).
#[derive(Debug, Clone)]
pub struct StaticKeys {
    keys: Arc<KeySet>,
}

impl StaticKeys {
    /// Wraps a parsed key set.
    pub fn new(keys: KeySet) -> Self {
        Self {
            keys: Arc::new(keys),
        }
    }

    /// Parses a JWK set document (`{"keys": [...]}`).
    pub fn from_jwks(jwks: &Value) -> Result<Self, JwtError> {
        KeySet::from_jwks(jwks).map(Self::new)
    }
}

#[async_trait]
impl KeySource for StaticKeys {
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<DecodingKey>, AuthError> {
        self.keys
            .find(kid, alg)
            .ok_or_else(|| AuthError::UnknownKey {
                kid: kid.unwrap_or_default().to_owned(),
            })
    }

    fn keys(&self) -> Vec<KeyInfo> {
        self.keys.key_infos()
    }

    fn holds(&self, kid: Option<&str>, alg: Algorithm) -> bool {
        self.keys.find(kid, alg).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn static_keys_answer_unknown_key_without_io() {
        let keys = StaticKeys::from_jwks(&json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "kid": "ed",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        }]}))
        .unwrap();
        assert!(keys.key(Some("ed"), Algorithm::EdDSA).await.is_ok());
        assert_eq!(
            keys.key(Some("nope"), Algorithm::EdDSA).await.unwrap_err(),
            AuthError::UnknownKey { kid: "nope".into() }
        );
        let status = keys.status();
        assert!(status.ready);
        assert_eq!(status.keys.len(), 1);
        assert!(keys.refresh().await.is_ok());
    }
}
