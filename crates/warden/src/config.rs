//! The configuration contract: `[server]`, `[resource]`, `[auth]`, `[providers.*]`,
//! `[tools.*]`, `[log]`, `[admin]`, `[limits]`, `[telemetry]`, loaded with figment.
//!
//! Layering: built-in defaults < TOML file < `.env` file < environment
//! (`WARDEN_` prefix, `__` for nesting).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_core::provider::hide_values;
use warden_core::ProviderRegistry;

use crate::env_layer::EnvLayer;
use crate::error::HostError;

/// The embedded default configuration (the same as `config/dev.toml`).
pub const DEV_DEFAULT: &str = include_str!("../config/dev.toml");

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[resource]`.
    pub resource: ResourceConfig,
    /// `[auth]`.
    pub auth: AuthConfig,
    /// `[providers.NAME]` tables, each with a `kind`.
    pub providers: BTreeMap<String, Value>,
    /// `[tools.*]`: `whoami`, `news_sentiment`.
    pub tools: warden_tools::ToolsConfig,
    /// `[log]`.
    pub log: LogConfig,
    /// `[admin]`: the admin listener (OpenAPI admin surface, `/metrics`).
    pub admin: warden_admin::AdminConfig,
    /// `[limits]`.
    pub limits: crate::limits::LimitsConfig,
    /// `[telemetry]`: span export over OTLP/HTTP (the `otlp` feature).
    pub telemetry: crate::telemetry::TelemetryConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig::default(),
            resource: ResourceConfig::default(),
            auth: AuthConfig::default(),
            providers: BTreeMap::from([("dev".to_owned(), serde_json::json!({ "kind": "dev" }))]),
            tools: warden_tools::ToolsConfig::default(),
            log: LogConfig::default(),
            admin: warden_admin::AdminConfig::default(),
            limits: crate::limits::LimitsConfig::default(),
            telemetry: crate::telemetry::TelemetryConfig::default(),
        }
    }
}

/// `[server]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address.
    pub bind: SocketAddr,
    /// The canonical URL clients use (scheme, host, port; no path).
    pub public_url: String,
    /// Path of the MCP endpoint.
    pub mcp_path: String,
    /// Extra browser Origins allowed (besides `public_url`'s and loopback).
    pub allowed_origins: Vec<String>,
    /// Extra `Host` header values allowed (besides `public_url`'s and loopback).
    pub allowed_hosts: Vec<String>,
    /// No MCP sessions, plain JSON answers.
    pub stateless: bool,
    /// Directory for persisted state (the dev issuer's key).
    pub data_dir: PathBuf,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// Answer well-formed stateless `tools/call` and `tools/list` requests
    /// directly from the tool registry, byte-for-byte as rmcp would
    /// (`false` sends every request through rmcp).
    pub fast_path: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:10000".parse().expect("valid default"),
            public_url: "http://127.0.0.1:10000".into(),
            mcp_path: "/mcp".into(),
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            stateless: false,
            data_dir: PathBuf::from(".warden"),
            max_body_bytes: 4 * 1024 * 1024,
            fast_path: true,
        }
    }
}

/// `[resource]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceConfig {
    /// `resource_name` in the metadata and the MCP server name.
    pub name: String,
    /// `resource_documentation` (optional; empty = absent).
    pub documentation_url: String,
    /// `scopes_supported`.
    pub scopes_supported: Vec<String>,
    /// Scopes every MCP request needs.
    pub required_scopes: Vec<String>,
    /// `all` or `authorized`.
    pub list_tools: ListToolsMode,
    /// Whether granted `prefix:*` scopes cover `prefix:…`.
    pub wildcard_scopes: bool,
}

impl Default for ResourceConfig {
    fn default() -> Self {
        Self {
            name: "warden".into(),
            documentation_url: String::new(),
            scopes_supported: vec!["news:read".into(), "profile".into()],
            required_scopes: Vec::new(),
            list_tools: ListToolsMode::All,
            wildcard_scopes: true,
        }
    }
}

/// `resource.list_tools`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ListToolsMode {
    /// Every tool, with its scopes in `_meta`.
    All,
    /// Only tools the caller can call.
    Authorized,
}

/// `[auth]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Provider table names in fallback order.
    pub providers: Vec<String>,
    /// Clock skew allowed on `exp`/`nbf`.
    #[serde(with = "humantime_serde")]
    pub leeway: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            providers: vec!["dev".into()],
            leeway: Duration::from_secs(60),
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter (`info`, `warden=debug,info`); `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// `log.format`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where warden keeps state when `server.data_dir` is not set:
/// `$XDG_STATE_HOME/warden`, else `~/.local/state/warden`
/// (`.warden` in the working directory when neither variable is usable).
pub fn default_data_dir() -> PathBuf {
    state_dir_from(
        std::env::var_os("XDG_STATE_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn state_dir_from(xdg_state_home: Option<PathBuf>, home: Option<PathBuf>) -> PathBuf {
    // The XDG spec ignores relative values.
    if let Some(dir) = xdg_state_home.filter(|d| d.is_absolute()) {
        return dir.join("warden");
    }
    match home.filter(|h| h.is_absolute()) {
        Some(home) => home.join(".local/state/warden"),
        None => PathBuf::from(".warden"),
    }
}

/// `server.data_dir` as warden uses it: a relative path set in a config file is
/// relative to that file's directory; one set in the environment (or a TOML
/// string) to the working directory; not set at all, [`default_data_dir`].
fn resolve_data_dir(data_dir: &Path, user: &Figment) -> PathBuf {
    if !user.contains("server.data_dir") {
        return default_data_dir();
    }
    if data_dir.is_absolute() {
        return data_dir.to_path_buf();
    }
    let file = user
        .find_metadata("server.data_dir")
        .and_then(|m| m.source.as_ref())
        .and_then(|source| source.file_path());
    match file.and_then(Path::parent) {
        Some(dir) => dir.join(data_dir),
        None => data_dir.to_path_buf(),
    }
}

impl Config {
    /// Loads the config: defaults < `path` (or the embedded dev default) < `.env` < environment.
    pub fn load(path: Option<&Path>) -> Result<Self, HostError> {
        let _ = dotenvy::dotenv();
        match path {
            Some(p) => {
                if !p.exists() {
                    return Err(HostError::Config(format!(
                        "config file {} does not exist",
                        p.display()
                    )));
                }
                Self::from_layers(
                    None,
                    Figment::from(Toml::file_exact(p)).merge(EnvLayer::new()),
                )
            }
            // The embedded default counts as defaults: the user's layer is the environment.
            None => Self::from_layers(Some(DEV_DEFAULT), Figment::from(EnvLayer::new())),
        }
    }

    /// Loads from a TOML string (tests, embedding) with the environment layered on top.
    pub fn from_toml(toml: &str) -> Result<Self, HostError> {
        Self::from_layers(
            None,
            Figment::from(Toml::string(toml)).merge(EnvLayer::new()),
        )
    }

    /// `user` (file or string, then environment) over the built-in defaults
    /// (plus `base`, a TOML default layer).
    fn from_layers(base: Option<&str>, user: Figment) -> Result<Self, HostError> {
        let mut defaults = Figment::from(Serialized::defaults(Config::default()));
        if let Some(toml) = base {
            defaults = defaults.merge(Toml::string(toml));
        }
        let mut config: Config = defaults
            .merge(user.clone())
            .extract()
            .map_err(|e| HostError::Config(e.to_string()))?;
        config.normalise();
        config.server.data_dir = resolve_data_dir(&config.server.data_dir, &user);
        config.validate()?;
        if !user.contains("auth.providers") {
            config.check_implicit_dev()?;
        }
        Ok(config)
    }

    /// `auth.providers` left at its default (`["dev"]`, the embedded dev issuer
    /// with its well-known client secret) while the config defines other
    /// providers is almost surely a forgotten line: refuse it, naming the fix.
    fn check_implicit_dev(&self) -> Result<(), HostError> {
        let others: Vec<&str> = self
            .providers
            .keys()
            .map(String::as_str)
            .filter(|name| !self.auth.providers.iter().any(|p| p == name))
            .collect();
        if others.is_empty() {
            return Ok(());
        }
        let listed = others
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        Err(HostError::Config(format!(
            "auth.providers: not set, so only the embedded dev issuer would verify tokens, \
             but [providers.{}] is defined; set auth.providers = [{listed}] \
             (add \"dev\" to the list to keep the dev issuer too)",
            others.join("], [providers.")
        )))
    }

    fn normalise(&mut self) {
        self.server.public_url = self.server.public_url.trim_end_matches('/').to_owned();
        let path = self.server.mcp_path.trim_end_matches('/');
        self.server.mcp_path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
    }

    /// Checks cross-key rules; errors name the key.
    pub fn validate(&self) -> Result<(), HostError> {
        let url = url::Url::parse(&self.server.public_url).map_err(|e| {
            HostError::Config(format!(
                "server.public_url: {e}: {:?}",
                self.server.public_url
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(HostError::Config(
                "server.public_url: must be an http(s) URL with a host".into(),
            ));
        }
        if url.path() != "/" || url.query().is_some() {
            return Err(HostError::Config(
                "server.public_url: must be an origin without path or query (put the path in server.mcp_path)".into(),
            ));
        }
        if self.server.mcp_path.len() < 2 || self.server.mcp_path.contains(['?', '#', ' ']) {
            return Err(HostError::Config(format!(
                "server.mcp_path: invalid path {:?}",
                self.server.mcp_path
            )));
        }
        if !self.resource.documentation_url.is_empty() {
            url::Url::parse(&self.resource.documentation_url)
                .map_err(|e| HostError::Config(format!("resource.documentation_url: {e}")))?;
        }
        for (i, origin) in self.server.allowed_origins.iter().enumerate() {
            url::Url::parse(origin).map_err(|e| {
                HostError::Config(format!("server.allowed_origins[{i}]: {e}: {origin:?}"))
            })?;
        }
        self.admin
            .validate()
            .map_err(|e| HostError::Config(e.to_string()))?;
        if self.limits.request_timeout.is_zero() {
            return Err(HostError::Config(
                "limits.request_timeout: must be greater than 0".into(),
            ));
        }
        self.telemetry.validate()?;
        if self.auth.providers.is_empty() {
            return Err(HostError::Config(
                "auth.providers: at least one provider is required".into(),
            ));
        }
        for name in &self.auth.providers {
            let Some(table) = self.providers.get(name) else {
                return Err(HostError::Config(format!(
                    "auth.providers: provider {name:?} is listed but no [providers.{name}] table defines it"
                )));
            };
            if table.get("kind").and_then(Value::as_str).is_none() {
                return Err(HostError::Config(format!(
                    "providers.{name}.kind: missing (dev, jwt, scalekit, logto, introspection)"
                )));
            }
        }
        Ok(())
    }

    /// The canonical MCP resource URL (`public_url` + `mcp_path`).
    pub fn resource_url(&self) -> String {
        format!("{}{}", self.server.public_url, self.server.mcp_path)
    }

    /// The effective config as JSON for display (`check-config`, `GET /admin/v1/config`).
    ///
    /// Secrets are hidden by their type: every [`warden_core::Secret`] shows as `"***"`,
    /// every other value as it is. Provider tables are shown as their factory
    /// describes them (parsed, defaults filled in, secrets hidden); a table no factory
    /// can describe shows its keys with every value hidden.
    pub fn redacted(&self, registry: &ProviderRegistry) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(tables) = value.get_mut("providers").and_then(Value::as_object_mut) {
            for (name, table) in tables.iter_mut() {
                let mut fields = table.clone();
                let kind = fields
                    .as_object_mut()
                    .and_then(|m| m.remove("kind"))
                    .and_then(|k| k.as_str().map(str::to_owned));
                let described = match kind.as_deref() {
                    Some("dev") => warden_dev::DevConfig::from_value(name, fields.clone())
                        .map(|c| c.redacted()),
                    Some(kind) => registry.describe(kind, name, fields.clone()),
                    None => Ok(hide_values(fields.clone())),
                };
                let mut shown = described.unwrap_or_else(|_| hide_values(fields));
                if let (Some(map), Some(kind)) = (shown.as_object_mut(), kind) {
                    map.insert("kind".into(), Value::String(kind));
                }
                *table = shown;
            }
        }
        value
    }

    /// The provider tables in `auth.providers` order: (name, kind, table without `kind`).
    pub fn provider_tables(&self) -> Vec<(String, String, Value)> {
        self.auth
            .providers
            .iter()
            .filter_map(|name| {
                let mut table = self.providers.get(name)?.clone();
                let kind = table.as_object_mut()?.remove("kind")?.as_str()?.to_owned();
                Some((name.clone(), kind, table))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses() {
        let c = Config::from_toml(DEV_DEFAULT).unwrap();
        assert_eq!(c.resource_url(), "http://127.0.0.1:10000/mcp");
        assert_eq!(c.auth.providers, ["dev"]);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = Config::from_toml("[server]\nbnd = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bnd"), "{e}");
    }

    #[test]
    fn listed_provider_must_exist() {
        let e = Config::from_toml("[auth]\nproviders = [\"corp\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("auth.providers") && e.contains("corp"), "{e}");
    }

    #[test]
    fn bad_url_is_named() {
        let e = Config::from_toml(
            "[server]\npublic_url = \"not a url\"\n[providers.dev]\nkind=\"dev\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("server.public_url"), "{e}");
    }

    #[test]
    fn state_dir_rules() {
        let abs = |p: &str| Some(PathBuf::from(p));
        assert_eq!(
            state_dir_from(abs("/x/state"), abs("/home/u")),
            PathBuf::from("/x/state/warden")
        );
        assert_eq!(
            state_dir_from(abs("relative"), abs("/home/u")),
            PathBuf::from("/home/u/.local/state/warden")
        );
        assert_eq!(
            state_dir_from(None, abs("/home/u")),
            PathBuf::from("/home/u/.local/state/warden")
        );
        assert_eq!(state_dir_from(None, None), PathBuf::from(".warden"));
    }

    #[test]
    fn data_dir_resolution() {
        let dir = std::env::temp_dir().join(format!("warden-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("warden.toml");
        std::fs::write(&file, "[server]\ndata_dir = \"state\"\n").unwrap();
        let c = Config::load(Some(&file)).unwrap();
        assert_eq!(c.server.data_dir, dir.join("state"), "relative to the file");
        std::fs::write(&file, "[server]\ndata_dir = \"/abs/state\"\n").unwrap();
        let c = Config::load(Some(&file)).unwrap();
        assert_eq!(c.server.data_dir, PathBuf::from("/abs/state"));
        std::fs::write(&file, "[server]\nstateless = true\n").unwrap();
        let c = Config::load(Some(&file)).unwrap();
        assert_eq!(c.server.data_dir, default_data_dir(), "not set");
        let c = Config::from_toml("[server]\ndata_dir = \"rel\"\n").unwrap();
        assert_eq!(
            c.server.data_dir,
            PathBuf::from("rel"),
            "a TOML string: as written"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn defined_providers_need_auth_providers() {
        let e = Config::from_toml("[providers.corp]\nkind = \"jwt\"\nissuer = \"https://i\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("auth.providers") && e.contains("[\"corp\"]"),
            "{e}"
        );
        // Listed explicitly: fine, also when the dev table stays unlisted.
        Config::from_toml(
            "[auth]\nproviders = [\"corp\"]\n[providers.corp]\nkind = \"jwt\"\nissuer = \"https://i\"\n",
        )
        .unwrap();
        // Only the dev table: the implicit default is what the user meant.
        Config::from_toml("[providers.dev]\nkind = \"dev\"\n").unwrap();
    }
}
