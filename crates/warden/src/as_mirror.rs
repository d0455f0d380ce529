//! `/.well-known/oauth-authorization-server` on the MCP origin: a mirror of the
//! primary provider's authorization-server metadata for 2025-03-26 clients,
//! which look for it there. The document is served unchanged (its `issuer`
//! stays the real one, so strict clients can still compare it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::http::{header, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use serde_json::Value;
use tokio::sync::Mutex;
use warden_core::SharedObserver;
use warden_upstream::{Prefer, Upstream, UpstreamError, UpstreamPolicy};

/// How long a fetched document is served without asking again.
const FRESH_FOR: Duration = Duration::from_secs(300);
/// After a failed fetch, how long the stale copy (or a 503) is served without
/// asking again; also the 503's `Retry-After`.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);
/// Largest metadata document accepted (they are a few KiB).
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

enum Source {
    Fixed(Value),
    Remote {
        issuer: String,
        http: Upstream,
        fresh_for: Duration,
        state: Mutex<State>,
    },
}

#[derive(Default)]
struct State {
    /// The last document fetched, and when.
    cached: Option<(Instant, Value)>,
    /// When the last fetch failed (cleared by a success).
    failed_at: Option<Instant>,
}

/// Serves the primary provider's AS metadata.
#[derive(Clone)]
pub struct AsMetadataMirror(Arc<Source>);
impl std::fmt::Debug for AsMetadataMirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsMetadataMirror").finish_non_exhaustive()
    }
}

impl AsMetadataMirror {
    /// A mirror of a document known in-process (the dev issuer's).
    pub fn fixed(document: Value) -> Self {
        Self(Arc::new(Source::Fixed(document)))
    }

    /// A mirror of the metadata of the authorization server `issuer` of
    /// provider `provider`, found by [`warden_upstream::discover_with`] with
    /// the RFC 8414 document first ([`Prefer::OAuthMetadata`]: RFC 8414, then
    /// OpenID discovery; the document must name `issuer`) through the shared
    /// outbound policy — every fetch ends within `timeout` for all candidate
    /// URLs together, documents above 512 KiB are refused — and cached for
    /// five minutes. While the server is unreachable the stale
    /// copy is served (or a 503 when there is none), and it is asked again
    /// at most every 30 s. Fetches are reported as `Event::Upstream`
    /// `idp:<provider>`.
    ///
    /// Fails when the HTTP client cannot be built (a startup error, never a
    /// fallback to a client without limits).
    pub fn remote(
        provider: &str,
        issuer: impl Into<String>,
        timeout: Duration,
        observer: SharedObserver,
    ) -> Result<Self, UpstreamError> {
        Self::remote_with(provider, issuer, timeout, observer, FRESH_FOR)
    }

    fn remote_with(
        provider: &str,
        issuer: impl Into<String>,
        timeout: Duration,
        observer: SharedObserver,
        fresh_for: Duration,
    ) -> Result<Self, UpstreamError> {
        let policy = UpstreamPolicy::new(timeout).with_max_body_bytes(MAX_DOCUMENT_BYTES);
        let http = Upstream::new(format!("idp:{provider}"), policy, observer)?;
        Ok(Self(Arc::new(Source::Remote {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            http,
            fresh_for,
            state: Mutex::new(State::default()),
        })))
    }

    async fn document(&self) -> Option<Value> {
        match &*self.0 {
            Source::Fixed(v) => Some(v.clone()),
            Source::Remote {
                issuer,
                http,
                fresh_for,
                state,
            } => {
                let mut st = state.lock().await;
                let stale = st.cached.as_ref().map(|(_, doc)| doc.clone());
                if let Some((at, doc)) = &st.cached {
                    if at.elapsed() < *fresh_for {
                        return Some(doc.clone());
                    }
                }
                if st
                    .failed_at
                    .is_some_and(|at| at.elapsed() < RETRY_AFTER_FAILURE)
                {
                    return stale;
                }
                // The document is served as found, its `issuer` included.
                match warden_upstream::discover_with(http, issuer, Prefer::OAuthMetadata).await {
                    Ok(found) => {
                        st.cached = Some((Instant::now(), found.document.clone()));
                        st.failed_at = None;
                        Some(found.document)
                    }
                    Err(e) => {
                        tracing::warn!(issuer = %issuer, error = %e, stale = stale.is_some(),
                            "could not fetch authorization server metadata to mirror");
                        st.failed_at = Some(Instant::now());
                        stale
                    }
                }
            }
        }
    }
}

impl Endpoint for AsMetadataMirror {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        if req.method() == poem::http::Method::OPTIONS {
            return Ok(Response::builder()
                .status(StatusCode::NO_CONTENT)
                .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
                .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, OPTIONS")
                .header(header::ACCESS_CONTROL_ALLOW_HEADERS, "*")
                .finish());
        }
        match self.document().await {
            Some(doc) => Ok(Response::builder()
                .content_type("application/json")
                .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
                .header(header::CACHE_CONTROL, "public, max-age=300")
                .body(doc.to_string())),
            None => {
                let mut resp = warden_poem::json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the authorization server's metadata could not be fetched; use the protected resource metadata instead",
                );
                resp.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(RETRY_AFTER_FAILURE.as_secs()),
                );
                resp.headers_mut().insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    header::HeaderValue::from_static("*"),
                );
                Ok(resp.into_response())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_core::noop_observer;
    use warden_upstream::testing::{Route, TestServer, FIFTY_MB};

    const TIMEOUT: Duration = Duration::from_millis(300);
    /// Generous: "ended long before the server would have", not a timing assertion.
    const BOUND: Duration = Duration::from_secs(5);

    fn mirror(issuer: &str, fresh_for: Duration) -> AsMetadataMirror {
        AsMetadataMirror::remote_with("corp", issuer, TIMEOUT, noop_observer(), fresh_for).unwrap()
    }

    async fn get(mirror: &AsMetadataMirror) -> (StatusCode, Option<String>) {
        let started = Instant::now();
        let resp = mirror
            .call(
                Request::builder()
                    .uri_str("/.well-known/oauth-authorization-server")
                    .finish(),
            )
            .await
            .unwrap();
        assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
        let status = resp.status();
        let retry = resp
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        (status, retry)
    }

    #[test]
    fn candidates() {
        // The order the mirror asks in: the RFC 8414 document first.
        let urls = |issuer| {
            warden_upstream::metadata_urls(issuer, Prefer::OAuthMetadata)
                .unwrap()
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            urls("https://idp.example/tenant"),
            [
                "https://idp.example/.well-known/oauth-authorization-server/tenant",
                "https://idp.example/tenant/.well-known/openid-configuration",
                "https://idp.example/tenant/.well-known/oauth-authorization-server",
            ]
        );
        assert_eq!(
            urls("https://idp.example"),
            [
                "https://idp.example/.well-known/oauth-authorization-server",
                "https://idp.example/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn a_zero_timeout_is_a_build_error() {
        assert!(
            AsMetadataMirror::remote("corp", "https://i", Duration::ZERO, noop_observer()).is_err()
        );
    }

    #[tokio::test]
    async fn an_authorization_server_that_never_answers_costs_one_timeout() {
        let server = TestServer::silent().await;
        let m = mirror(&server.origin(), FRESH_FOR);
        let started = Instant::now();
        assert_eq!(
            get(&m).await,
            (StatusCode::SERVICE_UNAVAILABLE, Some("30".into()))
        );
        // All candidates together get one timeout, not one each.
        assert!(started.elapsed() < TIMEOUT * 2, "{:?}", started.elapsed());
        // Asked again only after the back-off: this answer is immediate.
        let connections = server.connections();
        assert_eq!(get(&m).await.0, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(server.connections(), connections);
    }

    #[tokio::test]
    async fn fifty_megabytes_of_metadata_are_refused() {
        let server = TestServer::huge(FIFTY_MB).await;
        let m = mirror(&server.origin(), FRESH_FOR);
        assert_eq!(get(&m).await.0, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(server.connections(), 2, "both candidates tried");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            server.body_bytes_sent() < FIFTY_MB,
            "{}",
            server.body_bytes_sent()
        );
    }

    #[tokio::test]
    async fn the_rfc8414_document_is_mirrored_unchanged() {
        let server = TestServer::routed(|origin| {
            vec![
                Route::json(
                    "/.well-known/openid-configuration",
                    format!(r#"{{"issuer":"{origin}/","from":"openid"}}"#),
                ),
                Route::json(
                    "/.well-known/oauth-authorization-server",
                    format!(r#"{{"issuer":"{origin}/","from":"rfc8414","x-extra":[1,2]}}"#),
                ),
            ]
        })
        .await;
        let m = mirror(&server.origin(), FRESH_FOR);
        let doc = m.document().await.unwrap();
        // Its issuer keeps the trailing slash the server wrote; nothing is added or dropped.
        assert_eq!(
            doc,
            serde_json::json!({"issuer": format!("{}/", server.origin()), "from": "rfc8414", "x-extra": [1, 2]})
        );
        assert_eq!(server.paths(), ["/.well-known/oauth-authorization-server"]);
    }

    #[tokio::test]
    async fn the_stale_copy_is_served_while_the_server_is_down() {
        let json = [("content-type", "application/json")];
        let server = TestServer::answering_for(200, &json, |origin| {
            format!(r#"{{"issuer":"{origin}","token_endpoint":"{origin}/token"}}"#)
        })
        .await;
        let issuer = server.origin();
        // Every fetched copy is stale at once, so each call past the back-off asks again.
        let m = mirror(&issuer, Duration::ZERO);
        let doc = m.document().await.unwrap();
        assert_eq!(doc["issuer"], issuer.as_str());
        assert_eq!(server.connections(), 1, "the first candidate answered");
        drop(server);
        // Down (connection refused): the stale copy, then no new attempt during the back-off.
        assert_eq!(get(&m).await, (StatusCode::OK, None));
        assert_eq!(m.document().await.unwrap(), doc);

        let other = TestServer::answering_for(200, &json, |_| {
            r#"{"issuer":"https://evil.example"}"#.to_owned()
        })
        .await;
        let m = mirror(&other.origin(), FRESH_FOR);
        assert_eq!(
            get(&m).await.0,
            StatusCode::SERVICE_UNAVAILABLE,
            "another issuer's document is not mirrored"
        );
    }
}
