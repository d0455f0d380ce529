//! Finding `introspection_endpoint` from the issuer: the metadata document
//! comes from [`warden_upstream::discover`] (OpenID Connect Discovery, then
//! RFC 8414, issuer checked); this module reads the endpoint from it.

use url::Url;
use warden_upstream::Discovered;

use crate::error::IntrospectionError;
use crate::http::Http;

/// The `introspection_endpoint` of `issuer`'s metadata document.
pub(crate) async fn discover(http: &Http, issuer: &str) -> Result<Url, IntrospectionError> {
    let found = http.discover(issuer).await?;
    endpoint_from(&found).map_err(|reason| IntrospectionError::Discovery {
        issuer: issuer.to_owned(),
        reason: format!("{}: {reason}", found.url),
    })
}

/// `introspection_endpoint` of a metadata document: required, an `http(s)` URL.
fn endpoint_from(found: &Discovered) -> Result<Url, String> {
    found
        .endpoint("introspection_endpoint")?
        .ok_or_else(|| "no introspection_endpoint".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents() {
        let url: Url = "https://idp.example/oidc/.well-known/openid-configuration"
            .parse()
            .unwrap();
        let doc = |value| Discovered::new(value, url.clone());
        let ok = doc(json!({"issuer": "https://idp.example/oidc",
            "introspection_endpoint": "https://idp.example/oidc/token/introspection"}));
        assert_eq!(
            endpoint_from(&ok).unwrap().as_str(),
            "https://idp.example/oidc/token/introspection"
        );
        let missing = doc(json!({"issuer": "https://idp.example/oidc"}));
        assert!(endpoint_from(&missing)
            .unwrap_err()
            .contains("no introspection_endpoint"));
        let file = doc(json!({"introspection_endpoint": "file:///x"}));
        assert!(endpoint_from(&file).is_err());
        let number = doc(json!({"introspection_endpoint": 7}));
        assert!(endpoint_from(&number).is_err());
    }
}
