//! The stateless fast path.
//!
//! In stateless mode rmcp builds, spawns and tears down a whole service for
//! every POST. [`FastPath`] answers the two requests that dominate real
//! traffic — a single, well-formed `tools/call` or `tools/list` — straight
//! from the [`WardenMcp`] handler, and hands **everything else** to rmcp
//! unchanged (notifications, other methods, malformed or unusual requests,
//! anything it does not fully understand).
//!
//! It answers only where rmcp's stateless JSON transport would dispatch the
//! request to the handler, and it answers with rmcp's own model types and
//! shaping, so the bytes are rmcp's:
//!
//! * a POST whose `Host` passes rmcp's DNS-rebinding rule (same parsing, same
//!   allow-list semantics);
//! * `Accept` entries without parameters naming `application/json` and
//!   `text/event-stream`; exactly one `Content-Type` whose essence is
//!   `application/json`; a body within the size limit;
//! * a body that rmcp's `ClientJsonRpcMessage` parses into a `tools/call`
//!   or `tools/list` request (read straight into the same rmcp types by
//!   [`parse_tool_request`](crate::tool_request::parse_tool_request));
//! * the **plain** lane: no `MCP-Protocol-Version` header or one known version
//!   older than 2026-07-28, and no `protocolVersion` in `_meta` (answer 200;
//!   results shaped for a legacy peer); or
//! * the **negotiated** lane (MCP 2026-07-28): header and `_meta`
//!   protocolVersion both exactly `2026-07-28`, every required `_meta` key
//!   present, exactly one `Mcp-Method` equal to the method and, for
//!   `tools/call`, exactly one plain `Mcp-Name` equal to the tool, whose input
//!   schema has no `x-mcp-header` annotations (status from the JSON-RPC
//!   answer as rmcp maps it; results get the cache hints).
//!
//! The differential test `tests/integration/tests/fast_path_parity.rs` and the
//! fuzz target `fast_path` hold it to rmcp's answers.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::header::{ACCEPT, CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderName, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use rmcp::model::{
    ClientRequest, ErrorCode, GetMeta, JsonRpcRequest, ProtocolVersion, ServerJsonRpcMessage,
    ServerResult,
};
use tower::Service;

use crate::headers;
use crate::tool_request::ParsedBody;
use crate::WardenMcp;

/// The response type of rmcp's Streamable HTTP service (and of [`FastPath`]).
pub type McpResponse = Response<BoxBody<Bytes, Infallible>>;

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

/// A `tower::Service` in front of rmcp's stateless service that answers
/// plain `tools/call` and `tools/list` requests itself (see the
/// [module docs](self)).
#[derive(Clone)]
pub struct FastPath<S> {
    inner: S,
    shared: Option<Arc<Shared>>,
    answered: Arc<AtomicU64>,
}

struct Shared {
    server: WardenMcp,
    allowed_hosts: Vec<Authority>,
    host_check: bool,
    max_body: usize,
    /// Tools whose input schema carries `x-mcp-header` annotations (their
    /// `Mcp-Param-*` headers are rmcp's to check).
    annotated: HashSet<String>,
}

impl<S> std::fmt::Debug for FastPath<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastPath")
            .field("enabled", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl<S> FastPath<S> {
    /// Wraps `inner` (rmcp's stateless JSON service for `server`).
    /// `allowed_hosts` and `max_body` must be the values `inner` was built
    /// with. `enabled = false` passes every request to `inner`.
    pub fn new(
        inner: S,
        server: WardenMcp,
        allowed_hosts: &[String],
        max_body: usize,
        enabled: bool,
    ) -> Self {
        let shared = enabled.then(|| {
            let annotated = server
                .tool_registry()
                .iter()
                .filter(|t| {
                    serde_json::to_string(&t.tool.spec().input_schema)
                        .map_or(true, |s| s.contains("x-mcp-header"))
                })
                .map(|t| t.name().to_owned())
                .collect();
            Arc::new(Shared {
                server,
                allowed_hosts: allowed_hosts
                    .iter()
                    .filter_map(|h| Authority::allowed(h))
                    .collect(),
                host_check: !allowed_hosts.is_empty(),
                max_body,
                annotated,
            })
        });
        Self {
            inner,
            shared,
            answered: Arc::default(),
        }
    }

    /// Counts the requests answered here in `answered` (shared, e.g. with a
    /// host that reports it).
    pub fn counting(mut self, answered: Arc<AtomicU64>) -> Self {
        self.answered = answered;
        self
    }

    /// How many requests this service (and its clones) answered itself.
    pub fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }

    /// Whether this service answers requests itself.
    pub fn is_enabled(&self) -> bool {
        self.shared.is_some()
    }
}

impl<S> Service<Request<Full<Bytes>>> for FastPath<S>
where
    S: Service<Request<Full<Bytes>>, Response = McpResponse, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<McpResponse, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Full<Bytes>>) -> Self::Future {
        let Some(shared) = &self.shared else {
            // rmcp copies the request's extensions into its handler context.
            req.extensions_mut().remove::<ParsedBody>();
            return Box::pin(self.inner.call(req));
        };
        let (mut parts, body) = req.into_parts();
        let parsed = parts.extensions.remove::<ParsedBody>();
        // `Full` holds the whole body; taking it out does not wait.
        let bytes = match futures::FutureExt::now_or_never(body.clone().collect()) {
            Some(Ok(collected)) => collected.to_bytes(),
            _ => return Box::pin(self.inner.call(Request::from_parts(parts, body))),
        };
        match shared.plan(&parts, &bytes, parsed) {
            Some(plan) => {
                self.answered.fetch_add(1, Ordering::Relaxed);
                let shared = shared.clone();
                Box::pin(async move { Ok(shared.answer(plan, &parts).await) })
            }
            None => Box::pin(self.inner.call(Request::from_parts(parts, body))),
        }
    }
}

/// Which of rmcp's two stateless dispatch paths the request would take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// No per-request protocol version: always HTTP 200, legacy shaping.
    Plain,
    /// MCP 2026-07-28 per-request negotiation: status from the answer.
    Negotiated,
}

struct Plan {
    request: JsonRpcRequest<ClientRequest>,
    lane: Lane,
}

impl Shared {
    /// How the fast path answers the request, if it does; `parsed`: the
    /// body as the MCP layer already read it, if it did.
    fn plan(
        &self,
        parts: &http::request::Parts,
        body: &Bytes,
        parsed: Option<ParsedBody>,
    ) -> Option<Plan> {
        if parts.method != Method::POST
            || !self.host_allowed(parts)
            || !accepts_json_and_sse(&parts.headers)
            || !json_content_type(&parts.headers)
            || body.len() > self.max_body
        {
            return None;
        }
        let request = ParsedBody::take_for(parsed, body)?;
        let tool = match &request.request {
            ClientRequest::CallToolRequest(call) => Some(call.params.name.as_ref()),
            ClientRequest::ListToolsRequest(_) => None,
            _ => return None,
        };
        let header_version = match occurrence(&parts.headers, &headers::PROTOCOL_VERSION) {
            Occurrence::Absent => None,
            Occurrence::Once(value) => Some(value.to_str().ok()?),
            Occurrence::Repeated => return None,
        };
        if let Some(v) = header_version {
            if !ProtocolVersion::KNOWN_VERSIONS
                .iter()
                .any(|k| k.as_str() == v)
            {
                return None;
            }
        }
        let modern = ProtocolVersion::V_2026_07_28.as_str();
        let meta = request.request.get_meta();
        let lane = match meta.protocol_version() {
            None => {
                if header_version.is_some_and(|v| v >= modern) {
                    // rmcp requires `_meta` here (and checks the SEP-2243 headers).
                    return None;
                }
                Lane::Plain
            }
            Some(version) => {
                if version.as_str() != modern
                    || header_version != Some(modern)
                    || !meta
                        .missing_required_keys(&ProtocolVersion::V_2026_07_28)
                        .is_empty()
                    || !self.standard_headers_match(&parts.headers, &request.request, tool)
                {
                    return None;
                }
                Lane::Negotiated
            }
        };
        Some(Plan { request, lane })
    }

    /// SEP-2243 headers exactly as sent by a conforming client: one
    /// `Mcp-Method` equal to the method, one plain `Mcp-Name` equal to the
    /// tool. Anything else (duplicates, Base64 forms, annotated tools) is
    /// rmcp's to judge.
    fn standard_headers_match(
        &self,
        headers: &HeaderMap,
        request: &ClientRequest,
        tool: Option<&str>,
    ) -> bool {
        let method = match request {
            ClientRequest::CallToolRequest(_) => "tools/call",
            _ => "tools/list",
        };
        let Some(value) = once(headers, &headers::METHOD) else {
            return false;
        };
        if value.to_str().ok() != Some(method) {
            return false;
        }
        match tool {
            None => true,
            Some(name) => {
                if self.annotated.contains(name) {
                    return false;
                }
                let Some(value) = once(headers, &headers::NAME) else {
                    return false;
                };
                value
                    .to_str()
                    .is_ok_and(|v| v == name && !v.starts_with("=?base64?"))
            }
        }
    }

    /// rmcp's DNS-rebinding rule: the `Host` header (else the URI authority)
    /// must parse, and match an allowed host (and port, when one is given).
    fn host_allowed(&self, parts: &http::request::Parts) -> bool {
        let host = match parts.headers.get(HOST) {
            Some(value) => {
                let Some(authority) = value
                    .to_str()
                    .ok()
                    .and_then(|v| http::uri::Authority::try_from(v).ok())
                else {
                    return false;
                };
                Authority::of(&authority)
            }
            None => match parts.uri.authority() {
                Some(authority) => Authority::of(authority),
                None => return false,
            },
        };
        !self.host_check
            || self.allowed_hosts.iter().any(|allowed| {
                allowed.host == host.host && allowed.port.is_none_or(|p| host.port == Some(p))
            })
    }

    async fn answer(&self, plan: Plan, parts: &http::request::Parts) -> McpResponse {
        let Plan { request, lane } = plan;
        let who = crate::auth_info_from_parts(parts);
        let id = request.id;
        let legacy = matches!(lane, Lane::Plain);
        let outcome = match request.request {
            ClientRequest::CallToolRequest(call) => self
                .server
                .call_tool_over_http(
                    call.params,
                    parts,
                    call.extensions
                        .get::<rmcp::model::RequestMetaObject>()
                        .and_then(|m| m.get_traceparent()),
                )
                .await
                .map(ServerResult::from)
                .map(|r| shape(r, legacy)),
            ClientRequest::ListToolsRequest(_) => self
                .server
                .list_tools_for(who)
                .map(ServerResult::ListToolsResult)
                .map(|r| shape(r, legacy))
                .map_err(|mut e| {
                    if !legacy && e.code == ErrorCode::RESOURCE_NOT_FOUND {
                        e.code = ErrorCode::INVALID_PARAMS;
                    }
                    e
                }),
            _ => unreachable!("plan() admits tools/call and tools/list only"),
        };
        let message = match outcome {
            Ok(result) => ServerJsonRpcMessage::response(result, id),
            Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
        };
        let status = match lane {
            Lane::Plain => StatusCode::OK,
            Lane::Negotiated => negotiated_status(&message),
        };
        json_response(status, &message)
    }
}

/// rmcp's version shaping of a result (legacy peers lose `resultType` and
/// non-object tool output; 2026-07-28 peers get cache hints).
fn shape(mut result: ServerResult, legacy: bool) -> ServerResult {
    if legacy {
        result.strip_result_type_for_legacy_peer();
        result.strip_non_object_output_for_legacy_peer();
    } else {
        result.fill_missing_cache_hints();
    }
    result
}

/// rmcp's status for a negotiated answer whose `_meta` is well formed.
fn negotiated_status(message: &ServerJsonRpcMessage) -> StatusCode {
    let ServerJsonRpcMessage::Error(error) = message else {
        return StatusCode::OK;
    };
    match error.error.code {
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
        | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
        | ErrorCode::HEADER_MISMATCH => StatusCode::BAD_REQUEST,
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    }
}

fn json_response(status: StatusCode, message: &ServerJsonRpcMessage) -> McpResponse {
    match serde_json::to_vec(message) {
        Ok(body) => Response::builder()
            .status(status)
            .header(CONTENT_TYPE, JSON)
            .body(Full::new(Bytes::from(body)).boxed())
            .expect("static parts are valid"),
        // The same answer rmcp gives when it cannot serialize.
        Err(e) => Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(
                Full::new(Bytes::from(format!(
                    "Failed to serialize json response: {e}"
                )))
                .boxed(),
            )
            .expect("static parts are valid"),
    }
}

/// How often a header appears.
enum Occurrence<'h> {
    Absent,
    Once(&'h http::HeaderValue),
    Repeated,
}

fn occurrence<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Occurrence<'h> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Occurrence::Absent,
        (Some(value), None) => Occurrence::Once(value),
        (Some(_), Some(_)) => Occurrence::Repeated,
    }
}

/// The value of a header that appears exactly once.
fn once<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h http::HeaderValue> {
    match occurrence(headers, name) {
        Occurrence::Once(value) => Some(value),
        _ => None,
    }
}

/// Every `Accept` entry is a bare media type (no parameters, so no `q=0`),
/// and `application/json` and `text/event-stream` are among them.
fn accepts_json_and_sse(headers: &HeaderMap) -> bool {
    let (mut json, mut sse) = (false, false);
    for value in headers.get_all(ACCEPT) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        for entry in value.split(',') {
            if entry.contains(';') || entry.contains('"') {
                return false;
            }
            let entry = entry.trim();
            json |= entry.eq_ignore_ascii_case(JSON);
            sse |= entry.eq_ignore_ascii_case(EVENT_STREAM);
        }
    }
    json && sse
}

/// Exactly one `Content-Type`, whose essence is `application/json`.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = once(headers, &CONTENT_TYPE) else {
        return false;
    };
    value.to_str().is_ok_and(|v| {
        v.split_once(';')
            .map_or(v, |(essence, _)| essence)
            .trim()
            .eq_ignore_ascii_case(JSON)
    })
}

/// A host and optional port, normalised as rmcp does (brackets trimmed,
/// lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Authority {
    host: String,
    port: Option<u16>,
}

impl Authority {
    fn of(authority: &http::uri::Authority) -> Self {
        Self::new(authority.host(), authority.port_u16())
    }

    fn new(host: &str, port: Option<u16>) -> Self {
        Self {
            host: host
                .trim_matches('[')
                .trim_matches(']')
                .to_ascii_lowercase(),
            port,
        }
    }

    /// An allow-list entry: an authority (`host[:port]`), else a bare host.
    fn allowed(entry: &str) -> Option<Self> {
        let entry = entry.trim();
        if entry.is_empty() {
            return None;
        }
        Some(match http::uri::Authority::try_from(entry) {
            Ok(authority) => Self::of(&authority),
            Err(_) => Self::new(entry, None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn accept_needs_both_bare_types() {
        assert!(accepts_json_and_sse(&headers(&[(
            "accept",
            "application/json, text/event-stream"
        )])));
        assert!(accepts_json_and_sse(&headers(&[
            ("accept", "Application/JSON"),
            ("accept", "text/event-stream")
        ])));
        assert!(!accepts_json_and_sse(&headers(&[(
            "accept",
            "application/json"
        )])));
        assert!(!accepts_json_and_sse(&headers(&[(
            "accept",
            "application/json, text/event-stream;q=0"
        )])));
        assert!(!accepts_json_and_sse(&headers(&[("accept", "*/*")])));
    }

    #[test]
    fn content_type_is_one_json_essence() {
        assert!(json_content_type(&headers(&[(
            "content-type",
            "Application/JSON ; charset=utf-8"
        )])));
        assert!(!json_content_type(&headers(&[(
            "content-type",
            "application/json-rpc"
        )])));
        assert!(!json_content_type(&headers(&[
            ("content-type", "application/json"),
            ("content-type", "application/json")
        ])));
        assert!(!json_content_type(&HeaderMap::new()));
    }

    #[test]
    fn allow_list_entries_parse_like_rmcp() {
        assert_eq!(
            Authority::allowed("LocalHost"),
            Some(Authority::new("localhost", None))
        );
        assert_eq!(
            Authority::allowed("example.com:8080"),
            Some(Authority::new("example.com", Some(8080)))
        );
        assert_eq!(
            Authority::allowed("[::1]"),
            Some(Authority::new("::1", None))
        );
        assert_eq!(Authority::allowed("  "), None);
    }
}
