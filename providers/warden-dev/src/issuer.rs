//! `DevIssuer`: the dev signing key, token minting, metadata and the verifier.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use serde_json::{json, Value};
use warden_core::{now_unix, BuildError, ProviderContext, Verifier};
use warden_jwt::{JwtSettings, JwtVerifier, KeySourceConfig, StaticKeys};

use crate::key::DevKey;
use crate::{DevClient, DevConfig, DevError};

/// What [`DevIssuer::mint`] puts in a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintRequest {
    /// `sub`.
    pub sub: String,
    /// Granted scopes (the `scope` claim, space-delimited; omitted when empty).
    pub scopes: Vec<String>,
    /// Lifetime (whole seconds, at least one).
    pub ttl: Duration,
    /// `aud`; `None` → the issuer's default audience (the first configured one).
    pub audience: Option<String>,
    /// `client_id`; `None` → `sub` (a client acting for itself).
    pub client_id: Option<String>,
}

/// The embedded development authorization server.
///
/// Issues RFC 9068 JWT access tokens (`typ: at+jwt`, ES256) signed with a
/// key persisted at `key_path`, serves RFC 8414 metadata, a JWKS and a
/// `client_credentials` token endpoint ([`DevIssuer::routes`]), and verifies
/// its own tokens through the shared [`JwtVerifier`] ([`DevIssuer::verifier`]).
pub struct DevIssuer {
    pub(crate) issuer: String,
    pub(crate) path: String,
    pub(crate) audiences: Vec<String>,
    pub(crate) token_ttl: Duration,
    pub(crate) clients: Vec<DevClient>,
    pub(crate) scopes_supported: Vec<String>,
    allow_non_loopback: bool,
    key_path: PathBuf,
    key: DevKey,
    verifier: Arc<JwtVerifier>,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("issuer", &self.issuer)
            .field("kid", &self.key.kid)
            .field("audiences", &self.audiences)
            .field("clients", &self.clients)
            .finish_non_exhaustive()
    }
}

/// Characters allowed in the issuer path (it becomes a route path).
fn plain_path(path: &str) -> bool {
    path.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
}

fn parse_issuer(issuer: &str) -> Result<(String, String), String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("{issuer:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{issuer:?} is not an http(s) URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{issuer:?} must not have a query or fragment"));
    }
    let path = url.path().trim_end_matches('/').to_owned();
    if !plain_path(&path) {
        return Err(format!(
            "{issuer:?}: the path may only hold letters, digits and -._~/"
        ));
    }
    Ok((issuer.trim_end_matches('/').to_owned(), path))
}

impl DevIssuer {
    /// Loads (or creates) the signing key and builds the issuer.
    ///
    /// Defaults: issuer `{public_url}/dev`, key `{data_dir}/dev-es256.pem`,
    /// audience `ctx.resource`. A client without scopes may request every
    /// scope in `scopes_supported`.
    pub fn new(ctx: &ProviderContext, cfg: DevConfig) -> Result<Arc<Self>, BuildError> {
        Self::build(ctx, cfg, true)
    }

    /// Checks `cfg` exactly as [`DevIssuer::new`] does, writing nothing: a missing
    /// key file is not created (a throw-away key stands in), an existing one is
    /// read and must be valid. For `warden check-config`.
    pub fn dry_run(ctx: &ProviderContext, cfg: DevConfig) -> Result<Arc<Self>, BuildError> {
        Self::build(ctx, cfg, false)
    }

    fn build(
        ctx: &ProviderContext,
        cfg: DevConfig,
        persist: bool,
    ) -> Result<Arc<Self>, BuildError> {
        let bad = |key: &str, msg: String| BuildError::invalid(&ctx.name, format!("{key}: {msg}"));
        let issuer = cfg
            .issuer
            .clone()
            .unwrap_or_else(|| format!("{}/dev", ctx.public_url.trim_end_matches('/')));
        let (issuer, path) = parse_issuer(&issuer).map_err(|m| bad("issuer", m))?;
        let audiences = cfg
            .audience
            .map(|a| a.0)
            .unwrap_or_else(|| ctx.default_audiences());
        if audiences.is_empty() || audiences.iter().any(|a| a.trim().is_empty()) {
            return Err(bad(
                "audience",
                "needs at least one non-empty audience".into(),
            ));
        }
        if cfg.token_ttl < Duration::from_secs(1) {
            return Err(bad("token_ttl", "must be at least 1s".into()));
        }
        if cfg.clients.is_empty() {
            return Err(bad("clients", "needs at least one client".into()));
        }
        let mut clients = cfg.clients;
        for (i, client) in clients.iter_mut().enumerate() {
            if client.client_id.is_empty() || client.client_secret.is_empty() {
                return Err(bad(
                    &format!("clients[{i}]"),
                    "client_id and client_secret must not be empty".into(),
                ));
            }
            if client.scopes.is_empty() {
                client.scopes = cfg.scopes_supported.clone();
            }
            if let Some(s) = client
                .scopes
                .iter()
                .find(|s| !cfg.scopes_supported.contains(s))
            {
                return Err(bad(
                    &format!("clients[{i}].scopes"),
                    format!("{s:?} is not in scopes_supported"),
                ));
            }
        }
        for (i, client) in clients.iter().enumerate() {
            if clients[..i].iter().any(|c| c.client_id == client.client_id) {
                return Err(bad(
                    &format!("clients[{i}].client_id"),
                    format!("{:?} is listed twice", client.client_id),
                ));
            }
        }
        let key_path = cfg
            .key_path
            .clone()
            .unwrap_or_else(|| ctx.data_dir.join("dev-es256.pem"));
        let key = crate::key::load(&key_path, persist).map_err(|m| bad("key_path", m))?;
        let keys = StaticKeys::from_jwks(&json!({"keys": [key.jwk.clone()]}))
            .map_err(|e| bad("key_path", e.to_string()))?;
        let verifier = JwtVerifier::new(
            ctx,
            JwtSettings {
                name: ctx.name.clone(),
                kind: "dev".into(),
                issuers: vec![issuer.clone()],
                audiences: audiences.clone(),
                algorithms: vec![Algorithm::ES256],
                required_typ: Some("at+jwt".into()),
                authorization_servers: vec![issuer.clone()],
                key_source: KeySourceConfig::Provided(Arc::new(keys)),
                ..Default::default()
            },
        )?;
        Ok(Arc::new(Self {
            issuer,
            path,
            audiences,
            token_ttl: cfg.token_ttl,
            clients,
            scopes_supported: cfg.scopes_supported,
            allow_non_loopback: cfg.allow_non_loopback,
            key_path,
            key,
            verifier,
        }))
    }

    /// Signs an RFC 9068 access token.
    pub fn mint(&self, req: MintRequest) -> Result<String, DevError> {
        if req.sub.is_empty() {
            return Err(DevError::InvalidRequest {
                reason: "sub must not be empty".into(),
            });
        }
        let ttl = req.ttl.as_secs();
        if ttl == 0 {
            return Err(DevError::InvalidRequest {
                reason: "ttl must be at least one second".into(),
            });
        }
        let now = now_unix();
        let mut claims = json!({
            "iss": self.issuer,
            "sub": req.sub,
            "aud": req.audience.unwrap_or_else(|| self.audiences[0].clone()),
            "exp": now.saturating_add(ttl as i64),
            "iat": now,
            "jti": uuid::Uuid::new_v4().to_string(),
            "client_id": req.client_id.unwrap_or_else(|| req.sub.clone()),
        });
        if !req.scopes.is_empty() {
            claims["scope"] = json!(req.scopes.join(" "));
        }
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(self.key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key.encoding).map_err(|e| DevError::Signing {
            reason: e.to_string(),
        })
    }

    /// The verifier for this issuer's tokens (kind `dev`, ES256 only, `typ: at+jwt`).
    pub fn verifier(&self) -> Arc<dyn Verifier> {
        self.verifier.clone()
    }

    /// The issuer identifier (no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Audiences tokens are issued for; the first is the default.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// Lifetime of tokens from the token endpoint.
    pub fn token_ttl(&self) -> Duration {
        self.token_ttl
    }

    /// Scopes advertised in the metadata.
    pub fn scopes_supported(&self) -> &[String] {
        &self.scopes_supported
    }

    /// `kid` of the signing key (its RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.key.kid
    }

    /// Where the signing key lives.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// The config's `allow_non_loopback` (the host enforces it).
    pub fn allow_non_loopback(&self) -> bool {
        self.allow_non_loopback
    }

    /// `{issuer}/token`.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.issuer)
    }

    /// `{issuer}/jwks`.
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.issuer)
    }

    /// The public JWK set.
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.key.jwk.clone()]})
    }

    /// The RFC 8414 authorization server metadata document.
    ///
    /// `authorization_endpoint` is present because common MCP clients (the
    /// TypeScript SDK) reject metadata without one; that endpoint answers
    /// every request with `unsupported_response_type`, and
    /// `response_types_supported` is empty.
    pub fn metadata(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "token_endpoint": self.token_endpoint(),
            "jwks_uri": self.jwks_uri(),
            "authorization_endpoint": format!("{}/authorize", self.issuer),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": self.scopes_supported,
            "response_types_supported": [],
        })
    }
}
