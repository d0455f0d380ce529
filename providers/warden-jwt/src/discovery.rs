//! Finding `jwks_uri` from an issuer: OIDC discovery, then RFC 8414.

use serde_json::Value;

use crate::http::HttpClient;
use crate::JwtError;

/// The discovery documents to try for `issuer`, in order: OIDC
/// (`{issuer}/.well-known/openid-configuration`), then RFC 8414
/// (`{origin}/.well-known/oauth-authorization-server{issuer-path}`).
pub(crate) fn well_known_urls(issuer: &str) -> Result<Vec<String>, JwtError> {
    let parsed = url::Url::parse(issuer).map_err(|e| JwtError::Discovery {
        issuer: issuer.to_string(),
        reason: format!("issuer is not a URL: {e}"),
    })?;
    let trimmed = issuer.trim_end_matches('/');
    let path = parsed.path().trim_end_matches('/');
    let origin = parsed.origin().ascii_serialization();
    Ok(vec![
        format!("{trimmed}/.well-known/openid-configuration"),
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
    ])
}

/// Fetches the discovery documents of `issuer` until one names a `jwks_uri`.
///
/// Falls back to the RFC 8414 document only when the OIDC one is missing or
/// unusable (HTTP 4xx, not JSON, no `jwks_uri`), not when the server is down.
pub(crate) async fn discover_jwks_uri(http: &HttpClient, issuer: &str) -> Result<String, JwtError> {
    let mut failures = Vec::new();
    for url in well_known_urls(issuer)? {
        match http.get_json(&url).await {
            Ok(doc) => match jwks_uri_from(&doc.body, issuer, &url) {
                Ok(uri) => return Ok(uri),
                Err(reason) => failures.push(JwtError::InvalidDocument { url, reason }),
            },
            Err(e @ JwtError::Status { status, .. }) if (400..500).contains(&status) => {
                failures.push(e);
            }
            Err(e @ JwtError::InvalidDocument { .. }) => failures.push(e),
            Err(e) => return Err(e),
        }
    }
    Err(JwtError::Discovery {
        issuer: issuer.to_string(),
        reason: failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    })
}

/// Reads and checks `jwks_uri` from a discovery document fetched from `url`.
fn jwks_uri_from(doc: &Value, issuer: &str, url: &str) -> Result<String, String> {
    let doc_issuer = doc.get("issuer").and_then(Value::as_str).unwrap_or("");
    if doc_issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!(
            "document issuer {doc_issuer:?} does not match the configured issuer {issuer:?}"
        ));
    }
    let jwks = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or("document has no jwks_uri")?;
    let base = url::Url::parse(url).map_err(|e| e.to_string())?;
    let resolved = base
        .join(jwks)
        .map_err(|e| format!("jwks_uri {jwks:?}: {e}"))?;
    match resolved.scheme() {
        "http" | "https" => Ok(resolved.to_string()),
        other => Err(format!("jwks_uri scheme {other:?} is not http or https")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn well_known_candidates() {
        assert_eq!(
            well_known_urls("https://t.logto.app/oidc").unwrap(),
            [
                "https://t.logto.app/oidc/.well-known/openid-configuration",
                "https://t.logto.app/.well-known/oauth-authorization-server/oidc"
            ]
        );
        assert_eq!(
            well_known_urls("http://127.0.0.1:9/").unwrap(),
            [
                "http://127.0.0.1:9/.well-known/openid-configuration",
                "http://127.0.0.1:9/.well-known/oauth-authorization-server"
            ]
        );
        assert!(well_known_urls("not a url").is_err());
    }

    #[test]
    fn jwks_uri_checks() {
        let url = "https://idp/.well-known/openid-configuration";
        let doc = json!({"issuer": "https://idp", "jwks_uri": "https://idp/keys"});
        assert_eq!(
            jwks_uri_from(&doc, "https://idp/", url).unwrap(),
            "https://idp/keys"
        );
        let rel = json!({"issuer": "https://idp", "jwks_uri": "/keys"});
        assert_eq!(
            jwks_uri_from(&rel, "https://idp", url).unwrap(),
            "https://idp/keys"
        );
        let other = json!({"issuer": "https://evil", "jwks_uri": "https://idp/keys"});
        assert!(jwks_uri_from(&other, "https://idp", url)
            .unwrap_err()
            .contains("does not match"));
        let none = json!({"issuer": "https://idp"});
        assert!(jwks_uri_from(&none, "https://idp", url).is_err());
        let ftp = json!({"issuer": "https://idp", "jwks_uri": "ftp://idp/keys"});
        assert!(jwks_uri_from(&ftp, "https://idp", url).is_err());
    }
}
