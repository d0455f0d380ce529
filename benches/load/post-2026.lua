-- Like post.lua, but the request is MCP 2026-07-28: the protocol version
-- header, the Mcp-Method / Mcp-Name standard headers, and the per-request
-- `_meta` (protocol version and client capabilities) the 2026-07-28 schema
-- requires. TOKEN (if set) is the bearer token.
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")

wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{},'
  .. '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
  .. '"io.modelcontextprotocol/clientCapabilities":{}}}}'
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "whoami"
