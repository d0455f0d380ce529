//! The `[admin]` config table.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use warden_core::Secret;

use crate::AdminError;

/// `[admin]`: the admin listener.
///
/// ```toml
/// [admin]
/// enabled = true
/// bind = "127.0.0.1:10001"
/// # token = "…"            # or env WARDEN_ADMIN__TOKEN
/// metrics_require_token = false
/// ```
///
/// Without a token the protected routes answer 403 (health, readiness,
/// metrics and the API docs still work); binding to a non-loopback address
/// without a token is a config error ([`AdminConfig::validate`]).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Whether the admin listener runs.
    pub enabled: bool,
    /// Listen address of the admin listener.
    pub bind: SocketAddr,
    /// The admin bearer token. Empty counts as unset. A [`Secret`]: read as a
    /// string whatever it looks like (all digits included), never shown.
    pub token: Option<Secret>,
    /// Whether `GET /metrics` also requires the admin token.
    pub metrics_require_token: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bind: SocketAddr::from(([127, 0, 0, 1], 10001)),
            token: None,
            metrics_require_token: false,
        }
    }
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("enabled", &self.enabled)
            .field("bind", &self.bind)
            .field("token", &self.token().map(|_| "<redacted>"))
            .field("metrics_require_token", &self.metrics_require_token)
            .finish()
    }
}

impl AdminConfig {
    /// The token, when set and not empty.
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_ref()
            .map(Secret::expose)
            .filter(|t| !t.is_empty())
    }

    /// Rejects unsafe settings: a non-loopback `bind` without a token, and
    /// `metrics_require_token` without a token. A disabled listener is always valid.
    pub fn validate(&self) -> Result<(), AdminError> {
        if !self.enabled {
            return Ok(());
        }
        if self.token().is_none() {
            if !self.bind.ip().is_loopback() {
                return Err(AdminError::TokenRequired { bind: self.bind });
            }
            if self.metrics_require_token {
                return Err(AdminError::MetricsTokenWithoutToken);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_loopback_and_valid() {
        let c = AdminConfig::default();
        assert!(c.enabled);
        assert_eq!(c.bind.to_string(), "127.0.0.1:10001");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn non_loopback_without_token_is_an_error_naming_the_key() {
        let c = AdminConfig {
            bind: "0.0.0.0:10001".parse().unwrap(),
            token: Some(Secret::new("")),
            ..Default::default()
        };
        let err = c.validate().unwrap_err();
        assert!(err.to_string().contains("admin.token"), "{err}");
        assert!(err.to_string().contains("0.0.0.0:10001"), "{err}");
        let ok = AdminConfig {
            token: Some(Secret::new("s3cret-admin-token")),
            ..c.clone()
        };
        assert!(ok.validate().is_ok());
        let off = AdminConfig {
            enabled: false,
            ..c
        };
        assert!(off.validate().is_ok());
    }

    #[test]
    fn ipv6_loopback_is_loopback() {
        let c = AdminConfig {
            bind: "[::1]:10001".parse().unwrap(),
            ..Default::default()
        };
        assert!(c.validate().is_ok());
    }

    #[test]
    fn metrics_token_needs_a_token() {
        let c = AdminConfig {
            metrics_require_token: true,
            ..Default::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("admin.token"));
    }

    #[test]
    fn debug_redacts_the_token() {
        let c = AdminConfig {
            token: Some(Secret::new("s3cret-admin-token")),
            ..Default::default()
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret"), "{dbg}");
        assert!(dbg.contains("<redacted>"));
    }

    #[test]
    fn deserializes_with_defaults_and_rejects_unknown_keys() {
        let c: AdminConfig = serde_json::from_str(r#"{"token":"abc"}"#).unwrap();
        assert_eq!(c.token(), Some("abc"));
        assert!(c.enabled);
        assert!(serde_json::from_str::<AdminConfig>(r#"{"tokn":"abc"}"#).is_err());
    }
}
