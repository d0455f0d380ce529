#!/usr/bin/env bash
# warden interop suite: the real warden binary against real peers on loopback — the npm
# oidc-provider authorization server, the TypeScript and Python MCP SDKs, the MCP
# Inspector CLI and the official conformance suite (Node 22 from npm).
#
#   bash tests/interop/run.sh
#
# Prints one `PASS <name>` / `FAIL <name>: <why>` line per check and ends with exactly
# `N passed, M failed`; exits non-zero when M > 0. Progress notes go to stderr as `# …`.
# Knobs (env): AS_PORT (9400), AS_PATH_PORT (9401, second AS with issuer path /oidc),
# AV_PORT (9410, fake Alpha Vantage), PROXY_PORT (9420, token-injecting proxy for the
# conformance suite), CALLBACK_PORT (6276, Inspector 2 OAuth callback), MCP_RESOURCE (http://127.0.0.1:10000/mcp), MCP_OTHER_RESOURCE,
# WARDEN_BIN (target/release/warden, else target/debug/warden), INTEROP_LOG_DIR (kept
# logs; default a temp dir removed on exit). See README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$HERE"

export AS_PORT="${AS_PORT:-9400}"
export AS_ISSUER_PATH=""
AS_PATH_PORT="${AS_PATH_PORT:-9401}"
AV_PORT="${AV_PORT:-9410}"
PROXY_PORT="${PROXY_PORT:-9420}"
CALLBACK_PORT="${CALLBACK_PORT:-6276}"
export MCP_RESOURCE="${MCP_RESOURCE:-http://127.0.0.1:10000/mcp}"
export MCP_OTHER_RESOURCE="${MCP_OTHER_RESOURCE:-http://127.0.0.1:10001/other}"
if [[ -z "${WARDEN_BIN:-}" ]]; then
  if [[ -x "$REPO/target/release/warden" ]]; then
    WARDEN_BIN="$REPO/target/release/warden"
  else
    WARDEN_BIN="$REPO/target/debug/warden"
  fi
fi
# warden reads every WARDEN_* variable as configuration (unknown keys are errors), so the
# suite's own knob must not reach it; warden is started with a clean WARDEN_* environment.
SUITE_WARDEN_BIN="$WARDEN_BIN"
unset WARDEN_BIN

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
BG_INSTALLS=()

say() { printf '# %s\n' "$*" >&2; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}" "${BG_INSTALLS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}" "${BG_INSTALLS[@]}"; do
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
# Commands must not print tokens or secrets (the check scripts print only reasons).
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

# relay NAME CMD [ARGS...] — CMD prints its own `PASS name` / `FAIL name: why` lines
# (stdout); they are counted and passed through. Its stderr (notes) goes to ours.
relay() {
  local name="$1" line out status=0
  shift
  out="$("$@")" || status=$?
  while IFS= read -r line; do
    case "$line" in
      "PASS "*) PASSED=$((PASSED + 1)); printf '%s\n' "$line" ;;
      "FAIL "*) FAILED=$((FAILED + 1)); printf '%s\n' "$line" ;;
    esac
  done <<<"$out"
  if ((status != 0)) && ! grep -q '^FAIL ' <<<"$out"; then
    fail "$name" "exit status $status without a FAIL line"
  fi
}

# --------------------------------------------------------------------------------------
# Dependencies, each installed only when missing or its lockfile changed:
#   node_modules  npm ci (package-lock.json): oidc-provider, jose, TS SDK, Inspector 1.0.3
#   node22/       npm ci (node22/package-lock.json): Node 22 binary, conformance suite,
#                 Inspector 2.12.0
#   .venv/        pip --require-hashes (py/requirements.txt): Python MCP SDK 1.x
#   py2/.venv/    pip --require-hashes (py2/requirements.txt): Python MCP SDK 2.x
# node22/ and both venvs install in the background while the AS checks run.

npm_ci_in() {
  local dir="$1" log="$2" stamp="$1/node_modules/.interop-lock.sha256" want
  want="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1) node-$(node --version)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "deps: $dir/node_modules matches its package-lock.json"
    return 0
  fi
  say "deps: npm ci in $dir (node $(node --version))"
  local t0=$SECONDS
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1 || {
    tail -n 30 "$log" >&2
    echo "npm ci in $dir failed" >&2
    return 1
  }
  printf '%s' "$want" >"$stamp"
  say "deps: npm ci in $dir took $((SECONDS - t0))s"
}

# install_venv VENV REQUIREMENTS LOG — a venv at VENV with exactly REQUIREMENTS (hashes).
install_venv() {
  local venv="$1" req="$2" log="$3" stamp="$1/.interop-req.sha256" want
  want="$(sha256sum "$req" | cut -d' ' -f1) $(python3 --version 2>&1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "deps: $venv matches $req"
    return 0
  fi
  say "deps: python venv $venv + pip install --require-hashes -r $req ($(python3 --version 2>&1))"
  local t0=$SECONDS
  {
    rm -rf "$venv" &&
      python3 -m venv "$venv" &&
      "$venv/bin/pip" install --disable-pip-version-check --no-input --require-hashes \
        --only-binary :all: -r "$req"
  } >"$log" 2>&1 || {
    tail -n 30 "$log" >&2
    echo "pip install into $venv failed" >&2
    return 1
  }
  printf '%s' "$want" >"$stamp"
  say "deps: $venv took $((SECONDS - t0))s"
}

NODE22_PID=""
VENV_PID=""
VENV2_PID=""
VENV2_OK=""
start_background_installs() {
  npm_ci_in node22 "$LOG_DIR/npm-ci-node22.log" &
  NODE22_PID=$!
  BG_INSTALLS+=("$NODE22_PID")
  if command -v python3 >/dev/null; then
    install_venv .venv py/requirements.txt "$LOG_DIR/pip.log" &
    VENV_PID=$!
    BG_INSTALLS+=("$VENV_PID")
    install_venv py2/.venv py2/requirements.txt "$LOG_DIR/pip-mcp2.log" &
    VENV2_PID=$!
    BG_INSTALLS+=("$VENV2_PID")
  fi
}

# wait_install PID — true when that background install succeeded.
wait_install() {
  [[ -n "$1" ]] && wait "$1"
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

# stop PID — stops one process the suite started.
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
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

# start_av — the fake Alpha Vantage (av/server.mjs) for news_sentiment.
AV_API_KEY="interop-av-key"
start_av() {
  local log="$LOG_DIR/av.log" pid
  if ! port_free "$AV_PORT"; then
    echo "port $AV_PORT is busy; set AV_PORT" >&2
    exit 1
  fi
  AV_PORT="$AV_PORT" AV_API_KEY="$AV_API_KEY" node av/server.mjs 2>"$log" &
  pid=$!
  PIDS+=("$pid")
  if ! wait_http "http://127.0.0.1:$AV_PORT/__stats" "$pid" 15; then
    dump_log "$log"
    echo "fake Alpha Vantage did not come up on port $AV_PORT" >&2
    exit 1
  fi
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
# warden: configs, start/stop.

WARDEN_PID=""
WARDEN_LOG=""
WARDEN_ORIGIN="$(node -e 'console.log(new URL(process.argv[1]).origin)' "$MCP_RESOURCE")"
WARDEN_MCP_PATH="$(node -e 'const p=new URL(process.argv[1]).pathname;console.log(p==="/"?"":p)' "$MCP_RESOURCE")"
WARDEN_PORT="$(node -e 'const u=new URL(process.argv[1]);console.log(u.port||(u.protocol==="https:"?443:80))' "$MCP_RESOURCE")"
WARDEN_PRM_URL="$WARDEN_ORIGIN/.well-known/oauth-protected-resource$WARDEN_MCP_PATH"
export IOP_AV_URL="http://127.0.0.1:$AV_PORT"

# render_config NAME [BLOCK] — configs/NAME.toml with its ${IOP_*} placeholders filled in,
# written to $LOG_DIR/BLOCK/BLOCK.toml (BLOCK defaults to NAME; that directory is also
# warden's working directory and holds its data_dir). An unknown placeholder is an error.
render_config() {
  local name="$1" block="${2:-$1}" dir="$LOG_DIR/${2:-$1}"
  mkdir -p "$dir"
  IOP_BIND="127.0.0.1:$WARDEN_PORT" \
    IOP_PUBLIC_URL="$WARDEN_ORIGIN" \
    IOP_MCP_PATH="$WARDEN_MCP_PATH" \
    IOP_DATA_DIR="$dir/data" \
    IOP_AS_ISSUER="http://127.0.0.1:$AS_PORT" \
    IOP_AS_OIDC_ISSUER="http://127.0.0.1:$AS_PATH_PORT/oidc" \
    IOP_AV_BASE_URL="http://127.0.0.1:$AV_PORT" \
    IOP_AV_API_KEY="$AV_API_KEY" \
    node -e '
      const fs = require("fs");
      const text = fs.readFileSync(process.argv[1], "utf8").replace(/\$\{(IOP_[A-Z_]+)\}/g, (_, k) => {
        if (process.env[k] === undefined) { console.error(`unknown placeholder ${k}`); process.exit(1); }
        return process.env[k];
      });
      fs.writeFileSync(process.argv[2], text);' "configs/$name.toml" "$dir/$block.toml"
  printf '%s' "$dir/$block.toml"
}

# start_warden NAME CONFIG [VAR=VALUE...] — starts `warden serve --config CONFIG` with a
# clean WARDEN_* environment plus the given WARDEN_* overrides, working directory
# $LOG_DIR/NAME (so no stray .env is read), and waits for its PRM. Sets WARDEN_PID/LOG.
start_warden() {
  local name="$1" config="$2" dir="$LOG_DIR/$1"
  shift 2
  mkdir -p "$dir"
  WARDEN_LOG="$LOG_DIR/warden-$name.log"
  local -a clean=()
  local var
  for var in $(compgen -e); do
    [[ "$var" == WARDEN_* ]] && clean+=(-u "$var")
  done
  (cd "$dir" && exec env "${clean[@]}" "$@" "$SUITE_WARDEN_BIN" serve --config "$config") >"$WARDEN_LOG" 2>&1 &
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
    stop "$WARDEN_PID"
    WARDEN_PID=""
  fi
}

# warden_start_failed NAME — one FAIL line naming warden's own last error line.
warden_start_failed() {
  local why
  why="$(grep -v '^\s*$' "$WARDEN_LOG" 2>/dev/null | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-300)"
  fail "$1:start" "warden serve did not serve $WARDEN_PRM_URL: ${why:-no output}"
  stop_warden
}

# mcp_group GROUP [VAR=VALUE...] — the TypeScript SDK / raw HTTP checks of
# lib/mcp-checks.mjs for GROUP, with extra environment for the check processes.
mcp_group() {
  local group="$1" name
  shift
  for name in $(node lib/mcp-checks.mjs --list "$group"); do
    check "$group:$name" env "$@" node lib/mcp-checks.mjs "$group" "$name"
  done
}

# --------------------------------------------------------------------------------------
# warden checks, one block per config.

# Spec-level smoke of the PRM document and the bare 401 (no provider involved).
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

# The embedded dev default: the repository's config/dev.toml (what `warden serve` uses
# without --config), only pointed at this suite's ports and the fake Alpha Vantage.
dev_block() {
  if ! start_warden dev "$REPO/config/dev.toml" \
    WARDEN_SERVER__BIND="127.0.0.1:$WARDEN_PORT" \
    WARDEN_SERVER__PUBLIC_URL="$WARDEN_ORIGIN" \
    WARDEN_TOOLS__NEWS_SENTIMENT__BASE_URL="http://127.0.0.1:$AV_PORT" \
    WARDEN_TOOLS__NEWS_SENTIMENT__API_KEY="$AV_API_KEY"; then
    warden_start_failed dev
    return
  fi
  pass "dev:start"
  check "dev:prm-document" check_warden_prm
  check "dev:401-challenge-without-token" check_warden_401_without_token
  mcp_group dev
  stop_warden
}

# Python SDK (mcp 1.30.0 from PyPI) with bearer tokens from the AS.
python_checks() {
  if ! wait_install "$VENV_PID"; then
    fail "python:install" "venv / pip install --require-hashes failed (see $LOG_DIR/pip.log)"
    return
  fi
  local token profile
  token="$(node lib/tokens.mjs cc-jwt-es256)"
  profile="$(node lib/tokens.mjs cc-jwt-profile)"
  check "python:tools-list-and-call" env IOP_TOKEN="$token" .venv/bin/python py/client.py tools-list-and-call
  check "python:no-scope-refused" env IOP_TOKEN_PROFILE="$profile" .venv/bin/python py/client.py no-scope-refused
}

# Python SDK 2.x (mcp 2.3.0 from PyPI, py2/): `mcp.Client` in its default mode (probes
# server/discover, speaks 2026-07-28), with a bearer token from the AS and with the SDK's
# own client-credentials OAuth discovery from warden's 401. PREFIX names the lines.
python2_checks() {
  local prefix="$1" token cc_id cc_secret issuer
  if [[ -z "$VENV2_OK" ]]; then
    if wait_install "$VENV2_PID"; then
      VENV2_OK=1
    else
      VENV2_OK=0
    fi
  fi
  if [[ "$VENV2_OK" != 1 ]]; then
    fail "$prefix:install" "venv / pip install --require-hashes of py2/requirements.txt failed (see $LOG_DIR/pip-mcp2.log)"
    return
  fi
  token="$(node lib/tokens.mjs cc-jwt-es256)"
  read -r cc_id cc_secret issuer < <(node --input-type=module -e '
    import { CLIENTS, ISSUER } from "./lib/settings.mjs";
    console.log(CLIENTS.cc.client_id, CLIENTS.cc.client_secret, ISSUER);')
  check "$prefix:bearer-tools-list-whoami" env IOP_TOKEN="$token" IOP_CC_CLIENT_ID="$cc_id" \
    IOP_AS_ISSUER="$issuer" py2/.venv/bin/python py2/client.py bearer-tools-list-whoami
  check "$prefix:oauth-client-credentials-whoami" env IOP_CC_CLIENT_ID="$cc_id" \
    IOP_CC_CLIENT_SECRET="$cc_secret" IOP_AS_ISSUER="$issuer" \
    py2/.venv/bin/python py2/client.py oauth-client-credentials-whoami
}

# MCP Inspector CLI: 1.0.3 (Node 20, --header bearer) and 2.12.0 (Node 22, its own
# headless OAuth login with BROWSER=lib/browser.sh).
inspector_checks() {
  local name
  for name in $(node lib/inspector.mjs --list v1); do
    check "inspector:$name" node lib/inspector.mjs v1 "$name"
  done
  if ! wait_install "$NODE22_PID"; then
    fail "inspector2:install" "npm ci in node22/ failed (see $LOG_DIR/npm-ci-node22.log)"
    return
  fi
  if ! port_free "$CALLBACK_PORT"; then
    fail "inspector2:callback-port" "port $CALLBACK_PORT is busy; set CALLBACK_PORT"
    return
  fi
  for name in $(node lib/inspector.mjs --list v2); do
    check "inspector2:$name" env IOP_CALLBACK_PORT="$CALLBACK_PORT" node lib/inspector.mjs v2 "$name"
  done
}

# The official conformance suite through the token-injecting proxy.
conformance_checks() {
  if ! wait_install "$NODE22_PID"; then
    fail "conformance:install" "npm ci in node22/ failed (see $LOG_DIR/npm-ci-node22.log)"
    return
  fi
  if ! port_free "$PROXY_PORT"; then
    fail "conformance:proxy" "port $PROXY_PORT is busy; set PROXY_PORT"
    return
  fi
  local token pid
  token="$(node lib/tokens.mjs cc-jwt-es256)"
  IOP_PROXY_TOKEN="$token" node lib/token-proxy.mjs "$PROXY_PORT" "$WARDEN_ORIGIN" 2>"$LOG_DIR/proxy.log" &
  pid=$!
  PIDS+=("$pid")
  if ! wait_http "http://127.0.0.1:$PROXY_PORT/.well-known/oauth-protected-resource$WARDEN_MCP_PATH" "$pid" 10; then
    fail "conformance:proxy" "the token proxy did not come up (see $LOG_DIR/proxy.log)"
    stop "$pid"
    return
  fi
  relay conformance node lib/conformance.mjs "http://127.0.0.1:$PROXY_PORT$WARDEN_MCP_PATH" "$LOG_DIR/conformance"
  stop "$pid"
}

# kind = "jwt" with the real AS: B 8b JWT checks and every E client.
jwt_block() {
  local config
  config="$(render_config jwt)"
  if ! start_warden jwt "$config"; then
    warden_start_failed jwt
    return
  fi
  pass "jwt:start"
  mcp_group jwt IOP_CONFIG="$config"
  python_checks
  python2_checks python2
  inspector_checks
  conformance_checks
  stop_warden
}

# The Python SDK 2.x checks again against configs/jwt.toml with [server] overrides (the
# WARDEN_SERVER__* form of the TOML keys): `fast_path = false`, and `stateless = true` with
# the default `fast_path` (true) and with `fast_path = false`. warden's fast path answers
# 2026-07-28 tools/list and tools/call itself only in stateless mode; in the default
# (stateful) mode `fast_path` changes nothing, so the stateless pair is what compares the
# fast path with rmcp. A warden that does not know `fast_path` fails at start (unknown key).
# jwt_variant_block BLOCK PREFIX [WARDEN_VAR=VALUE...]
jwt_variant_block() {
  local block="$1" prefix="$2" config
  shift 2
  config="$(render_config jwt "$block")"
  if ! start_warden "$block" "$config" "$@"; then
    warden_start_failed "$block"
    return
  fi
  pass "$block:start"
  python2_checks "$prefix"
  stop_warden
}

# config_block NAME [VAR=VALUE...] — start warden with configs/NAME.toml and run
# mcp_group NAME (the extra environment goes to the check processes).
config_block() {
  local name="$1" config
  shift
  config="$(render_config "$name")"
  if ! start_warden "$name" "$config"; then
    warden_start_failed "$name"
    return
  fi
  pass "$name:start"
  mcp_group "$name" IOP_CONFIG="$config" "$@"
  stop_warden
}

warden_checks() {
  if [[ ! -x "$SUITE_WARDEN_BIN" ]]; then
    fail "warden:binary" "$SUITE_WARDEN_BIN not built (cargo build -p warden, or set WARDEN_BIN)"
    return
  fi
  if ! port_free "$WARDEN_PORT"; then
    fail "warden:port" "port $WARDEN_PORT of MCP_RESOURCE is busy"
    return
  fi
  say "warden: $SUITE_WARDEN_BIN"
  dev_block
  jwt_block
  jwt_variant_block jwt-no-fast-path python2-no-fast-path WARDEN_SERVER__FAST_PATH=false
  jwt_variant_block jwt-stateless python2-stateless WARDEN_SERVER__STATELESS=true
  jwt_variant_block jwt-stateless-no-fast-path python2-stateless-no-fast-path \
    WARDEN_SERVER__STATELESS=true WARDEN_SERVER__FAST_PATH=false
  config_block introspection
  config_block introspection-lenient
  # kind = "logto" against the AS mounted at /oidc: its checks get tokens from there.
  config_block logto AS_PORT="$AS_PATH_PORT" AS_ISSUER_PATH=/oidc
}

# --------------------------------------------------------------------------------------

main() {
  local tool
  for tool in node npm curl; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
  done
  npm_ci_in . "$LOG_DIR/npm-ci.log" || exit 1
  start_background_installs
  start_as "$AS_PORT" "" as
  start_as "$AS_PATH_PORT" /oidc as-oidc-path
  start_av

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
