#!/usr/bin/env bash
# warden load test. Builds release, then measures with ONE set of wrk
# settings, on loopback only:
#   (a)  baseline: benches' minimal poem server answering the same JSON POST (no auth, no MCP)
#   (g)  the baseline handler behind warden's bearer guard (auth, no MCP)
#   (b)  warden, stateless JSON mode, tools/call whoami, one repeated dev token
#   (b0) the same with the verified-token cache off (kind = "jwt" over the dev issuer's JWKS)
#   (c)  the same with 10 000 distinct dev tokens rotated by rotate.lua
#   (d)  warden with kind = "introspection" against the in-tree fake IdP, one token, warm cache
#   (e)  no token: the 401 challenge path
# plus p99 of (b) at about half its max rate, and RSS idle / with 100 000 cached tokens.
# Prints a markdown table and writes it to benches/results/latest.md.
#
# Knobs (environment): DURATION (s, default 15), WARMUP (s, 5), THREADS (2), CONNS (64),
# TOKENS (10000), RSS_TOKENS (100000), OUT (results file), SKIP_BUILD=1.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-5}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
TOKENS=${TOKENS:-10000}
RSS_TOKENS=${RSS_TOKENS:-100000}
OUT=${OUT:-$ROOT/benches/results/latest.md}
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

# probe URL [TOKEN]: prints "STATUS BODY" of one request like the load scripts send.
probe() {
  local auth=()
  [[ -n ${2:-} ]] && auth=(-H "Authorization: Bearer $2")
  curl -s -o "$WORK/probe.body" -w '%{http_code}' -X POST "$1" "${auth[@]}" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2025-11-25' --data "$BODY" || true
  printf ' %s' "$(head -c 4000 "$WORK/probe.body" 2>/dev/null)"
}

# wait_status URL EXPECTED [TOKEN]: polls until a request answers EXPECTED (20 s at most).
wait_status() {
  local i answer
  for i in $(seq 1 200); do
    answer=$(probe "$1" "${3:-}")
    [[ ${answer%% *} == "$2" ]] && return 0
    sleep 0.1
  done
  die "$1 never answered $2 (last: $answer); logs in $WORK"
}

# expect_result URL TOKEN: the tools/call answer is a successful whoami result.
expect_result() {
  local answer
  answer=$(probe "$1" "$2")
  [[ ${answer%% *} == 200 && $answer == *'"result"'* && $answer == *'"structuredContent"'* ]] ||
    die "unexpected answer from $1: $answer"
}

# measure ROW SCRIPT URL [ENV=VALUE...]: warmup, then the measured run; stores the WRK line.
declare -A RESULT
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
  for kv in ${RESULT[$1]}; do
    [[ $kv == "$2="* ]] && { printf '%s' "${kv#*=}"; return; }
  done
}

# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------------------
LOAD_BEFORE=$(loadavg)
if [[ -z ${SKIP_BUILD:-} ]]; then
  log "building release (warden, warden-benches)…"
  (cd "$ROOT" && cargo build --release -p warden -p warden-benches --bins)
fi
for b in warden baseline mint-tokens fake-idp drive; do
  [[ -x $BIN/$b ]] || die "$BIN/$b is missing (build failed?)"
done

PORT=$(free_port)
BASE_PORT=$(free_port)
URL="http://127.0.0.1:$PORT/mcp"
BASE_URL="http://127.0.0.1:$BASE_PORT/mcp"
DATA=$WORK/data
mkdir -p "$DATA"

# config PROVIDERS TABLES: writes $WORK/warden.toml.
config() {
  sed -e "s|@PORT@|$PORT|g" -e "s|@DATA_DIR@|$DATA|g" -e "s|@PROVIDERS@|$1|g" \
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
start baseline "$BIN/baseline" "127.0.0.1:$BASE_PORT" "$WORK/warden-dev.toml"
BASE_PID=$LAST_PID
SERVER_PID=$BASE_PID
wait_status "$BASE_URL" 200
measure a post.lua "$BASE_URL" TOKEN="$TOKEN"
GUARD_URL="http://127.0.0.1:$BASE_PORT/auth/mcp"
wait_status "$GUARD_URL" 200 "$TOKEN"
[[ $(probe "$GUARD_URL") == 401* ]] || die "no 401 from the guarded baseline without a token"
measure g post.lua "$GUARD_URL" TOKEN="$TOKEN"
stop "$BASE_PID"

# --- (b), (c), (e), half rate: the dev issuer ------------------------------------
log "minting $TOKENS and $RSS_TOKENS dev tokens…"
"$BIN/mint-tokens" --config "$WORK/warden.toml" --count "$TOKENS" --out "$WORK/tokens-c.txt"
"$BIN/mint-tokens" --config "$WORK/warden.toml" --count "$RSS_TOKENS" --out "$WORK/tokens-rss.txt"
start_warden dev
wait_status "$URL" 200 "$TOKEN"
expect_result "$URL" "$TOKEN"
sleep 1
RSS_IDLE_DEV=$(rss_kib "$WARDEN_PID")
measure b post.lua "$URL" TOKEN="$TOKEN"
expect_result "$URL" "$(head -n1 "$WORK/tokens-c.txt")"
measure c rotate.lua "$URL" TOKENS_FILE="$WORK/tokens-c.txt"
RSS_AFTER_C=$(rss_kib "$WARDEN_PID")
[[ $(probe "$URL") == 401* ]] || die "no 401 without a token"
measure e post.lua "$URL" TOKEN=

# p99 at about half of (b)'s max rate: paced connections (PACE_MS after each
# response), their number calibrated with short runs until the rate is within 10 %.
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
stop "$WARDEN_PID"

# --- (b0) verified-token cache off ---------------------------------------------
config '"selfjwt", "dev"' "$(self_jwt 0s 10000)"
start_warden nocache
wait_status "$URL" 200 "$TOKEN"
expect_result "$URL" "$TOKEN"
measure b0 post.lua "$URL" TOKEN="$TOKEN"
log "[rss] driving $RSS_TOKENS distinct tokens once each, cache off…"
DRIVE_NOCACHE=$("$BIN/drive" --url "$URL" --tokens "$WORK/tokens-rss.txt" --concurrency 32)
log "    $DRIVE_NOCACHE"
sleep 1
RSS_NOCACHE=$(rss_kib "$WARDEN_PID")
stop "$WARDEN_PID"

# --- (d) introspection against the fake IdP -----------------------------------
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

# --- RSS with RSS_TOKENS cached tokens -------------------------------------------
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

# --- (a) again: the baseline at the end, to see drift ------------------------------
start baseline "$BIN/baseline" "127.0.0.1:$BASE_PORT"
BASE_PID=$LAST_PID
SERVER_PID=$BASE_PID
wait_status "$BASE_URL" 200
measure a2 post.lua "$BASE_URL" TOKEN="$TOKEN"
stop "$BASE_PID"
LOAD_AFTER=$(loadavg)

# ---------------------------------------------------------------------------
BASE_RPS=$(awk -v x="$(field a rps)" -v y="$(field a2 rps)" 'BEGIN { printf "%.1f", (x + y) / 2 }')
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
ratio() { awk -v r="$1" -v b="$2" 'BEGIN { printf "%.2f", r / b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
row() { # ROW LABEL EXPECTED_STATUS
  local rps p50 p99 non2xx errs note=""
  rps=$(field "$1" rps)
  p50=$(field "$1" p50_us)
  p99=$(field "$1" p99_us)
  non2xx=$(field "$1" non2xx)
  errs=$(field "$1" socket_errors)
  if [[ $3 == 200 && $non2xx != 0 ]]; then note="$non2xx non-2xx!"; fi
  if [[ $3 == 401 && $non2xx != "$(field "$1" requests)" ]]; then note="some were not 401!"; fi
  [[ $errs != 0 ]] && note="$note $errs socket errors"
  printf '| %s | %s | %.0f | %s | %s | %s× | %s | %s |\n' "$1" "$2" "$rps" "$(ms "$p50")" "$(ms "$p99")" \
    "$(ratio "$rps" "$BASE_RPS")" "$(field "$1" cpu_us)" "${note:-all $3}"
}
verdict() { awk -v x="$1" -v t="$2" 'BEGIN { print (x >= t) ? "met" : "missed" }'; }

HALF_P99=$(ms "$(field half p99_us)")
{
  echo "# warden load test — latest run"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- crates providers && echo "" || echo " (+ uncommitted changes)")"
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
  echo "- load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER (the machine is shared: other jobs ran meanwhile)"
  echo "- wrk $(wrk -v 2>&1 | head -n1 | awk '{print $2}'): \`-t$THREADS -c$CONNS -d${DURATION}s --timeout 5s\` after a ${WARMUP}s warmup per row, loopback; client and servers share the cores"
  echo "- request: \`POST /mcp\` \`tools/call whoami\` (JSON-RPC, ${#BODY} bytes), \`Accept: application/json, text/event-stream\`, \`MCP-Protocol-Version: 2025-11-25\`; warden in stateless JSON mode, default config otherwise (info-level access log to a file)"
  echo
  echo "| row | what | req/s | p50 ms | p99 ms | × baseline | server CPU µs/req | status |"
  echo "|---|---|---:|---:|---:|---:|---:|---|"
  row a "baseline: minimal poem JSON POST, no auth, no MCP (start of run)" 200
  row a2 "baseline again (end of run)" 200
  row g "baseline behind warden's guard (warden-poem \`BearerAuth\`, dev token, cache hit), no MCP" 200
  row b "warden, one repeated dev token (ES256), verified-token cache hit" 200
  row b0 "warden, one repeated dev token, verified-token cache off (ES256 verify per request)" 200
  row c "warden, $TOKENS distinct dev tokens rotated (cache holds them after the warmup)" 200
  row d "warden, introspection (fake IdP on loopback), one opaque token, warm cache" 200
  row e "warden, no token → 401 challenge" 401
  echo
  echo "Ratios use the mean of the two baseline runs ($BASE_RPS req/s). Server CPU µs/req: user + system CPU time of the server process during the measured run divided by the requests answered; it is less sensitive to other load on the machine than req/s (but still inflated by contention)."
  echo
  echo "**p99 of (b) at about half its max rate:** $HALF_P99 ms (p50 $(ms "$(field half p50_us)") ms) at $(field half rps | cut -d. -f1) req/s (target $HALF): $PACED_CONNS connections, each pausing ${PACE_MS} ms after every response (wrk has no constant-rate mode and wrk2 is not in Debian; latency is measured from send, without coordinated-omission correction)."
  echo
  echo "**Memory (VmRSS):** idle $(mib "$RSS_IDLE_DEV") MiB (dev provider, after start-up and one request); $(mib "$RSS_AFTER_C") MiB after rows (b) and (c). With $RSS_TOKENS cached tokens: $(mib "$RSS_FULL") MiB (\`kind = \"jwt\"\` over the dev issuer's JWKS with \`verified_cache_size = $RSS_TOKENS\`, $(mib "$RSS_IDLE") MiB before; drive: $DRIVE). The same $RSS_TOKENS tokens with the cache off leave $(mib "$RSS_NOCACHE") MiB (after row (b0); drive: $DRIVE_NOCACHE), so the cache costs about $(awk -v a="$RSS_NOCACHE" -v b="$RSS_FULL" -v n="$RSS_TOKENS" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }') bytes per cached token ($(awk -v a="$RSS_IDLE" -v b="$RSS_FULL" -v n="$RSS_TOKENS" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }') counting from idle)."
  echo
  echo "Introspection calls the fake IdP answered during row (d): $INTROSPECTIONS."
  echo
  echo "| target (2 cores) | measured | |"
  echo "|---|---|---|"
  echo "| (b) ≥ 0.8× baseline | $(ratio "$(field b rps)" "$BASE_RPS")× | $(verdict "$(ratio "$(field b rps)" "$BASE_RPS")" 0.8) |"
  echo "| (c) ≥ 0.5× baseline | $(ratio "$(field c rps)" "$BASE_RPS")× | $(verdict "$(ratio "$(field c rps)" "$BASE_RPS")" 0.5) |"
  echo "| (d) ≥ 0.9× (b) | $(ratio "$(field d rps)" "$(field b rps)")× | $(verdict "$(ratio "$(field d rps)" "$(field b rps)")" 0.9) |"
  echo "| p99 of (b) at half rate ≤ 2 ms | $HALF_P99 ms | $(awk -v x="$HALF_P99" 'BEGIN { print (x <= 2) ? "met" : "missed" }') |"
  echo
  echo "Reproduce: \`bash benches/load/run.sh\` (needs \`wrk\`: \`apt-get install -y wrk\`)."
} >"$WORK/result.md"

mkdir -p "$(dirname "$OUT")"
cp "$WORK/result.md" "$OUT"
cat "$OUT"
