//! [`Request`]: what one outbound call sends.

use std::fmt;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Method};
use url::Url;

use crate::UpstreamError;

/// One outbound request: method, URL, headers, body, and optionally a
/// shorter timeout than the policy's.
///
/// Only what warden needs: `GET` with `Accept: application/json`, `POST` of a
/// form, a sensitive `Authorization` header, query parameters. The
/// `Authorization` value is marked sensitive and never shown by `Debug` or in
/// errors.
///
/// ```
/// use std::time::Duration;
/// use warden_upstream::Request;
///
/// let r = Request::get("https://www.alphavantage.co/query")
///     .query(&[("function", "NEWS_SENTIMENT"), ("apikey", "SECRET")])
///     .timeout(Duration::from_secs(2));
/// let shown = format!("{r:?}");
/// assert!(!shown.contains("SECRET"), "{shown}");
/// let r = Request::get("https://idp.example.com/me").bearer("tok-123");
/// assert!(!format!("{r:?}").contains("tok-123"));
/// ```
#[derive(Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) any_status_body: bool,
    pub(crate) invalid_header: Option<&'static str>,
}

impl Request {
    fn new(method: Method, url: impl Into<String>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        Self {
            method,
            url: url.into(),
            query: Vec::new(),
            headers,
            body: None,
            timeout: None,
            any_status_body: false,
            invalid_header: None,
        }
    }

    /// `GET url` with `Accept: application/json`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::GET, url)
    }

    /// `POST url` of an `application/x-www-form-urlencoded` body, with
    /// `Accept: application/json`.
    pub fn post_form(url: impl Into<String>, body: impl Into<String>) -> Self {
        let mut request = Self::new(Method::POST, url);
        request.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        request.body = Some(body.into().into_bytes());
        request
    }

    /// Another method, headers and body (for adapters such as openidconnect's
    /// HTTP client). Header values stay as given (mark secrets sensitive); the
    /// body of every status is read, as with [`read_body_of_any_status`](Self::read_body_of_any_status).
    pub fn raw(method: Method, url: impl Into<String>, headers: HeaderMap, body: Vec<u8>) -> Self {
        Self {
            method,
            url: url.into(),
            query: Vec::new(),
            headers,
            body: (!body.is_empty()).then_some(body),
            timeout: None,
            any_status_body: true,
            invalid_header: None,
        }
    }

    /// Replaces the `Accept` header.
    pub fn accept(mut self, value: &'static str) -> Self {
        self.headers.insert(ACCEPT, HeaderValue::from_static(value));
        self
    }

    /// Sets `Authorization` (marked sensitive). A value that is not a valid
    /// header makes the call fail with [`UpstreamError::InvalidHeader`].
    pub fn authorization(mut self, value: &str) -> Self {
        match HeaderValue::from_str(value) {
            Ok(mut v) => {
                v.set_sensitive(true);
                self.headers.insert(AUTHORIZATION, v);
            }
            Err(_) => self.invalid_header = Some("authorization"),
        }
        self
    }

    /// Sets `Authorization: Bearer <token>` (marked sensitive).
    pub fn bearer(self, token: &str) -> Self {
        self.authorization(&format!("Bearer {token}"))
    }

    /// Appends query parameters (percent-encoded). They are never shown in
    /// errors or logs: they may hold an API key.
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        self.query.extend(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self
    }

    /// Bounds this call by `timeout` instead of the policy's total timeout
    /// (the connect timeout still applies).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Reads the body of every answer, not only of 2xx ones.
    pub fn read_body_of_any_status(mut self) -> Self {
        self.any_status_body = true;
        self
    }

    /// The absolute `http(s)` URL with the query parameters, or why not.
    pub(crate) fn target(&self) -> Result<Url, UpstreamError> {
        let invalid = |reason: String| UpstreamError::InvalidUrl {
            url: strip_query(&self.url),
            reason,
        };
        let mut url = Url::parse(self.url.trim()).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid("only absolute http(s) URLs are fetched".into()));
        }
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        Ok(url)
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&HeaderName, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let shown = if v.is_sensitive() {
                    "<redacted>"
                } else {
                    v.to_str().unwrap_or("<binary>")
                };
                (k, shown)
            })
            .collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &strip_query(&self.url))
            .field("query_params", &self.query.len())
            .field("headers", &headers)
            .field("body_bytes", &self.body.as_ref().map_or(0, Vec::len))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// How a URL is shown in errors and logs: scheme, host, port and path —
/// without user info, query or fragment (they may hold credentials).
///
/// ```
/// let url = url::Url::parse("https://user:pw@av.example/query?apikey=K#x").unwrap();
/// assert_eq!(warden_upstream::display_url(&url), "https://av.example/query");
/// ```
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// [`display_url`] for text that may not parse: cut at `?` or `#`.
fn strip_query(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(u) => display_url(&u),
        Err(_) => url.split(['?', '#']).next().unwrap_or("").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_adds_query_and_refuses_non_http() {
        let r = Request::get("http://127.0.0.1:9/av/query").query(&[("a", "b c"), ("k", "&")]);
        assert_eq!(
            r.target().unwrap().as_str(),
            "http://127.0.0.1:9/av/query?a=b+c&k=%26"
        );
        for bad in [
            "ftp://x/y",
            "/relative",
            "unix:/tmp/s",
            "not a url?key=SECRET",
        ] {
            let err = Request::get(bad).target().unwrap_err();
            assert!(matches!(err, UpstreamError::InvalidUrl { .. }), "{bad}");
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
    }

    #[test]
    fn authorization_is_sensitive_or_refused() {
        let r = Request::post_form("http://idp/introspect", "token=t").authorization("Basic abc");
        assert!(r.headers[AUTHORIZATION].is_sensitive());
        assert!(r.invalid_header.is_none());
        assert!(!format!("{r:?}").contains("abc"));
        let r = Request::get("http://idp/me").bearer("bad\ntoken");
        assert_eq!(r.invalid_header, Some("authorization"));
        assert!(!r.headers.contains_key(AUTHORIZATION));
    }

    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(
            strip_query("https://u:p@h.example:8443/a/b?x=1#f"),
            "https://h.example:8443/a/b"
        );
        assert_eq!(strip_query("::bad?apikey=K"), "::bad");
    }
}
