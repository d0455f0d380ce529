//! Verifying an opaque access token by calling the userinfo endpoint with it.

use std::sync::Arc;

use serde_json::{Map, Value};
use url::Url;
use warden_core::{scope, AuthInfo};

use crate::http::Http;
use crate::LogtoError;

/// What userinfo said about a token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// 200 with a JSON object carrying `sub`.
    Accepted(Arc<AuthInfo>),
    /// 400/401/403: the token is not a live user token of this issuer.
    Rejected {
        /// The status userinfo answered.
        status: u16,
    },
}

/// Builds the identity from a userinfo answer.
///
/// `subject` = `sub` (required), `issuer` = the configured issuer, `client_id`
/// from `client_id`/`azp` when present, `scopes` only from a `scope` member
/// (userinfo normally carries none), `audiences` empty (userinfo does not say
/// which resource the token is for), `expires_at` from `exp` when present,
/// `claims` = the whole answer.
pub fn userinfo_to_auth_info(
    provider: &str,
    issuer: &str,
    claims: Map<String, Value>,
) -> Result<AuthInfo, String> {
    let text = |key: &str| claims.get(key).and_then(Value::as_str).map(str::to_owned);
    let subject = match claims.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err("`sub` is not a non-empty string".into()),
        None => return Err("the answer has no `sub`".into()),
    };
    let scopes = claims
        .get("scope")
        .map(|s| {
            let mut only_scope = Map::new();
            only_scope.insert("scope".into(), s.clone());
            scope::scopes_from_claims(&only_scope)
        })
        .unwrap_or_default();
    let expires_at = claims.get("exp").and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    });
    Ok(AuthInfo {
        subject: Some(subject),
        issuer: Some(issuer.to_owned()),
        client_id: text("client_id").or_else(|| text("azp")),
        audiences: Vec::new(),
        scopes,
        expires_at,
        claims,
        provider: provider.to_owned(),
    })
}

/// Asks `endpoint` about `token`. `Err` means "could not verify": transport
/// failures, timeouts, 5xx, 404, 429 and answers that are not a userinfo object.
pub(crate) async fn ask(
    http: &Http,
    endpoint: &Url,
    token: &str,
    provider: &str,
    issuer: &str,
) -> Result<Verdict, LogtoError> {
    let url = endpoint.as_str();
    let reply = http.get(url, Some(token)).await?;
    match reply.status {
        200 => {
            let invalid = |reason: String| LogtoError::InvalidResponse {
                url: url.to_owned(),
                reason,
            };
            let claims = match serde_json::from_slice::<Value>(&reply.body) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err(invalid("the answer is not a JSON object".into())),
                Err(e) => return Err(invalid(format!("the answer is not JSON ({e})"))),
            };
            let info = userinfo_to_auth_info(provider, issuer, claims).map_err(invalid)?;
            Ok(Verdict::Accepted(Arc::new(info)))
        }
        status @ (400 | 401 | 403) => Ok(Verdict::Rejected { status }),
        status => Err(LogtoError::Status {
            url: url.to_owned(),
            status,
            retry_after: reply.retry_after,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn profile_claims_become_the_identity() {
        let info = userinfo_to_auth_info(
            "logto",
            "https://t.logto.app/oidc",
            map(json!({"sub": "u1", "name": "Ada", "username": "ada", "email": "ada@example.com"})),
        )
        .unwrap();
        assert_eq!(info.subject.as_deref(), Some("u1"));
        assert_eq!(info.issuer.as_deref(), Some("https://t.logto.app/oidc"));
        assert_eq!(info.claim_str("username"), Some("ada"));
        assert!(info.scopes.is_empty() && info.audiences.is_empty());
        assert_eq!(info.provider, "logto");
        assert_eq!(info.expires_at, None);
    }

    #[test]
    fn scope_only_from_scope() {
        let info = userinfo_to_auth_info(
            "l",
            "i",
            map(json!({"sub": "u", "scope": "a b", "permissions": ["p"], "exp": 5})),
        )
        .unwrap();
        assert_eq!(info.scopes, ["a", "b"]);
        assert_eq!(info.expires_at, Some(5));
    }

    #[test]
    fn sub_is_required() {
        assert!(userinfo_to_auth_info("l", "i", map(json!({"name": "x"}))).is_err());
        assert!(userinfo_to_auth_info("l", "i", map(json!({"sub": 5}))).is_err());
        assert!(userinfo_to_auth_info("l", "i", map(json!({"sub": ""}))).is_err());
    }
}
