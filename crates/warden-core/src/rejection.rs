//! [`Rejection`]: every error answer on the auth and MCP request path, and the
//! one place where each becomes an HTTP response.

use std::time::Duration;

use http::{header, HeaderValue, Response, StatusCode};

use crate::{AuthError, Challenge, ChallengeContext};

/// Which MCP transport a session belongs to (their hints differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// Streamable HTTP (`/mcp`): sessions start with `initialize`.
    StreamableHttp,
    /// The legacy HTTP+SSE transport (`GET /sse`, `POST /messages`).
    LegacySse,
}

impl Transport {
    fn new_session_hint(self) -> &'static str {
        match self {
            Transport::StreamableHttp => "initialize a new session",
            Transport::LegacySse => "open a new one with GET /sse",
        }
    }
}

/// Why a request on the auth or MCP path is answered with an error instead of
/// being served. [`Rejection::to_response`] is the one mapping to HTTP: status,
/// `WWW-Authenticate`, `Retry-After`, `Allow` and a JSON body
/// `{"error": …, "error_description": …}`.
///
/// ```
/// use warden_core::{AuthError, ChallengeContext, Rejection};
///
/// let r = Rejection::auth(&AuthError::MissingToken, &ChallengeContext {
///     resource_metadata: "https://mcp.example/.well-known/oauth-protected-resource/mcp".into(),
///     scopes: vec![],
/// });
/// let resp = r.to_response();
/// assert_eq!(resp.status(), 401);
/// assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer resource_metadata="));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Rejection {
    /// Authentication or authorization failed (400/401/403/503 with a challenge).
    Auth(Challenge),
    /// The caller exceeded its rate limit (429 + `Retry-After`).
    RateLimited {
        /// How long until the next request is allowed.
        retry_after: Duration,
    },
    /// The request body is larger than the limit (413).
    PayloadTooLarge {
        /// The limit, bytes.
        limit: usize,
    },
    /// The request body could not be read (400).
    UnreadableBody,
    /// The body of a legacy SSE message is not one JSON-RPC message (400).
    NotJsonRpc,
    /// The session belongs to another principal (403).
    SessionOfAnotherUser {
        /// The session's transport.
        transport: Transport,
    },
    /// The session id is unknown, expired or was never handed out (404).
    UnknownSession {
        /// The session's transport.
        transport: Transport,
    },
    /// The legacy SSE session ended while the message was delivered (404).
    SessionEnded,
    /// `POST /messages` without a `sessionId` query parameter (400).
    MissingSessionId,
    /// The browser `Origin` is not allowed (403; DNS-rebinding protection).
    OriginNotAllowed,
    /// The method is not served on this path (405 + `Allow`).
    MethodNotAllowed {
        /// The methods that are (`Allow` header value).
        allow: &'static str,
        /// What to do instead.
        hint: &'static str,
    },
    /// An MCP 2026-07-28 request whose `Mcp-Method`/`Mcp-Name` header is
    /// missing or disagrees with its JSON-RPC body: 400 with the JSON-RPC error
    /// `HeaderMismatch` (-32020), as the specification requires.
    HeaderMismatch {
        /// What is wrong (which header, what it said, what the body says).
        message: String,
        /// The request's JSON-RPC `id`, echoed in the error.
        id: serde_json::Value,
    },
    /// The request headers are larger than the limit (431).
    HeadersTooLarge {
        /// Bytes the headers took.
        size: usize,
        /// The limit, bytes.
        limit: usize,
    },
    /// The request did not finish within the limit (503 + `Retry-After`).
    Timeout {
        /// The limit.
        after: Duration,
    },
}

impl Rejection {
    /// An auth error as the client should see it, against `ctx` (the resource's
    /// metadata URL and advertised scopes).
    pub fn auth(err: &AuthError, ctx: &ChallengeContext) -> Self {
        Rejection::Auth(err.challenge(ctx))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::Auth(c) => {
                StatusCode::from_u16(c.status).unwrap_or(StatusCode::UNAUTHORIZED)
            }
            Rejection::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Rejection::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::UnreadableBody
            | Rejection::NotJsonRpc
            | Rejection::MissingSessionId
            | Rejection::HeaderMismatch { .. } => StatusCode::BAD_REQUEST,
            Rejection::SessionOfAnotherUser { .. } | Rejection::OriginNotAllowed => {
                StatusCode::FORBIDDEN
            }
            Rejection::UnknownSession { .. } | Rejection::SessionEnded => StatusCode::NOT_FOUND,
            Rejection::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Rejection::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Rejection::Timeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `error` member of the JSON body.
    pub fn error_code(&self) -> &'static str {
        match self {
            Rejection::Auth(c) => c.body.error,
            Rejection::RateLimited { .. } => "rate_limited",
            Rejection::PayloadTooLarge { .. } => "payload_too_large",
            Rejection::UnreadableBody
            | Rejection::NotJsonRpc
            | Rejection::MissingSessionId
            | Rejection::HeaderMismatch { .. } => "invalid_request",
            Rejection::SessionOfAnotherUser { .. } | Rejection::OriginNotAllowed => "forbidden",
            Rejection::UnknownSession { .. } | Rejection::SessionEnded => "session_not_found",
            Rejection::MethodNotAllowed { .. } => "method_not_allowed",
            Rejection::HeadersTooLarge { .. } => "request_header_fields_too_large",
            Rejection::Timeout { .. } => "timeout",
        }
    }

    /// The `error_description` member of the JSON body: what was wrong, never a
    /// token or secret.
    pub fn description(&self) -> String {
        match self {
            Rejection::Auth(c) => c.body.error_description.clone(),
            Rejection::RateLimited { retry_after } => {
                format!(
                    "too many requests; retry in {} s",
                    whole_seconds(*retry_after)
                )
            }
            Rejection::PayloadTooLarge { limit } => {
                format!("request body exceeds {limit} bytes")
            }
            Rejection::UnreadableBody => "could not read the request body".into(),
            Rejection::NotJsonRpc => "body is not a JSON-RPC message".into(),
            Rejection::SessionOfAnotherUser { transport } => format!(
                "this MCP session belongs to another user; {}",
                transport.new_session_hint()
            ),
            Rejection::UnknownSession { transport } => format!(
                "unknown or expired MCP session; {}",
                transport.new_session_hint()
            ),
            Rejection::SessionEnded => "the session has ended".into(),
            Rejection::MissingSessionId => "missing sessionId query parameter".into(),
            Rejection::OriginNotAllowed => {
                "Origin is not allowed (DNS-rebinding protection); add it to server.allowed_origins"
                    .into()
            }
            Rejection::MethodNotAllowed { hint, .. } => (*hint).into(),
            Rejection::HeaderMismatch { message, .. } => message.clone(),
            Rejection::HeadersTooLarge { limit, .. } => {
                format!("request headers exceed {limit} bytes")
            }
            Rejection::Timeout { after } => {
                format!("the request did not complete within {after:?}")
            }
        }
    }

    /// `Retry-After` in seconds, when the status calls for one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Rejection::Auth(c) => c.retry_after,
            Rejection::RateLimited { retry_after } => Some(whole_seconds(*retry_after).max(1)),
            Rejection::Timeout { .. } => Some(1),
            _ => None,
        }
    }

    /// The HTTP response: the single mapping of warden's request-path errors.
    /// The body is `{"error": …, "error_description": …}`, except for
    /// [`Rejection::HeaderMismatch`], which MCP answers with a JSON-RPC error.
    pub fn to_response(&self) -> Response<String> {
        let body = match self {
            Rejection::HeaderMismatch { message, id } => serde_json::json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": { "code": HEADER_MISMATCH, "message": message },
            }),
            _ => serde_json::json!({
                "error": self.error_code(),
                "error_description": self.description(),
            }),
        }
        .to_string();
        let mut resp = Response::new(body);
        *resp.status_mut() = self.status();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Rejection::Auth(c) = self {
            if let Some(v) = c
                .www_authenticate
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                headers.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if let Rejection::MethodNotAllowed { allow, .. } = self {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if let Some(secs) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// The JSON-RPC error code of MCP's `HeaderMismatch` (MCP 2026-07-28).
pub const HEADER_MISMATCH: i64 = -32020;

/// Seconds, rounded up.
fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Rejection) -> serde_json::Value {
        serde_json::from_str(r.to_response().body()).unwrap()
    }

    #[test]
    fn every_rejection_is_json_with_a_code() {
        let all = [
            Rejection::auth(&AuthError::Inactive, &ChallengeContext::default()),
            Rejection::RateLimited {
                retry_after: Duration::from_millis(1500),
            },
            Rejection::PayloadTooLarge { limit: 10 },
            Rejection::UnreadableBody,
            Rejection::NotJsonRpc,
            Rejection::SessionOfAnotherUser {
                transport: Transport::StreamableHttp,
            },
            Rejection::UnknownSession {
                transport: Transport::LegacySse,
            },
            Rejection::SessionEnded,
            Rejection::MissingSessionId,
            Rejection::OriginNotAllowed,
            Rejection::MethodNotAllowed {
                allow: "GET",
                hint: "use GET",
            },
            Rejection::HeaderMismatch {
                message: "Mcp-Name header `x` does not match body value `whoami`".into(),
                id: serde_json::json!(1),
            },
            Rejection::HeadersTooLarge { size: 9, limit: 8 },
            Rejection::Timeout {
                after: Duration::from_secs(30),
            },
        ];
        for r in &all {
            let resp = r.to_response();
            assert!(resp.status().is_client_error() || resp.status().is_server_error());
            assert_eq!(resp.headers()["content-type"], "application/json");
            let b = body(r);
            if let Rejection::HeaderMismatch { .. } = r {
                assert_eq!(b["error"]["code"], HEADER_MISMATCH);
                assert_eq!(b["id"], 1);
                continue;
            }
            assert_eq!(b["error"], r.error_code());
            assert!(!b["error_description"].as_str().unwrap().is_empty());
        }
    }

    #[test]
    fn headers_by_kind() {
        let r = Rejection::RateLimited {
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(r.to_response().headers()["retry-after"], "2");
        assert_eq!(
            body(&r)["error_description"],
            "too many requests; retry in 2 s"
        );
        let r = Rejection::MethodNotAllowed {
            allow: "POST",
            hint: "POST JSON-RPC messages here",
        };
        assert_eq!(r.to_response().headers()["allow"], "POST");
        let r = Rejection::auth(
            &AuthError::unavailable("corp", "down"),
            &ChallengeContext::default(),
        );
        let resp = r.to_response();
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["retry-after"], "5");
        assert!(resp.headers().get("www-authenticate").is_none());
    }

    #[test]
    fn session_hints_name_the_transport() {
        let r = Rejection::UnknownSession {
            transport: Transport::StreamableHttp,
        };
        assert_eq!(
            r.description(),
            "unknown or expired MCP session; initialize a new session"
        );
        let r = Rejection::SessionOfAnotherUser {
            transport: Transport::LegacySse,
        };
        assert_eq!(
            r.description(),
            "this MCP session belongs to another user; open a new one with GET /sse"
        );
    }
}
