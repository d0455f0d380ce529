//! The MCP HTTP header names, as [`HeaderName`]s: one definition for the MCP
//! layer and the fast path, and a `HeaderMap` lookup by `HeaderName` does not
//! parse the name the way a lookup by `&str` does.

use http::HeaderName;

/// `MCP-Protocol-Version`: the protocol revision a request speaks.
pub const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
/// `Mcp-Method`: the JSON-RPC method of a POST (MCP 2026-07-28).
pub const METHOD: HeaderName = HeaderName::from_static("mcp-method");
/// `Mcp-Name`: the tool or prompt name, or resource URI, of a POST (MCP 2026-07-28).
pub const NAME: HeaderName = HeaderName::from_static("mcp-name");
/// `Mcp-Session-Id`: the Streamable HTTP session a request belongs to.
pub const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_are_the_ones_rmcp_uses() {
        use rmcp::transport::common::http_header::{
            HEADER_MCP_PROTOCOL_VERSION, HEADER_SESSION_ID,
        };
        assert!(PROTOCOL_VERSION
            .as_str()
            .eq_ignore_ascii_case(HEADER_MCP_PROTOCOL_VERSION));
        assert!(SESSION_ID.as_str().eq_ignore_ascii_case(HEADER_SESSION_ID));
    }
}
