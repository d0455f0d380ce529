//! `DevConfig`: the `[providers.NAME]` table of `kind = "dev"`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_core::{BuildError, Secret};
use warden_jwt::OneOrMany;
use warden_upstream::config::{parse_table_by_key, value_fits};

/// One client allowed to use the dev token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` (a [`Secret`]: never shown).
    pub client_secret: Secret,
    /// Scopes the client may request; empty → every scope in `scopes_supported`.
    #[serde(default)]
    pub scopes: Vec<String>,
}

fn default_ttl() -> Duration {
    Duration::from_secs(3600)
}

fn default_scopes() -> Vec<String> {
    vec!["news:read".into(), "profile".into()]
}

fn default_clients() -> Vec<DevClient> {
    vec![DevClient {
        client_id: "warden-dev-client".into(),
        client_secret: "warden-dev-secret".into(),
        scopes: default_scopes(),
    }]
}

/// The config table of the embedded dev issuer (`kind = "dev"`).
///
/// ```toml
/// [providers.dev]
/// kind = "dev"
/// issuer = "http://127.0.0.1:8080/dev"      # default {public_url}/dev
/// key_path = "/var/lib/warden/dev-es256.pem" # default {data_dir}/dev-es256.pem
/// allow_non_loopback = false                 # enforced by the host
/// audience = ["http://127.0.0.1:8080/mcp"]   # default: the canonical MCP URL and {public_url}/sse
/// token_ttl = "1h"
/// scopes_supported = ["news:read", "profile"]
/// [[providers.dev.clients]]
/// client_id = "warden-dev-client"
/// client_secret = "warden-dev-secret"
/// scopes = ["news:read", "profile"]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevConfig {
    /// Issuer URL; absent → `{public_url}/dev`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// PKCS#8 PEM file of the EC P-256 signing key; absent → `{data_dir}/dev-es256.pem`.
    #[serde(default)]
    pub key_path: Option<PathBuf>,
    /// Whether the host may serve the dev issuer on a non-loopback address.
    #[serde(default)]
    pub allow_non_loopback: bool,
    /// Audiences tokens are issued for and accepted with; absent → the canonical MCP URL and
    /// `{public_url}/sse` (the legacy SSE endpoint).
    #[serde(default)]
    pub audience: Option<OneOrMany>,
    /// Lifetime of issued tokens.
    #[serde(default = "default_ttl", with = "humantime_serde")]
    pub token_ttl: Duration,
    /// Clients of the token endpoint.
    #[serde(default = "default_clients")]
    pub clients: Vec<DevClient>,
    /// Scopes advertised in the metadata.
    #[serde(default = "default_scopes")]
    pub scopes_supported: Vec<String>,
}

impl Default for DevConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            key_path: None,
            allow_non_loopback: false,
            audience: None,
            token_ttl: default_ttl(),
            clients: default_clients(),
            scopes_supported: default_scopes(),
        }
    }
}

/// Checks one key of the table on its own, to name it in errors.
fn check_field(key: &str, value: &Value) -> Result<(), String> {
    match key {
        "issuer" => value_fits::<String>(value),
        "key_path" => value_fits::<PathBuf>(value),
        "allow_non_loopback" => value_fits::<bool>(value),
        "audience" => value_fits::<OneOrMany>(value),
        "token_ttl" => value_fits::<humantime_serde::Serde<Duration>>(value),
        "clients" => value_fits::<Vec<DevClient>>(value),
        "scopes_supported" => value_fits::<Vec<String>>(value),
        _ => Err("unknown key".into()),
    }
}

impl DevConfig {
    /// Parses the provider table (without `kind`); errors name the key.
    pub fn from_value(provider: &str, table: Value) -> Result<Self, BuildError> {
        parse_table_by_key(provider, table, check_field)
    }

    /// The config as JSON for display: every client secret shows as `"***"`
    /// (it is a [`Secret`]).
    pub fn redacted(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults() {
        let c = DevConfig::from_value("dev", json!({})).unwrap();
        assert_eq!(c, DevConfig::default());
        assert_eq!(c.clients[0].client_id, "warden-dev-client");
        assert_eq!(c.clients[0].scopes, ["news:read", "profile"]);
        assert_eq!(c.token_ttl, Duration::from_secs(3600));
        assert!(!c.allow_non_loopback);
    }

    #[test]
    fn full_table() {
        let c = DevConfig::from_value(
            "dev",
            json!({
                "issuer": "http://127.0.0.1:9/idp",
                "key_path": "/tmp/k.pem",
                "allow_non_loopback": true,
                "audience": "api://x",
                "token_ttl": "5m",
                "clients": [{"client_id": "a", "client_secret": "s3cr3t-a"}],
                "scopes_supported": ["x"],
            }),
        )
        .unwrap();
        assert_eq!(c.audience.unwrap().0, ["api://x"]);
        assert_eq!(c.token_ttl, Duration::from_secs(300));
        assert!(c.clients[0].scopes.is_empty());
    }

    #[test]
    fn errors_name_the_key() {
        let err = |v| DevConfig::from_value("dev", v).unwrap_err().to_string();
        assert!(err(json!({"token_ttl": "soon"})).starts_with("providers.dev: token_ttl: "));
        assert!(err(json!({"isuer": "x"})).starts_with("providers.dev: isuer: unknown key"));
        assert!(err(json!({"clients": [{"client_id": "a"}]})).contains("clients: "));
    }

    #[test]
    fn secrets_never_show() {
        let c = DevConfig {
            clients: vec![DevClient {
                client_id: "a".into(),
                client_secret: "hunter2-secret".into(),
                scopes: vec![],
            }],
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.redacted().to_string().contains("hunter2"));
        assert_eq!(c.redacted()["clients"][0]["client_id"], "a");
    }
}
