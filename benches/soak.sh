#!/usr/bin/env bash
# Soak test: mixed load against `target/release/warden serve` on loopback for
# DURATION seconds (default 600), then prints the count per request type and
# status, the unexpected statuses, and the server's RSS over time.
#
#   cargo build --release -p warden      # once (~5 min on 2 cores)
#   bash benches/soak.sh                  # 10 minutes
#   DURATION=60 bash benches/soak.sh      # a quick run
#
# Request mix (rotated per request by a wrk Lua script; the server runs in
# stateless JSON mode, so every request stands alone):
#   valid token        tools/list          -> 200
#   valid token        tools/call whoami   -> 200
#   expired token      tools/list          -> 401 invalid_token
#   wrong audience     tools/call whoami   -> 401 invalid_token
#   missing scope      tools/call whoami   -> 403 insufficient_scope
#   no token           tools/list          -> 401 (no error=)
#
# Bounded: wrk stops after DURATION; the server is stopped (SIGTERM, by PID)
# on exit. Everything listens on 127.0.0.1 only. Exit status 1 when any
# status was unexpected, a socket error occurred, or RSS grew by 10 % or more
# after the warm-up.
set -euo pipefail

DURATION="${DURATION:-600}"
WARMUP="${WARMUP:-30}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WARDEN="${WARDEN:-$ROOT/target/release/warden}"

command -v wrk >/dev/null || { echo "soak: wrk is missing (apt-get install -y wrk)" >&2; exit 2; }
[ -x "$WARDEN" ] || { echo "soak: $WARDEN is missing (cargo build --release -p warden)" >&2; exit 2; }

WORK="$(mktemp -d /tmp/warden-soak.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
cat > "$WORK/warden.toml" <<EOF
[server]
bind = "127.0.0.1:$PORT"
public_url = "$BASE"
stateless = true
data_dir = "$WORK/data"
[auth]
providers = ["dev"]
leeway = "1s"
[providers.dev]
kind = "dev"
[tools.whoami]
required_scopes = ["profile"]
[tools.news_sentiment]
enabled = false
[admin]
enabled = false
[log]
level = "warn"
EOF

"$WARDEN" serve --config "$WORK/warden.toml" > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null

token() { "$WARDEN" token --config "$WORK/warden.toml" "$@"; }
export SOAK_VALID SOAK_EXPIRED SOAK_WRONG_AUD SOAK_NO_SCOPE SOAK_OUT
SOAK_VALID="$(token --sub soak --scope 'news:read profile' --ttl 2h)"
SOAK_EXPIRED="$(token --sub soak --scope 'news:read profile' --ttl 1s)"
SOAK_WRONG_AUD="$(token --sub soak --scope 'news:read profile' --ttl 2h --aud https://other.example/mcp)"
SOAK_NO_SCOPE="$(token --sub soak --scope 'news:read' --ttl 2h)"
SOAK_OUT="$WORK/counts.txt"
sleep 3 # the 1 s token is now past exp + 1 s leeway

cat > "$WORK/soak.lua" <<'EOF'
-- Rotates six request types (each with its own JSON-RPC id) and classifies
-- every answer by status plus id (200) or error_description (401/403), so an
-- answer is "expected" only if it is exactly what its request type must get.
local kinds = {
  { name = "valid tools/list",          token = "SOAK_VALID",     method = "tools/list", expect = "200 id=1" },
  { name = "valid tools/call",          token = "SOAK_VALID",     method = "tools/call", expect = "200 id=2" },
  { name = "expired tools/list",        token = "SOAK_EXPIRED",   method = "tools/list", expect = "401 expired" },
  { name = "wrong-audience tools/call", token = "SOAK_WRONG_AUD", method = "tools/call", expect = "401 audience" },
  { name = "no-scope tools/call",       token = "SOAK_NO_SCOPE",  method = "tools/call", expect = "403 insufficient_scope" },
  { name = "no token tools/list",       token = nil,              method = "tools/list", expect = "401 no token" },
}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  sent = {}
  requests = {}
  for i, k in ipairs(kinds) do
    local headers = {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json, text/event-stream",
      ["MCP-Protocol-Version"] = "2025-11-25",
    }
    if k.token then headers["Authorization"] = "Bearer " .. os.getenv(k.token) end
    local body
    if k.method == "tools/call" then
      body = '{"jsonrpc":"2.0","id":' .. i .. ',"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
    else
      body = '{"jsonrpc":"2.0","id":' .. i .. ',"method":"tools/list","params":{}}'
    end
    requests[i] = wrk.format("POST", "/mcp", headers, body)
    sent[i] = 0
  end
  n = 0
end

function request()
  n = n + 1
  local i = (n - 1) % #kinds + 1
  sent[i] = sent[i] + 1
  return requests[i]
end

function response(status, headers, body)
  local key
  if status == 200 then
    key = "200 id=" .. (body:match('"id":(%d+)') or "?")
  else
    local desc = body:match('"error_description":"([^"]*)') or ""
    if desc:find("expired", 1, true) then key = status .. " expired"
    elseif desc:find("audience", 1, true) then key = status .. " audience"
    elseif desc:find("insufficient", 1, true) then key = status .. " insufficient_scope"
    elseif desc:find("bearer token is required", 1, true) then key = status .. " no token"
    else key = status .. " other: " .. desc:sub(1, 60) end
  end
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests_)
  local total, sent_total = {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
    for i, v in pairs(t:get("sent")) do sent_total[i] = (sent_total[i] or 0) + v end
  end
  local expected = {}
  for _, k in ipairs(kinds) do expected[k.expect] = k.name end
  local out = io.open(os.getenv("SOAK_OUT"), "w")
  for key, v in pairs(total) do
    out:write(string.format("answer\t%s\t%s\t%d\n", key, expected[key] or "UNEXPECTED", v))
  end
  for i, k in ipairs(kinds) do
    out:write(string.format("sent\t%s\t%s\t%d\n", k.name, k.expect, sent_total[i] or 0))
  end
  out:close()
  io.write(string.format("latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
EOF

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
RSS_START="$(rss_kib)"
echo "soak: warden pid $SERVER_PID on $BASE; ${DURATION}s, $THREADS threads, $CONNECTIONS connections"
echo "soak: RSS at start (idle): ${RSS_START} KiB"

# Sample RSS every 10 s while wrk runs (in the background, bounded by wrk's run).
(
    elapsed=0
    while [ "$elapsed" -lt "$DURATION" ]; do
        sleep 10; elapsed=$((elapsed + 10))
        echo "$elapsed $(rss_kib 2>/dev/null || echo 0)" >> "$WORK/rss.txt"
    done
) &
SAMPLER=$!

# wrk -d bounds the run; timeout is a second guard.
timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s \
    -s "$WORK/soak.lua" "$BASE/mcp" | tee "$WORK/wrk.txt"
wait "$SAMPLER" 2>/dev/null || true
RSS_END="$(rss_kib)"
kill -0 "$SERVER_PID" || { echo "soak: warden died" >&2; exit 1; }

RSS_WARM="$(awk -v w="$WARMUP" '$1 >= w { print $2; exit }' "$WORK/rss.txt")"
RSS_WARM="${RSS_WARM:-$RSS_START}"
echo
echo "== requests sent per type (expected answer) =="
awk -F'\t' '$1 == "sent" { printf "%-28s %-24s %12d\n", $2, $3, $4 }' "$SOAK_OUT"
echo
echo "== answers per status and kind =="
awk -F'\t' '$1 == "answer" { printf "%-40s %-28s %12d\n", $2, $3, $4 }' "$SOAK_OUT" | sort
echo
echo "== count per status =="
awk -F'\t' '$1 == "answer" { split($2, a, " "); s[a[1]] += $4 } END { for (k in s) printf "%s %d\n", k, s[k] }' "$SOAK_OUT" | sort
UNEXPECTED="$(awk -F'\t' '$1 == "answer" && $3 == "UNEXPECTED" { n += $4 } END { print n + 0 }' "$SOAK_OUT")"
TOTAL="$(awk -F'\t' '$1 == "answer" { n += $4 } END { print n + 0 }' "$SOAK_OUT")"
SOCKET_ERRORS="$(grep -c 'Socket errors' "$WORK/wrk.txt" || true)"
echo
echo "== RSS (KiB) every 10 s =="
tr '\n' ' ' < "$WORK/rss.txt"; echo
GROWTH="$(awk -v a="$RSS_WARM" -v b="$RSS_END" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')"
GROWTH_IDLE="$(awk -v a="$RSS_START" -v b="$RSS_END" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')"
echo "RSS start (idle) ${RSS_START} KiB, after ${WARMUP}s warm-up ${RSS_WARM} KiB, end ${RSS_END} KiB"
echo "RSS growth after warm-up: ${GROWTH} % (from idle: ${GROWTH_IDLE} %)"
echo "requests ${TOTAL}, unexpected statuses ${UNEXPECTED}, socket error lines ${SOCKET_ERRORS}"

status=0
[ "$UNEXPECTED" -eq 0 ] || status=1
[ "$SOCKET_ERRORS" -eq 0 ] || status=1
awk -v g="$GROWTH" 'BEGIN { exit !(g < 10) }' || status=1
exit "$status"
