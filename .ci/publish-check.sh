#!/usr/bin/env bash
# Publish readiness, for CI (a fresh Debian machine with stable Rust and rustup, a clean clone):
#
#  1. every publishable crate packages and builds from its own .crate file:
#     `cargo publish --workspace --dry-run` (cargo >= 1.90 verifies the crates together, with a
#     local overlay standing in for the internal crates that are not on crates.io yet);
#  2. the workspace builds with the minimum supported Rust version declared once in the root
#     Cargo.toml (`[workspace.package] rust-version`), installed here with rustup.
#
# Knobs (environment):
#   PUBLISH_CHECK_VERIFY=0        package every crate without building it (`--no-verify`): only
#                                 metadata, file lists and dependency resolution are checked
#   PUBLISH_CHECK_ALLOW_DIRTY=1   local runs in a working tree with uncommitted changes
#   CARGO_TARGET_DIR              the dry-run's target dir (default target/); the MSRV build uses
#                                 $MSRV_TARGET_DIR (default <target dir>/msrv)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0
start=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - start ))s)"; }

# Dev-only members (publish = false); cargo skips them anyway, the list says so explicitly.
UNPUBLISHED=(warden-test-support warden-integration warden-benches)

MSRV=$(sed -n 's/^rust-version = "\([0-9.]*\)"$/\1/p' Cargo.toml | head -n 1)
if [ -z "$MSRV" ]; then
  echo "no rust-version in the root Cargo.toml [workspace.package]" >&2
  exit 1
fi

step "toolchains: $(cargo --version); MSRV $MSRV"
# Every member must inherit the workspace's rust-version (no member may declare its own).
missing=$(grep -L '^rust-version.workspace = true' crates/*/Cargo.toml providers/*/Cargo.toml \
  tests/support/Cargo.toml tests/integration/Cargo.toml benches/Cargo.toml || true)
if [ -n "$missing" ]; then
  echo "these members do not inherit rust-version from the workspace:" >&2
  echo "$missing" >&2
  exit 1
fi

dirty=()
if [ "${PUBLISH_CHECK_ALLOW_DIRTY:-0}" = 1 ]; then
  dirty=(--allow-dirty)
fi
verify=()
what="packaged and built from the .crate files"
if [ "${PUBLISH_CHECK_VERIFY:-1}" = 0 ]; then
  verify=(--no-verify)
  what="packaged only (--no-verify)"
fi
exclude=()
for p in "${UNPUBLISHED[@]}"; do exclude+=(--exclude "$p"); done

step "publish dry-run: every library crate $what"
cargo publish --workspace --dry-run --locked "${dirty[@]}" "${verify[@]}" "${exclude[@]}"

step "MSRV: rustup toolchain install $MSRV"
rustup toolchain install "$MSRV" --profile minimal --no-self-update

msrv_target=${MSRV_TARGET_DIR:-${CARGO_TARGET_DIR:-target}/msrv}
step "MSRV: cargo +$MSRV check --workspace --all-targets --all-features (target dir $msrv_target)"
CARGO_TARGET_DIR=$msrv_target cargo "+$MSRV" check --workspace --all-targets --all-features --locked

step "done"
