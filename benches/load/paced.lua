-- Like post.lua, but every connection pauses PACE_MS milliseconds after each
-- response before sending its next request: a fixed, moderate rate set by the
-- number of connections (wrk has no constant-rate mode; wrk2 is not packaged).
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")

local pause = tonumber(os.getenv("PACE_MS") or "1")

function delay()
  return pause
end
