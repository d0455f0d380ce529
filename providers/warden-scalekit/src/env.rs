//! The seed tutorial's environment variables, read through an injectable
//! lookup so tests never touch the process environment.

use std::sync::Arc;

/// `SCALEKIT_ENVIRONMENT_URL` → `environment_url`.
pub const ENV_ENVIRONMENT_URL: &str = "SCALEKIT_ENVIRONMENT_URL";
/// `SCALEKIT_CLIENT_ID` → `client_id` (not used for verification).
pub const ENV_CLIENT_ID: &str = "SCALEKIT_CLIENT_ID";
/// `SCALEKIT_CLIENT_SECRET` → `client_secret` (not used for verification).
pub const ENV_CLIENT_SECRET: &str = "SCALEKIT_CLIENT_SECRET";
/// `SCALEKIT_AUDIENCE_NAME` → `audience`, and `resource_id` when it is a `res_…` id.
pub const ENV_AUDIENCE_NAME: &str = "SCALEKIT_AUDIENCE_NAME";
/// `SCALEKIT_RESOURCE_METADATA_URL` → `resource_id` when the URL names one
/// (see [`resource_id_from_metadata_url`]).
pub const ENV_RESOURCE_METADATA_URL: &str = "SCALEKIT_RESOURCE_METADATA_URL";

/// Looks up an environment variable by name (`None` when unset).
///
/// Plain functions and closures both fit: `&|name| map.get(name).cloned()`.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A shareable [`EnvLookup`], as held by [`ScalekitFactory`](crate::ScalekitFactory).
pub type SharedEnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment (`std::env::var`); non-Unicode values count as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Reads `name`, trimmed; empty or blank values count as unset.
pub(crate) fn read(env: EnvLookup<'_>, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether `value` looks like a Scalekit resource id: `res_` followed by at
/// least one ASCII letter, digit, `_` or `-`.
pub fn is_resource_id(value: &str) -> bool {
    value.strip_prefix("res_").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

/// The Scalekit resource id named by a resource metadata URL, if any.
///
/// Returns the first path segment that is a resource id (see
/// [`is_resource_id`]) and directly follows a `resources` segment
/// (`https://acme.scalekit.dev/resources/res_1`,
/// `…/.well-known/oauth-protected-resource/resources/res_1`) or lies under
/// `/.well-known/oauth-protected-resource/` (`…/oauth-protected-resource/res_1`).
/// Anything else, such as the tutorial's own server URL
/// `http://localhost:10000/.well-known/oauth-protected-resource/mcp`, yields `None`.
///
/// ```
/// use warden_scalekit::resource_id_from_metadata_url as id;
/// assert_eq!(id("https://acme.scalekit.dev/resources/res_42").as_deref(), Some("res_42"));
/// assert_eq!(
///     id("https://acme.scalekit.dev/.well-known/oauth-protected-resource/resources/res_42").as_deref(),
///     Some("res_42")
/// );
/// assert_eq!(id("http://localhost:10000/.well-known/oauth-protected-resource/mcp"), None);
/// ```
pub fn resource_id_from_metadata_url(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let segments: Vec<&str> = parsed.path_segments()?.collect();
    let under_prm = segments.first() == Some(&".well-known")
        && segments.get(1) == Some(&"oauth-protected-resource");
    segments.iter().enumerate().find_map(|(i, seg)| {
        let after_resources = i > 0 && segments[i - 1] == "resources";
        let in_prm_path = under_prm && i >= 2;
        (is_resource_id(seg) && (after_resources || in_prm_path)).then(|| seg.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids() {
        assert!(is_resource_id("res_88056357768398086"));
        assert!(is_resource_id("res_a-b_C"));
        assert!(!is_resource_id("res_"));
        assert!(!is_resource_id("res_a/b"));
        assert!(!is_resource_id("resource"));
        assert!(!is_resource_id("https://mcp.example/mcp"));
    }

    #[test]
    fn metadata_url_derivation() {
        let id = resource_id_from_metadata_url;
        assert_eq!(
            id("https://acme.scalekit.dev/.well-known/oauth-protected-resource/res_7").as_deref(),
            Some("res_7")
        );
        assert_eq!(
            id("https://acme.scalekit.dev/resources/res_7/x").as_deref(),
            Some("res_7")
        );
        assert_eq!(id("https://acme.scalekit.dev/res_7"), None);
        assert_eq!(id("https://acme.scalekit.dev/resources/mcp"), None);
        assert_eq!(
            id("http://localhost:10000/.well-known/oauth-protected-resource/mcp"),
            None
        );
        assert_eq!(id("not a url"), None);
        assert_eq!(id("mailto:res_7"), None);
    }

    #[test]
    fn blank_values_count_as_unset() {
        let env = |name: &str| match name {
            "A" => Some("  value \n".to_owned()),
            "B" => Some("   ".to_owned()),
            _ => None,
        };
        assert_eq!(read(&env, "A").as_deref(), Some("value"));
        assert_eq!(read(&env, "B"), None);
        assert_eq!(read(&env, "C"), None);
    }
}
