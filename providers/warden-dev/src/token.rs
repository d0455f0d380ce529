//! The `client_credentials` grant of the dev token endpoint, free of any web
//! framework: form and `Authorization` header in, token or OAuth error out.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use warden_core::canonical_resource;

use crate::{DevClient, DevIssuer, MintRequest};

/// An RFC 6749 §5.2 error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl TokenError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }
    fn request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }
    fn client(description: impl Into<String>) -> Self {
        Self::new(401, "invalid_client", description)
    }
    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        json!({"error": self.error, "error_description": self.description})
    }
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space);
/// malformed `%` escapes are kept as they are.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Client id and secret from `Authorization: Basic …` (RFC 6749 §2.3.1).
fn basic_credentials(header: &str) -> Result<(String, String), TokenError> {
    let (scheme, value) = header.trim().split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(TokenError::client(
            "only HTTP Basic client authentication is accepted in the Authorization header",
        ));
    }
    let decoded = STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| TokenError::client("malformed Basic credentials"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| TokenError::client("malformed Basic credentials"))?;
    Ok((form_decode(id), form_decode(secret)))
}

/// The form parameters; every one but `resource` may appear once.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Self {
        Form(url::form_urlencoded::parse(body).into_owned().collect())
    }

    fn one(&self, name: &str) -> Result<Option<&str>, TokenError> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some(v), None) => Ok(Some(v)),
            (Some(_), Some(_)) => Err(TokenError::request(format!(
                "{name} is given more than once"
            ))),
        }
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl DevIssuer {
    /// The client whose id and secret match, compared in constant time.
    fn authenticate(&self, id: &str, secret: &str) -> Option<&DevClient> {
        let mut found = None;
        for client in &self.clients {
            let id_ok = client.client_id.as_bytes().ct_eq(id.as_bytes());
            let secret_ok = client
                .client_secret
                .expose()
                .as_bytes()
                .ct_eq(secret.as_bytes());
            if bool::from(id_ok & secret_ok) {
                found = Some(client);
            }
        }
        found
    }

    fn client(&self, form: &Form, authorization: Option<&str>) -> Result<&DevClient, TokenError> {
        let form_id = form.one("client_id")?;
        let form_secret = form.one("client_secret")?;
        let (id, secret) = match (authorization, form_secret) {
            (Some(_), Some(_)) => {
                return Err(TokenError::request(
                    "use one client authentication method, not Basic and client_secret both",
                ))
            }
            (Some(header), None) => {
                let (id, secret) = basic_credentials(header)?;
                if form_id.is_some_and(|f| f != id) {
                    return Err(TokenError::request(
                        "client_id differs from the Basic credentials",
                    ));
                }
                (id, secret)
            }
            (None, Some(secret)) => {
                let id = form_id.ok_or_else(|| TokenError::client("client_id is missing"))?;
                (id.to_owned(), secret.to_owned())
            }
            (None, None) => return Err(TokenError::client("client authentication is required")),
        };
        self.authenticate(&id, &secret)
            .ok_or_else(|| TokenError::client("unknown client or wrong secret"))
    }

    fn audience_for(&self, form: &Form) -> Result<String, TokenError> {
        let mut resources = form.all("resource");
        resources.dedup();
        match resources.as_slice() {
            [] => Ok(self.audiences[0].clone()),
            [resource] => {
                let url = url::Url::parse(resource).map_err(|_| {
                    TokenError::new(
                        400,
                        "invalid_target",
                        format!("resource {resource:?} is not an absolute URI"),
                    )
                })?;
                if url.fragment().is_some() {
                    return Err(TokenError::new(
                        400,
                        "invalid_target",
                        "resource must not have a fragment",
                    ));
                }
                let wanted = canonical_resource(resource);
                self.audiences
                    .iter()
                    .find(|a| canonical_resource(a) == wanted)
                    .cloned()
                    .ok_or_else(|| {
                        TokenError::new(
                            400,
                            "invalid_target",
                            format!("this issuer does not issue tokens for {resource:?}"),
                        )
                    })
            }
            _ => Err(TokenError::new(
                400,
                "invalid_target",
                "ask for one resource per token request",
            )),
        }
    }

    /// Runs the token endpoint on a form body and an optional `Authorization` header.
    pub(crate) fn token_response(
        &self,
        body: &[u8],
        authorization: Option<&str>,
    ) -> Result<Value, TokenError> {
        let form = Form::parse(body);
        let client = self.client(&form, authorization)?;
        match form.one("grant_type")? {
            None => return Err(TokenError::request("grant_type is missing")),
            Some("client_credentials") => {}
            Some(other) => {
                return Err(TokenError::new(
                    400,
                    "unsupported_grant_type",
                    format!("grant_type {other:?} is not supported; use client_credentials"),
                ))
            }
        }
        let scopes: Vec<String> = match form.one("scope")?.map(str::trim).filter(|s| !s.is_empty())
        {
            None => client.scopes.clone(),
            Some(requested) => {
                let mut scopes: Vec<String> = Vec::new();
                for s in requested.split_ascii_whitespace() {
                    if !client.scopes.iter().any(|c| c == s) {
                        return Err(TokenError::new(
                            400,
                            "invalid_scope",
                            format!("scope {s:?} is not allowed for this client"),
                        ));
                    }
                    if !scopes.iter().any(|x| x == s) {
                        scopes.push(s.to_owned());
                    }
                }
                scopes
            }
        };
        let audience = self.audience_for(&form)?;
        let token = self
            .mint(MintRequest {
                sub: client.client_id.clone(),
                scopes: scopes.clone(),
                ttl: self.token_ttl,
                audience: Some(audience),
                client_id: Some(client.client_id.clone()),
            })
            .map_err(|e| TokenError::new(500, "server_error", e.to_string()))?;
        tracing::debug!(client_id = %client.client_id, scope = %scopes.join(" "), "dev token issued");
        Ok(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl.as_secs(),
            "scope": scopes.join(" "),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%20c%3A%2b"), "a b c:+");
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%zz"), "%zz");
        assert_eq!(form_decode("%4"), "%4");
        assert_eq!(form_decode("%+1"), "% 1");
    }

    #[test]
    fn basic_parsing() {
        let h = format!("Basic {}", STANDARD.encode("my%20id:s%3Acret"));
        assert_eq!(
            basic_credentials(&h).unwrap(),
            ("my id".into(), "s:cret".into())
        );
        let lower = format!("basic {}", STANDARD.encode("a:b"));
        assert_eq!(basic_credentials(&lower).unwrap(), ("a".into(), "b".into()));
        assert_eq!(
            basic_credentials("Bearer x").unwrap_err().error,
            "invalid_client"
        );
        assert_eq!(
            basic_credentials("Basic !!!").unwrap_err().error,
            "invalid_client"
        );
        let no_colon = format!("Basic {}", STANDARD.encode("abc"));
        assert_eq!(
            basic_credentials(&no_colon).unwrap_err().error,
            "invalid_client"
        );
    }
}
