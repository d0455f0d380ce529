#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: repeatable to about 0.1 % on a
# machine whose req/s swings by ±15 % from run to run (a shared VM), so a small change on the
# request path can be measured before and after. User space only (the kernel's TCP work is
# not counted), all threads of the server. valgrind hides SHA-NI from the program, so SHA-256
# of the token runs in software here (about 27 000 instructions per request for a dev JWT,
# a few hundred cycles natively): compare binaries with each other, not with wall-clock time.
#
# Usage: bash benches/load/instructions.sh [SERVER...]
#   SERVER: warden (row (b)'s request), warden26 (row (b26)'s), rmcp-noauth, baseline;
#   default: warden warden26 rmcp-noauth baseline.
# Knobs: BIN (directory of the release binaries, default target/release; build them with
# `cargo build --release -p warden -p warden-benches --bins`), DURATION (s of counted load,
# default 10), OUT (file the callgrind profiles go to, default a temporary directory: set it to
# keep them for callgrind_annotate). Needs valgrind and wrk (apt-get install -y valgrind wrk).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release}
DURATION=${DURATION:-10}
SERVERS=${*:-warden warden26 rmcp-noauth baseline}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/warden-instructions.XXXXXX")
OUT=${OUT:-$WORK}
mkdir -p "$OUT"
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in valgrind callgrind_control wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "instructions.sh: $tool is missing (apt-get install -y valgrind wrk curl)" >&2; exit 1; }
done
export WRK_LUA_DIR=$HERE WRK_THREADS=1

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s/@PORT@/$PORT/g" -e "s#@DATA_DIR@#$WORK/data#" -e 's/@PROVIDERS@/"dev"/' \
  "$HERE/warden.toml.in" >"$WORK/warden.toml"
printf '\n[providers.dev]\nkind = "dev"\n\n[admin]\nenabled = false\n' >>"$WORK/warden.toml"
mkdir -p "$WORK/data"

echo "| server | request | requests counted | instructions per request |"
echo "|---|---|---:|---:|"
for server in $SERVERS; do
  lua=post.lua
  case $server in
    warden) cmd=("$BIN/warden" serve --config "$WORK/warden.toml") ;;
    warden26) cmd=("$BIN/warden" serve --config "$WORK/warden.toml"); lua=post-2026.lua ;;
    rmcp-noauth | baseline) cmd=("$BIN/$server" "127.0.0.1:$PORT") ;;
    *) echo "instructions.sh: unknown server $server" >&2; exit 1 ;;
  esac
  [[ -x ${cmd[0]} ]] || { echo "instructions.sh: ${cmd[0]} is missing (cargo build --release -p warden -p warden-benches --bins)" >&2; exit 1; }
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$server.%p" "${cmd[@]}" \
    >"$WORK/$server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
    sleep 0.2
  done
  token=x
  if [[ $server == warden* ]]; then
    token=$("$BIN/warden" token --config "$WORK/warden.toml" --scope "news:read profile")
  fi
  # Warm up (caches, connections), then count only the measured run.
  TOKEN=$token wrk -t1 -c4 -d4s -s "$HERE/$lua" "http://127.0.0.1:$PORT/mcp" >/dev/null
  callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
  summary=$(TOKEN=$token wrk -t1 -c4 -d"${DURATION}s" -s "$HERE/$lua" "http://127.0.0.1:$PORT/mcp" | grep '^WRK')
  callgrind_control -d "$SERVER_PID" >/dev/null 2>&1
  sleep 1
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  requests=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$summary")
  non2xx=$(sed 's/.*non2xx=\([0-9]*\).*/\1/' <<<"$summary")
  [[ $non2xx == 0 ]] || { echo "instructions.sh: $server answered $non2xx requests with a non-2xx status" >&2; exit 1; }
  # The dump holds the counts since the zeroing; the file written at exit holds the rest.
  dump=$(ls -t "$OUT"/callgrind."$server".[0-9]* | grep -E '\.[0-9]+\.[0-9]+$' | head -1)
  total=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
  echo "| $server | ${lua%.lua} | $requests | $((total / requests)) |"
done
