//! The `whoami` tool: tells the caller what warden verified about its token.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use warden_core::{AuthInfo, Tool, ToolError, ToolOutput, ToolSpec};

use crate::args::reject_unknown;
use crate::time_fmt::unix_to_rfc3339;

/// Tool name.
pub const WHOAMI: &str = "whoami";

/// Reports the verified identity of the caller.
///
/// The structured result always has every key; absent values are `null`:
/// `sub`, `client_id`, `issuer`, `provider`, `audiences`, `scopes`,
/// `expires_at` (Unix seconds), `expires_at_rfc3339`, and the profile claims
/// `name`, `username` (`username` or `preferred_username`), `email`,
/// `email_verified`, `picture`, `organization_id` (`organization_id`,
/// `org_id` or `oid`).
#[derive(Debug, Clone)]
pub struct WhoamiTool {
    spec: ToolSpec,
}

impl Default for WhoamiTool {
    fn default() -> Self {
        Self::new()
    }
}

impl WhoamiTool {
    /// The tool with no required scopes.
    pub fn new() -> Self {
        Self::with_required_scopes(Vec::new())
    }

    /// The tool requiring `required_scopes` (e.g. from [`WhoamiConfig`](crate::WhoamiConfig)).
    pub fn with_required_scopes(required_scopes: Vec<String>) -> Self {
        Self {
            spec: ToolSpec {
                name: WHOAMI.to_owned(),
                title: Some("Who am I?".to_owned()),
                description: "Shows who you are according to the verified access token: \
                    subject, client, issuer, provider, audiences, granted scopes, expiry \
                    and profile claims when the token carries them."
                    .to_owned(),
                input_schema: object(json!({
                    "type": "object",
                    "properties": {},
                    "additionalProperties": false
                })),
                output_schema: Some(output_schema()),
                required_scopes,
            },
        }
    }
}

#[async_trait]
impl Tool for WhoamiTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(
        &self,
        arguments: Map<String, Value>,
        caller: &AuthInfo,
    ) -> Result<ToolOutput, ToolError> {
        reject_unknown(&arguments, &[])?;
        Ok(describe(caller))
    }
}

/// Builds the `whoami` answer for `caller`.
pub(crate) fn describe(caller: &AuthInfo) -> ToolOutput {
    let expires_rfc3339 = caller.expires_at.and_then(unix_to_rfc3339);
    let username = claim_string(caller, &["username", "preferred_username"]);
    let name = claim_string(caller, &["name"]);
    let structured = json!({
        "sub": caller.subject,
        "client_id": caller.client_id,
        "issuer": caller.issuer,
        "provider": caller.provider,
        "audiences": caller.audiences,
        "scopes": caller.scopes,
        "expires_at": caller.expires_at,
        "expires_at_rfc3339": expires_rfc3339,
        "name": name,
        "username": username,
        "email": claim_string(caller, &["email"]),
        "email_verified": email_verified(caller),
        "picture": claim_string(caller, &["picture"]),
        "organization_id": claim_string(caller, &["organization_id", "org_id", "oid"]),
    });

    let who = username
        .or(name)
        .or_else(|| caller.subject.clone())
        .unwrap_or_else(|| "an unnamed principal".to_owned());
    let client = caller.client_id.as_deref().unwrap_or("unknown");
    let scopes = if caller.scopes.is_empty() {
        "none".to_owned()
    } else {
        caller.scopes.join(" ")
    };
    let expires = expires_rfc3339
        .map(|t| format!("expires {t}"))
        .unwrap_or_else(|| "no expiry known".to_owned());
    let text = format!(
        "You are {who} (client {client}) via provider {}; scopes: {scopes}; {expires}.",
        caller.provider
    );
    ToolOutput { text, structured }
}

/// The first of `names` that is a non-empty string (or a number, rendered).
fn claim_string(caller: &AuthInfo, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match caller.claims.get(*n)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// `email_verified` as a boolean; some providers send `"true"`/`"false"`.
fn email_verified(caller: &AuthInfo) -> Option<bool> {
    match caller.claims.get("email_verified")? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn output_schema() -> Map<String, Value> {
    let opt_string = json!({ "type": ["string", "null"] });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    object(json!({
        "type": "object",
        "properties": {
            "sub": opt_string,
            "client_id": opt_string,
            "issuer": opt_string,
            "provider": { "type": "string" },
            "audiences": strings,
            "scopes": strings,
            "expires_at": { "type": ["integer", "null"], "description": "Unix seconds" },
            "expires_at_rfc3339": opt_string,
            "name": opt_string,
            "username": opt_string,
            "email": opt_string,
            "email_verified": { "type": ["boolean", "null"] },
            "picture": opt_string,
            "organization_id": opt_string
        },
        "required": [
            "sub", "client_id", "issuer", "provider", "audiences", "scopes",
            "expires_at", "expires_at_rfc3339", "name", "username", "email",
            "email_verified", "picture", "organization_id"
        ],
        "additionalProperties": false
    }))
}

/// Unwraps a `json!` object literal.
pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> AuthInfo {
        let claims = json!({
            "sub": "user-1",
            "name": "Alice Liddell",
            "preferred_username": "alice",
            "email": "alice@example.com",
            "email_verified": "true",
            "picture": "https://example.com/a.png",
            "org_id": "org-42",
            "secret_thing": "not shown"
        });
        AuthInfo {
            subject: Some("user-1".into()),
            issuer: Some("https://idp.example".into()),
            client_id: Some("cli-7".into()),
            audiences: vec!["https://mcp.example/mcp".into()],
            scopes: vec!["news:read".into(), "mcp:tools".into()],
            expires_at: Some(1_767_225_600),
            claims: object(claims),
            provider: "dev".into(),
        }
    }

    #[tokio::test]
    async fn maps_every_claim() {
        let out = WhoamiTool::new().call(Map::new(), &alice()).await.unwrap();
        let s = &out.structured;
        assert_eq!(s["sub"], "user-1");
        assert_eq!(s["client_id"], "cli-7");
        assert_eq!(s["issuer"], "https://idp.example");
        assert_eq!(s["provider"], "dev");
        assert_eq!(s["audiences"], json!(["https://mcp.example/mcp"]));
        assert_eq!(s["scopes"], json!(["news:read", "mcp:tools"]));
        assert_eq!(s["expires_at"], 1_767_225_600);
        assert_eq!(s["expires_at_rfc3339"], "2026-01-01T00:00:00Z");
        assert_eq!(s["name"], "Alice Liddell");
        assert_eq!(s["username"], "alice");
        assert_eq!(s["email"], "alice@example.com");
        assert_eq!(s["email_verified"], true);
        assert_eq!(s["picture"], "https://example.com/a.png");
        assert_eq!(s["organization_id"], "org-42");
        assert!(s.get("secret_thing").is_none());
        assert_eq!(
            out.text,
            "You are alice (client cli-7) via provider dev; scopes: news:read mcp:tools; \
             expires 2026-01-01T00:00:00Z."
        );
    }

    #[tokio::test]
    async fn username_claim_wins_over_preferred_username() {
        let mut caller = alice();
        caller.claims.insert("username".into(), json!("al"));
        caller.claims.insert("email_verified".into(), json!(false));
        caller
            .claims
            .insert("organization_id".into(), json!("org-logto"));
        let out = WhoamiTool::new().call(Map::new(), &caller).await.unwrap();
        assert_eq!(out.structured["username"], "al");
        assert_eq!(out.structured["email_verified"], false);
        assert_eq!(out.structured["organization_id"], "org-logto");
    }

    #[tokio::test]
    async fn absent_values_are_null_and_every_key_is_present() {
        let caller = AuthInfo {
            provider: "m2m".into(),
            client_id: Some("svc".into()),
            ..Default::default()
        };
        let tool = WhoamiTool::new();
        let out = tool.call(Map::new(), &caller).await.unwrap();
        let required = tool.spec().output_schema.as_ref().unwrap()["required"]
            .as_array()
            .unwrap()
            .clone();
        let obj = out.structured.as_object().unwrap();
        assert_eq!(obj.len(), required.len());
        for key in required {
            assert!(obj.contains_key(key.as_str().unwrap()), "{key}");
        }
        assert_eq!(out.structured["sub"], Value::Null);
        assert_eq!(out.structured["expires_at"], Value::Null);
        assert_eq!(out.structured["expires_at_rfc3339"], Value::Null);
        assert_eq!(out.structured["email_verified"], Value::Null);
        assert_eq!(out.structured["audiences"], json!([]));
        assert_eq!(
            out.text,
            "You are an unnamed principal (client svc) via provider m2m; scopes: none; \
             no expiry known."
        );
    }

    #[tokio::test]
    async fn falls_back_to_subject_and_rejects_unknown_arguments() {
        let caller = AuthInfo {
            subject: Some("user-9".into()),
            provider: "dev".into(),
            ..Default::default()
        };
        let tool = WhoamiTool::with_required_scopes(vec!["profile".into()]);
        assert_eq!(tool.spec().required_scopes, vec!["profile".to_owned()]);
        assert_eq!(tool.spec().name, "whoami");
        let out = tool.call(Map::new(), &caller).await.unwrap();
        assert!(out.text.starts_with("You are user-9 (client unknown)"));
        let err = tool
            .call(object(json!({"verbose": true})), &caller)
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::InvalidParams(m) if m.contains("verbose")));
    }
}
