//! Mapping [`AuthError`] to HTTP: status, `WWW-Authenticate`, JSON body.
//!
//! This is the only place in warden where an auth error becomes HTTP.

use crate::AuthError;
use serde::Serialize;

/// What a challenge needs to know about the protected resource.
#[derive(Debug, Clone, Default)]
pub struct ChallengeContext {
    /// The RFC 9728 metadata URL advertised as `resource_metadata`.
    pub resource_metadata: String,
    /// Scopes advertised on a 401 (`scope="…"`); empty: no `scope` parameter.
    pub scopes: Vec<String>,
}

/// The HTTP answer to an [`AuthError`], framework-free.
#[derive(Debug, Clone, PartialEq)]
pub struct Challenge {
    /// 400, 401, 403 or 503.
    pub status: u16,
    /// The `WWW-Authenticate` header value, when the status calls for one.
    pub www_authenticate: Option<String>,
    /// `Retry-After` in seconds (503 only).
    pub retry_after: Option<u64>,
    /// The JSON body: `{ "error": …, "error_description": … }`.
    pub body: ChallengeBody,
}

/// The JSON body of a rejection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChallengeBody {
    /// An OAuth-style error code (`invalid_token`, `insufficient_scope`, …).
    pub error: &'static str,
    /// A human-readable description that never contains the token.
    pub error_description: String,
}

impl ChallengeBody {
    /// The body as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Longest description echoed back; attacker-chosen values (kid, issuer) are cut.
const MAX_DESCRIPTION: usize = 200;

fn describe(err: &AuthError) -> String {
    describe_text(err.to_string())
}

/// Cuts a description to [`MAX_DESCRIPTION`] bytes.
fn describe_text(mut text: String) -> String {
    if text.len() > MAX_DESCRIPTION {
        let mut cut = MAX_DESCRIPTION;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Quotes a value for an auth-param (RFC 9110 quoted-string), dropping characters
/// that are not allowed in a header.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push('"');
    out
}

impl AuthError {
    /// Renders this error as the HTTP answer a client should get.
    ///
    /// * no token → 401 with `resource_metadata` and `scope`, no `error=` (RFC 6750 §3.1);
    /// * invalid token → 401 `error="invalid_token"`;
    /// * missing scope → 403 `error="insufficient_scope", scope="<needed>"`;
    /// * malformed request → 400 `error="invalid_request"`;
    /// * provider unavailable → 503 with `Retry-After`, no challenge.
    pub fn challenge(&self, ctx: &ChallengeContext) -> Challenge {
        let description = describe(self);
        let meta = format!("resource_metadata={}", quoted(&ctx.resource_metadata));
        let scope_param = |scopes: &[String]| -> String {
            if scopes.is_empty() {
                String::new()
            } else {
                format!(", scope={}", quoted(&scopes.join(" ")))
            }
        };
        match self {
            AuthError::MissingToken => Challenge {
                status: 401,
                www_authenticate: Some(format!("Bearer {meta}{}", scope_param(&ctx.scopes))),
                retry_after: None,
                body: ChallengeBody {
                    error: "invalid_request",
                    error_description: "a bearer token is required (see WWW-Authenticate)".into(),
                },
            },
            AuthError::InvalidRequest { .. } => Challenge {
                status: 400,
                www_authenticate: Some(format!(
                    "Bearer error=\"invalid_request\", error_description={}, {meta}",
                    quoted(&description)
                )),
                retry_after: None,
                body: ChallengeBody {
                    error: "invalid_request",
                    error_description: description,
                },
            },
            AuthError::InsufficientScope { required, .. } => Challenge {
                status: 403,
                www_authenticate: Some(format!(
                    "Bearer error=\"insufficient_scope\", scope={}, {meta}, error_description={}",
                    quoted(&required.join(" ")),
                    quoted(&description)
                )),
                retry_after: None,
                body: ChallengeBody {
                    error: "insufficient_scope",
                    error_description: description,
                },
            },
            // The reason (URLs, upstream statuses, operator hints) is for operators:
            // it is in `explain`, `/admin/v1/providers` and the provider's logs, not
            // in answers to anonymous callers.
            AuthError::Unavailable {
                provider,
                retry_after,
                ..
            } => Challenge {
                status: 503,
                www_authenticate: None,
                retry_after: Some(retry_after.as_secs().max(1)),
                body: ChallengeBody {
                    error: "temporarily_unavailable",
                    error_description: describe_text(format!(
                        "could not verify the token: the identity provider {provider} is unavailable; retry later"
                    )),
                },
            },
            _ => Challenge {
                status: 401,
                www_authenticate: Some(format!(
                    "Bearer error=\"invalid_token\", error_description={}, {meta}{}",
                    quoted(&description),
                    scope_param(&ctx.scopes)
                )),
                retry_after: None,
                body: ChallengeBody {
                    error: "invalid_token",
                    error_description: description,
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ctx() -> ChallengeContext {
        ChallengeContext {
            resource_metadata: "http://127.0.0.1:10000/.well-known/oauth-protected-resource/mcp"
                .into(),
            scopes: vec!["news:read".into(), "profile".into()],
        }
    }

    #[test]
    fn missing_token_has_no_error_param() {
        let c = AuthError::MissingToken.challenge(&ctx());
        assert_eq!(c.status, 401);
        let h = c.www_authenticate.unwrap();
        assert_eq!(
            h,
            "Bearer resource_metadata=\"http://127.0.0.1:10000/.well-known/oauth-protected-resource/mcp\", scope=\"news:read profile\""
        );
        assert!(!h.contains("error="));
    }

    #[test]
    fn invalid_token() {
        let c = AuthError::BadSignature.challenge(&ctx());
        assert_eq!(c.status, 401);
        assert!(c
            .www_authenticate
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\""));
        assert_eq!(c.body.error, "invalid_token");
    }

    #[test]
    fn insufficient_scope() {
        let c = AuthError::InsufficientScope {
            required: vec!["news:read".into()],
            missing: vec!["news:read".into()],
        }
        .challenge(&ctx());
        assert_eq!(c.status, 403);
        let h = c.www_authenticate.unwrap();
        assert!(h.contains("error=\"insufficient_scope\""));
        assert!(h.contains("scope=\"news:read\""));
        assert!(h.contains("resource_metadata="));
    }

    #[test]
    fn unavailable_is_503_with_retry_after() {
        let c = AuthError::Unavailable {
            provider: "corp".into(),
            reason: "timeout".into(),
            retry_after: Duration::from_secs(7),
        }
        .challenge(&ctx());
        assert_eq!(c.status, 503);
        assert_eq!(c.retry_after, Some(7));
        assert!(c.www_authenticate.is_none());
        assert_eq!(c.body.error, "temporarily_unavailable");
        assert!(c.body.error_description.contains("corp"));

        let detailed = AuthError::Unavailable {
            provider: "corp".into(),
            reason: "GET http://10.0.0.7:8443/jwks: HTTP 500; check client_id".into(),
            retry_after: Duration::from_secs(7),
        }
        .challenge(&ctx());
        assert!(
            !detailed.body.error_description.contains("10.0.0.7")
                && !detailed.body.error_description.contains("client_id"),
            "{}",
            detailed.body.error_description
        );
    }

    #[test]
    fn hostile_values_are_quoted_and_cut() {
        let kid = format!("\"\r\n{}", "x".repeat(5000));
        let c = AuthError::UnknownKey { kid }.challenge(&ctx());
        let h = c.www_authenticate.unwrap();
        assert!(!h.contains('\r') && !h.contains('\n'));
        assert!(h.len() < 600);
        assert!(c.body.error_description.len() < 300);
    }
}
