//! Reading a `tools/call` or `tools/list` request into rmcp's model types,
//! without rmcp's detour through every other request type.
//!
//! rmcp parses a POST body as `ClientJsonRpcMessage`: it buffers the whole
//! message, checks its shape (which of `method`, `id`, `result`, `error` it
//! has), then tries each `ClientRequest` variant in declaration order until
//! one parses — thirteen request types, each failing with an allocated error,
//! before `tools/call`. Every variant before `CallToolRequest` and
//! `ListToolsRequest` names a fixed method other than theirs, so for a body
//! whose `method` is `"tools/call"` (or `"tools/list"`) the first variant that
//! can succeed is `CallToolRequest` (or `ListToolsRequest`).
//! [`parse_tool_request`] checks the same shape and parses that variant
//! directly, into the same rmcp types, and declines everything else.
//!
//! The unit tests below and the fuzz target `fast_path_parse` hold it to
//! rmcp's own parse: the same request (serialised identically) whenever it
//! answers, and an answer whenever rmcp parses a `tools/call` or `tools/list`
//! request.

use std::fmt;

use rmcp::model::{
    CallToolRequest, ClientJsonRpcMessage, ClientRequest, JsonRpcRequest, ListToolsRequest,
};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

/// The request rmcp would dispatch for `body`, when it is a single
/// `tools/call` or `tools/list` request; `None` for anything else (other
/// methods, notifications, responses, batches, malformed bodies), which is
/// rmcp's to parse and answer.
pub fn parse_tool_request(body: &[u8]) -> Option<JsonRpcRequest<ClientRequest>> {
    match request_method(body)? {
        Method::ToolsCall => {
            let r = serde_json::from_slice::<JsonRpcRequest<CallToolRequest>>(body).ok()?;
            Some(JsonRpcRequest::new(
                r.id,
                ClientRequest::CallToolRequest(r.request),
            ))
        }
        Method::ToolsList => {
            let r = serde_json::from_slice::<JsonRpcRequest<ListToolsRequest>>(body).ok()?;
            Some(JsonRpcRequest::new(
                r.id,
                ClientRequest::ListToolsRequest(r.request),
            ))
        }
    }
}

/// A body already read with [`parse_tool_request`], handed on in the request
/// extensions so the fast path does not read it a second time: the MCP layer
/// of `warden-tower` reads a POST body once to find the tool (for its scopes)
/// and passes this along. The fast path uses it only for the very bytes it was
/// made from ([`ParsedBody::take_for`]); for any other body it parses itself.
#[derive(Debug, Clone)]
pub struct ParsedBody {
    body: bytes::Bytes,
    request: Option<JsonRpcRequest<ClientRequest>>,
}

impl ParsedBody {
    /// Reads `body` ([`parse_tool_request`]).
    pub fn parse(body: &bytes::Bytes) -> Self {
        Self {
            body: body.clone(),
            request: parse_tool_request(body),
        }
    }

    /// The `tools/call` or `tools/list` request the body holds, if it is one.
    pub fn request(&self) -> Option<&JsonRpcRequest<ClientRequest>> {
        self.request.as_ref()
    }

    /// The routing fields of the request it holds, as
    /// [`peek_routing`](warden_core::mcp_peek::peek_routing) reads them from
    /// the same body (held to that by the `fast_path_parse` fuzz target).
    pub fn routing(&self) -> Option<warden_core::mcp_peek::Routing> {
        let request = self.request.as_ref()?;
        let (method, name) = match &request.request {
            ClientRequest::CallToolRequest(call) => {
                ("tools/call", Some(call.params.name.to_string()))
            }
            _ => ("tools/list", None),
        };
        Some(warden_core::mcp_peek::Routing {
            method: Some(method.to_owned()),
            name,
            id: serde_json::to_value(&request.id).ok()?,
        })
    }

    /// What [`parse_tool_request`] gives for `body`: the reading made
    /// earlier when `body` is the body it was made from, else a new one.
    pub fn take_for(this: Option<Self>, body: &[u8]) -> Option<JsonRpcRequest<ClientRequest>> {
        match this {
            Some(parsed) if parsed.body == body => parsed.request,
            _ => parse_tool_request(body),
        }
    }
}

/// rmcp's own reading of `body` through `ClientJsonRpcMessage`, kept to what
/// [`parse_tool_request`] reads: the reference it is held to (by the tests
/// here and the `fast_path_parse` fuzz target), not for serving.
pub fn rmcp_tool_request(body: &[u8]) -> Option<JsonRpcRequest<ClientRequest>> {
    match serde_json::from_slice::<ClientJsonRpcMessage>(body) {
        Ok(ClientJsonRpcMessage::Request(r))
            if matches!(
                r.request,
                ClientRequest::CallToolRequest(_) | ClientRequest::ListToolsRequest(_)
            ) =>
        {
            Some(r)
        }
        _ => None,
    }
}

/// The two methods answered here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    ToolsCall,
    ToolsList,
}

/// The method of a body that rmcp classifies as a request (a JSON object with
/// `method` and `id` and neither `result` nor `error`, keys compared after
/// unescaping), when that method is one of [`Method`] given once as a string.
fn request_method(body: &[u8]) -> Option<Method> {
    let shape = serde_json::from_slice::<Shape>(body).ok()?;
    match shape {
        Shape {
            method: Some(MethodValue::Answered(method)),
            methods: 1,
            id: true,
            result_or_error: false,
        } => Some(method),
        _ => None,
    }
}

/// The top-level keys rmcp's shape check looks at.
#[derive(Debug, Default)]
struct Shape {
    method: Option<MethodValue>,
    methods: usize,
    id: bool,
    result_or_error: bool,
}

#[derive(Debug, Clone, Copy)]
enum MethodValue {
    Answered(Method),
    Other,
}

/// A top-level key, as far as the shape check cares.
enum Key {
    Method,
    Id,
    ResultOrError,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "method" => Key::Method,
                    "id" => Key::Id,
                    "result" | "error" => Key::ResultOrError,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for MethodValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MethodVisitor;
        impl Visitor<'_> for MethodVisitor {
            type Value = MethodValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a method name")
            }
            fn visit_str<E: de::Error>(self, method: &str) -> Result<MethodValue, E> {
                Ok(match method {
                    "tools/call" => MethodValue::Answered(Method::ToolsCall),
                    "tools/list" => MethodValue::Answered(Method::ToolsList),
                    _ => MethodValue::Other,
                })
            }
        }
        // Anything but a string is an error here: the body is declined.
        deserializer.deserialize_str(MethodVisitor)
    }
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ShapeVisitor;
        impl<'de> Visitor<'de> for ShapeVisitor {
            type Value = Shape;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC message object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
                let mut shape = Shape::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Method => {
                            shape.methods += 1;
                            shape.method = Some(map.next_value::<MethodValue>()?);
                        }
                        Key::Id => {
                            shape.id = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        Key::ResultOrError => {
                            shape.result_or_error = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(shape)
            }
        }
        deserializer.deserialize_map(ShapeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rmcp_reading(body: &[u8]) -> Option<String> {
        rmcp_tool_request(body).map(|r| serde_json::to_string(&r).expect("serialisable"))
    }

    fn ours(body: &[u8]) -> Option<String> {
        parse_tool_request(body).map(|r| serde_json::to_string(&r).expect("serialisable"))
    }

    fn agree(body: &str) {
        assert_eq!(
            ours(body.as_bytes()),
            rmcp_reading(body.as_bytes()),
            "{body}"
        );
    }

    #[test]
    fn reads_what_rmcp_reads() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"whoami","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
            r#"{"method":"tools/list","id":null,"jsonrpc":"2.0"}"#,
            r#"{"method":"tools/list","id":7,"jsonrpc":"2.0","params":{"cursor":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"meth\u006fd":"tools\/call","params":{"name":"who\u0061mi"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"},"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"},"err\u006fr":{}}"#,
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"whoami"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"tools/call","params":{"name":"whoami"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"whoami"}}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"whoami"}}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{"name":"whoami"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":5}"#,
            r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"} x"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","x":"\ud800"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","task":{}}}"#,
            "",
            "null",
        ] {
            agree(body);
        }
        assert!(ours(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).is_some());
    }

    #[test]
    fn reads_members_in_any_order() {
        let members = [
            r#""jsonrpc":"2.0""#,
            r#""id":"r-1""#,
            r#""method":"tools/call""#,
            r#""params":{"_meta":{"progressToken":1},"arguments":{"q":"é"},"name":"whoami"}"#,
            r#""extra":[{"deep":{"er":null}}]"#,
        ];
        let mut answered = 0;
        for a in 0..5 {
            for b in 0..5 {
                for c in 0..5 {
                    for d in 0..5 {
                        let Some(e) = 10usize.checked_sub(a + b + c + d) else {
                            continue;
                        };
                        let order = [a, b, c, d, e];
                        if (0..5).any(|i| !order.contains(&i)) {
                            continue;
                        }
                        let body = format!("{{{}}}", order.map(|i| members[i]).join(","));
                        agree(&body);
                        answered += usize::from(ours(body.as_bytes()).is_some());
                    }
                }
            }
        }
        assert_eq!(answered, 120, "every order is a tools/call rmcp reads");
    }

    #[test]
    fn invalid_utf8_anywhere_is_refused_like_rmcp() {
        let body = b"{\"x\":\"\xff\xfe\",\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"y\":\"\xff\"}}";
        assert_eq!(ours(body), rmcp_reading(body));
        assert_eq!(ours(body), None);
    }

    /// JSON-RPC-like bodies: members in any order, repeated, escaped, of
    /// every JSON type, with `_meta`, stray `result`/`error`, and junk.
    fn body_like() -> impl Strategy<Value = String> {
        let member = prop_oneof![
            Just(r#""jsonrpc":"2.0""#.to_owned()),
            Just(r#""jsonrpc":"2.1""#.to_owned()),
            Just(r#""id":1"#.to_owned()),
            Just(r#""id":"x""#.to_owned()),
            Just(r#""id":null"#.to_owned()),
            Just(r#""id":-3"#.to_owned()),
            Just(r#""id":18446744073709551616"#.to_owned()),
            Just(r#""method":"tools/call""#.to_owned()),
            Just(r#""method":"tools\/list""#.to_owned()),
            Just(r#""method":"tools/list""#.to_owned()),
            Just(r#""method":"ping""#.to_owned()),
            Just(r#""method":null"#.to_owned()),
            Just(r#""params":{"name":"whoami","arguments":{"a":[1,2.5,null]}}"#.to_owned()),
            Just(r#""params":{"name":"whoami","_meta":{"progressToken":3,"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#.to_owned()),
            Just(r#""params":{"name":"whoami","name":"x"}"#.to_owned()),
            Just(r#""params":{"cursor":"c"}"#.to_owned()),
            Just(r#""params":{}"#.to_owned()),
            Just(r#""params":null"#.to_owned()),
            Just(r#""params":[]"#.to_owned()),
            Just(r#""result":{}"#.to_owned()),
            Just(r#""error":{"code":1,"message":"m"}"#.to_owned()),
            Just(r#""_meta":{}"#.to_owned()),
            Just(r#""x":{"y":[true,false]}"#.to_owned()),
        ];
        (proptest::collection::vec(member, 0..7), "[ \\]x}]{0,2}")
            .prop_map(|(members, junk)| format!("{{{}}}{junk}", members.join(",")))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn agrees_with_rmcp_on_generated_bodies(body in body_like()) {
            prop_assert_eq!(ours(body.as_bytes()), rmcp_reading(body.as_bytes()), "{}", body);
        }

        #[test]
        fn agrees_with_rmcp_on_any_bytes(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(ours(&body), rmcp_reading(&body));
        }
    }
}
