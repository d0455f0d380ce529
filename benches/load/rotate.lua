-- Distinct tokens rotated: TOKENS_FILE holds one token per line; wrk thread
-- i of WRK_THREADS takes lines i, i+n, i+2n, … and cycles through them.
-- Requests are formatted once in init() so Lua costs nothing per request.
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")

local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  local threads = tonumber(os.getenv("WRK_THREADS") or "1")
  prepared = {}
  local line_no = 0
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    if line ~= "" then
      if line_no % threads == tid then
        wrk.headers["Authorization"] = "Bearer " .. line
        prepared[#prepared + 1] = wrk.format()
      end
      line_no = line_no + 1
    end
  end
  cursor = 0
end

function request()
  cursor = cursor % #prepared + 1
  return prepared[cursor]
end
