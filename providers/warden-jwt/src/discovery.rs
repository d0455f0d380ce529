//! Finding `jwks_uri` from an issuer: the metadata document comes from
//! [`warden_upstream::discover`] (OpenID Connect Discovery, then RFC 8414,
//! issuer checked); this module reads `jwks_uri` from it.

use warden_upstream::Discovered;

use crate::http::HttpClient;
use crate::JwtError;

/// The `jwks_uri` of `issuer`'s metadata document.
pub(crate) async fn discover_jwks_uri(http: &HttpClient, issuer: &str) -> Result<String, JwtError> {
    let found = http.discover(issuer).await?;
    jwks_uri_from(&found).map_err(|reason| JwtError::InvalidDocument {
        url: found.url.to_string(),
        reason,
    })
}

/// `jwks_uri` of a metadata document: required, an `http(s)` URL (a
/// relative one is resolved against the document's URL).
fn jwks_uri_from(found: &Discovered) -> Result<String, String> {
    match found.endpoint("jwks_uri")? {
        Some(url) => Ok(url.to_string()),
        None => Err("document has no jwks_uri".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jwks_uri_checks() {
        let url: url::Url = "https://idp/.well-known/openid-configuration"
            .parse()
            .unwrap();
        let doc = |value| Discovered::new(value, url.clone());
        let abs = doc(json!({"issuer": "https://idp", "jwks_uri": "https://idp/keys"}));
        assert_eq!(jwks_uri_from(&abs).unwrap(), "https://idp/keys");
        let rel = doc(json!({"issuer": "https://idp", "jwks_uri": "/keys"}));
        assert_eq!(jwks_uri_from(&rel).unwrap(), "https://idp/keys");
        let none = doc(json!({"issuer": "https://idp"}));
        assert!(jwks_uri_from(&none).unwrap_err().contains("no jwks_uri"));
        let ftp = doc(json!({"issuer": "https://idp", "jwks_uri": "ftp://idp/keys"}));
        assert!(jwks_uri_from(&ftp).is_err());
    }
}
