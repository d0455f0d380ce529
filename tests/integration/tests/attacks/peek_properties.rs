//! Property: the MCP body peek sees every `tools/call` a full JSON parser sees.

use proptest::prelude::*;
use serde_json::{json, Value};
use warden_core::mcp_peek::{peek_call, McpCall};

/// A JSON string literal for `s`, with every character optionally `\u` escaped.
fn literal(s: &str, escape: &[bool]) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        if escape.get(i).copied().unwrap_or(false) && (c as u32) < 0x10000 {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
    }
    out.push('"');
    out
}

fn extra_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        proptest::collection::vec("[a-z]{0,5}", 0..3).prop_map(|v| json!(v)),
        ("[a-z]{1,5}", "\\PC{0,8}").prop_map(|(k, v)| json!({ k: { "method": v } })),
    ]
}

proptest! {
    /// The security direction of the peek: every `tools/call` a full JSON
    /// parser sees (any member order, escapes, whitespace and extra
    /// members) is seen by the peek with the same tool name, so the
    /// tool's scope check always runs.
    #[test]
    fn peek_sees_every_tools_call(
        name in "\\PC{0,16}",
        escape in proptest::collection::vec(any::<bool>(), 0..40),
        extras in proptest::collection::vec(("[a-z_]{1,8}", extra_value()), 0..4),
        order in any::<u8>(),
        ws in "[ \t\r\n]{0,3}",
    ) {
        let mut members: Vec<String> = vec![
            format!("{}:{ws}{}", literal("method", &escape), literal("tools/call", &escape[escape.len().min(6)..])),
            format!("\"params\":{{{}:{}, \"arguments\":{{}}}}", literal("name", &escape), literal(&name, &escape)),
            "\"jsonrpc\":\"2.0\"".into(),
            "\"id\":1".into(),
        ];
        for (k, v) in &extras {
            if !["method", "params", "jsonrpc", "id"].contains(&k.as_str()) {
                members.push(format!("{}:{v}", literal(k, &[])));
            }
        }
        let n = members.len();
        members.rotate_left(usize::from(order) % n);
        let body = format!("{ws}{{{ws}{}{ws}}}{ws}", members.join(&format!(",{ws}")));
        let parsed: Value = serde_json::from_str(&body).expect("generated JSON parses");
        prop_assert_eq!(parsed["params"]["name"].as_str(), Some(name.as_str()));
        prop_assert_eq!(peek_call(body.as_bytes()), McpCall::ToolCall(name.clone()), "{}", body);
    }
}
