//! RFC 9728 OAuth 2.0 Protected Resource Metadata.

use serde::{Deserialize, Serialize};

/// The document served at `/.well-known/oauth-protected-resource[/path]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtectedResourceMetadata {
    /// The resource identifier; equals the URL the well-known path was derived from.
    pub resource: String,
    /// Issuers of authorization servers that issue tokens for this resource (≥ 1).
    pub authorization_servers: Vec<String>,
    /// Scopes this resource understands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How tokens may be presented; warden accepts only `header`.
    pub bearer_methods_supported: Vec<String>,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Documentation URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
}

impl ProtectedResourceMetadata {
    /// Metadata for `resource` with header-only bearer tokens.
    pub fn new(resource: impl Into<String>, authorization_servers: Vec<String>) -> Self {
        Self {
            resource: resource.into(),
            authorization_servers,
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header".into()],
            resource_name: None,
            resource_documentation: None,
        }
    }
}

/// The path-suffixed well-known URL for a resource at `public_url` + `path`
/// (RFC 9728 §3.1): `{origin}/.well-known/oauth-protected-resource{path}`.
pub fn metadata_url(public_url: &str, path: &str) -> String {
    let base = public_url.trim_end_matches('/');
    let path = path.trim_end_matches('/');
    format!("{base}/.well-known/oauth-protected-resource{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_per_rfc() {
        let mut m = ProtectedResourceMetadata::new("http://h/mcp", vec!["http://h/dev".into()]);
        m.scopes_supported = vec!["news:read".into()];
        m.resource_name = Some("warden".into());
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["resource"], "http://h/mcp");
        assert_eq!(v["bearer_methods_supported"][0], "header");
        assert!(v.get("resource_documentation").is_none());
        assert_eq!(
            metadata_url("http://h/", "/mcp"),
            "http://h/.well-known/oauth-protected-resource/mcp"
        );
    }
}
