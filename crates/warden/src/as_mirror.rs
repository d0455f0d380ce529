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

const FRESH_FOR: Duration = Duration::from_secs(300);

enum Source {
    Fixed(Value),
    Remote {
        issuer: String,
        http: reqwest::Client,
        cached: Mutex<Option<(Instant, Value)>>,
    },
}

/// Serves the primary provider's AS metadata.
#[derive(Clone)]
pub struct AsMetadataMirror(Arc<Source>);

impl AsMetadataMirror {
    /// A mirror of a document known in-process (the dev issuer's).
    pub fn fixed(document: Value) -> Self {
        Self(Arc::new(Source::Fixed(document)))
    }

    /// A mirror of the metadata of the authorization server `issuer`, fetched
    /// (RFC 8414, then OpenID discovery) and cached for five minutes; a stale
    /// copy is served while the server is unreachable.
    pub fn remote(issuer: impl Into<String>, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self(Arc::new(Source::Remote {
            issuer: issuer.into().trim_end_matches('/').to_string(),
            http,
            cached: Mutex::new(None),
        }))
    }

    async fn document(&self) -> Option<Value> {
        match &*self.0 {
            Source::Fixed(v) => Some(v.clone()),
            Source::Remote {
                issuer,
                http,
                cached,
            } => {
                let mut slot = cached.lock().await;
                if let Some((at, doc)) = slot.as_ref() {
                    if at.elapsed() < FRESH_FOR {
                        return Some(doc.clone());
                    }
                }
                for url in candidate_urls(issuer) {
                    let Ok(resp) = http.get(&url).send().await else {
                        continue;
                    };
                    if !resp.status().is_success() {
                        continue;
                    }
                    if let Ok(doc @ Value::Object(_)) = resp.json::<Value>().await {
                        if doc
                            .get("issuer")
                            .and_then(Value::as_str)
                            .map(|i| i.trim_end_matches('/'))
                            == Some(issuer.as_str())
                        {
                            *slot = Some((Instant::now(), doc.clone()));
                            return Some(doc);
                        }
                    }
                }
                tracing::warn!(issuer = %issuer, "could not fetch authorization server metadata to mirror");
                slot.as_ref().map(|(_, d)| d.clone())
            }
        }
    }
}

/// RFC 8414 §3.1 path-inserted URL first, then OpenID discovery, then the RFC 8414 suffix form.
fn candidate_urls(issuer: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(url) = url::Url::parse(issuer) {
        let origin = url.origin().ascii_serialization();
        let path = url.path().trim_end_matches('/');
        out.push(format!(
            "{origin}/.well-known/oauth-authorization-server{path}"
        ));
    }
    out.push(format!("{issuer}/.well-known/openid-configuration"));
    out.push(format!("{issuer}/.well-known/oauth-authorization-server"));
    out
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
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
                resp.headers_mut().insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    header::HeaderValue::from_static("*"),
                );
                Ok(resp.into_response())
            }
        }
    }
}
