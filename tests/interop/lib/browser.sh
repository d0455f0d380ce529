#!/bin/sh
# BROWSER= script for headless OAuth logins (MCP Inspector: MCP_AUTO_OPEN_ENABLED=true):
# follows the authorization URL like a browser — scripted login/consent at the interop AS —
# down to the client's redirect URI (its loopback callback listener receives the code).
exec node "$(dirname "$0")/tokens.mjs" browse "$1"
