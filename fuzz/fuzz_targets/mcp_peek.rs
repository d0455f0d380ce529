//! The MCP body peek that decides which tool's scopes a `tools/call` needs.
//!
//! Differential oracle against a full `serde_json` parse:
//!
//! * security direction: whenever a full parse sees a `tools/call` whose
//!   `params.name` is a string (and no object repeats a key), `peek_call`
//!   must name that tool — otherwise the body would reach the tool without
//!   its scope check;
//! * agreement: whenever `peek_call` names a tool in a UTF-8 body, a full
//!   parse agrees. (Invalid UTF-8 inside an *ignored* member is accepted by
//!   the peek, which skips such strings unvalidated; that direction fails
//!   safe — the scope check runs — and is pinned by a regression test.)
//!
//! * one peek, two readers: `peek_routing(body).tool()` (what the MCP layer
//!   uses for a 2026-07-28 request) names exactly the tool `peek_call` names
//!   (an empty name counts as none: no tool has it).
//!
//! Nothing panics.
#![no_main]

use std::collections::HashSet;
use std::fmt;

use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use warden_core::mcp_peek::{peek_call, peek_routing, McpCall};

/// Deserializes any JSON and records whether some object repeats a key.
struct DupCheck(bool);

impl<'de> Deserialize<'de> for DupCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DupCheck;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DupCheck, A::Error> {
                let mut keys = HashSet::new();
                let mut dup = false;
                while let Some(key) = map.next_key::<String>()? {
                    dup |= !keys.insert(key);
                    dup |= map.next_value::<DupCheck>()?.0;
                }
                Ok(DupCheck(dup))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DupCheck, A::Error> {
                let mut dup = false;
                while let Some(item) = seq.next_element::<DupCheck>()? {
                    dup |= item.0;
                }
                Ok(DupCheck(dup))
            }
            fn visit_bool<E>(self, _: bool) -> Result<DupCheck, E> {
                Ok(DupCheck(false))
            }
            fn visit_i64<E>(self, _: i64) -> Result<DupCheck, E> {
                Ok(DupCheck(false))
            }
            fn visit_u64<E>(self, _: u64) -> Result<DupCheck, E> {
                Ok(DupCheck(false))
            }
            fn visit_f64<E>(self, _: f64) -> Result<DupCheck, E> {
                Ok(DupCheck(false))
            }
            fn visit_str<E>(self, _: &str) -> Result<DupCheck, E> {
                Ok(DupCheck(false))
            }
            fn visit_unit<E>(self) -> Result<DupCheck, E> {
                Ok(DupCheck(false))
            }
        }
        d.deserialize_any(V)
    }
}

fuzz_target!(|data: &[u8]| {
    let peeked = peek_call(data);
    let via_routing = peek_routing(data).and_then(|r| r.tool().map(str::to_owned));
    let via_call = match &peeked {
        McpCall::ToolCall(name) if !name.is_empty() => Some(name.clone()),
        _ => None,
    };
    assert_eq!(via_routing, via_call, "routing and peek_call disagree");
    let full = serde_json::from_slice::<Value>(data).ok();
    if let Some(v) = &full {
        let name = v["params"]["name"].as_str();
        let duplicated = serde_json::from_slice::<DupCheck>(data).map_or(true, |d| d.0);
        if v["method"] == "tools/call" && name.is_some() && !duplicated {
            assert_eq!(
                peeked,
                McpCall::ToolCall(name.unwrap().to_string()),
                "a tools/call the peek does not see: {v}"
            );
        }
    }
    if let McpCall::ToolCall(name) = &peeked {
        if std::str::from_utf8(data).is_ok() {
            let v = full.expect("peeked UTF-8 body is JSON");
            assert_eq!(v["method"], "tools/call", "{v}");
            let params = &v["params"];
            let named = params.get("name").or_else(|| params.get(0));
            assert_eq!(named.and_then(Value::as_str), Some(name.as_str()), "{v}");
        }
    }
});
