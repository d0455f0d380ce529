#!/usr/bin/env bash
# warden load test. Builds release, then measures with ONE set of wrk
# settings, on loopback only (nothing from the internet but package registries,
# for the SDK peers' one-time install):
#   (a)   baseline: benches' minimal poem server answering the same JSON POST (no auth, no MCP)
#   (g)   the baseline handler behind warden's bearer guard (auth, no MCP)
#   (r)   rmcp-noauth: rmcp's own Streamable HTTP server, stateless JSON, on the same poem
#         stack warden serves it with, warden's whoami tool, no auth (benches/src/bin/rmcp_noauth.rs)
#   (b)   warden, stateless JSON mode, tools/call whoami, one repeated dev token
#   (b26) the same request sent as MCP 2026-07-28 (MCP-Protocol-Version: 2026-07-28,
#         Mcp-Method / Mcp-Name headers, params._meta protocol version + client capabilities)
#   (b0)  the same as (b) with the verified-token cache off (kind = "jwt" over the dev issuer's JWKS)
#   (c)   the same with 10 000 distinct dev tokens rotated by rotate.lua
#   (d)   warden with kind = "introspection" against the in-tree fake IdP, one token, warm cache
#   (e)   no token: the 401 challenge path
#   (bs)  warden stateful (stateless = false): one legacy session (`initialize` once), then
#         tools/call with its Mcp-Session-Id; SSE answers
#   (ts)  MCP TypeScript SDK peer: stateless JSON Streamable HTTP, requireBearerAuth with a jose
#         verifier over the dev issuer's JWKS, one whoami tool (benches/load/ts-sdk, npm ci)
#   (py)  MCP Python SDK peer: MCPServer stateless JSON under uvicorn, a PyJWT TokenVerifier over
#         the same JWKS, one whoami tool (benches/load/py-sdk, a venv from requirements.txt)
#   (a2)  the baseline again at the end (drift)
# plus p99 of (b) at about half its max rate (half), and RSS idle / with 100 000 cached
# tokens (rss). Rows (ts) and (py) print "n/a (reason)" when node/npm or python/pip are
# missing or the install fails; the rest of the run goes on.
# Prints a markdown table and writes it to benches/results/latest.md (a run of selected
# ROWS writes benches/results/partial-run.md.tmp instead, unless OUT is set).
#
# Knobs (environment): DURATION (s, default 15), WARMUP (s, 5), THREADS (2), CONNS (64),
# TOKENS (10000), RSS_TOKENS (100000), OUT (results file), SKIP_BUILD=1,
# ROWS (comma- or space-separated subset of: a g r b b26 half c e b0 d rss bs ts py a2;
# default all), NODE / NPM (node and npm commands, default node / npm),
# PYTHON (the interpreter the venv is made with, >= 3.10, default python3).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-5}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
TOKENS=${TOKENS:-10000}
RSS_TOKENS=${RSS_TOKENS:-100000}
ALL_ROWS="a g r b b26 half c e b0 d rss bs ts py a2"
ROWS=${ROWS:-all}
ROWS=${ROWS//,/ }
if [[ $ROWS == all ]]; then
  OUT=${OUT:-$ROOT/benches/results/latest.md}
else
  OUT=${OUT:-$ROOT/benches/results/partial-run.md.tmp}
fi
NODE=${NODE:-node}
NPM=${NPM:-npm}
PYTHON=${PYTHON:-python3}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
export WRK_LUA_DIR=$HERE WRK_THREADS=$THREADS

WORK=$(mktemp -d "${TMPDIR:-/tmp}/warden-load.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }
die() { log "run.sh: $*"; exit 1; }

# want ROW...: true when ROWS selects any of ROW.
want() {
  [[ $ROWS == all ]] && return 0
  local r
  for r in "$@"; do
    [[ " $ROWS " == *" $r "* ]] && return 0
  done
  return 1
}
for r in $ROWS; do
  [[ $r == all || " $ALL_ROWS " == *" $r "* ]] || die "unknown row $r in ROWS (rows: $ALL_ROWS)"
done

command -v wrk >/dev/null || die "wrk is missing: apt-get update && apt-get install -y wrk"
command -v curl >/dev/null || die "curl is missing"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME CMD...: runs CMD in the background, output to $WORK/NAME.log; sets $LAST_PID.
start() {
  local name=$1
  shift
  "$@" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# stop PID: SIGTERM and wait.
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local kept=() pid
  for pid in "${PIDS[@]}"; do
    [[ $pid == "$1" ]] || kept+=("$pid")
  done
  PIDS=("${kept[@]}")
}

BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
# The request of row (b26), as post-2026.lua sends it.
BODY_2026='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
REQ_DEFAULT=(-H 'MCP-Protocol-Version: 2025-11-25' --data "$BODY")
REQ_2026=(-H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: whoami'
  --data "$BODY_2026")

# probe URL [TOKEN [CURL_ARGS...]]: prints "STATUS BODY" of one request like the load
# scripts send (CURL_ARGS: the version header and body, default those of post.lua).
probe() {
  local url=$1 auth=() req
  [[ -n ${2:-} ]] && auth=(-H "Authorization: Bearer $2")
  shift $(($# < 2 ? $# : 2))
  if (($# > 0)); then req=("$@"); else req=("${REQ_DEFAULT[@]}"); fi
  rm -f "$WORK/probe.body"
  curl -s --max-time 10 -o "$WORK/probe.body" -w '%{http_code}' -X POST "$url" "${auth[@]}" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    "${req[@]}" || true
  printf ' %s' "$(head -c 4000 "$WORK/probe.body" 2>/dev/null)"
}

# try_status URL EXPECTED [TOKEN [CURL_ARGS...]]: polls until a request answers EXPECTED
# (20 s at most, or until process $TRY_PID, if set, is gone); false (last answer in
# $ANSWER) if it never does.
try_status() {
  local url=$1 expected=$2 i
  shift 2
  ANSWER=
  for i in $(seq 1 200); do
    [[ -z ${TRY_PID:-} ]] || kill -0 "$TRY_PID" 2>/dev/null || return 1
    ANSWER=$(probe "$url" "$@")
    [[ ${ANSWER%% *} == "$expected" ]] && return 0
    sleep 0.1
  done
  return 1
}

# wait_status URL EXPECTED [TOKEN [CURL_ARGS...]]: try_status or die.
wait_status() {
  try_status "$@" || die "$1 never answered $2 (last: $ANSWER); logs in $WORK"
}

# is_result ANSWER: a successful whoami result (plain JSON or an SSE event).
is_result() {
  [[ ${1%% *} == 200 && $1 == *'"result"'* && $1 == *'"structuredContent"'* && $1 != *'"isError":true'* ]]
}

# expect_result URL TOKEN [CURL_ARGS...]: the tools/call answer is a successful whoami result.
expect_result() {
  local answer
  answer=$(probe "$@")
  is_result "$answer" || die "unexpected answer from $1: $answer"
}

# measure ROW SCRIPT URL [ENV=VALUE...]: warmup, then the measured run; stores the WRK line.
declare -A RESULT NA
measure() {
  local row=$1 script=$2 url=$3
  shift 3
  log "[$row] warmup ${WARMUP}s, measure ${DURATION}s: $url"
  env "$@" wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" --timeout 5s -s "$HERE/$script" "$url" >/dev/null
  local cpu_before cpu_after
  cpu_before=$(cpu_ticks "$SERVER_PID")
  env "$@" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 5s -s "$HERE/$script" "$url" \
    >"$WORK/wrk-$row.txt"
  cpu_after=$(cpu_ticks "$SERVER_PID")
  RESULT[$row]=$(grep '^WRK ' "$WORK/wrk-$row.txt") || die "no wrk summary for $row"
  RESULT[$row]+=" cpu_us=$(awk -v a="$cpu_before" -v b="$cpu_after" -v hz="$(getconf CLK_TCK)" \
    -v n="$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"${RESULT[$row]}")" 'BEGIN { printf "%.0f", (b - a) / hz * 1e6 / n }')"
  log "    ${RESULT[$row]}"
}

# field ROW KEY: one value of a stored WRK line.
field() {
  local kv
  for kv in ${RESULT[$1]:-}; do
    [[ $kv == "$2="* ]] && { printf '%s' "${kv#*=}"; return; }
  done
}

# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------------------
# The SDK peers' installs (rows ts, py): pinned, into work dirs under benches/load,
# redone only when the pins change. On failure they set NA[row] and return 1.

# why LOG: the first error line of LOG, else its last line.
why() {
  local line
  line=$(grep -m1 -i 'err' "$1" 2>/dev/null || true)
  [[ -n $line ]] || line=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n1 || true)
  printf '%s' "${line:-no output}" | cut -c1-160
}

# ts_install: node_modules from package-lock.json (npm ci).
ts_install() {
  local dir=$HERE/ts-sdk stamp
  command -v "$NODE" >/dev/null || { NA[ts]="no $NODE"; return 1; }
  command -v "$NPM" >/dev/null || { NA[ts]="no $NPM"; return 1; }
  stamp=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [[ $(cat "$dir/node_modules/.warden-stamp" 2>/dev/null) != "$stamp" ]]; then
    log "[ts] npm ci in $dir…"
    if ! (cd "$dir" && "$NPM" ci --no-audit --no-fund) >"$WORK/npm-ci.log" 2>&1; then
      NA[ts]="npm ci failed: $(why "$WORK/npm-ci.log")"
      return 1
    fi
    printf '%s\n' "$stamp" >"$dir/node_modules/.warden-stamp"
  fi
}

# py_install: a venv with requirements.txt.
py_install() {
  local dir=$HERE/py-sdk venv=$HERE/py-sdk/.venv stamp
  command -v "$PYTHON" >/dev/null || { NA[py]="no $PYTHON"; return 1; }
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null ||
    { NA[py]="$PYTHON is older than 3.10 (mcp 2.x needs 3.10+)"; return 1; }
  stamp=$( (sha256sum "$dir/requirements.txt" | cut -d' ' -f1; "$PYTHON" -V) 2>&1 | tr '\n' ' ')
  if [[ $(cat "$venv/.warden-stamp" 2>/dev/null) != "$stamp" ]]; then
    log "[py] venv + pip install -r requirements.txt in $venv…"
    rm -rf "$venv"
    if ! { "$PYTHON" -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check \
      -r "$dir/requirements.txt"; } >"$WORK/pip.log" 2>&1; then
      NA[py]="venv/pip install failed: $(why "$WORK/pip.log")"
      return 1
    fi
    printf '%s\n' "$stamp" >"$venv/.warden-stamp"
  fi
}

# peer ROW NAME CMD...: starts an SDK peer (env PORT, ISSUER, AUDIENCE, JWKS_URL set by
# the caller), checks it answers the row-(b) request with a whoami result, measures it.
# Any failure marks the row n/a instead of ending the run.
peer() {
  local row=$1 name=$2
  shift 2
  start "$name" "$@"
  SERVER_PID=$LAST_PID
  if ! TRY_PID=$SERVER_PID try_status "$PEER_URL" 200 "$TOKEN"; then
    NA[$row]="$name did not answer 200 (last: $(head -c 100 <<<"$ANSWER"); log: $(why "$WORK/$name.log"))"
  elif ! is_result "$ANSWER"; then
    NA[$row]="unexpected answer: $(head -c 200 <<<"$ANSWER")"
  elif [[ $(probe "$PEER_URL") != 401* ]]; then
    NA[$row]="no 401 without a token"
  else
    log "[$row] $name answers: $(head -c 300 <<<"$ANSWER")"
    measure "$row" post.lua "$PEER_URL" TOKEN="$TOKEN"
  fi
  [[ -n ${NA[$row]:-} ]] && log "[$row] n/a: ${NA[$row]}"
  stop "$SERVER_PID"
}

# ---------------------------------------------------------------------------
LOAD_BEFORE=$(loadavg)
if [[ -z ${SKIP_BUILD:-} ]]; then
  log "building release (warden, warden-benches)…"
  (cd "$ROOT" && cargo build --release -p warden -p warden-benches --bins)
fi
for b in warden baseline mint-tokens fake-idp drive rmcp-noauth; do
  [[ -x $BIN/$b ]] || die "$BIN/$b is missing (build failed?)"
done

PORT=$(free_port)
BASE_PORT=$(free_port)
URL="http://127.0.0.1:$PORT/mcp"
BASE_URL="http://127.0.0.1:$BASE_PORT/mcp"
DATA=$WORK/data
mkdir -p "$DATA"

# config PROVIDERS TABLES [STATELESS]: writes $WORK/warden.toml (STATELESS: true unless given).
config() {
  sed -e "s|@PORT@|$PORT|g" -e "s|@DATA_DIR@|$DATA|g" -e "s|@PROVIDERS@|$1|g" \
    -e "s|^stateless = true$|stateless = ${3:-true}|" \
    "$HERE/warden.toml.in" >"$WORK/warden.toml"
  printf '%s\n' "$2" >>"$WORK/warden.toml"
  # A host with an admin listener: keep it off (rows run one after another on fixed ports).
  if "$BIN/warden" check-config --config "$WORK/warden.toml" 2>/dev/null | grep -q '"admin"'; then
    printf '\n[admin]\nenabled = false\n' >>"$WORK/warden.toml"
  fi
  "$BIN/warden" check-config --config "$WORK/warden.toml" >/dev/null ||
    die "config rejected: $(cat "$WORK/warden.toml")"
}

DEV_TABLE='[providers.dev]
kind = "dev"'
# The dev issuer's tokens through the generic JWT provider (same issuer, key and
# audience), whose verified-token cache is configurable.
self_jwt() {
  printf '%s\n\n[providers.selfjwt]\nkind = "jwt"\nissuer = "http://127.0.0.1:%s/dev"\njwks_url = "http://127.0.0.1:%s/dev/jwks"\nalgorithms = ["ES256"]\nrequire_typ = "at+jwt"\nverified_cache_ttl = "%s"\nverified_cache_size = %s\n' \
    "$DEV_TABLE" "$PORT" "$PORT" "$1" "$2"
}

start_warden() {
  start "warden-$1" "$BIN/warden" serve --config "$WORK/warden.toml"
  WARDEN_PID=$LAST_PID
  SERVER_PID=$LAST_PID
}

# --- (a) baseline, (g) baseline behind warden's guard ----------------------------
config '"dev"' "$DEV_TABLE"
cp "$WORK/warden.toml" "$WORK/warden-dev.toml"
TOKEN=$("$BIN/warden" token --config "$WORK/warden.toml" --scope "news:read profile")
if want a g; then
  start baseline "$BIN/baseline" "127.0.0.1:$BASE_PORT" "$WORK/warden-dev.toml"
  BASE_PID=$LAST_PID
  SERVER_PID=$BASE_PID
  wait_status "$BASE_URL" 200
  want a && measure a post.lua "$BASE_URL" TOKEN="$TOKEN"
  if want g; then
    GUARD_URL="http://127.0.0.1:$BASE_PORT/auth/mcp"
    wait_status "$GUARD_URL" 200 "$TOKEN"
    [[ $(probe "$GUARD_URL") == 401* ]] || die "no 401 from the guarded baseline without a token"
    measure g post.lua "$GUARD_URL" TOKEN="$TOKEN"
  fi
  stop "$BASE_PID"
fi

# --- (r) rmcp's own stateless JSON server, no auth ----------------------------------
if want r; then
  R_URL="http://127.0.0.1:$BASE_PORT/mcp"
  start rmcp-noauth "$BIN/rmcp-noauth" "127.0.0.1:$BASE_PORT"
  SERVER_PID=$LAST_PID
  wait_status "$R_URL" 200
  expect_result "$R_URL" "$TOKEN"
  # The same request bytes as (b): the token is sent, and ignored.
  measure r post.lua "$R_URL" TOKEN="$TOKEN"
  stop "$SERVER_PID"
fi

# --- (b), (b26), (c), (e), half rate: the dev issuer ------------------------------
if want c; then
  log "minting $TOKENS dev tokens…"
  "$BIN/mint-tokens" --config "$WORK/warden.toml" --count "$TOKENS" --out "$WORK/tokens-c.txt"
fi
if want rss; then
  log "minting $RSS_TOKENS dev tokens…"
  "$BIN/mint-tokens" --config "$WORK/warden.toml" --count "$RSS_TOKENS" --out "$WORK/tokens-rss.txt"
fi
if want b b26 half c e; then
  start_warden dev
  wait_status "$URL" 200 "$TOKEN"
  expect_result "$URL" "$TOKEN"
  sleep 1
  RSS_IDLE_DEV=$(rss_kib "$WARDEN_PID")
  want b half && measure b post.lua "$URL" TOKEN="$TOKEN"
  if want b26; then
    ANSWER_2026=$(probe "$URL" "$TOKEN" "${REQ_2026[@]}")
    log "[b26] the 2026-07-28 request answers: $ANSWER_2026"
    is_result "$ANSWER_2026" || die "unexpected answer to the 2026-07-28 request: $ANSWER_2026"
    measure b26 post-2026.lua "$URL" TOKEN="$TOKEN"
  fi
  if want c; then
    expect_result "$URL" "$(head -n1 "$WORK/tokens-c.txt")"
    measure c rotate.lua "$URL" TOKENS_FILE="$WORK/tokens-c.txt"
    RSS_AFTER_C=$(rss_kib "$WARDEN_PID")
  fi
  if want e; then
    [[ $(probe "$URL") == 401* ]] || die "no 401 without a token"
    measure e post.lua "$URL" TOKEN=
  fi

  # p99 at about half of (b)'s max rate: paced connections (PACE_MS after each
  # response), their number calibrated with short runs until the rate is within 10 %.
  if want half; then
    B_RPS=$(field b rps)
    HALF=$(awk -v r="$B_RPS" 'BEGIN { printf "%d", r / 2 }')
    PACE_MS=1
    PACED_CONNS=$(awk -v h="$HALF" -v p="$PACE_MS" 'BEGIN { c = int(h * (p + 0.1) / 1000 + 0.5); if (c < 2) c = 2; print c }')
    for attempt in 1 2 3 4; do
      env TOKEN="$TOKEN" PACE_MS=$PACE_MS wrk -t"$THREADS" -c"$PACED_CONNS" -d3s --timeout 5s \
        -s "$HERE/paced.lua" "$URL" >"$WORK/calibrate.txt"
      got=$(grep '^WRK ' "$WORK/calibrate.txt" | sed 's/.*rps=\([0-9.]*\).*/\1/')
      log "    calibration: $PACED_CONNS paced connections → $got req/s (target $HALF)"
      next=$(awk -v c="$PACED_CONNS" -v g="$got" -v h="$HALF" \
        'BEGIN { if (g > 0.9 * h && g < 1.1 * h) print c; else { n = int(c * h / g + 0.5); if (n < 2) n = 2; print n } }')
      [[ $next == "$PACED_CONNS" ]] && break
      PACED_CONNS=$next
    done
    log "[half] ${PACED_CONNS} connections paced at ${PACE_MS} ms, ${DURATION}s"
    env TOKEN="$TOKEN" PACE_MS=$PACE_MS wrk -t"$THREADS" -c"$PACED_CONNS" -d"${DURATION}s" --timeout 5s \
      -s "$HERE/paced.lua" "$URL" >"$WORK/wrk-half.txt"
    RESULT[half]=$(grep '^WRK ' "$WORK/wrk-half.txt") || die "no wrk summary for the half-rate run"
    log "    ${RESULT[half]}"
  fi
  stop "$WARDEN_PID"
fi

# --- (b0) verified-token cache off ---------------------------------------------
if want b0 rss; then
  config '"selfjwt", "dev"' "$(self_jwt 0s 10000)"
  start_warden nocache
  wait_status "$URL" 200 "$TOKEN"
  expect_result "$URL" "$TOKEN"
  want b0 && measure b0 post.lua "$URL" TOKEN="$TOKEN"
  if want rss; then
    log "[rss] driving $RSS_TOKENS distinct tokens once each, cache off…"
    DRIVE_NOCACHE=$("$BIN/drive" --url "$URL" --tokens "$WORK/tokens-rss.txt" --concurrency 32)
    log "    $DRIVE_NOCACHE"
    sleep 1
    RSS_NOCACHE=$(rss_kib "$WARDEN_PID")
  fi
  stop "$WARDEN_PID"
fi

# --- (d) introspection against the fake IdP -----------------------------------
if want d; then
  start fake-idp "$BIN/fake-idp" --aud "$URL" --tokens "$WORK/tokens-d.txt"
  IDP_PID=$LAST_PID
  for _ in $(seq 1 100); do
    grep -q '^ready=1' "$WORK/fake-idp.log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '^ready=1' "$WORK/fake-idp.log" || die "fake-idp did not start: $(cat "$WORK/fake-idp.log")"
  idp() { sed -n "s/^$1=//p" "$WORK/fake-idp.log"; }
  config '"corp"' "[providers.corp]
kind = \"introspection\"
introspection_url = \"$(idp introspection_url)\"
issuer = \"$(idp issuer)\"
client_id = \"$(idp client_id)\"
client_secret = \"$(idp client_secret)\""
  OPAQUE=$(head -n1 "$WORK/tokens-d.txt")
  start_warden introspection
  wait_status "$URL" 200 "$OPAQUE"
  expect_result "$URL" "$OPAQUE"
  measure d post.lua "$URL" TOKEN="$OPAQUE"
  stop "$WARDEN_PID"
  stop "$IDP_PID"
  INTROSPECTIONS=$(idp introspections)
fi

# --- RSS with RSS_TOKENS cached tokens -------------------------------------------
if want rss; then
  config '"selfjwt", "dev"' "$(self_jwt 30m "$RSS_TOKENS")"
  start_warden rss
  wait_status "$URL" 200 "$TOKEN"
  sleep 1
  RSS_IDLE=$(rss_kib "$WARDEN_PID")
  log "[rss] driving $RSS_TOKENS distinct tokens once each…"
  DRIVE=$("$BIN/drive" --url "$URL" --tokens "$WORK/tokens-rss.txt" --concurrency 32)
  log "    $DRIVE"
  sleep 1
  RSS_FULL=$(rss_kib "$WARDEN_PID")
  stop "$WARDEN_PID"
fi

# --- (bs) warden stateful: one legacy session -------------------------------------
INIT_BODY='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"warden-load","version":"0"}}}'
if want bs; then
  config '"dev"' "$DEV_TABLE" false
  start_warden stateful
  # A session-less tools/call is refused in this mode; wait for any answer.
  for _ in $(seq 1 200); do
    [[ $(probe "$URL" "$TOKEN") == 000* ]] || break
    sleep 0.1
  done
  curl -s --max-time 10 -D "$WORK/init.headers" -o "$WORK/init.body" -X POST "$URL" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' --data "$INIT_BODY" || true
  SESSION_ID=$(sed -n 's/^[Mm][Cc][Pp]-[Ss]ession-[Ii]d: *\([^[:space:]]*\).*/\1/p' "$WORK/init.headers")
  [[ -n $SESSION_ID ]] ||
    die "no Mcp-Session-Id from initialize: $(cat "$WORK/init.headers" "$WORK/init.body")"
  SESSION=(-H "Mcp-Session-Id: $SESSION_ID" -H 'MCP-Protocol-Version: 2025-11-25')
  [[ $(probe "$URL" "$TOKEN" "${SESSION[@]}" --data '{"jsonrpc":"2.0","method":"notifications/initialized"}') == 202* ]] ||
    die "notifications/initialized not accepted: $(probe "$URL" "$TOKEN" "${SESSION[@]}" --data '{"jsonrpc":"2.0","method":"notifications/initialized"}')"
  ANSWER_BS=$(probe "$URL" "$TOKEN" "${SESSION[@]}" --data "$BODY")
  log "[bs] session $SESSION_ID; tools/call answers: $ANSWER_BS"
  is_result "$ANSWER_BS" || die "unexpected answer in the session: $ANSWER_BS"
  measure bs session.lua "$URL" TOKEN="$TOKEN" SESSION_ID="$SESSION_ID"
  stop "$WARDEN_PID"
fi

# --- (ts), (py): the SDK peers, the dev issuer (an idle warden) as their IdP ---------
if want ts py; then
  config '"dev"' "$DEV_TABLE"
  start_warden idp
  wait_status "$URL" 200 "$TOKEN"
  IDP_WARDEN_PID=$WARDEN_PID
  PEER_PORT=$(free_port)
  PEER_URL="http://127.0.0.1:$PEER_PORT/mcp"
  PEER_ENV=(PORT="$PEER_PORT" ISSUER="http://127.0.0.1:$PORT/dev" AUDIENCE="$URL"
    JWKS_URL="http://127.0.0.1:$PORT/dev/jwks")
  if want ts && ts_install; then
    peer ts ts-sdk env "${PEER_ENV[@]}" NODE_ENV=production "$NODE" "$HERE/ts-sdk/server.mjs"
  fi
  if want py && py_install; then
    peer py py-sdk env "${PEER_ENV[@]}" "$HERE/py-sdk/.venv/bin/python" "$HERE/py-sdk/server.py"
  fi
  stop "$IDP_WARDEN_PID"
fi

# --- (a) again: the baseline at the end, to see drift ------------------------------
if want a2; then
  start baseline "$BIN/baseline" "127.0.0.1:$BASE_PORT"
  BASE_PID=$LAST_PID
  SERVER_PID=$BASE_PID
  wait_status "$BASE_URL" 200
  measure a2 post.lua "$BASE_URL" TOKEN="$TOKEN"
  stop "$BASE_PID"
fi
LOAD_AFTER=$(loadavg)

# ---------------------------------------------------------------------------
BASE_RPS=$(awk -v x="$(field a rps)" -v y="$(field a2 rps)" \
  'BEGIN { n = (x != "") + (y != ""); if (n) printf "%.1f", (x + y) / n }')
R_RPS=$(field r rps)
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
# ratio A B: A / B, or n/a without B.
ratio() { awk -v r="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && r != "") printf "%.2f", r / b; else printf "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
row() { # ROW LABEL EXPECTED_STATUS: a table line for a row that ran (or could not)
  if [[ -n ${NA[$1]:-} ]]; then
    printf '| %s | %s | n/a (%s) | | | | | | n/a |\n' "$1" "$2" "${NA[$1]//|/\\|}"
    return
  fi
  [[ -n ${RESULT[$1]:-} ]] || return 0
  local rps p50 p99 non2xx errs note="" x_base x_rmcp
  rps=$(field "$1" rps)
  p50=$(field "$1" p50_us)
  p99=$(field "$1" p99_us)
  non2xx=$(field "$1" non2xx)
  errs=$(field "$1" socket_errors)
  if [[ $3 == 200 && $non2xx != 0 ]]; then note="$non2xx non-2xx!"; fi
  if [[ $3 == 401 && $non2xx != "$(field "$1" requests)" ]]; then note="some were not 401!"; fi
  [[ $errs != 0 ]] && note="$note $errs socket errors"
  x_base=$(ratio "$rps" "$BASE_RPS")
  x_rmcp=$(ratio "$rps" "$R_RPS")
  [[ $x_base == n/a ]] || x_base+="×"
  [[ $x_rmcp == n/a ]] || x_rmcp+="×"
  printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$rps" "$(ms "$p50")" "$(ms "$p99")" \
    "$x_base" "$x_rmcp" "$(field "$1" cpu_us)" "${note:-all $3}"
}
verdict() { awk -v x="$1" -v t="$2" 'BEGIN { if (x == "n/a") print "n/a"; else print (x >= t) ? "met" : "missed" }'; }
# target LABEL ROW OVER THRESHOLD: a line of the targets table, when ROW and OVER ran.
target() {
  [[ -n ${RESULT[$2]:-} ]] || return 0
  local x
  x=$(ratio "$(field "$2" rps)" "$3")
  [[ $x == n/a ]] && return 0
  printf '| %s | %s× | %s |\n' "$1" "$x" "$(verdict "$x" "$4")"
}

{
  echo "# warden load test — $([[ $ROWS == all ]] && echo "latest run" || echo "rows $ROWS")"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- crates providers && echo "" || echo " (+ uncommitted changes)")"
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
  echo "- load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER (the machine is shared: other jobs ran meanwhile)"
  echo "- wrk $(wrk -v 2>&1 | head -n1 | awk '{print $2}'): \`-t$THREADS -c$CONNS -d${DURATION}s --timeout 5s\` after a ${WARMUP}s warmup per row, loopback; client and servers share the cores"
  echo "- request: \`POST /mcp\` \`tools/call whoami\` (JSON-RPC, ${#BODY} bytes), \`Accept: application/json, text/event-stream\`, \`MCP-Protocol-Version: 2025-11-25\`; warden in stateless JSON mode, default config otherwise (info-level access log to a file). Row b26 sends the 2026-07-28 form (${#BODY_2026} bytes, \`MCP-Protocol-Version: 2026-07-28\`, \`Mcp-Method\`, \`Mcp-Name\`, \`params._meta\`); row bs adds \`Mcp-Session-Id\` of one session opened with \`initialize\` and gets SSE answers"
  echo
  echo "| row | what | req/s | p50 ms | p99 ms | × baseline | × rmcp-noauth | server CPU µs/req | status |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
  row a "baseline: minimal poem JSON POST, no auth, no MCP (start of run)" 200
  row a2 "baseline again (end of run)" 200
  row g "baseline behind warden's guard (warden-poem \`BearerAuth\`, dev token, cache hit), no MCP" 200
  row r "rmcp-noauth: rmcp's stateless JSON Streamable HTTP server on poem (tower-compat), warden's whoami tool, no auth" 200
  row b "warden, one repeated dev token (ES256), verified-token cache hit" 200
  row b26 "warden, as (b) but an MCP 2026-07-28 request (version header, \`Mcp-Method\`/\`Mcp-Name\`, \`params._meta\`)" 200
  row b0 "warden, one repeated dev token, verified-token cache off (ES256 verify per request)" 200
  row c "warden, $TOKENS distinct dev tokens rotated (cache holds them after the warmup)" 200
  row d "warden, introspection (fake IdP on loopback), one opaque token, warm cache" 200
  row e "warden, no token → 401 challenge" 401
  row bs "warden stateful (\`stateless = false\`): one legacy session, tools/call with \`Mcp-Session-Id\`, SSE answers" 200
  row ts "MCP TypeScript SDK $(sed -n 's/.*"@modelcontextprotocol\/sdk": *"\([^"]*\)".*/\1/p' "$HERE/ts-sdk/package.json") (node $("$NODE" --version 2>/dev/null || echo '?')): stateless JSON, express + \`requireBearerAuth\`, jose verifier (dev JWKS), whoami" 200
  row py "MCP Python SDK $(sed -n 's/^mcp==//p' "$HERE/py-sdk/requirements.txt") (Python $("$PYTHON" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo '?')): \`MCPServer\` stateless JSON, uvicorn (1 worker), PyJWT \`TokenVerifier\` (dev JWKS), whoami" 200
  echo
  echo "Ratios: × baseline uses the mean of the baseline runs (${BASE_RPS:-none} req/s); × rmcp-noauth uses row r (${R_RPS:-not run} req/s). Server CPU µs/req: user + system CPU time of the server process during the measured run divided by the requests answered; it is less sensitive to other load on the machine than req/s (but still inflated by contention)."
  if [[ -n ${RESULT[bs]:-} ]] && awk -v p="$(field bs p50_us)" 'BEGIN { exit !(p >= 30000) }'; then
    echo
    echo "Row bs, p50 $(ms "$(field bs p50_us)") ms: each answer is an SSE stream written in two writes (the response head, then the event chunk), and warden's listener (poem's \`TcpListener\`) leaves Nagle's algorithm on (no \`TCP_NODELAY\`), so on a keep-alive connection the second write waits for the client's delayed ACK (about 40 ms on Linux). req/s ≈ $CONNS connections / that wait; the server CPU µs/req shows warden's own cost."
  fi
  if want ts py; then
    echo
    echo "The SDK peers verify the row-(b) dev token themselves (ES256, \`typ\` at+jwt, \`iss\`, \`aud\` = warden's resource, \`exp\`) with keys fetched once from the dev issuer's JWKS (an idle warden on loopback) and cached; the TypeScript peer builds a new \`McpServer\` and transport per request (the SDK's stateless pattern; a stateless transport cannot be reused), all sharing one JSON Schema validator; the Python peer runs one uvicorn worker (uvloop, httptools). Both are single-process, so they use about one core."
  fi
  if [[ -n ${RESULT[half]:-} ]]; then
    HALF_P99=$(ms "$(field half p99_us)")
    echo
    echo "**p99 of (b) at about half its max rate:** $HALF_P99 ms (p50 $(ms "$(field half p50_us)") ms) at $(field half rps | cut -d. -f1) req/s (target $HALF): $PACED_CONNS connections, each pausing ${PACE_MS} ms after every response (wrk has no constant-rate mode and wrk2 is not in Debian; latency is measured from send, without coordinated-omission correction)."
  fi
  if want rss; then
    echo
    echo "**Memory (VmRSS):**$([[ -n ${RSS_IDLE_DEV:-} ]] && echo " idle $(mib "$RSS_IDLE_DEV") MiB (dev provider, after start-up and one request);")$([[ -n ${RSS_AFTER_C:-} ]] && echo " $(mib "$RSS_AFTER_C") MiB after rows (b) and (c).") With $RSS_TOKENS cached tokens: $(mib "$RSS_FULL") MiB (\`kind = \"jwt\"\` over the dev issuer's JWKS with \`verified_cache_size = $RSS_TOKENS\`, $(mib "$RSS_IDLE") MiB before; drive: $DRIVE). The same $RSS_TOKENS tokens with the cache off leave $(mib "$RSS_NOCACHE") MiB (after row (b0); drive: $DRIVE_NOCACHE), so the cache costs about $(awk -v a="$RSS_NOCACHE" -v b="$RSS_FULL" -v n="$RSS_TOKENS" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }') bytes per cached token ($(awk -v a="$RSS_IDLE" -v b="$RSS_FULL" -v n="$RSS_TOKENS" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }') counting from idle)."
  fi
  if want d; then
    echo
    echo "Introspection calls the fake IdP answered during row (d): $INTROSPECTIONS."
  fi
  TARGETS=$(
    if [[ -n ${RESULT[r]:-} ]]; then
      target "(b) ≥ 1.0× rmcp-noauth" b "$(field r rps)" 1.0
    fi
    target "(b) ≥ 0.5× baseline" b "$BASE_RPS" 0.5
    if [[ -n ${RESULT[b]:-} ]]; then
      target "(b26) within 5 % of (b)" b26 "$(field b rps)" 0.95
      target "(c) ≥ 0.9× (b)" c "$(field b rps)" 0.9
      target "(d) ≥ 0.9× (b)" d "$(field b rps)" 0.9
    fi
    if [[ -n ${RESULT[half]:-} ]]; then
      echo "| p99 of (b) at half rate ≤ 1 ms | $HALF_P99 ms | $(awk -v x="$HALF_P99" 'BEGIN { print (x <= 1) ? "met" : "missed" }') |"
    fi
    if [[ -n ${RSS_FULL:-} && -n ${RSS_NOCACHE:-} ]]; then
      per=$(awk -v a="$RSS_NOCACHE" -v b="$RSS_FULL" -v n="$RSS_TOKENS" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')
      echo "| ≤ 600 bytes per cached verified token | $per bytes | $([[ $per -le 600 ]] && echo met || echo missed) |"
    fi
    if [[ -n ${RSS_IDLE_DEV:-} ]]; then
      echo "| idle RSS ≤ 25 MiB | $(mib "$RSS_IDLE_DEV") MiB | $(awk -v k="$RSS_IDLE_DEV" 'BEGIN { print (k <= 25 * 1024) ? "met" : "missed" }') |"
    fi
  )
  if [[ -n $TARGETS ]]; then
    echo
    echo "| target (2 cores) | measured | |"
    echo "|---|---|---|"
    echo "$TARGETS"
  fi
  echo
  echo "Reproduce: \`$([[ $ROWS == all ]] || echo "ROWS=\"$ROWS\" ")bash benches/load/run.sh\` (needs \`wrk\`: \`apt-get install -y wrk\`; rows ts and py need node + npm and python3 >= 3.10, and the npm and PyPI registries once)."
} >"$WORK/result.md"

mkdir -p "$(dirname "$OUT")"
cp "$WORK/result.md" "$OUT"
cat "$OUT"
