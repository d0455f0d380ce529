-- One request repeated: TOKEN (if set) as the bearer token, or none (the 401 path).
dofile(os.getenv("WRK_LUA_DIR") .. "/common.lua")
