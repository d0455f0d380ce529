//! The issuer's metadata, found by [`warden_upstream::discover`] (OpenID
//! Connect Discovery, then RFC 8414; the document must name the configured
//! issuer) and read with `openidconnect`'s provider metadata (plus
//! `introspection_endpoint`); kept once it succeeded and retried
//! (single-flight) until it does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{AdditionalProviderMetadata, ProviderMetadata};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;
use warden_core::{now_unix, AuthError};

use crate::http::Http;
use crate::LogtoError;

/// Metadata beyond OIDC Discovery that this provider reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogtoAdditionalMetadata {
    /// RFC 8414 / RFC 7662 `introspection_endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
}

impl AdditionalProviderMetadata for LogtoAdditionalMetadata {}

/// `openidconnect`'s provider metadata with [`LogtoAdditionalMetadata`].
pub type LogtoProviderMetadata = ProviderMetadata<
    LogtoAdditionalMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The endpoints discovery yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `jwks_uri`.
    pub jwks_uri: String,
    /// `userinfo_endpoint`, when published.
    pub userinfo: Option<Url>,
    /// `introspection_endpoint`, when published.
    pub introspection: Option<Url>,
}

fn http_url(value: &str, what: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("{what} {value:?}: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Ok(url),
        _ => Err(format!("{what} {value:?} is not an http(s) URL")),
    }
}

/// Reads the endpoints from a metadata `document` served at `url` (whose
/// `issuer` [`warden_upstream::discover`] has already checked).
pub fn parse_document(url: &str, document: &Value) -> Result<Endpoints, LogtoError> {
    let invalid = |reason: String| LogtoError::InvalidResponse {
        url: url.to_owned(),
        reason,
    };
    let metadata: LogtoProviderMetadata = serde_path_to_error::deserialize(document)
        .map_err(|e| invalid(format!("not an OpenID provider configuration: {e}")))?;
    let jwks_uri = http_url(metadata.jwks_uri().as_str(), "jwks_uri").map_err(invalid)?;
    let userinfo = metadata
        .userinfo_endpoint()
        .map(|u| http_url(u.as_str(), "userinfo_endpoint"))
        .transpose()
        .map_err(invalid)?;
    let introspection = metadata
        .additional_metadata()
        .introspection_endpoint
        .as_deref()
        .map(|u| http_url(u, "introspection_endpoint"))
        .transpose()
        .map_err(invalid)?;
    Ok(Endpoints {
        jwks_uri: jwks_uri.to_string(),
        userinfo,
        introspection,
    })
}

#[derive(Default)]
struct State {
    last_attempt: Option<Instant>,
    last_error: Option<String>,
    last_refresh: Option<i64>,
}

/// The discovered endpoints of one issuer.
///
/// Lazily on first use and on [`Discovery::refresh`]; one attempt at a time
/// (callers that waited for a running attempt share its outcome); after a
/// failure, lazy attempts wait `retry_interval`. A successful result is kept
/// until a later refresh succeeds with another one.
pub(crate) struct Discovery {
    provider: String,
    issuer: String,
    http: Http,
    retry_interval: Duration,
    current: RwLock<Option<Arc<Endpoints>>>,
    flight: tokio::sync::Mutex<()>,
    attempts: AtomicU64,
    state: Mutex<State>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Discovery {
    pub(crate) fn new(provider: &str, issuer: &str, http: Http, retry_interval: Duration) -> Self {
        Self {
            provider: provider.to_owned(),
            issuer: issuer.to_owned(),
            http,
            retry_interval,
            current: RwLock::new(None),
            flight: tokio::sync::Mutex::new(()),
            attempts: AtomicU64::new(0),
            state: Mutex::new(State::default()),
        }
    }

    /// The endpoints, if discovery has succeeded.
    pub(crate) fn current(&self) -> Option<Arc<Endpoints>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The last failure, if the last attempt failed.
    pub(crate) fn last_error(&self) -> Option<String> {
        lock(&self.state).last_error.clone()
    }

    /// When discovery last succeeded (seconds since the epoch).
    pub(crate) fn last_refresh(&self) -> Option<i64> {
        lock(&self.state).last_refresh
    }

    /// The endpoints, discovering them first if needed.
    pub(crate) async fn get(&self) -> Result<Arc<Endpoints>, AuthError> {
        if let Some(endpoints) = self.current() {
            return Ok(endpoints);
        }
        let seen = self.attempts.load(Ordering::Acquire);
        let _flight = self.flight.lock().await;
        if let Some(endpoints) = self.current() {
            return Ok(endpoints);
        }
        let recent_failure = lock(&self.state)
            .last_attempt
            .is_some_and(|t| t.elapsed() < self.retry_interval);
        if self.attempts.load(Ordering::Acquire) != seen || recent_failure {
            return Err(self.unavailable());
        }
        self.discover_locked().await
    }

    /// Discovers now. A failure keeps endpoints discovered earlier.
    pub(crate) async fn refresh(&self) -> Result<Arc<Endpoints>, AuthError> {
        let _flight = self.flight.lock().await;
        self.discover_locked().await
    }

    fn unavailable(&self) -> AuthError {
        let reason = self
            .last_error()
            .unwrap_or_else(|| "not attempted yet".into());
        AuthError::unavailable(&self.provider, format!("discovery failed: {reason}"))
    }

    async fn discover_locked(&self) -> Result<Arc<Endpoints>, AuthError> {
        let result = self.fetch().await;
        self.attempts.fetch_add(1, Ordering::AcqRel);
        let mut st = lock(&self.state);
        st.last_attempt = Some(Instant::now());
        match result {
            Ok(endpoints) => {
                let endpoints = Arc::new(endpoints);
                *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                    Some(endpoints.clone());
                st.last_error = None;
                st.last_refresh = Some(now_unix());
                tracing::info!(provider = %self.provider, jwks_uri = %endpoints.jwks_uri,
                    userinfo = ?endpoints.userinfo.as_ref().map(Url::as_str),
                    introspection = ?endpoints.introspection.as_ref().map(Url::as_str),
                    "logto: discovery done");
                Ok(endpoints)
            }
            Err(e) => {
                tracing::warn!(provider = %self.provider, error = %e, "logto: discovery failed");
                st.last_error = Some(e.to_string());
                drop(st);
                Err(AuthError::unavailable(
                    &self.provider,
                    format!("discovery failed: {e}"),
                ))
            }
        }
    }

    async fn fetch(&self) -> Result<Endpoints, LogtoError> {
        let found = self.http.discover(&self.issuer).await?;
        parse_document(found.url.as_str(), &found.document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(issuer: &str) -> Value {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "userinfo_endpoint": format!("{issuer}/me"),
            "introspection_endpoint": format!("{issuer}/token/introspection"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES384"],
        })
    }

    const ISS: &str = "https://t.logto.app/oidc";
    const URL: &str = "https://t.logto.app/oidc/.well-known/openid-configuration";

    #[test]
    fn reads_the_three_endpoints() {
        let e = parse_document(URL, &doc(ISS)).unwrap();
        assert_eq!(e.jwks_uri, "https://t.logto.app/oidc/jwks");
        assert_eq!(e.userinfo.unwrap().as_str(), "https://t.logto.app/oidc/me");
        assert_eq!(
            e.introspection.unwrap().as_str(),
            "https://t.logto.app/oidc/token/introspection"
        );
    }

    #[test]
    fn optional_endpoints_may_be_absent() {
        let mut d = doc(ISS);
        d.as_object_mut().unwrap().remove("userinfo_endpoint");
        d.as_object_mut().unwrap().remove("introspection_endpoint");
        let e = parse_document(URL, &d).unwrap();
        assert!(e.userinfo.is_none() && e.introspection.is_none());
    }

    #[test]
    fn rejects_bad_documents() {
        let err = parse_document(URL, &json!("<html>")).unwrap_err();
        assert!(matches!(err, LogtoError::InvalidResponse { .. }));
        let mut d = doc(ISS);
        d.as_object_mut().unwrap().remove("jwks_uri");
        let err = parse_document(URL, &d).unwrap_err();
        assert!(err.to_string().contains("jwks_uri"), "{err}");
        let mut d = doc(ISS);
        d["userinfo_endpoint"] = json!("ftp://t.logto.app/me");
        let err = parse_document(URL, &d).unwrap_err();
        assert!(err.to_string().contains("userinfo_endpoint"), "{err}");
    }
}
