//! A minimal look into an MCP POST body to find which tool a `tools/call` targets.
//!
//! Used before the request reaches the MCP service so a missing tool scope can
//! be answered with HTTP 403 `insufficient_scope` (step-up). It parses only the
//! top-level `method` and `params.name`; anything else is left to the MCP layer.

use serde::Deserialize;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    method: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    params: Option<Params>,
    #[serde(default)]
    id: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    uri: Option<serde_json::Value>,
    #[serde(default, rename = "taskId")]
    task_id: Option<serde_json::Value>,
}

/// The routing fields of a JSON-RPC message body, as MCP headers mirror them
/// (MCP 2026-07-28 `Mcp-Method`, `Mcp-Name`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Routing {
    /// The top-level `method` (`Mcp-Method` mirrors it).
    pub method: Option<String>,
    /// What `Mcp-Name` mirrors for this method, when the method has one:
    /// `params.name` of `tools/call` and `prompts/get`, `params.uri` of
    /// `resources/read`, `resources/subscribe` and `resources/unsubscribe`,
    /// `params.taskId` of `tasks/*`. `Some("")` when the method has one but the
    /// body carries none (or not a string).
    pub name: Option<String>,
    /// The request `id` (`null` for a notification or when absent).
    pub id: serde_json::Value,
}

impl Routing {
    /// The tool a `tools/call` names: what [`peek_call`] finds in the same
    /// body, except that a call naming the empty string counts as naming none
    /// (no tool has that name, so no tool scopes apply either way).
    pub fn tool(&self) -> Option<&str> {
        match (self.method.as_deref(), self.name.as_deref()) {
            (Some("tools/call"), Some(name)) if !name.is_empty() => Some(name),
            _ => None,
        }
    }
}

/// Reads `method`, the `Mcp-Name` source field and `id` of a single JSON-RPC
/// message. `None` when the body is not a JSON object with those shapes (the
/// MCP layer answers such bodies).
pub fn peek_routing(body: &[u8]) -> Option<Routing> {
    let envelope = serde_json::from_slice::<Envelope<'_>>(body).ok()?;
    let method = envelope.method.map(|m| m.into_owned());
    let string = |v: Option<serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s,
        _ => String::new(),
    };
    let name = match (method.as_deref(), envelope.params) {
        (Some("tools/call" | "prompts/get"), params) => Some(string(params.and_then(|p| p.name))),
        (Some("resources/read" | "resources/subscribe" | "resources/unsubscribe"), params) => {
            Some(string(params.and_then(|p| p.uri)))
        }
        (Some(m), params) if m.starts_with("tasks/") => {
            Some(string(params.and_then(|p| p.task_id)))
        }
        _ => None,
    };
    Some(Routing {
        method,
        name,
        id: envelope.id.unwrap_or(serde_json::Value::Null),
    })
}

/// What an MCP POST body asks for, as far as auth cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpCall {
    /// `tools/call` of the named tool.
    ToolCall(String),
    /// Any other JSON-RPC message (or a body that is not one).
    Other,
}

/// Finds the tool name of a `tools/call` request. Never fails: unparseable
/// bodies are `Other` and the MCP layer answers them properly.
pub fn peek_call(body: &[u8]) -> McpCall {
    match serde_json::from_slice::<Envelope<'_>>(body) {
        Ok(Envelope {
            method: Some(m),
            params:
                Some(Params {
                    name: Some(serde_json::Value::String(name)),
                    ..
                }),
            ..
        }) if m == "tools/call" => McpCall::ToolCall(name),
        _ => McpCall::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_tool_calls() {
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;
        assert_eq!(peek_call(body), McpCall::ToolCall("whoami".into()));
        let escaped =
            br#"{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"who\u0061mi"}}"#;
        assert_eq!(peek_call(escaped), McpCall::ToolCall("whoami".into()));
        assert_eq!(
            peek_call(br#"{"method":"tools/list","params":{}}"#),
            McpCall::Other
        );
        assert_eq!(
            peek_call(br#"{"method":"tools/call","params":{"name":5}}"#),
            McpCall::Other
        );
        assert_eq!(peek_call(b"[]"), McpCall::Other);
        assert_eq!(
            peek_routing(br#"{"id":7,"method":"resources/read","params":{"uri":"file:///a"}}"#),
            Some(Routing {
                method: Some("resources/read".into()),
                name: Some("file:///a".into()),
                id: serde_json::json!(7),
            })
        );
        assert_eq!(
            peek_routing(br#"{"method":"tools/list","params":{"name":"x"}}"#).and_then(|r| r.name),
            None,
            "tools/list has no Mcp-Name"
        );
        assert_eq!(
            peek_routing(br#"{"method":"tools/call","params":{}}"#).and_then(|r| r.name),
            Some(String::new())
        );
        assert_eq!(
            peek_routing(br#"{"method":"tools/call","params":{"name":"whoami"}}"#)
                .and_then(|r| r.name),
            Some("whoami".into())
        );
        assert_eq!(peek_routing(b"[1]"), None);
        assert_eq!(peek_call(b"not json"), McpCall::Other);
    }

    /// JSON-RPC-like bodies: methods, names of every JSON type, escapes,
    /// duplicate keys and junk.
    fn body_like() -> impl Strategy<Value = String> {
        let method = prop_oneof![
            Just("\"tools/call\"".to_owned()),
            Just("\"tools\\/call\"".to_owned()),
            Just("\"tools/list\"".to_owned()),
            Just("\"prompts/get\"".to_owned()),
            Just("5".to_owned()),
            Just("null".to_owned()),
        ];
        let name = prop_oneof![
            "[a-z_]{0,8}".prop_map(|n| format!("\"{n}\"")),
            Just("\"who\\u0061mi\"".to_owned()),
            Just("7".to_owned()),
            Just("null".to_owned()),
            Just("{}".to_owned()),
            Just("[\"whoami\"]".to_owned()),
        ];
        (method, name, any::<bool>(), any::<bool>(), "[ ,}x]{0,2}").prop_map(
            |(method, name, twice, params_first, junk)| {
                let params = format!("\"params\":{{\"name\":{name},\"arguments\":{{}}}}");
                let method = format!("\"method\":{method}");
                let (a, b) = if params_first {
                    (&params, &method)
                } else {
                    (&method, &params)
                };
                let again = if twice {
                    format!(",{method}")
                } else {
                    String::new()
                };
                format!("{{\"jsonrpc\":\"2.0\",\"id\":1,{a},{b}{again}}}{junk}")
            },
        )
    }

    proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = peek_call(&body);
        }

        #[test]
        fn routing_names_the_tool_peek_call_finds(body in body_like()) {
            let via_routing = peek_routing(body.as_bytes())
                .and_then(|r| r.tool().map(str::to_owned));
            let via_call = match peek_call(body.as_bytes()) {
                McpCall::ToolCall(name) if !name.is_empty() => Some(name),
                _ => None,
            };
            prop_assert_eq!(via_routing, via_call, "{}", body);
        }

        #[test]
        fn finds_any_name(name in "\\PC{0,40}", id in 0u32..1000) {
            let body = serde_json::json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":name.clone(),"arguments":{"x":1}}});
            prop_assert_eq!(peek_call(body.to_string().as_bytes()), McpCall::ToolCall(name));
        }
    }
}
