//! Finding `introspection_endpoint` from the issuer (OIDC discovery, then RFC 8414).

use serde_json::Value;
use url::Url;

use crate::error::IntrospectionError;
use crate::http::Http;

/// Where the metadata may live, in the order tried:
/// `{issuer}/.well-known/openid-configuration`, then RFC 8414's
/// `{origin}/.well-known/oauth-authorization-server{issuer-path}`.
pub(crate) fn discovery_urls(issuer: &str) -> Result<Vec<Url>, String> {
    let trimmed = issuer.trim_end_matches('/');
    let oidc = Url::parse(&format!("{trimmed}/.well-known/openid-configuration"))
        .map_err(|e| format!("issuer {issuer:?} is not a URL: {e}"))?;
    let parsed = Url::parse(issuer).map_err(|e| format!("issuer {issuer:?} is not a URL: {e}"))?;
    let path = parsed.path().trim_end_matches('/');
    let mut rfc8414 = parsed.clone();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    rfc8414.set_query(None);
    rfc8414.set_fragment(None);
    Ok(vec![oidc, rfc8414])
}

/// Fetches the metadata documents in order and returns the first
/// `introspection_endpoint` found in a document whose `issuer` (when
/// present) is the configured one.
pub(crate) async fn discover(http: &Http, issuer: &str) -> Result<Url, IntrospectionError> {
    let fail = |reason: String| IntrospectionError::Discovery {
        issuer: issuer.to_owned(),
        reason,
    };
    let mut failures = Vec::new();
    for url in discovery_urls(issuer).map_err(fail)? {
        let outcome = match http.get(&url).await {
            Ok(reply) if reply.status == 200 => endpoint_from_document(&reply.body, issuer),
            Ok(reply) => Err(format!("HTTP {}", reply.status)),
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(endpoint) => return Ok(endpoint),
            Err(reason) => failures.push(format!("{url}: {reason}")),
        }
    }
    Err(fail(failures.join("; ")))
}

fn endpoint_from_document(body: &[u8], issuer: &str) -> Result<Url, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    let doc = doc.as_object().ok_or("not a JSON object")?;
    if let Some(found) = doc.get("issuer") {
        let found = found.as_str().ok_or("`issuer` is not a string")?;
        if found.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(format!("document is for issuer {found:?}"));
        }
    }
    let endpoint = doc
        .get("introspection_endpoint")
        .ok_or("no introspection_endpoint")?
        .as_str()
        .ok_or("introspection_endpoint is not a string")?;
    let url = Url::parse(endpoint).map_err(|e| format!("introspection_endpoint: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "introspection_endpoint {endpoint:?} is not an http(s) URL"
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let urls = discovery_urls("https://idp.example/oidc/").unwrap();
        assert_eq!(
            urls[0].as_str(),
            "https://idp.example/oidc/.well-known/openid-configuration"
        );
        assert_eq!(
            urls[1].as_str(),
            "https://idp.example/.well-known/oauth-authorization-server/oidc"
        );
        let urls = discovery_urls("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            urls[0].as_str(),
            "http://127.0.0.1:8080/.well-known/openid-configuration"
        );
        assert_eq!(
            urls[1].as_str(),
            "http://127.0.0.1:8080/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn documents() {
        let iss = "https://idp.example/oidc";
        let ok = br#"{"issuer":"https://idp.example/oidc","introspection_endpoint":"https://idp.example/oidc/token/introspection"}"#;
        assert_eq!(
            endpoint_from_document(ok, iss).unwrap().as_str(),
            "https://idp.example/oidc/token/introspection"
        );
        let other = br#"{"issuer":"https://evil.example","introspection_endpoint":"https://evil.example/i"}"#;
        assert!(endpoint_from_document(other, iss)
            .unwrap_err()
            .contains("evil"));
        assert!(endpoint_from_document(br#"{"issuer":"https://idp.example/oidc"}"#, iss).is_err());
        assert!(endpoint_from_document(br#"{"introspection_endpoint":"file:///x"}"#, iss).is_err());
        assert!(endpoint_from_document(b"nope", iss).is_err());
    }
}
