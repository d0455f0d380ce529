-- Like post.lua, inside one legacy MCP session: SESSION_ID (from the
-- `initialize` run.sh sends first) as `Mcp-Session-Id`; the answers are SSE.
-- TOKEN (if set) is the bearer token. Requests in one session need distinct
-- JSON-RPC ids (rmcp routes each answer by id): wrk thread i of WRK_THREADS
-- uses ids i, i+n, i+2n, … from a ring of requests formatted once in init().
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")

wrk.headers["Mcp-Session-Id"] = os.getenv("SESSION_ID")

local next_tid = 0
local ring = 4096

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  local threads = tonumber(os.getenv("WRK_THREADS") or "1")
  prepared = {}
  for i = 0, ring - 1 do
    wrk.body = string.format(
      '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"whoami","arguments":{}}}',
      1 + tid + i * threads)
    prepared[#prepared + 1] = wrk.format()
  end
  cursor = 0
end

function request()
  cursor = cursor % #prepared + 1
  return prepared[cursor]
end
