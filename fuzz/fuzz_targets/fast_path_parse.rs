//! The fast path's request parse against rmcp's, differentially.
//!
//! `warden_mcp::tool_request::parse_tool_request` reads a `tools/call` or
//! `tools/list` body straight into rmcp's model types, skipping rmcp's
//! buffered, untagged `ClientJsonRpcMessage` dispatch. For every input it must
//! agree with rmcp's own parse: when rmcp reads a `tools/call` or `tools/list`
//! request, the fast parse reads the same request (identical serialisation:
//! id, params, `_meta`); for anything else it declines.
//!
//! Where the fast parse reads a `tools/call`, `warden_core::mcp_peek::peek_call`
//! finds the same tool name (and no tool for `tools/list`), and
//! `peek_routing` the routing fields `ParsedBody::routing` gives: the MCP
//! layer takes a tool's scopes and the `Mcp-Method`/`Mcp-Name` check from the
//! one or the other.
//!
//! When the first byte's high bit is set, the rest of the input is wrapped in
//! a request (method, id kind, `_meta` and stray members chosen by the first
//! byte's other bits), so most inputs reach the typed parse; otherwise the
//! input is the raw body. Nothing panics. A progress line every 100 000
//! inputs counts the requests both parses read.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use rmcp::model::ClientRequest;
use warden_core::mcp_peek::{peek_call, peek_routing, McpCall};
use warden_mcp::tool_request::{parse_tool_request, rmcp_tool_request, ParsedBody};

fn rmcp_reading(body: &[u8]) -> Option<String> {
    rmcp_tool_request(body).map(|r| serde_json::to_string(&r).expect("serialisable"))
}

/// A request around `rest`, shaped by `choice`.
fn structured(choice: u8, rest: &[u8]) -> Vec<u8> {
    let method = if choice & 1 == 0 {
        "tools/call"
    } else {
        "tools/list"
    };
    let id = match (choice >> 1) & 3 {
        0 => "1",
        1 => "\"id-1\"",
        2 => "null",
        _ => "-9007199254740993",
    };
    let meta = match (choice >> 3) & 3 {
        0 => "",
        1 => {
            r#","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#
        }
        2 => r#","_meta":{"progressToken":"p"}"#,
        _ => r#","_meta":null"#,
    };
    let stray = match (choice >> 5) & 3 {
        0 => "",
        1 => r#","result":{}"#,
        2 => r#","x":[1,{"y":2}]"#,
        _ => r#","method":"tools/call""#,
    };
    let mut body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{{"name":"#)
        .into_bytes();
    // The fuzzer's bytes as the tool name (or cursor) and arguments: often
    // invalid JSON, sometimes a string with escapes, an object, or more members.
    body.extend_from_slice(rest);
    body.extend_from_slice(format!(r#","arguments":{{}}{meta}}}{stray}}}"#).as_bytes());
    body
}

static INPUTS: AtomicU64 = AtomicU64::new(0);
static READ: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let body = match data.split_first() {
        Some((&choice, rest)) if choice & 0x80 != 0 => structured(choice, rest),
        _ => data.to_vec(),
    };
    let parsed = parse_tool_request(&body);
    // The MCP layer takes a tool's scopes from this reading when there is one
    // (`ParsedBody`), and from `peek_call` otherwise: the two name the same tool.
    let peeked = peek_call(&body);
    match parsed.as_ref().map(|r| &r.request) {
        Some(ClientRequest::CallToolRequest(call)) => assert_eq!(
            peeked,
            McpCall::ToolCall(call.params.name.to_string()),
            "body: {}",
            String::from_utf8_lossy(&body)
        ),
        Some(_) => assert_eq!(
            peeked,
            McpCall::Other,
            "body: {}",
            String::from_utf8_lossy(&body)
        ),
        None => {}
    }
    // The header check takes `Mcp-Method`/`Mcp-Name` from that reading too
    // (`ParsedBody::routing`): the fields `peek_routing` reads.
    let reading = ParsedBody::parse(&bytes::Bytes::copy_from_slice(&body));
    if let Some(routing) = reading.routing() {
        assert_eq!(
            Some(routing),
            peek_routing(&body),
            "body: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let ours = parsed.map(|r| serde_json::to_string(&r).expect("serialisable"));
    let read = ours.is_some();
    assert_eq!(
        ours,
        rmcp_reading(&body),
        "body: {}",
        String::from_utf8_lossy(&body)
    );
    let inputs = INPUTS.fetch_add(1, Ordering::Relaxed) + 1;
    let read = READ.fetch_add(u64::from(read), Ordering::Relaxed) + u64::from(read);
    if inputs % 100_000 == 0 {
        eprintln!(
            "fast_path_parse: {inputs} inputs, {read} read as tools/call or tools/list by both"
        );
    }
});
