#!/usr/bin/env bash
# warden interop suite: real peers (npm oidc-provider AS, later MCP clients) on loopback.
#
#   bash tests/interop/run.sh
#
# Prints one `PASS <name>` / `FAIL <name>: <why>` line per check and ends with exactly
# `N passed, M failed`; exits non-zero when M > 0. Knobs (env): AS_PORT (9400),
# AS_PATH_PORT (9401, second AS with issuer path /oidc), MCP_RESOURCE
# (http://127.0.0.1:10000/mcp), MCP_OTHER_RESOURCE, WARDEN_BIN (target/release/warden),
# INTEROP_LOG_DIR (kept logs; default a temp dir removed on exit). See README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$HERE"

export AS_PORT="${AS_PORT:-9400}"
export AS_ISSUER_PATH=""
AS_PATH_PORT="${AS_PATH_PORT:-9401}"
export MCP_RESOURCE="${MCP_RESOURCE:-http://127.0.0.1:10000/mcp}"
export MCP_OTHER_RESOURCE="${MCP_OTHER_RESOURCE:-http://127.0.0.1:10001/other}"
WARDEN_BIN="${WARDEN_BIN:-$REPO/target/release/warden}"

if [[ -n "${INTEROP_LOG_DIR:-}" ]]; then
  LOG_DIR="$INTEROP_LOG_DIR"
  mkdir -p "$LOG_DIR"
  KEEP_LOGS=1
else
  LOG_DIR="$(mktemp -d -t warden-interop.XXXXXX)"
  KEEP_LOGS=0
fi

START_SECONDS=$SECONDS
PASSED=0
FAILED=0
PIDS=()

say() { printf '# %s\n' "$*" >&2; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ "$KEEP_LOGS" == 0 ]]; then rm -rf "$LOG_DIR"; fi
}
trap cleanup EXIT

# --------------------------------------------------------------------------------------
# Result bookkeeping.

pass() { PASSED=$((PASSED + 1)); printf 'PASS %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s: %s\n' "$1" "$2"; }

# check NAME CMD [ARGS...] — runs CMD; exit 0 = PASS, else FAIL with its last output line.
# Commands must not print tokens or secrets (lib/checks.mjs prints only reasons).
check() {
  local name="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    pass "$name"
  else
    out="$(printf '%s' "$out" | tail -n 1)"
    fail "$name" "${out:-exit status non-zero, no output}"
  fi
}

# --------------------------------------------------------------------------------------
# Dependencies: npm ci from the committed lockfile when node_modules is missing or stale.

install_deps() {
  local stamp="node_modules/.interop-lock.sha256" want
  want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1) node-$(node --version)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "deps: node_modules matches package-lock.json"
    return
  fi
  say "deps: npm ci (node $(node --version))"
  local t0=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error >"$LOG_DIR/npm-ci.log" 2>&1 || {
    tail -n 30 "$LOG_DIR/npm-ci.log" >&2
    echo "npm ci failed" >&2
    exit 1
  }
  printf '%s' "$want" >"$stamp"
  say "deps: npm ci took $((SECONDS - t0))s"
}

# --------------------------------------------------------------------------------------
# Processes.

# port_free PORT — true when nothing answers on 127.0.0.1:PORT.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_http URL PID [SECONDS] — waits until URL answers 2xx while PID stays alive.
wait_http() {
  local url="$1" pid="$2" limit="${3:-30}" i
  for ((i = 0; i < limit * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# dump_log FILE — tail of a server log to stderr (for failures).
dump_log() {
  say "---- last lines of $(basename "$1") ----"
  tail -n 25 "$1" >&2 || true
}

# start_as PORT ISSUER_PATH NAME — starts as/server.mjs in the background, waits for
# discovery. The log goes to $LOG_DIR/NAME.log.
start_as() {
  local port="$1" path="$2" name="$3" log="$LOG_DIR/$3.log" pid
  if ! port_free "$port"; then
    echo "port $port is busy; set AS_PORT / AS_PATH_PORT" >&2
    exit 1
  fi
  AS_PORT="$port" AS_ISSUER_PATH="$path" node as/server.mjs 2>"$log" &
  pid=$!
  PIDS+=("$pid")
  if ! wait_http "http://127.0.0.1:${port}${path}/.well-known/openid-configuration" "$pid" 30; then
    dump_log "$log"
    echo "authorization server $name did not come up on port $port" >&2
    exit 1
  fi
  say "AS $name up: issuer http://127.0.0.1:${port}${path} (log $log)"
}

# --------------------------------------------------------------------------------------
# AS checks: the tokens warden will be tested with are what they claim to be.

as_checks() {
  local name
  for name in $(node lib/checks.mjs --list); do
    check "as:$name" node lib/checks.mjs "$name"
  done
}

# The same AS mounted below an issuer path (Logto style: issuer http://127.0.0.1:PORT/oidc).
issuer_path_checks() {
  local name
  for name in as-discovery as-metadata-aliases cc-jwt-es256 cc-jwt-rs256 \
    cc-opaque-introspects-active login-opaque-userinfo-alice login-jwt-alice; do
    check "as-oidc-path:$name" env AS_PORT="$AS_PATH_PORT" AS_ISSUER_PATH=/oidc \
      node lib/checks.mjs "$name"
  done
}

# --------------------------------------------------------------------------------------
# warden checks: run the real warden binary against the real peers.
#
# start_warden CONFIG — starts `$WARDEN_BIN serve --config CONFIG` in the background and
# waits for its protected-resource metadata (public, no token) at the MCP_RESOURCE origin.
# Sets WARDEN_PID and WARDEN_LOG. Each config must bind the origin of MCP_RESOURCE.
WARDEN_PID=""
WARDEN_LOG=""
WARDEN_PORT="$(node -e 'const u=new URL(process.argv[1]);console.log(u.port||(u.protocol==="https:"?443:80))' "$MCP_RESOURCE")"
WARDEN_PRM_URL="$(node -e 'const u=new URL(process.argv[1]);console.log(u.origin+"/.well-known/oauth-protected-resource"+(u.pathname==="/"?"":u.pathname))' "$MCP_RESOURCE")"

start_warden() {
  local config="$1"
  WARDEN_LOG="$LOG_DIR/warden-$(basename "$config" .toml).log"
  "$WARDEN_BIN" serve --config "$config" >"$WARDEN_LOG" 2>&1 &
  WARDEN_PID=$!
  PIDS+=("$WARDEN_PID")
  if ! wait_http "$WARDEN_PRM_URL" "$WARDEN_PID" 30; then
    dump_log "$WARDEN_LOG"
    return 1
  fi
}

# stop_warden — stops the warden started last.
stop_warden() {
  if [[ -n "$WARDEN_PID" ]]; then
    kill "$WARDEN_PID" 2>/dev/null || true
    wait "$WARDEN_PID" 2>/dev/null || true
    WARDEN_PID=""
  fi
}

# Spec-level smoke of warden with its embedded-development config (config/dev.toml):
# the PRM document and the 401 challenge need no provider at all.
check_warden_prm() {
  curl -fsS --max-time 5 "$WARDEN_PRM_URL" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const m = JSON.parse(s);
      if (m.resource !== process.argv[1]) { console.error(`resource is ${m.resource}`); process.exit(1); }
      if (!Array.isArray(m.authorization_servers) || m.authorization_servers.length < 1) {
        console.error("authorization_servers missing"); process.exit(1);
      }
    });' "$MCP_RESOURCE"
}

check_warden_401_without_token() {
  local headers status
  headers="$(curl -sS --max-time 5 -o /dev/null -D - -X POST "$MCP_RESOURCE" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    --data '{"jsonrpc":"2.0","id":1,"method":"ping"}')"
  status="$(printf '%s' "$headers" | head -n 1 | cut -d' ' -f2)"
  [[ "$status" == 401 ]] || { echo "status $status, want 401"; return 1; }
  printf '%s' "$headers" | grep -qi '^www-authenticate: Bearer .*resource_metadata=' \
    || { echo "401 lacks WWW-Authenticate: Bearer resource_metadata=…"; return 1; }
  if printf '%s' "$headers" | grep -i '^www-authenticate:' | grep -q 'error='; then
    echo "401 without a token must not carry error= (RFC 6750 §3.1)"
    return 1
  fi
}

warden_checks() {
  if [[ ! -x "$WARDEN_BIN" ]]; then
    say "SKIP warden checks: $WARDEN_BIN not built yet (cargo build --release -p warden, or set WARDEN_BIN)"
    return
  fi
  if ! port_free "$WARDEN_PORT"; then
    fail "warden:start" "port $WARDEN_PORT of MCP_RESOURCE is busy"
    return
  fi
  if ! start_warden "$REPO/config/dev.toml"; then
    fail "warden:start" "warden serve --config config/dev.toml did not serve $WARDEN_PRM_URL"
    return
  fi
  pass "warden:start"
  check "warden:prm-document" check_warden_prm
  check "warden:401-challenge-without-token" check_warden_401_without_token
  stop_warden
}

# --------------------------------------------------------------------------------------

main() {
  command -v node >/dev/null || { echo "node is required" >&2; exit 1; }
  command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }
  install_deps
  start_as "$AS_PORT" "" as
  start_as "$AS_PATH_PORT" /oidc as-oidc-path

  as_checks
  issuer_path_checks
  warden_checks

  if ((FAILED > 0)); then
    dump_log "$LOG_DIR/as.log"
  fi
  say "interop finished in $((SECONDS - START_SECONDS))s (logs: $LOG_DIR$([[ $KEEP_LOGS == 0 ]] && echo ', removed on exit'))"
  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  ((FAILED == 0))
}

main "$@"
