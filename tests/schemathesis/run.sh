#!/usr/bin/env bash
# Schemathesis against the real admin listener: does `GET /admin/openapi.json` tell the truth?
#
#   bash tests/schemathesis/run.sh
#
# Starts `warden serve` (the embedded dev config) on two free loopback ports with a random
# admin token and a temporary data dir, waits for the admin health probe, then runs
#
#   schemathesis run http://127.0.0.1:PORT/admin/openapi.json --checks all \
#     -H "Authorization: Bearer <token>"
#
# with a bounded number of examples per operation, stops the server and exits with
# schemathesis's exit code (non-zero on any failure). Output is schemathesis's own; its
# output sanitization keeps the token out of it, and warden never logs tokens.
#
# Knobs (env):
#   WARDEN_BIN       the warden binary (default target/debug/warden; built with
#                    `cargo build -p warden` when missing)
#   ST_MAX_EXAMPLES  test cases per operation and phase (default 100)
#   ST_SEED          hypothesis seed (default 1, so CI runs are reproducible; "random" for a new one)
#   ST_VENV          where schemathesis is installed (default a cache dir outside the repo)
set -euo pipefail

SCHEMATHESIS_VERSION="4.32.5"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

say() { printf '# %s\n' "$*" >&2; }

# --- the binary -------------------------------------------------------------------------
BIN="${WARDEN_BIN:-$REPO/target/debug/warden}"
# warden reads WARDEN_* variables as configuration: this knob must not reach it.
unset WARDEN_BIN
if [[ ! -x "$BIN" ]]; then
  say "building warden ($BIN is missing)"
  (cd "$REPO" && cargo build -q -p warden)
  BIN="$REPO/target/debug/warden"
fi

# --- schemathesis -----------------------------------------------------------------------
VENV="${ST_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/warden-schemathesis/venv-$SCHEMATHESIS_VERSION}"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  say "installing schemathesis==$SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi
PY="$VENV/bin/python"

# --- the server -------------------------------------------------------------------------
WORK="$(mktemp -d -t warden-schemathesis.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
MAIN_PORT="$(free_port)"
ADMIN_PORT="$(free_port)"
while [[ "$ADMIN_PORT" == "$MAIN_PORT" ]]; do ADMIN_PORT="$(free_port)"; done
TOKEN="$("$PY" -c 'import secrets; print("st-" + secrets.token_urlsafe(32))')"
ADMIN="http://127.0.0.1:$ADMIN_PORT"

# A clean WARDEN_* environment plus ours; the working directory is the temp dir, so no
# stray .env is read.
clean=()
for var in $(compgen -e); do
  [[ "$var" == WARDEN_* ]] && clean+=(-u "$var")
done
say "starting $BIN serve (main 127.0.0.1:$MAIN_PORT, admin 127.0.0.1:$ADMIN_PORT)"
(
  cd "$WORK" && exec env "${clean[@]}" \
    WARDEN_SERVER__BIND="127.0.0.1:$MAIN_PORT" \
    WARDEN_SERVER__PUBLIC_URL="http://127.0.0.1:$MAIN_PORT" \
    WARDEN_SERVER__DATA_DIR="$WORK/data" \
    WARDEN_ADMIN__BIND="127.0.0.1:$ADMIN_PORT" \
    WARDEN_ADMIN__TOKEN="$TOKEN" \
    WARDEN_LOG__LEVEL=warn \
    "$BIN" serve
) >"$WORK/warden.log" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 1 150); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
  if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "$ADMIN/admin/v1/health" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.2
done
if [[ "$ready" != 1 ]]; then
  say "warden did not answer $ADMIN/admin/v1/health; its log:"
  tail -n 30 "$WORK/warden.log" >&2
  exit 1
fi

# --- the run ----------------------------------------------------------------------------
seed=()
if [[ "${ST_SEED:-1}" != random ]]; then seed=(--seed "${ST_SEED:-1}"); fi
status=0
(cd "$WORK" && "$VENV/bin/schemathesis" run "$ADMIN/admin/openapi.json" \
  --checks all \
  -H "Authorization: Bearer $TOKEN" \
  --max-examples "${ST_MAX_EXAMPLES:-100}" \
  "${seed[@]}" \
  --request-timeout 10 \
  --no-color) || status=$?

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  say "warden exited during the run; its log:"
  tail -n 30 "$WORK/warden.log" >&2
  [[ "$status" != 0 ]] || status=1
elif [[ "$status" != 0 ]]; then
  say "warden log (last lines):"
  tail -n 30 "$WORK/warden.log" >&2
fi
exit "$status"
