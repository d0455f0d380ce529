//! The verified identity of a caller.

use serde::Serialize;
use serde_json::{Map, Value};

/// What a [`Verifier`](crate::Verifier) learned about the bearer of a valid token.
///
/// Every field comes from a verified source (a signature-checked JWT, an
/// introspection answer, a userinfo answer). `claims` keeps the raw claims so
/// tools can show profile data (`name`, `email`, `username`, …).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuthInfo {
    /// `sub`: the subject (user or client) the token was issued to.
    pub subject: Option<String>,
    /// `iss`: the issuer that vouched for the token.
    pub issuer: Option<String>,
    /// `client_id` (or `azp`): the OAuth client that obtained the token.
    pub client_id: Option<String>,
    /// `aud`: the audiences the token is meant for.
    pub audiences: Vec<String>,
    /// Granted scopes, normalised from the claim zoo (`scope`, `scp`, `scopes`, `permissions`).
    pub scopes: Vec<String>,
    /// `exp` as seconds since the Unix epoch, when known.
    pub expires_at: Option<i64>,
    /// All claims as received, for tools that show profile data.
    pub claims: Map<String, Value>,
    /// Name of the configured provider (the `[providers.NAME]` table) that accepted the token.
    pub provider: String,
}

impl AuthInfo {
    /// A string claim by name, if present and a string.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Who this request acts for ([`Principal::of`](crate::Principal::of)): the key
    /// sessions are bound to.
    pub fn principal(&self) -> crate::Principal {
        crate::Principal::of(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_distinguishes_subjects_and_providers() {
        let alice = AuthInfo {
            subject: Some("alice".into()),
            provider: "dev".into(),
            ..Default::default()
        };
        let bob = AuthInfo {
            subject: Some("bob".into()),
            ..alice.clone()
        };
        let other = AuthInfo {
            provider: "corp".into(),
            ..alice.clone()
        };
        assert_ne!(alice.principal(), bob.principal());
        assert_ne!(alice.principal(), other.principal());
        assert_eq!(alice.principal(), alice.clone().principal());
    }
}
