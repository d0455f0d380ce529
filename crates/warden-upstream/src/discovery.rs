//! [`discover`]: finding an authorization server's metadata from its issuer,
//! with the same rules for every caller.
//!
//! * **Where**, in order ([`metadata_urls`]): `{issuer}/.well-known/openid-configuration`
//!   (OpenID Connect Discovery), then RFC 8414's
//!   `{origin}/.well-known/oauth-authorization-server{issuer-path}` and
//!   `{issuer}/.well-known/oauth-authorization-server` (when it differs).
//!   [`Prefer::OAuthMetadata`] asks the RFC 8414 form first, for a caller
//!   that wants that document itself.
//! * **Which document counts**: a 2xx JSON object whose `issuer` is the
//!   configured issuer (a trailing slash on either side is ignored).
//! * **When the next URL is tried**: when this one has no usable document —
//!   a 3xx or 4xx answer (429 aside), a body that is not a JSON object or is
//!   larger than the cap, another issuer's document. A server that is *down*
//!   — no answer in time, connection failure, 5xx, 429 — ends discovery at
//!   once with that error (its `Retry-After` included): the other documents
//!   live on the same server, and asking them would only multiply the wait.
//! * **Limits**: every request obeys the [`Upstream`]'s policy (body cap,
//!   connect timeout, redirects, user agent) and reports one
//!   [`Event::Upstream`](warden_core::Event::Upstream); all URLs together get
//!   the policy's total timeout, not one each.

use std::fmt;
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

use crate::client::json_object;
use crate::{display_url, Reply, Request, Upstream, UpstreamError};

/// Which metadata document [`discover_with`] asks for first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Prefer {
    /// `{issuer}/.well-known/openid-configuration` first (identity providers).
    #[default]
    OpenIdConfiguration,
    /// RFC 8414's `{origin}/.well-known/oauth-authorization-server{issuer-path}`
    /// first, then OpenID Connect Discovery, then the RFC 8414 suffix form.
    OAuthMetadata,
}

/// A metadata document found by [`discover`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Discovered {
    /// The document as served (a JSON object; its `issuer` is the configured one).
    pub document: Value,
    /// The URL that served it.
    pub url: Url,
    /// `Cache-Control: max-age` of the answer (0 for `no-cache`/`no-store`).
    pub max_age: Option<Duration>,
}

impl Discovered {
    /// The member `name`, when it is a string.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.document.get(name).and_then(Value::as_str)
    }

    /// The endpoint URL in member `name` (`jwks_uri`, `introspection_endpoint`,
    /// …): `Ok(None)` when absent, resolved against [`url`](Self::url) when
    /// relative, and refused unless it is an `http(s)` URL with a host.
    ///
    /// ```
    /// use serde_json::json;
    /// use warden_upstream::Discovered;
    ///
    /// let d = Discovered::new(
    ///     json!({"issuer": "https://idp", "jwks_uri": "/keys", "x": "ftp://idp/x"}),
    ///     "https://idp/.well-known/openid-configuration".parse().unwrap(),
    /// );
    /// assert_eq!(d.endpoint("jwks_uri").unwrap().unwrap().as_str(), "https://idp/keys");
    /// assert_eq!(d.endpoint("userinfo_endpoint"), Ok(None));
    /// assert!(d.endpoint("x").is_err());
    /// ```
    pub fn endpoint(&self, name: &str) -> Result<Option<Url>, String> {
        let Some(value) = self.document.get(name) else {
            return Ok(None);
        };
        let text = value
            .as_str()
            .ok_or_else(|| format!("{name} is not a string"))?;
        let url = self
            .url
            .join(text)
            .map_err(|e| format!("{name} {text:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("{name} {text:?} is not an http(s) URL"));
        }
        Ok(Some(url))
    }

    /// A document served at `url` (for tests of the code that reads one).
    pub fn new(document: Value, url: Url) -> Self {
        Self {
            document,
            url,
            max_age: None,
        }
    }
}

/// The URLs where the metadata of `issuer` may be, in the order
/// [`discover_with`] asks them. `issuer` must be an absolute `http(s)` URL
/// without query or fragment.
///
/// ```
/// use warden_upstream::{metadata_urls, Prefer};
///
/// let urls = metadata_urls("https://t.logto.app/oidc/", Prefer::OpenIdConfiguration).unwrap();
/// let urls: Vec<&str> = urls.iter().map(|u| u.as_str()).collect();
/// assert_eq!(urls, [
///     "https://t.logto.app/oidc/.well-known/openid-configuration",
///     "https://t.logto.app/.well-known/oauth-authorization-server/oidc",
///     "https://t.logto.app/oidc/.well-known/oauth-authorization-server",
/// ]);
/// // An issuer without a path has one RFC 8414 URL.
/// assert_eq!(metadata_urls("http://127.0.0.1:9", Prefer::OAuthMetadata).unwrap().len(), 2);
/// ```
pub fn metadata_urls(issuer: &str, prefer: Prefer) -> Result<Vec<Url>, UpstreamError> {
    let invalid = |reason: String| UpstreamError::InvalidUrl {
        url: issuer.split(['?', '#']).next().unwrap_or("").to_owned(),
        reason: format!("issuer: {reason}"),
    };
    let parsed = Url::parse(issuer.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid("not an absolute http(s) URL".into()));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("an issuer has no query or fragment".into()));
    }
    let base = parsed.as_str().trim_end_matches('/');
    let join =
        |suffix: &str| Url::parse(&format!("{base}{suffix}")).map_err(|e| invalid(e.to_string()));
    let openid = join("/.well-known/openid-configuration")?;
    let suffix = join("/.well-known/oauth-authorization-server")?;
    let mut inserted = parsed.clone();
    inserted.set_path(&format!(
        "/.well-known/oauth-authorization-server{}",
        parsed.path().trim_end_matches('/')
    ));
    let order = match prefer {
        Prefer::OpenIdConfiguration => [openid, inserted, suffix],
        Prefer::OAuthMetadata => [inserted, openid, suffix],
    };
    let mut urls: Vec<Url> = Vec::with_capacity(3);
    for url in order {
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    Ok(urls)
}

/// Finds the metadata document of `issuer`: OpenID Connect Discovery first,
/// then RFC 8414 (see the [module](self) for the rules).
///
/// Errors: the error of a server that is down (timeout, connection, 5xx,
/// 429 — the next URL is not tried), [`UpstreamError::NoMetadata`] listing
/// what each URL gave when none had a document for `issuer`, or
/// [`UpstreamError::InvalidUrl`] for an issuer that is not a URL.
pub async fn discover(upstream: &Upstream, issuer: &str) -> Result<Discovered, UpstreamError> {
    discover_with(upstream, issuer, Prefer::OpenIdConfiguration).await
}

/// [`discover`] for a provider that reports failures in its own error type:
/// `error(url, e)` maps a failure about `url` (the URL `e` names, else the
/// issuer); when no URL had a document, `no_metadata` gets what each one
/// gave, mapped by `error` and joined by `"; "`.
///
/// ```no_run
/// # async fn demo(upstream: warden_upstream::Upstream) {
/// use warden_upstream::{discover_as, UpstreamError};
///
/// let issuer = "https://idp.example.com";
/// let found = discover_as(
///     &upstream,
///     issuer,
///     |url, e: UpstreamError| format!("GET {url}: {e}"),
///     |tried| format!("no metadata for {issuer}: {tried}"),
/// )
/// .await;
/// # }
/// ```
pub async fn discover_as<E: fmt::Display>(
    upstream: &Upstream,
    issuer: &str,
    error: impl Fn(&str, UpstreamError) -> E,
    no_metadata: impl FnOnce(String) -> E,
) -> Result<Discovered, E> {
    let map = |e: UpstreamError| {
        let url = e.url().unwrap_or(issuer).to_owned();
        error(&url, e)
    };
    discover(upstream, issuer).await.map_err(|e| match e {
        UpstreamError::NoMetadata { tried, .. } => no_metadata(
            tried
                .into_iter()
                .map(|e| map(e).to_string())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        e => map(e),
    })
}

/// [`discover`], asking the documents in the order `prefer` says.
pub async fn discover_with(
    upstream: &Upstream,
    issuer: &str,
    prefer: Prefer,
) -> Result<Discovered, UpstreamError> {
    let candidates = metadata_urls(issuer, prefer)?;
    let budget = upstream.policy().timeout();
    let deadline = Instant::now() + budget;
    let mut tried = Vec::new();
    for url in candidates {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(UpstreamError::Timeout {
                url: display_url(&url),
                timeout: budget,
            });
        }
        let request = Request::get(url.as_str()).timeout(left);
        let result = upstream
            .call(request, |reply| metadata_document(reply?, issuer))
            .await;
        match result {
            Ok((document, max_age)) => {
                return Ok(Discovered {
                    document,
                    url,
                    max_age,
                })
            }
            // The request had what was left of the budget: the budget is what ran out.
            Err(UpstreamError::Timeout { url, .. }) => {
                return Err(UpstreamError::Timeout {
                    url,
                    timeout: budget,
                })
            }
            Err(e) if is_missing_here(&e) => tried.push(e),
            Err(e) => return Err(e),
        }
    }
    Err(UpstreamError::NoMetadata {
        issuer: issuer.to_owned(),
        tried,
    })
}

/// Whether `error` says "no usable document at this URL" (try the next one)
/// rather than "the server is down" or a local failure.
fn is_missing_here(error: &UpstreamError) -> bool {
    match error {
        UpstreamError::Status { .. } => !error.is_transient(),
        UpstreamError::NotJson { .. }
        | UpstreamError::TooLarge { .. }
        | UpstreamError::IssuerMismatch { .. } => true,
        _ => false,
    }
}

/// The document of a 2xx answer, if it is a JSON object for `issuer`.
fn metadata_document(
    reply: Reply,
    issuer: &str,
) -> Result<(Value, Option<Duration>), UpstreamError> {
    let url = reply.url.clone();
    let doc = json_object(reply)?;
    let found = doc
        .value
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or("");
    if found.is_empty() || found.trim_end_matches('/') != issuer.trim().trim_end_matches('/') {
        return Err(UpstreamError::IssuerMismatch {
            url,
            expected: issuer.to_owned(),
            found: found.to_owned(),
        });
    }
    Ok((doc.value, doc.max_age))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;
    use warden_core::{Event, Observer};

    use super::*;
    use crate::testing::{Route, TestServer, FIFTY_MB};
    use crate::UpstreamPolicy;

    const OIDC: &str = "/.well-known/openid-configuration";
    const OAUTH: &str = "/.well-known/oauth-authorization-server";
    /// Generous: "ended long before the server would have", not a timing assertion.
    const BOUND: Duration = Duration::from_secs(5);

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Observer for Recorder {
        fn observe(&self, event: &Event<'_>) {
            if let Event::Upstream { outcome, .. } = event {
                self.0.lock().unwrap().push((*outcome).to_owned());
            }
        }
    }

    fn upstream(timeout: Duration, max_body: usize) -> (Upstream, Arc<Recorder>) {
        let recorder = Arc::new(Recorder::default());
        let policy = UpstreamPolicy::new(timeout).with_max_body_bytes(max_body);
        let up = Upstream::new("idp:test", policy, recorder.clone()).unwrap();
        (up, recorder)
    }

    fn events(recorder: &Recorder) -> Vec<String> {
        recorder.0.lock().unwrap().clone()
    }

    fn doc(issuer: &str) -> String {
        json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")}).to_string()
    }

    fn strs(urls: &[Url]) -> Vec<&str> {
        urls.iter().map(Url::as_str).collect()
    }

    #[test]
    fn candidate_urls_and_their_order() {
        let urls = metadata_urls("https://idp.example/tenant", Prefer::OpenIdConfiguration);
        assert_eq!(
            strs(&urls.unwrap()),
            [
                "https://idp.example/tenant/.well-known/openid-configuration",
                "https://idp.example/.well-known/oauth-authorization-server/tenant",
                "https://idp.example/tenant/.well-known/oauth-authorization-server",
            ]
        );
        let urls = metadata_urls("https://idp.example/tenant/", Prefer::OAuthMetadata);
        assert_eq!(
            strs(&urls.unwrap()),
            [
                "https://idp.example/.well-known/oauth-authorization-server/tenant",
                "https://idp.example/tenant/.well-known/openid-configuration",
                "https://idp.example/tenant/.well-known/oauth-authorization-server",
            ]
        );
        for issuer in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
            let urls = metadata_urls(issuer, Prefer::OpenIdConfiguration).unwrap();
            assert_eq!(
                strs(&urls),
                [
                    "http://127.0.0.1:8080/.well-known/openid-configuration",
                    "http://127.0.0.1:8080/.well-known/oauth-authorization-server",
                ]
            );
        }
        for bad in [
            "not a url",
            "/relative",
            "ftp://idp/x",
            "https://idp/x?k=SECRET",
            "https://idp/x#f",
        ] {
            let err = metadata_urls(bad, Prefer::OpenIdConfiguration).unwrap_err();
            assert!(matches!(err, UpstreamError::InvalidUrl { .. }), "{bad}");
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
    }

    #[tokio::test]
    async fn openid_configuration_is_asked_first() {
        let server = TestServer::routed(|o| {
            vec![
                Route::json(OIDC, doc(o)),
                Route::json(OAUTH, json!({"issuer": o, "from": "rfc8414"}).to_string()),
            ]
        })
        .await;
        let (up, recorder) = upstream(Duration::from_secs(5), 64 * 1024);
        let found = discover(&up, &server.origin()).await.unwrap();
        assert_eq!(found.url.as_str(), server.url(OIDC));
        assert_eq!(
            found.document,
            serde_json::from_str::<Value>(&doc(&server.origin())).unwrap()
        );
        assert_eq!(server.paths(), [OIDC]);
        assert_eq!(events(&recorder), ["ok"]);

        // The metadata mirror's order: the RFC 8414 document, served unchanged.
        let found = discover_with(&up, &server.origin(), Prefer::OAuthMetadata)
            .await
            .unwrap();
        assert_eq!(found.url.as_str(), server.url(OAUTH));
        assert_eq!(found.document["from"], "rfc8414");
    }

    #[tokio::test]
    async fn a_missing_document_falls_back_to_rfc8414() {
        let path_inserted = format!("{OAUTH}/tenant");
        let server = TestServer::routed(|o| {
            vec![Route::json(
                path_inserted.clone(),
                json!({"issuer": format!("{o}/tenant"), "jwks_uri": "/keys"}).to_string(),
            )]
        })
        .await;
        let issuer = format!("{}/tenant", server.origin());
        let (up, recorder) = upstream(Duration::from_secs(5), 64 * 1024);
        let found = discover(&up, &issuer).await.unwrap();
        assert_eq!(found.url.as_str(), server.url(&path_inserted));
        assert_eq!(
            found.endpoint("jwks_uri").unwrap().unwrap().as_str(),
            server.url("/keys")
        );
        assert_eq!(server.paths(), [format!("/tenant{OIDC}"), path_inserted]);
        assert_eq!(events(&recorder), ["http_4xx", "ok"]);

        // The suffix form is the last resort; a trailing slash on either side is tolerated.
        let suffix = format!("/tenant{OAUTH}");
        let server =
            TestServer::routed(|o| vec![Route::json(suffix.clone(), doc(&format!("{o}/tenant/")))])
                .await;
        let found = discover(&up, &format!("{}/tenant", server.origin()))
            .await
            .unwrap();
        assert_eq!(found.url.as_str(), server.url(&suffix));
        assert_eq!(server.paths().len(), 3);
    }

    #[tokio::test]
    async fn another_issuers_document_is_refused() {
        let server = TestServer::answering(200, &[], &doc("https://evil.example")).await;
        let (up, recorder) = upstream(Duration::from_secs(5), 64 * 1024);
        let err = discover(&up, &server.origin()).await.unwrap_err();
        let UpstreamError::NoMetadata { issuer, tried } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(issuer, &server.origin());
        assert_eq!(tried.len(), 2, "every candidate was asked");
        assert!(tried.iter().all(|e| matches!(
            e,
            UpstreamError::IssuerMismatch { found, .. } if found == "https://evil.example"
        )));
        assert!(
            err.to_string()
                .contains("does not match the configured issuer"),
            "{err}"
        );
        assert!(!err.is_transient());
        assert_eq!(events(&recorder), ["invalid_response", "invalid_response"]);

        // A document without an issuer is nobody's.
        let anonymous = TestServer::answering(200, &[], r#"{"jwks_uri":"/k"}"#).await;
        let err = discover(&up, &anonymous.origin()).await.unwrap_err();
        assert!(matches!(err, UpstreamError::NoMetadata { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn an_oversized_document_is_refused_unread() {
        let server = TestServer::huge_with_length(FIFTY_MB).await;
        let (up, recorder) = upstream(Duration::from_secs(20), 64 * 1024);
        let started = Instant::now();
        let err = discover(&up, &server.origin()).await.unwrap_err();
        assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
        let UpstreamError::NoMetadata { tried, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(tried
            .iter()
            .all(|e| matches!(e, UpstreamError::TooLarge { limit: 65536, .. })));
        assert_eq!(events(&recorder), ["invalid_response", "invalid_response"]);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            server.body_bytes_sent() < FIFTY_MB / 2,
            "{}",
            server.body_bytes_sent()
        );

        let streamed = TestServer::huge(FIFTY_MB).await;
        let err = discover(&up, &streamed.origin()).await.unwrap_err();
        assert!(err.to_string().contains("larger than 65536 bytes"), "{err}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_costs_one_timeout() {
        let server = TestServer::silent().await;
        let timeout = Duration::from_millis(300);
        let (up, recorder) = upstream(timeout, 64 * 1024);
        let started = Instant::now();
        let err = discover(&up, &server.origin()).await.unwrap_err();
        assert!(started.elapsed() < timeout * 2, "{:?}", started.elapsed());
        assert_eq!(
            err,
            UpstreamError::Timeout {
                url: server.url(OIDC),
                timeout
            }
        );
        assert_eq!(
            server.connections(),
            1,
            "a silent server is not asked again"
        );
        assert_eq!(events(&recorder), ["timeout"]);
    }

    #[tokio::test]
    async fn a_server_that_is_down_ends_discovery_with_its_retry_after() {
        let server = TestServer::answering(503, &[("retry-after", "30")], "down").await;
        let (up, recorder) = upstream(Duration::from_secs(5), 64 * 1024);
        let err = discover(&up, &format!("{}/tenant", server.origin()))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            UpstreamError::Status {
                url: server.url(&format!("/tenant{OIDC}")),
                status: 503,
                retry_after: Some(Duration::from_secs(30)),
            }
        );
        assert_eq!(server.connections(), 1);
        assert_eq!(events(&recorder), ["http_5xx"]);

        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = discover(&up, &format!("http://{closed}"))
            .await
            .unwrap_err();
        assert!(matches!(err, UpstreamError::Connect { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn an_issuer_that_is_not_a_url_sends_nothing() {
        let (up, recorder) = upstream(Duration::from_secs(5), 64 * 1024);
        let err = discover(&up, "idp.example").await.unwrap_err();
        assert!(matches!(err, UpstreamError::InvalidUrl { .. }), "{err:?}");
        assert!(events(&recorder).is_empty());
    }
}
