//! `[providers.NAME]` with `kind = "scalekit"`: the table, the env
//! fallbacks, and the resolved settings.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_core::Secret;
use warden_core::{BuildError, ProviderContext};
use warden_jwt::{JwtConfig, JwtSettings, OneOrMany};
use warden_upstream::config::{carries_credentials, check_base_url, parse_table};

use crate::env::{
    is_resource_id, read, resource_id_from_metadata_url, EnvLookup, ENV_AUDIENCE_NAME,
    ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_ENVIRONMENT_URL, ENV_RESOURCE_METADATA_URL,
};
use crate::KIND;

/// The algorithms a Scalekit provider accepts when none are configured.
pub const DEFAULT_ALGORITHMS: [&str; 1] = ["RS256"];

/// The `kind = "scalekit"` provider table.
///
/// Every key is optional in the table: `environment_url`, `resource_id`,
/// `audience`, `client_id` and `client_secret` fall back to the seed
/// tutorial's environment variables (see [`ScalekitConfig::resolve`]).
///
/// ```toml
/// [providers.scalekit]
/// kind = "scalekit"
/// environment_url = "https://acme.scalekit.dev"   # or SCALEKIT_ENVIRONMENT_URL
/// resource_id = "res_88056357768398086"           # or SCALEKIT_AUDIENCE_NAME / SCALEKIT_RESOURCE_METADATA_URL
/// # audience = ["res_88056357768398086", "https://mcp.example.com/mcp"]   # default: resource id + canonical MCP URL
/// # authorization_server = "https://acme.scalekit.dev/resources/res_88056357768398086"
/// # client_id / client_secret: accepted (or SCALEKIT_CLIENT_ID / _SECRET), not used to verify
/// algorithms = ["RS256"]
/// timeout = "5s"
/// jwks_cooldown = "30s"
/// jwks_min_refresh = "1m"
/// jwks_max_refresh = "1h"
/// verified_cache_ttl = "5m"                        # "0s" disables
/// verified_cache_size = 10000
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalekitConfig {
    /// The Scalekit environment URL, e.g. `https://acme.scalekit.dev`.
    #[serde(default)]
    pub environment_url: Option<String>,
    /// The protected resource id (`res_…`).
    #[serde(default)]
    pub resource_id: Option<String>,
    /// Accepted audience(s); absent → `[resource_id, canonical MCP URL]`.
    #[serde(default)]
    pub audience: Option<OneOrMany>,
    /// PRM `authorization_servers` entry (or entries); absent →
    /// `{environment_url}/resources/{resource_id}`.
    #[serde(default)]
    pub authorization_server: Option<OneOrMany>,
    /// Scalekit client id (accepted for compatibility; not used to verify tokens).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Scalekit client secret (accepted for compatibility; never used or printed).
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// Allowed algorithm names; absent → `["RS256"]`.
    #[serde(default)]
    pub algorithms: Option<Vec<String>>,
    /// Timeout of every outbound call (JWKS).
    #[serde(
        default = "warden_jwt::serde_defaults::timeout",
        with = "humantime_serde"
    )]
    pub timeout: Duration,
    /// Least time between JWKS refetches caused by unknown `kid`s.
    #[serde(
        default = "warden_jwt::serde_defaults::jwks_cooldown",
        with = "humantime_serde"
    )]
    pub jwks_cooldown: Duration,
    /// Lower bound of the periodic JWKS refresh.
    #[serde(
        default = "warden_jwt::serde_defaults::jwks_min_refresh",
        with = "humantime_serde"
    )]
    pub jwks_min_refresh: Duration,
    /// Upper bound of the periodic JWKS refresh.
    #[serde(
        default = "warden_jwt::serde_defaults::jwks_max_refresh",
        with = "humantime_serde"
    )]
    pub jwks_max_refresh: Duration,
    /// How long verified tokens are remembered; `0s` disables.
    #[serde(
        default = "warden_jwt::serde_defaults::verified_cache_ttl",
        with = "humantime_serde"
    )]
    pub verified_cache_ttl: Duration,
    /// Most verified tokens remembered.
    #[serde(default = "warden_jwt::serde_defaults::verified_cache_size")]
    pub verified_cache_size: u64,
}

/// A Scalekit provider with every default and env fallback applied.
#[derive(Debug, Clone)]
pub struct ScalekitSettings {
    /// The environment URL, without a trailing slash.
    pub environment_url: String,
    /// The resource id.
    pub resource_id: String,
    /// Client id, when configured (unused for verification).
    pub client_id: Option<String>,
    /// Client secret, when configured (unused for verification).
    pub client_secret: Option<Secret>,
    /// What the [`JwtVerifier`](warden_jwt::JwtVerifier) gets: issuers
    /// `[{env}, {env}/resources/{id}]`, JWKS `{env}/keys`, kind `scalekit`.
    pub jwt: JwtSettings,
}

/// `{environment_url}/keys`.
pub fn jwks_url(environment_url: &str) -> String {
    format!("{}/keys", environment_url.trim_end_matches('/'))
}

/// `{environment_url}/resources/{resource_id}`: the post-migration issuer
/// and the PRM authorization server.
pub fn resource_issuer(environment_url: &str, resource_id: &str) -> String {
    format!(
        "{}/resources/{resource_id}",
        environment_url.trim_end_matches('/')
    )
}

/// Checks and normalises the environment URL (no trailing slash).
fn check_environment_url(url: &str) -> Result<String, String> {
    let parsed = check_base_url(url)?;
    if carries_credentials(&parsed) {
        return Err(format!("{:?} must not carry credentials", parsed.origin()));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn check_resource_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.contains(|c: char| c.is_whitespace() || "/?#%".contains(c)) {
        return Err(format!(
            "{id:?} is not a resource id (expected res_… without spaces or slashes)"
        ));
    }
    Ok(())
}

impl ScalekitConfig {
    /// Parses the provider table (without `kind`); errors name the key.
    pub fn from_value(provider: &str, table: Value) -> Result<Self, BuildError> {
        parse_table(provider, table)
    }

    /// Applies env fallbacks and defaults for provider `ctx.name`.
    ///
    /// For each key missing from the table (`env` reads a variable; blank
    /// values count as unset):
    ///
    /// * `environment_url` ← `SCALEKIT_ENVIRONMENT_URL` (required in the end);
    /// * `client_id` ← `SCALEKIT_CLIENT_ID`, `client_secret` ← `SCALEKIT_CLIENT_SECRET`;
    /// * `resource_id` ← `SCALEKIT_AUDIENCE_NAME` when it is a `res_…` id,
    ///   else ← the id named by `SCALEKIT_RESOURCE_METADATA_URL` (see
    ///   [`resource_id_from_metadata_url`](crate::resource_id_from_metadata_url));
    ///   required in the end;
    /// * `audience` ← `SCALEKIT_AUDIENCE_NAME`, unless it equals the resource
    ///   id, in which case the default applies: `[resource_id, ctx.resource]`.
    pub fn resolve(
        self,
        ctx: &ProviderContext,
        env: EnvLookup<'_>,
    ) -> Result<ScalekitSettings, BuildError> {
        let name = ctx.name.as_str();
        let bad = |key: &str, msg: String| BuildError::invalid(name, format!("{key}: {msg}"));
        let from_env = |key: &str, var: &str| {
            let value = read(env, var);
            if value.is_some() {
                tracing::debug!(provider = %name, key, var, "scalekit: key taken from the environment");
            }
            value
        };

        let environment_url = self
            .environment_url
            .or_else(|| from_env("environment_url", ENV_ENVIRONMENT_URL))
            .ok_or_else(|| {
                bad(
                    "environment_url",
                    format!(
                        "missing: set providers.{name}.environment_url or the {ENV_ENVIRONMENT_URL} environment variable"
                    ),
                )
            })?;
        let environment_url =
            check_environment_url(&environment_url).map_err(|m| bad("environment_url", m))?;

        let client_id = self
            .client_id
            .or_else(|| from_env("client_id", ENV_CLIENT_ID));
        let client_secret = self
            .client_secret
            .or_else(|| from_env("client_secret", ENV_CLIENT_SECRET).map(Secret::new));

        let audience_name = read(env, ENV_AUDIENCE_NAME);
        let resource_id = self
            .resource_id
            .or_else(|| {
                audience_name
                    .clone()
                    .filter(|a| is_resource_id(a))
                    .inspect(|_| tracing::debug!(provider = %name, var = ENV_AUDIENCE_NAME, "scalekit: resource_id taken from the environment"))
            })
            .or_else(|| {
                from_env("resource_id", ENV_RESOURCE_METADATA_URL)
                    .and_then(|url| resource_id_from_metadata_url(&url))
            })
            .ok_or_else(|| {
                bad(
                    "resource_id",
                    format!(
                        "missing: set providers.{name}.resource_id, or {ENV_AUDIENCE_NAME}=res_…, or {ENV_RESOURCE_METADATA_URL}=…/resources/res_…"
                    ),
                )
            })?;
        check_resource_id(&resource_id).map_err(|m| bad("resource_id", m))?;

        let audiences = match self.audience {
            Some(list) => list.0,
            None => match audience_name {
                Some(aud) if aud != resource_id => {
                    tracing::debug!(provider = %name, var = ENV_AUDIENCE_NAME, "scalekit: audience taken from the environment");
                    vec![aud]
                }
                _ => vec![resource_id.clone(), ctx.resource.clone()],
            },
        };
        if audiences.is_empty() {
            return Err(bad("audience", "must name at least one audience".into()));
        }

        let resource_issuer = resource_issuer(&environment_url, &resource_id);
        let table = JwtConfig {
            issuer: OneOrMany(vec![environment_url.clone(), resource_issuer.clone()]),
            jwks_url: Some(jwks_url(&environment_url)),
            audience: Some(OneOrMany(audiences)),
            algorithms: Some(
                self.algorithms
                    .unwrap_or_else(|| DEFAULT_ALGORITHMS.map(String::from).to_vec()),
            ),
            require_typ: None,
            authorization_server: Some(
                self.authorization_server
                    .unwrap_or_else(|| OneOrMany(vec![resource_issuer])),
            ),
            timeout: self.timeout,
            jwks_cooldown: self.jwks_cooldown,
            jwks_min_refresh: self.jwks_min_refresh,
            jwks_max_refresh: self.jwks_max_refresh,
            verified_cache_ttl: self.verified_cache_ttl,
            verified_cache_size: self.verified_cache_size,
        };
        let mut jwt = table.into_settings(name)?;
        jwt.kind = KIND.into();
        Ok(ScalekitSettings {
            environment_url,
            resource_id,
            client_id,
            client_secret,
            jwt,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;
    use warden_jwt::{Algorithm, KeySourceConfig};
    use warden_jwt::{JwksCacheSettings, VerifiedCacheSettings};

    fn ctx() -> ProviderContext {
        ProviderContext {
            name: "sk".into(),
            public_url: "http://127.0.0.1:10000".into(),
            resource: "http://127.0.0.1:10000/mcp".into(),
            leeway: Duration::from_secs(60),
            observer: warden_core::noop_observer(),
            data_dir: std::env::temp_dir(),
        }
    }

    fn resolve(table: Value, env: &[(&str, &str)]) -> Result<ScalekitSettings, String> {
        let vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |name: &str| vars.get(name).cloned();
        ScalekitConfig::from_value("sk", table)
            .and_then(|c| c.resolve(&ctx(), &lookup))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn table_only_defaults() {
        let s = resolve(
            json!({"environment_url": "https://acme.scalekit.dev/", "resource_id": "res_1"}),
            &[],
        )
        .unwrap();
        assert_eq!(s.environment_url, "https://acme.scalekit.dev");
        assert_eq!(s.jwt.kind, "scalekit");
        assert_eq!(
            s.jwt.issuers,
            [
                "https://acme.scalekit.dev",
                "https://acme.scalekit.dev/resources/res_1"
            ]
        );
        assert_eq!(s.jwt.audiences, ["res_1", "http://127.0.0.1:10000/mcp"]);
        assert_eq!(
            s.jwt.authorization_servers,
            ["https://acme.scalekit.dev/resources/res_1"]
        );
        assert_eq!(s.jwt.algorithms, [Algorithm::RS256]);
        assert!(
            matches!(&s.jwt.key_source, KeySourceConfig::JwksUrl(u) if u == "https://acme.scalekit.dev/keys")
        );
        assert_eq!(s.jwt.jwks, JwksCacheSettings::default());
        assert_eq!(s.jwt.verified_cache, VerifiedCacheSettings::default());
        assert!(s.client_id.is_none() && s.client_secret.is_none());
    }

    #[test]
    fn table_wins_over_env() {
        let s = resolve(
            json!({"environment_url": "https://a.scalekit.dev", "resource_id": "res_t",
                   "audience": "api://x", "client_id": "table-client",
                   "authorization_server": ["https://as.example"], "algorithms": ["RS256", "PS256"],
                   "jwks_cooldown": "1s", "verified_cache_ttl": "0s"}),
            &[
                (ENV_ENVIRONMENT_URL, "https://env.scalekit.dev"),
                (ENV_AUDIENCE_NAME, "res_env"),
                (ENV_CLIENT_ID, "env-client"),
            ],
        )
        .unwrap();
        assert_eq!(s.environment_url, "https://a.scalekit.dev");
        assert_eq!(s.resource_id, "res_t");
        assert_eq!(s.jwt.audiences, ["api://x"]);
        assert_eq!(s.client_id.as_deref(), Some("table-client"));
        assert_eq!(s.jwt.authorization_servers, ["https://as.example"]);
        assert_eq!(s.jwt.algorithms, [Algorithm::RS256, Algorithm::PS256]);
        assert_eq!(s.jwt.jwks.cooldown, Duration::from_secs(1));
        assert!(s.jwt.verified_cache.ttl.is_zero());
    }

    #[test]
    fn env_fallbacks() {
        let env = [
            (ENV_ENVIRONMENT_URL, "https://acme.scalekit.dev"),
            (ENV_CLIENT_ID, "skc_1"),
            (ENV_CLIENT_SECRET, "very-secret"),
            (ENV_AUDIENCE_NAME, "res_88056357768398086"),
            (
                ENV_RESOURCE_METADATA_URL,
                "http://localhost:10000/.well-known/oauth-protected-resource/mcp",
            ),
        ];
        let s = resolve(json!({}), &env).unwrap();
        assert_eq!(s.environment_url, "https://acme.scalekit.dev");
        assert_eq!(s.resource_id, "res_88056357768398086");
        assert_eq!(
            s.jwt.audiences,
            ["res_88056357768398086", "http://127.0.0.1:10000/mcp"]
        );
        assert_eq!(s.client_id.as_deref(), Some("skc_1"));
        assert_eq!(
            s.client_secret.as_ref().map(Secret::expose),
            Some("very-secret")
        );
        let debug = format!("{s:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
        assert!(debug.contains("***"));

        // The resource id from the metadata URL; a non-res_ audience name is the audience.
        let s = resolve(
            json!({}),
            &[
                (ENV_ENVIRONMENT_URL, "https://acme.scalekit.dev"),
                (ENV_AUDIENCE_NAME, "https://mcp.example/mcp"),
                (
                    ENV_RESOURCE_METADATA_URL,
                    "https://acme.scalekit.dev/.well-known/oauth-protected-resource/resources/res_9",
                ),
            ],
        )
        .unwrap();
        assert_eq!(s.resource_id, "res_9");
        assert_eq!(s.jwt.audiences, ["https://mcp.example/mcp"]);
    }

    #[test]
    fn errors_name_the_key_and_the_variable() {
        let err = resolve(json!({"resource_id": "res_1"}), &[]).unwrap_err();
        assert_eq!(
            err,
            "providers.sk: environment_url: missing: set providers.sk.environment_url or the SCALEKIT_ENVIRONMENT_URL environment variable"
        );
        let err = resolve(
            json!({}),
            &[
                (ENV_ENVIRONMENT_URL, "https://acme.scalekit.dev"),
                (
                    ENV_RESOURCE_METADATA_URL,
                    "http://localhost:10000/.well-known/oauth-protected-resource/mcp",
                ),
            ],
        )
        .unwrap_err();
        assert!(
            err.starts_with("providers.sk: resource_id: missing"),
            "{err}"
        );
        assert!(err.contains("SCALEKIT_AUDIENCE_NAME"), "{err}");
        let err = resolve(
            json!({"environment_url": "acme.scalekit.dev", "resource_id": "res_1"}),
            &[],
        )
        .unwrap_err();
        assert!(err.starts_with("providers.sk: environment_url: "), "{err}");
        let err = resolve(
            json!({"environment_url": "https://a.scalekit.dev", "resource_id": "res/1"}),
            &[],
        )
        .unwrap_err();
        assert!(err.starts_with("providers.sk: resource_id: "), "{err}");
        let err = resolve(json!({"environmnet_url": "x"}), &[]).unwrap_err();
        assert!(err.contains("unknown field `environmnet_url`"), "{err}");
        let err = resolve(json!({"timeout": "soon"}), &[]).unwrap_err();
        assert!(err.starts_with("providers.sk: timeout: "), "{err}");
        let err = resolve(
            json!({"environment_url": "https://a.scalekit.dev", "resource_id": "res_1",
                   "algorithms": ["HS256"]}),
            &[],
        )
        .unwrap_err();
        assert!(err.contains("algorithms: HS256 is symmetric"), "{err}");
        let err = resolve(
            json!({"environment_url": "https://a.scalekit.dev", "resource_id": "res_1",
                   "audience": []}),
            &[],
        )
        .unwrap_err();
        assert!(err.starts_with("providers.sk: audience: "), "{err}");
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = ScalekitConfig::from_value("sk", json!({"client_secret": "hunter2"})).unwrap();
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("***"),
            "{debug}"
        );
    }
}
