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
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    name: Option<serde_json::Value>,
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
                }),
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
        assert_eq!(peek_call(b"not json"), McpCall::Other);
    }

    proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = peek_call(&body);
        }

        #[test]
        fn finds_any_name(name in "\\PC{0,40}", id in 0u32..1000) {
            let body = serde_json::json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":name.clone(),"arguments":{"x":1}}});
            prop_assert_eq!(peek_call(body.to_string().as_bytes()), McpCall::ToolCall(name));
        }
    }
}
