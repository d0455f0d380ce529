//! `JwtVerifier`: the one JWT verification path of warden.

use std::sync::Arc;

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use warden_core::jwt_peek::{self, MAX_TOKEN_BYTES};
use warden_core::{
    now_unix, scope, AuthError, AuthInfo, BearerPolicy, BuildError, Check, ProviderContext,
    ProviderDescriptor, ProviderStatus, Verifier,
};

use crate::verified_cache::{Verified, VerifiedCache};
use crate::{JwksCache, JwksLocation, JwtSettings, KeySource, KeySourceConfig};

/// Verifies JWT access tokens against a [`KeySource`] and a [`BearerPolicy`].
///
/// In order: size cap, `alg` allow-list (never `none` or HMAC), `crit`
/// refused, `typ` (when required), key by `kid`, signature, then `iss`,
/// `aud`, `exp` (required) and `nbf`/`iat` with leeway. `jku`, `x5u`, `jwk`
/// and `x5c` headers are ignored: keys only ever come from the key source.
/// A token verified before is answered from a cache (only its lifetime is
/// checked again).
pub struct JwtVerifier {
    descriptor: ProviderDescriptor,
    settings: JwtSettings,
    policy: BearerPolicy,
    /// `policy` without the `exp` requirement, for the separate `nbf` check.
    not_before_policy: BearerPolicy,
    validations: Vec<(Algorithm, Validation)>,
    keys: Arc<dyn KeySource>,
    cache: VerifiedCache,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("descriptor", &self.descriptor)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Collects [`Check`]s when explaining; does nothing when verifying.
struct Trace<'a>(Option<&'a mut Vec<Check>>);

impl Trace<'_> {
    fn pass(&mut self, name: &str, detail: impl FnOnce() -> String) {
        if let Some(checks) = self.0.as_deref_mut() {
            checks.push(Check::new(name, true, detail()));
        }
    }

    fn fail(&mut self, name: &str, error: &AuthError) {
        if let Some(checks) = self.0.as_deref_mut() {
            checks.push(Check::new(name, false, error.to_string()));
        }
    }

    /// Records `result` under `name` and passes it on.
    fn record<T>(
        &mut self,
        name: &str,
        result: Result<T, AuthError>,
        detail: impl FnOnce(&T) -> String,
    ) -> Result<T, AuthError> {
        match &result {
            Ok(v) => self.pass(name, || detail(v)),
            Err(e) => self.fail(name, e),
        }
        result
    }
}

/// At most `max` characters of an untrusted header value, for error messages.
fn shorten(value: &str, max: usize) -> String {
    match value.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &value[..i]),
        None => value.to_owned(),
    }
}

/// `typ` values compared case-insensitively, `application/` prefix optional (RFC 7515 §4.1.9).
fn normalize_typ(typ: &str) -> String {
    let lower = typ.trim().to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

/// A NumericDate claim: integer or (truncated) fractional seconds.
fn numeric_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, AuthError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| AuthError::malformed(format!("{name} is not a valid number"))),
        Some(_) => Err(AuthError::malformed(format!("{name} is not a number"))),
    }
}

/// `aud` as a list, whether the claim is a string or an array.
fn audiences(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn string_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// The fields of an identity that the token's own claims give (`sub`, `exp`):
/// what the verified-token cache fills in on a hit (it keeps the others, which
/// come from claims many tokens share).
fn complete_identity(info: &mut AuthInfo) {
    info.subject = string_claim(&info.claims, "sub");
    info.expires_at = numeric_claim(&info.claims, "exp").ok().flatten();
}

fn signature_error(e: jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => AuthError::malformed("the JWT cannot be decoded"),
        _ => AuthError::BadSignature,
    }
}

impl JwtVerifier {
    /// Builds a verifier; does no I/O.
    ///
    /// Fills what `settings` leaves empty from `ctx`: `name`, `audiences`
    /// (the canonical MCP URL), `leeway`, and `authorization_servers`
    /// (= `issuers`). For [`KeySourceConfig::JwksUrl`] and
    /// [`KeySourceConfig::Discover`] it creates a [`JwksCache`] reporting to
    /// `ctx.observer`.
    pub fn new(ctx: &ProviderContext, mut settings: JwtSettings) -> Result<Arc<Self>, BuildError> {
        if settings.name.is_empty() {
            settings.name = ctx.name.clone();
        }
        if settings.audiences.is_empty() {
            settings.audiences = ctx.default_audiences();
        }
        if settings.authorization_servers.is_empty() {
            settings.authorization_servers = settings.issuers.clone();
        }
        let leeway = *settings.leeway.get_or_insert(ctx.leeway);
        settings.validate()?;
        let jwks = |location| {
            JwksCache::new(
                settings.name.clone(),
                location,
                settings.jwks,
                settings.timeout,
                ctx.observer.clone(),
            )
            .map(|c| Arc::new(c) as Arc<dyn KeySource>)
            .map_err(|e| BuildError::invalid(&settings.name, e.to_string()))
        };
        let keys = match &settings.key_source {
            KeySourceConfig::JwksUrl(url) => jwks(JwksLocation::Url(url.clone()))?,
            KeySourceConfig::Discover => jwks(JwksLocation::Discover {
                issuer: settings.issuers[0].clone(),
            })?,
            KeySourceConfig::Provided(source) => source.clone(),
        };
        let policy = BearerPolicy {
            issuers: settings.issuers.clone(),
            audiences: settings.audiences.clone(),
            required_scopes: Vec::new(),
            wildcard_scopes: true,
            leeway,
            require_exp: true,
        };
        let not_before_policy = BearerPolicy {
            require_exp: false,
            ..policy.clone()
        };
        let validations = settings
            .algorithms
            .iter()
            .map(|alg| {
                let mut v = Validation::new(*alg);
                v.required_spec_claims.clear();
                v.validate_exp = false;
                v.validate_nbf = false;
                v.validate_aud = false;
                v.leeway = 0;
                (*alg, v)
            })
            .collect();
        let descriptor = ProviderDescriptor {
            name: settings.name.clone(),
            kind: settings.kind.clone(),
            issuers: settings.issuers.clone(),
            accepts_opaque: false,
            authorization_servers: settings.authorization_servers.clone(),
            audiences: settings.audiences.clone(),
        };
        let cache = VerifiedCache::new(
            &settings.name,
            settings.verified_cache,
            ctx.observer.clone(),
            complete_identity,
        );
        Ok(Arc::new(Self {
            descriptor,
            settings,
            policy,
            not_before_policy,
            validations,
            keys,
            cache,
        }))
    }

    /// The effective settings (with the context defaults filled in).
    pub fn settings(&self) -> &JwtSettings {
        &self.settings
    }

    /// The key source in use.
    pub fn key_source(&self) -> &Arc<dyn KeySource> {
        &self.keys
    }

    /// Reads `alg` and refuses `crit`; returns the allowed algorithm.
    fn check_header(&self, header: &Map<String, Value>) -> Result<Algorithm, AuthError> {
        let Some(alg_name) = header.get("alg").and_then(Value::as_str) else {
            return Err(AuthError::BadHeader {
                reason: "no alg".into(),
            });
        };
        let alg = alg_name
            .parse::<Algorithm>()
            .ok()
            .filter(|a| self.settings.algorithms.contains(a))
            .ok_or_else(|| AuthError::AlgorithmNotAllowed {
                alg: shorten(alg_name, 32),
            })?;
        if header.contains_key("crit") {
            return Err(AuthError::BadHeader {
                reason: "crit header parameters are not supported".into(),
            });
        }
        Ok(alg)
    }

    fn check_typ(&self, header: &Map<String, Value>) -> Result<(), AuthError> {
        let Some(required) = &self.settings.required_typ else {
            return Ok(());
        };
        let typ = header.get("typ").and_then(Value::as_str);
        match typ {
            Some(t) if normalize_typ(t) == normalize_typ(required) => Ok(()),
            other => Err(AuthError::WrongTokenType {
                token_type: shorten(other.unwrap_or(""), 32),
            }),
        }
    }

    fn verify_signature(
        &self,
        token: &str,
        key: &DecodingKey,
        alg: Algorithm,
    ) -> Result<Map<String, Value>, AuthError> {
        let Some((_, validation)) = self.validations.iter().find(|(a, _)| *a == alg) else {
            return Err(AuthError::AlgorithmNotAllowed {
                alg: format!("{alg:?}"),
            });
        };
        jsonwebtoken::decode::<Map<String, Value>>(token, key, validation)
            .map(|data| data.claims)
            .map_err(signature_error)
    }

    /// Issuer, audience, expiry and not-before checks; all are traced, the first failure returned.
    fn check_claims(
        &self,
        claims: Map<String, Value>,
        now: i64,
        trace: &mut Trace<'_>,
    ) -> Result<AuthInfo, AuthError> {
        let info = self.identity(claims);
        let claims = &info.claims;
        let issuer = info.issuer.as_deref();
        let auds = &info.audiences;
        let iss = trace.record("issuer", self.policy.check_issuer(issuer), |_| {
            format!("{:?} is accepted", issuer.unwrap_or(""))
        });
        let aud = trace.record("audience", self.policy.check_audience(auds), |_| {
            format!("{auds:?} includes this resource")
        });
        let exp = numeric_claim(claims, "exp");
        let expiry = trace.record(
            "expiry",
            exp.clone()
                .and_then(|exp| self.policy.check_times(exp, None, None, now)),
            |_| format!("expires at {}", exp.clone().ok().flatten().unwrap_or(0)),
        );
        let not_before = trace.record(
            "not_before",
            numeric_claim(claims, "nbf").and_then(|nbf| {
                let iat = numeric_claim(claims, "iat")?;
                self.not_before_policy.check_times(None, nbf, iat, now)
            }),
            |_| "nbf/iat are not in the future".into(),
        );
        iss?;
        aud?;
        expiry?;
        not_before?;
        Ok(info)
    }

    /// The identity `claims` describe.
    fn identity(&self, claims: Map<String, Value>) -> AuthInfo {
        let mut info = AuthInfo {
            subject: None,
            issuer: string_claim(&claims, "iss"),
            client_id: string_claim(&claims, "client_id").or_else(|| string_claim(&claims, "azp")),
            audiences: audiences(&claims),
            scopes: scope::scopes_from_claims(&claims),
            expires_at: None,
            claims,
            provider: self.settings.name.clone(),
        };
        complete_identity(&mut info);
        info
    }

    /// The lifetime checks re-run on a cached identity.
    /// Whether the key a cached verdict was reached with is still held (an
    /// entry whose key rotated out no longer answers).
    fn key_held(&self, verified: &Verified) -> bool {
        self.keys.holds(verified.kid(), verified.alg())
    }

    fn check_cached(&self, info: &AuthInfo, now: i64) -> Result<(), AuthError> {
        let nbf = numeric_claim(&info.claims, "nbf")?;
        let iat = numeric_claim(&info.claims, "iat")?;
        self.policy.check_times(info.expires_at, nbf, iat, now)
    }

    async fn run(
        &self,
        token: &str,
        trace: &mut Trace<'_>,
        use_cache: bool,
    ) -> Result<AuthInfo, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            let e = AuthError::malformed(format!(
                "token is {} bytes; at most {MAX_TOKEN_BYTES} are accepted",
                token.len()
            ));
            trace.fail("format", &e);
            return Err(e);
        }
        if use_cache {
            if let Some(info) = self.cache.get(token, |v| self.key_held(v)).await {
                self.check_cached(&info, now_unix())?;
                return Ok(info);
            }
        }
        let peek = trace.record("format", jwt_peek::peek(token), |_| {
            "compact JWS with JSON header and claims".into()
        })?;
        let alg = trace.record("header", self.check_header(&peek.header), |alg| {
            format!("alg {alg:?} is allowed")
        })?;
        if self.settings.required_typ.is_some() {
            trace.record("typ", self.check_typ(&peek.header), |_| {
                format!(
                    "typ {:?} is accepted",
                    peek.header.get("typ").and_then(Value::as_str).unwrap_or("")
                )
            })?;
        }
        let kid = peek.kid();
        let key = trace.record("key", self.keys.key(kid, alg).await, |_| match kid {
            Some(kid) => format!("key {kid:?} found for {alg:?}"),
            None => format!("the only key for {alg:?} (token has no kid)"),
        })?;
        let claims = trace.record("signature", self.verify_signature(token, &key, alg), |_| {
            format!("{alg:?} signature verifies")
        })?;
        let now = now_unix();
        let info = self.check_claims(claims, now, trace)?;
        if use_cache {
            self.cache.insert(token, &info, (kid, alg), now).await;
        }
        Ok(info)
    }
}

#[async_trait]
impl Verifier for JwtVerifier {
    async fn verify(&self, token: &str) -> Result<AuthInfo, AuthError> {
        self.run(token, &mut Trace(None), true).await
    }

    /// A verified-cache hit that [`Verifier::verify`] would accept as it is:
    /// key still held, times still valid.
    async fn recall(&self, token: &str) -> Option<AuthInfo> {
        if token.len() > MAX_TOKEN_BYTES {
            return None;
        }
        let valid = |info: &AuthInfo| self.check_cached(info, now_unix()).is_ok();
        self.cache.recall(token, |v| self.key_held(v), valid).await
    }

    fn descriptor(&self) -> &ProviderDescriptor {
        &self.descriptor
    }

    fn status(&self) -> ProviderStatus {
        let mut status = self.keys.status();
        status.caches.extend(self.cache.stats());
        status
    }

    async fn refresh(&self) -> Result<(), AuthError> {
        self.keys.refresh().await
    }

    fn flush_caches(&self) {
        self.cache.flush();
    }

    /// Runs every check without the verified-token cache and reports each.
    async fn explain(&self, token: &str) -> (Vec<Check>, Result<AuthInfo, AuthError>) {
        let mut checks = Vec::new();
        let result = self.run(token, &mut Trace(Some(&mut checks)), false).await;
        (checks, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_cache_hit_still_checks_the_lifetime() {
        let keys = crate::StaticKeys::from_jwks(&json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "kid": "ed",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        }]}))
        .unwrap();
        let ctx = ProviderContext {
            name: "corp".into(),
            public_url: "http://127.0.0.1:1".into(),
            resource: "http://127.0.0.1:1/mcp".into(),
            leeway: std::time::Duration::from_secs(60),
            observer: warden_core::noop_observer(),
            data_dir: std::env::temp_dir(),
        };
        let v = JwtVerifier::new(
            &ctx,
            JwtSettings {
                issuers: vec!["https://idp".into()],
                key_source: KeySourceConfig::Provided(Arc::new(keys)),
                ..Default::default()
            },
        )
        .unwrap();
        let now = now_unix();
        let key = (Some("ed"), Algorithm::EdDSA);
        // Entries inserted as if verified 200 s ago, so they are still held.
        for (token, exp) in [("fresh", now + 100), ("stale", now - 100)] {
            let claims = json!({"sub": "alice", "exp": exp, "nbf": now - 200});
            let info = v.identity(claims.as_object().unwrap().clone());
            v.cache.insert(token, &info, key, now - 200).await;
        }
        assert_eq!(
            v.verify("fresh").await.unwrap().subject.as_deref(),
            Some("alice")
        );
        assert_eq!(
            v.verify("stale").await.unwrap_err(),
            AuthError::Expired { exp: now - 100 }
        );
        // `recall` gives what `verify` accepts, and nothing for the rest.
        assert_eq!(
            v.recall("fresh").await.unwrap(),
            v.verify("fresh").await.unwrap()
        );
        assert_eq!(v.recall("stale").await, None);
        assert_eq!(v.recall("never-seen").await, None);
        // An entry whose key is gone is `verify`'s to drop.
        let claims = json!({"sub": "bob", "exp": now + 100});
        let info = v.identity(claims.as_object().unwrap().clone());
        v.cache
            .insert("rotated", &info, (Some("gone"), Algorithm::EdDSA), now)
            .await;
        assert_eq!(v.recall("rotated").await, None);
        let stats = v.status().caches;
        // verify("fresh") twice, verify("stale") (found, then expired) and
        // recall("fresh"); the recalls that gave nothing count nothing.
        assert_eq!((stats[0].hits, stats[0].misses), (4, 0), "{stats:?}");
    }

    #[test]
    fn typ_normalisation() {
        assert_eq!(normalize_typ("application/AT+JWT"), "at+jwt");
        assert_eq!(normalize_typ("at+jwt"), "at+jwt");
        assert_ne!(normalize_typ("JWT"), normalize_typ("at+jwt"));
    }

    #[test]
    fn claim_helpers() {
        let c = json!({"exp": 10, "nbf": 5.7, "iat": "x", "aud": ["a", 3, "b"]});
        let c = c.as_object().unwrap();
        assert_eq!(numeric_claim(c, "exp").unwrap(), Some(10));
        assert_eq!(numeric_claim(c, "nbf").unwrap(), Some(5));
        assert!(numeric_claim(c, "iat").is_err());
        assert_eq!(numeric_claim(c, "missing").unwrap(), None);
        assert_eq!(audiences(c), ["a", "b"]);
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("ab", 3), "ab");
    }
}
