//! MCP request headers: lenient `Accept`, and `Mcp-Method`/`Mcp-Name` against the body.

use std::borrow::Cow;

use http::{header, HeaderMap, HeaderValue};
use warden_core::mcp_peek::{peek_routing, Routing};
use warden_core::Rejection;
use warden_mcp::headers::{METHOD, NAME, PROTOCOL_VERSION};
use warden_mcp::tool_request::ParsedBody;

/// `Mcp-Method`: the JSON-RPC method of a POST (MCP 2026-07-28); as a
/// `HeaderName`: [`warden_mcp::headers::METHOD`].
pub const MCP_METHOD: &str = "mcp-method";
/// `Mcp-Name`: the tool or prompt name, or resource URI, of a POST (MCP 2026-07-28);
/// as a `HeaderName`: [`warden_mcp::headers::NAME`].
pub const MCP_NAME: &str = "mcp-name";

/// Some clients accept only `application/json` or only `text/event-stream`;
/// the MCP service wants both listed, so the request gets both.
pub(crate) fn lenient_accept(headers: &mut HeaderMap) {
    let (mut json, mut sse) = (false, false);
    for value in headers.get_all(header::ACCEPT) {
        let value = value.as_bytes();
        json |= contains_ignore_case(value, b"application/json");
        sse |= contains_ignore_case(value, b"text/event-stream");
    }
    if !(json && sse) {
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
    }
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The first protocol revision whose POSTs mirror the body in headers.
const HEADERS_SINCE: &str = "2026-07-28";

/// Whether a request speaks MCP 2026-07-28 or later (its POSTs mirror the
/// body in `Mcp-Method`/`Mcp-Name`).
fn mirrors_body(headers: &HeaderMap) -> bool {
    headers
        .get(PROTOCOL_VERSION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() >= HEADERS_SINCE)
}

/// For an MCP 2026-07-28 (or later) POST, refuses a missing `Mcp-Method` (or,
/// for `tools/call`, `prompts/get`, `resources/read|subscribe|unsubscribe` and
/// `tasks/*`, a missing `Mcp-Name`) and any value that disagrees with the
/// JSON-RPC body — before anything acts on the request: authorization follows
/// the body, so a header can never make a call look like another. Returns the
/// body's routing fields when it read them (a 2026-07-28 request whose body is
/// one JSON-RPC message), so the caller need not look again; requests of
/// earlier revisions, and bodies that are not one JSON-RPC message, pass
/// unread (`Ok(None)`: the MCP service answers them). `parsed`: the same body
/// already read as a `tools/call` or `tools/list` request, if it was; its
/// routing fields are the ones [`peek_routing`] would read.
pub(crate) fn check_mcp_headers(
    headers: &HeaderMap,
    body: &[u8],
    parsed: Option<&ParsedBody>,
) -> Result<Option<Routing>, Rejection> {
    if !mirrors_body(headers) {
        return Ok(None);
    }
    let Some(routing) = parsed
        .and_then(ParsedBody::routing)
        .or_else(|| peek_routing(body))
    else {
        return Ok(None);
    };
    check_routing(headers, &routing)?;
    Ok(Some(routing))
}

/// [`check_mcp_headers`] for a body already read into `routing`.
fn check_routing(headers: &HeaderMap, routing: &Routing) -> Result<(), Rejection> {
    let Some(method) = routing.method.as_deref() else {
        return Ok(());
    };
    let mismatch = |message: String| Rejection::HeaderMismatch {
        message,
        id: routing.id.clone(),
    };
    match headers.get(METHOD).map(|v| v.to_str()) {
        None => return Err(mismatch("missing required Mcp-Method header".into())),
        Some(Ok(value)) if value == method => {}
        Some(value) => {
            return Err(mismatch(format!(
                "Mcp-Method header `{}` does not match body method `{method}`",
                shown(value.unwrap_or("<not visible ASCII>"))
            )))
        }
    }
    let Some(name) = routing.name.as_deref() else {
        return Ok(());
    };
    match headers.get(NAME).map(|v| decode_name(v.as_bytes())) {
        None => Err(mismatch(format!(
            "missing required Mcp-Name header for `{method}`"
        ))),
        Some(Some(value)) if value == name => Ok(()),
        Some(value) => Err(mismatch(format!(
            "Mcp-Name header `{}` does not match body value `{}`",
            shown(value.as_deref().unwrap_or("<undecodable>")),
            shown(name)
        ))),
    }
}

/// An `Mcp-Name` value: visible ASCII as is, or `=?base64?…?=` (the form
/// clients use for values that are not safe header text) decoded.
fn decode_name(raw: &[u8]) -> Option<Cow<'_, str>> {
    use base64::Engine as _;
    let text = std::str::from_utf8(raw).ok()?;
    match text
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Cow::Owned),
        None => Some(Cow::Borrowed(text)),
    }
}

/// A value quoted in an error message, cut to 100 characters.
fn shown(value: &str) -> String {
    let mut out: String = value.chars().take(100).collect();
    if out.len() < value.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn accept_gets_both_types() {
        for given in [
            &[][..],
            &[("accept", "application/json")],
            &[("accept", "TEXT/Event-Stream")],
        ] {
            let mut h = headers(given);
            lenient_accept(&mut h);
            assert_eq!(h["accept"], "application/json, text/event-stream");
        }
        let mut h = headers(&[
            ("accept", "application/json"),
            ("accept", "text/event-stream"),
        ]);
        lenient_accept(&mut h);
        assert_eq!(h.get_all("accept").iter().count(), 2, "left alone");
    }

    fn check(h: &HeaderMap, body: &[u8]) -> Result<(), Rejection> {
        let parsed = ParsedBody::parse(&bytes::Bytes::copy_from_slice(body));
        let with = check_mcp_headers(h, body, Some(&parsed));
        let without = check_mcp_headers(h, body, None);
        assert_eq!(with, without, "{}", String::from_utf8_lossy(body));
        without.map(drop)
    }

    fn mismatch(h: &HeaderMap, body: &[u8]) -> Option<String> {
        match check(h, body) {
            Ok(()) => None,
            Err(Rejection::HeaderMismatch { message, .. }) => Some(message),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_public_names_are_the_header_names_looked_up() {
        assert_eq!(MCP_METHOD, METHOD.as_str());
        assert_eq!(MCP_NAME, NAME.as_str());
    }

    #[test]
    fn modern_requests_must_mirror_the_body() {
        let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}"#;
        let v = ("mcp-protocol-version", "2026-07-28");
        // Earlier revisions: headers are not looked at.
        assert_eq!(mismatch(&headers(&[("mcp-name", "other")]), call), None);
        assert_eq!(
            mismatch(
                &headers(&[("mcp-protocol-version", "2025-11-25"), ("mcp-name", "x")]),
                call
            ),
            None
        );
        let ok = headers(&[v, ("mcp-method", "tools/call"), ("mcp-name", "whoami")]);
        assert_eq!(mismatch(&ok, call), None);
        assert_eq!(
            mismatch(&headers(&[v, ("mcp-name", "whoami")]), call).as_deref(),
            Some("missing required Mcp-Method header")
        );
        assert_eq!(
            mismatch(&headers(&[v, ("mcp-method", "tools/call")]), call).as_deref(),
            Some("missing required Mcp-Name header for `tools/call`")
        );
        assert_eq!(
            mismatch(
                &headers(&[v, ("mcp-method", "tools/list"), ("mcp-name", "whoami")]),
                call
            )
            .as_deref(),
            Some("Mcp-Method header `tools/list` does not match body method `tools/call`")
        );
        assert_eq!(
            mismatch(
                &headers(&[
                    v,
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "news_sentiment")
                ]),
                call
            )
            .as_deref(),
            Some("Mcp-Name header `news_sentiment` does not match body value `whoami`")
        );
        // Base64 form, decoded before comparing.
        let encoded = headers(&[
            v,
            ("mcp-method", "tools/call"),
            ("mcp-name", "=?base64?d2hvYW1p?="),
        ]);
        assert_eq!(mismatch(&encoded, call), None);
        // Methods without a name need only Mcp-Method.
        let list = br#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
        assert_eq!(
            mismatch(&headers(&[v, ("mcp-method", "tools/list")]), list),
            None
        );
        // Not a JSON-RPC message: left to the MCP service.
        assert_eq!(mismatch(&ok, b"not json"), None);
        // The error echoes the request id.
        let r = check(&headers(&[v]), call).unwrap_err();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(r.to_response().body()).unwrap()["id"],
            1
        );
    }
}
