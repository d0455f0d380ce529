#!/usr/bin/env bash
# Deployment checks: the static musl binary, its container image, and the deploy/ examples.
#
#   bash .ci/deploy-check.sh
#
# Runs on a fresh Debian machine as root (installs what it needs with apt-get, pip in a venv,
# rustup); every step prints, and the script fails on the first error. Steps:
#   1. static musl release build (x86_64-unknown-linux-musl), size <= 30 MB, `file`/`ldd` static
#   2. the static binary outside any container: --version, check-config on the shipped configs,
#      spine checks over HTTP (probes, protected-resource metadata, 401 + WWW-Authenticate,
#      token -> MCP tools/call whoami, admin /metrics), stateless mode, /readyz 503 while a
#      provider is not ready, graceful SIGTERM
#   3. the container image: podman build --target local (FROM scratch only: nothing is pulled),
#      podman image inspect (user, entrypoint, env, ports, OCI labels) and its file tree
#      (containers cannot be *run* on the build machines: crun cannot set up cgroups there)
#   4. deploy/kubernetes: kubernetes-validate --strict; the ServiceMonitor against the vendored
#      CRD schema; the ConfigMap's TOML through `warden check-config`
#   5. deploy/systemd: systemd-analyze verify (binary installed at the unit's ExecStart path in a
#      scratch root), systemd-analyze security --offline
#   6. deploy/compose: YAML structure, referenced files, promtool check config (if installed)
#
# Environment: CARGO_TARGET_DIR (default ./target), WARDEN_MAX_BYTES (default 30000000),
# KEEP_IMAGE=1 keeps the built image (default: removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0
export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
step() { echo; echo "=== deploy-check: $* ($(( $(date +%s) - start ))s)"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; }

TARGET=x86_64-unknown-linux-musl
target_dir=${CARGO_TARGET_DIR:-$repo/target}
bin=$target_dir/$TARGET/release/warden
max_bytes=${WARDEN_MAX_BYTES:-30000000}
work=$(mktemp -d /tmp/warden-deploy-check.XXXXXX)
pids=()
image=localhost/warden:deploy-check-$$
podman_=(podman --storage-driver vfs)
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "${KEEP_IMAGE:-0}" != 1 ] && command -v podman >/dev/null 2>&1; then
    "${podman_[@]}" rmi -f "$image" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
step "tools: musl-tools, podman, systemd, curl, file, python3 venv; rustup target $TARGET"
need=()
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v file >/dev/null 2>&1 || need+=(file)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "  apt-get install ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check \
  kubernetes-validate==1.37.0 jsonschema==4.26.0 PyYAML==6.0.4
py=$work/venv/bin/python

# ---------------------------------------------------------------------------------------------
step "static musl release build: cargo build --release --locked --target $TARGET -p warden"
# aws-lc-sys and libmimalloc-sys compile C through the cc crate, which uses musl-gcc for this
# target (no cmake/clang needed). .git may be absent in CI checkouts; build.rs handles both.
t0=$(date +%s)
cargo build --release --locked --target "$TARGET" -p warden
t1=$(date +%s)
echo "  build time: $(( t1 - t0 ))s"

step "size and linkage"
size=$(stat -c %s "$bin")
echo "  $bin: $size bytes ($(( size / 1024 / 1024 )) MiB; limit $max_bytes bytes)"
[ "$size" -le "$max_bytes" ] || fail "binary is $size bytes, over $max_bytes"
ok "size <= $max_bytes bytes"
file_out=$(file -b "$bin"); echo "  file: $file_out"
case "$file_out" in
  *"static-pie linked"*|*"statically linked"*) ;;
  *) fail "file does not report a static binary" ;;
esac
ldd_out=$(ldd "$bin" 2>&1 || true); echo "  ldd: $(echo "$ldd_out" | tr -s ' \t\n' ' ')"
case "$ldd_out" in
  *"statically linked"*|*"not a dynamic executable"*) ;;
  *) fail "ldd lists shared libraries" ;;
esac
ok "static (no interpreter, no shared libraries)"

# ---------------------------------------------------------------------------------------------
step "the static binary: --version, check-config on the shipped configs"
"$bin" --version | tee "$work/version"
grep -q '^warden ' "$work/version" || fail "--version"
admin_token=deploy-check-admin-$RANDOM$RANDOM$RANDOM
for cfg in deploy/container/warden.toml deploy/container/warden-dev.toml; do
  WARDEN_ADMIN__TOKEN=$admin_token "$bin" check-config --config "$cfg" >"$work/effective.json" \
    || fail "check-config $cfg"
  "$py" -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["server"]["bind"].startswith("0.0.0.0:"), c["server"]; assert c["admin"]["token"]=="***"' "$work/effective.json" \
    || fail "$cfg: effective config"
  ok "check-config $cfg (binds 0.0.0.0, admin token redacted)"
  # The admin listener on 0.0.0.0 without a token is a config error (exit 2).
  set +e; env -u WARDEN_ADMIN__TOKEN "$bin" check-config --config "$cfg" >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" = 2 ] || fail "$cfg without WARDEN_ADMIN__TOKEN: exit $rc, expected 2"
  ok "$cfg without WARDEN_ADMIN__TOKEN: exit 2"
done
# WARDEN_CONFIG selects the file like --config.
WARDEN_CONFIG=deploy/container/warden.toml WARDEN_ADMIN__TOKEN=$admin_token "$bin" check-config \
  | "$py" -c 'import json,sys; c=json.load(sys.stdin); assert c["auth"]["providers"]==["idp"], c["auth"]' \
  || fail "WARDEN_CONFIG not honoured"
ok "WARDEN_CONFIG=deploy/container/warden.toml selects that file"

# ---------------------------------------------------------------------------------------------
step "spine checks of the static binary (deploy/container/warden-dev.toml, loopback ports)"
free_ports() { "$py" -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))'; }
read -r port aport < <(free_ports)
base=http://127.0.0.1:$port
admin=http://127.0.0.1:$aport
cp deploy/container/warden-dev.toml "$work/warden.toml"
# The shipped config binds 0.0.0.0; the environment moves it to free loopback ports.
export WARDEN_SERVER__BIND=127.0.0.1:$port WARDEN_SERVER__PUBLIC_URL=$base \
  WARDEN_ADMIN__BIND=127.0.0.1:$aport WARDEN_ADMIN__TOKEN=$admin_token \
  WARDEN_SERVER__DATA_DIR=$work/state XDG_STATE_HOME=$work/xdg
echo "  main $base, admin $admin, state $work/state"

start_warden() { # $1 = log file; config from WARDEN_CONFIG
  (cd "$work" && exec "$bin" serve) >"$1" 2>&1 &
  wpid=$!; pids+=("$wpid")
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && return 0
    kill -0 "$wpid" 2>/dev/null || { cat "$1"; fail "warden exited during startup"; }
    sleep 0.1
  done
  cat "$1"; fail "warden did not answer /healthz within 10 s"
}
stop_warden() { # graceful: SIGTERM, exit 0
  kill -TERM "$wpid"
  set +e; wait "$wpid"; rc=$?; set -e
  [ "$rc" = 0 ] || { cat "$1"; fail "warden exited $rc after SIGTERM"; }
  ok "SIGTERM: exit 0"
}
# http METHOD URL OUT [curl args...] -> prints the status; headers in OUT.h, body in OUT.b
http() {
  local m=$1 u=$2 o=$3; shift 3
  curl -sS -X "$m" -o "$o.b" -D "$o.h" -w '%{http_code}' "$@" "$u"
}
expect() { # expect STATUS ACTUAL WHAT
  [ "$2" = "$1" ] || { echo "  headers:"; cat "$work/r.h" 2>/dev/null; echo "  body:"; head -c 2000 "$work/r.b" 2>/dev/null; echo; fail "$3: HTTP $2, expected $1"; }
  ok "$3: HTTP $2"
}
mcp_hdr=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
proto=2025-11-25
# The JSON-RPC answer from a JSON body or an SSE stream (first `data:` message with an id).
rpc() { "$py" -c '
import json, sys
body = open(sys.argv[1]).read()
try:
    print(json.dumps(json.loads(body)))
except ValueError:
    data = []
    for line in body.splitlines() + [""]:
        if line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line:
            text = "".join(data); data = []
            try:
                m = json.loads(text)
            except ValueError:
                continue  # e.g. the empty priming event of a resumable stream
            if isinstance(m, dict) and "id" in m and ("result" in m or "error" in m):
                print(json.dumps(m)); break
' "$1"; }

export WARDEN_CONFIG=$work/warden.toml
start_warden "$work/serve.log"

s=$(http GET "$base/healthz" "$work/r"); expect 200 "$s" "GET /healthz"
ready=""
for _ in $(seq 1 50); do
  s=$(http GET "$base/readyz" "$work/r"); [ "$s" = 200 ] && { ready=1; break; }; sleep 0.1
done
[ -n "$ready" ] || { cat "$work/r.b"; fail "GET /readyz: HTTP $s, expected 200"; }
expect 200 "$s" "GET /readyz"

s=$(http GET "$base/.well-known/oauth-protected-resource/mcp" "$work/r"); expect 200 "$s" "GET /.well-known/oauth-protected-resource/mcp"
"$py" -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["resource"] == sys.argv[2] + "/mcp", m
assert m["authorization_servers"], m
print("  resource", m["resource"], "authorization_servers", m["authorization_servers"])' "$work/r.b" "$base" \
  || fail "protected-resource metadata"
grep -qi '^content-type: application/json' "$work/r.h" || fail "metadata content-type"

call='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
s=$(http POST "$base/mcp" "$work/r" "${mcp_hdr[@]}" -H "MCP-Protocol-Version: $proto" --data "$call")
expect 401 "$s" "POST /mcp tools/call whoami without a token"
www=$(grep -i '^www-authenticate:' "$work/r.h" | tr -d '\r' || true); echo "  $www"
case "$www" in
  *"Bearer "*"resource_metadata=\"$base/.well-known/oauth-protected-resource/mcp\""*) ok "WWW-Authenticate: Bearer ... resource_metadata=" ;;
  *) fail "WWW-Authenticate: $www" ;;
esac

token=$("$bin" token --config "$work/warden.toml" --sub deploy-check --scope 'news:read profile' --ttl 10m)
[ -n "$token" ] || fail "warden token printed nothing"
ok "warden token --config $work/warden.toml --sub deploy-check (${#token} chars)"
auth=(-H "Authorization: Bearer $token")

init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'$proto'","capabilities":{},"clientInfo":{"name":"deploy-check","version":"0"}}}'
s=$(http POST "$base/mcp" "$work/r" "${mcp_hdr[@]}" "${auth[@]}" --data "$init"); expect 200 "$s" "initialize (token)"
session=$(grep -i '^mcp-session-id:' "$work/r.h" | head -1 | cut -d: -f2- | tr -d ' \r')
[ -n "$session" ] || fail "no Mcp-Session-Id on initialize"
rpc "$work/r.b" | "$py" -c 'import json,sys; m=json.load(sys.stdin); print("  server", m["result"]["serverInfo"], "protocol", m["result"]["protocolVersion"])'
sess=(-H "Mcp-Session-Id: $session" -H "MCP-Protocol-Version: $proto")
s=$(http POST "$base/mcp" "$work/r" "${mcp_hdr[@]}" "${auth[@]}" "${sess[@]}" \
  --data '{"jsonrpc":"2.0","method":"notifications/initialized"}'); expect 202 "$s" "notifications/initialized"
s=$(http POST "$base/mcp" "$work/r" "${mcp_hdr[@]}" "${auth[@]}" "${sess[@]}" --data "$call"); expect 200 "$s" "tools/call whoami (token, session)"
rpc "$work/r.b" > "$work/whoami.json"
"$py" -c '
import json, sys
m = json.load(open(sys.argv[1]))
r = m["result"]
assert not r.get("isError"), r
text = json.dumps(r)
assert "deploy-check" in text, r
print("  whoami:", (json.dumps(r.get("structuredContent")) if r.get("structuredContent") else r["content"][0]["text"])[:300])' "$work/whoami.json" \
  || fail "whoami does not name the subject"
ok "whoami answers subject deploy-check"

s=$(http GET "$admin/metrics" "$work/r"); expect 200 "$s" "admin GET /metrics (no token)"
grep -q '^warden_build_info' "$work/r.b" || fail "/metrics has no warden_build_info"
s=$(http GET "$admin/admin/v1/ready" "$work/r"); expect 401 "$s" "admin GET /admin/v1/ready without the admin token"
s=$(http GET "$admin/admin/v1/ready" "$work/r" -H "Authorization: Bearer $admin_token"); expect 200 "$s" "admin GET /admin/v1/ready with the admin token"
stop_warden "$work/serve.log"

step "spine checks: stateless mode (WARDEN_SERVER__STATELESS=true: no initialize, plain JSON)"
WARDEN_SERVER__STATELESS=true start_warden "$work/serve-stateless.log"
s=$(http POST "$base/mcp" "$work/r" "${mcp_hdr[@]}" -H "MCP-Protocol-Version: $proto" --data "$call"); expect 401 "$s" "tools/call whoami without a token"
s=$(http POST "$base/mcp" "$work/r" "${mcp_hdr[@]}" -H "MCP-Protocol-Version: $proto" "${auth[@]}" --data "$call"); expect 200 "$s" "tools/call whoami (token, no session)"
rpc "$work/r.b" | grep -q 'deploy-check' || fail "stateless whoami does not name the subject"
ok "stateless whoami answers subject deploy-check"
stop_warden "$work/serve-stateless.log"

step "readiness: /readyz 503 while a provider is not ready (deploy/container/warden.toml, IdP unreachable)"
# The shipped jwt config with its issuer on a closed loopback port: discovery fails, so the
# process is alive (/healthz 200) but not ready (/readyz 503 + Retry-After).
read -r closed _ < <(free_ports)
WARDEN_CONFIG=$repo/deploy/container/warden.toml WARDEN_PROVIDERS__IDP__ISSUER=http://127.0.0.1:$closed/ \
  WARDEN_PROVIDERS__IDP__TIMEOUT=1s start_warden "$work/serve-jwt.log"
s=$(http GET "$base/healthz" "$work/r"); expect 200 "$s" "GET /healthz"
s=$(http GET "$base/readyz" "$work/r"); expect 503 "$s" "GET /readyz (provider not ready)"
grep -qi '^retry-after:' "$work/r.h" || fail "/readyz 503 without Retry-After"
ok "Retry-After present"
stop_warden "$work/serve-jwt.log"
unset WARDEN_CONFIG WARDEN_SERVER__BIND WARDEN_SERVER__PUBLIC_URL WARDEN_ADMIN__BIND WARDEN_ADMIN__TOKEN \
  WARDEN_SERVER__DATA_DIR XDG_STATE_HOME

# ---------------------------------------------------------------------------------------------
step "container image: podman build --target local (FROM scratch; nothing pulled)"
# A small build context: the Dockerfile, deploy/container/ and the one static binary.
ctx=$work/context
mkdir -p "$ctx/target/$TARGET/release" "$ctx/deploy"
cp Dockerfile .dockerignore "$ctx/"
cp -a deploy/container "$ctx/deploy/"
cp "$bin" "$ctx/target/$TARGET/release/warden"
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
version=$("$bin" --version | awk '{print $2}')
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$(date +%s)
# --no-cache: buildah 1.28 (Debian 12's podman 4.3) reuses cached ARG/LABEL layers even when the
# build-arg values differ, which would keep stale revision/created labels.
"${podman_[@]}" build --no-cache --target local -t "$image" \
  --build-arg "VERSION=$version" --build-arg "WARDEN_GIT_COMMIT=$commit" --build-arg "CREATED=$created" \
  "$ctx"
echo "  podman build: $(( $(date +%s) - t0 ))s"

step "container image: podman image inspect"
"${podman_[@]}" image inspect "$image" >"$work/inspect.json"
"$py" - "$work/inspect.json" "$version" "$commit" <<'EOF'
import json, sys
img = json.load(open(sys.argv[1]))[0]
c = img["Config"]
print("  size", img["Size"], "bytes;", len(img["RootFS"]["Layers"]), "layers")
for k in ("User", "Entrypoint", "Cmd", "WorkingDir", "ExposedPorts", "Env"):
    print(f"  {k}: {c.get(k)}")
labels = c.get("Labels") or {}
for k in sorted(labels):
    print(f"  label {k}={labels[k]}")
assert c["User"] == "65532:65532", c["User"]
assert c["Entrypoint"] == ["/warden"], c["Entrypoint"]
assert c["Cmd"] == ["serve"], c["Cmd"]
assert "WARDEN_CONFIG=/etc/warden/warden.toml" in c["Env"], c["Env"]
assert set(c["ExposedPorts"]) == {"10000/tcp", "10001/tcp"}, c["ExposedPorts"]
for k in ("title", "description", "version", "revision", "created", "licenses", "source"):
    assert labels.get("org.opencontainers.image." + k), k
assert labels["org.opencontainers.image.version"] == sys.argv[2], labels
assert labels["org.opencontainers.image.revision"] == sys.argv[3], labels
assert img["Size"] < 32_000_000, img["Size"]
EOF
ok "user 65532, entrypoint /warden, cmd serve, WARDEN_CONFIG, ports 10000+10001, OCI labels"

step "container image: file tree (podman image mount)"
mnt=$("${podman_[@]}" image mount "$image")
(cd "$mnt" && find . -printf '  %M %4U:%-5G %10s %p\n' | sort -k5)
[ "$(stat -c '%u:%g %a' "$mnt/var/lib/warden")" = "65532:65532 755" ] || fail "/var/lib/warden not owned by 65532"
[ "$(stat -c '%u' "$mnt/warden")" = 0 ] || fail "/warden not root-owned"
cmp -s "$mnt/warden" "$bin" || fail "/warden differs from the tested binary"
# The image's own binary and config (run from the host: the binary is static).
WARDEN_ADMIN__TOKEN=$admin_token "$mnt/warden" check-config --config "$mnt/etc/warden/warden.toml" >/dev/null \
  || fail "the image's /etc/warden/warden.toml fails check-config"
ok "/warden is the tested binary; /var/lib/warden owned by 65532; the image's config passes check-config"
"${podman_[@]}" image unmount "$image" >/dev/null

# ---------------------------------------------------------------------------------------------
step "kubernetes: kubernetes-validate --strict (1.37.0 schemas; Kubernetes 1.30 and 1.37)"
cd deploy/kubernetes
core=(configmap.yaml secret.yaml deployment.yaml service.yaml pdb.yaml)
for k in 1.30 1.37; do
  "$work/venv/bin/kubernetes-validate" --strict -k "$k" "${core[@]}"
done
step "kubernetes: ServiceMonitor against the vendored CRD schema (schemas/servicemonitor_v1.json)"
"$py" - <<'EOF'
import json, os, yaml, jsonschema
schema = json.load(open("schemas/servicemonitor_v1.json"))
doc = yaml.safe_load(open("servicemonitor.yaml"))
assert doc["apiVersion"] == "monitoring.coreos.com/v1" and doc["kind"] == "ServiceMonitor", doc
jsonschema.validators.validator_for(schema)(schema).validate(doc)
print("  servicemonitor.yaml: valid (additional properties rejected)")
# Cross-references: the ServiceMonitor selects the Service and names its admin port; the
# Deployment's probes use the main port; kustomization lists every manifest.
svc = yaml.safe_load(open("service.yaml"))
dep = yaml.safe_load(open("deployment.yaml"))
kus = yaml.safe_load(open("kustomization.yaml"))
sel = doc["spec"]["selector"]["matchLabels"]
assert all(svc["metadata"]["labels"].get(k) == v for k, v in sel.items()), "ServiceMonitor selector"
ports = {p["name"]: p for p in svc["spec"]["ports"]}
assert doc["spec"]["endpoints"][0]["port"] in ports and doc["spec"]["endpoints"][0]["path"] == "/metrics"
c = dep["spec"]["template"]["spec"]["containers"][0]
assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
sc = c["securityContext"]
assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"] and sc["capabilities"]["drop"] == ["ALL"]
assert dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
assert {"name": "WARDEN_CONFIG", "value": "/etc/warden/warden.toml"} in c["env"]
assert all(os.path.exists(r) for r in kus["resources"]), kus["resources"]
print("  cross-references: ServiceMonitor -> Service port admin /metrics; probes /healthz, /readyz on http; kustomization resources exist")
yaml.safe_load(open("configmap.yaml"))
EOF
step "kubernetes: the ConfigMap's warden.toml with the Secret's variables through warden check-config"
"$py" -c 'import yaml; print(yaml.safe_load(open("configmap.yaml"))["data"]["warden.toml"], end="")' >"$work/k8s.toml"
"$py" -c 'import yaml, shlex; [print(f"export {k}={shlex.quote(v)}") for k, v in yaml.safe_load(open("secret.yaml"))["stringData"].items()]' >"$work/k8s.env"
(set -a; . "$work/k8s.env"; WARDEN_SERVER__PUBLIC_URL=https://mcp.example.com "$bin" check-config --config "$work/k8s.toml" >/dev/null) \
  || fail "the ConfigMap's TOML fails check-config"
ok "ConfigMap warden.toml + Secret env: check-config exit 0"
cd "$repo"

# ---------------------------------------------------------------------------------------------
step "systemd: systemd-analyze verify deploy/systemd/warden.service"
# verify checks that ExecStart's binary exists: install it at the unit's path in a scratch root
# (with the distribution's units, for the targets the unit orders against).
root=$work/sdroot
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' deploy/systemd/warden.service)
install -D -m 0755 "$bin" "$root$exe"
install -D -m 0644 deploy/systemd/warden.service "$root/etc/systemd/system/warden.service"
mkdir -p "$root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
systemd-analyze verify --man=no --generators=no --root="$root" /etc/systemd/system/warden.service \
  >"$work/verify.out" 2>&1 || { cat "$work/verify.out"; fail "systemd-analyze verify"; }
# verify only warns about unknown keys; treat any output as a failure.
[ ! -s "$work/verify.out" ] || { cat "$work/verify.out"; fail "systemd-analyze verify printed warnings"; }
ok "systemd-analyze verify: clean (ExecStart $exe present)"
systemd-analyze security --offline=yes --threshold=20 --root="$root" /etc/systemd/system/warden.service \
  >"$work/security.out" 2>&1 || { cat "$work/security.out"; fail "systemd-analyze security: exposure over 2.0"; }
grep -E '✗' "$work/security.out" | sed 's/^/  /' || true
tail -1 "$work/security.out" | sed 's/^/  /'

# ---------------------------------------------------------------------------------------------
step "compose: deploy/compose/compose.yaml, prometheus.yml, Grafana provisioning"
"$py" - <<'EOF'
import os, yaml
os.chdir("deploy/compose")
c = yaml.safe_load(open("compose.yaml"))
svcs = c["services"]
assert {"warden", "prometheus", "grafana"} <= set(svcs), svcs.keys()
for name, s in svcs.items():
    assert "image" in s or "build" in s, name
    for v in s.get("volumes", []):
        src = v.split(":")[0]
        if src.startswith((".", "/")):
            assert os.path.exists(src), f"{name}: volume source {src} missing"
        else:
            assert src in (c.get("volumes") or {}), f"{name}: named volume {src} undeclared"
    for d in s.get("depends_on", []):
        assert d in svcs, f"{name}: depends_on {d}"
w = svcs["warden"]
assert w["build"]["target"] in ("release", "local") and os.path.exists(os.path.join(w["build"]["context"], w["build"].get("dockerfile", "Dockerfile")))
assert any(v.endswith(":/etc/warden/warden.toml:ro") for v in w["volumes"])
p = yaml.safe_load(open("prometheus.yml"))
jobs = {j["job_name"]: j for j in p["scrape_configs"]}
assert jobs["warden"]["metrics_path"] == "/metrics"
assert jobs["warden"]["static_configs"][0]["targets"] == ["warden:10001"]
ds = yaml.safe_load(open("grafana/provisioning/datasources/prometheus.yaml"))
assert ds["datasources"][0]["type"] == "prometheus"
db = yaml.safe_load(open("grafana/provisioning/dashboards/warden.yaml"))
mounted = [v.split(":")[1] for v in svcs["grafana"]["volumes"] if "warden-overview.json" in v][0]
assert os.path.dirname(mounted) == db["providers"][0]["options"]["path"], (mounted, db)
print("  compose.yaml: services", sorted(svcs), "; volume sources exist; prometheus scrapes warden:10001/metrics; Grafana datasource + dashboard provider consistent")
EOF
if command -v promtool >/dev/null 2>&1; then
  # The rule file path inside the container is /etc/prometheus/alerts.yml; check with a copy.
  sed "s#/etc/prometheus/alerts.yml#$repo/dashboards/alerts.yml#" deploy/compose/prometheus.yml >"$work/prometheus.yml"
  promtool check config "$work/prometheus.yml"
else
  echo "  promtool not installed: prometheus.yml checked structurally only"
fi
if command -v podman-compose >/dev/null 2>&1; then
  (cd deploy/compose && podman-compose config >/dev/null) && ok "podman-compose config"
fi

step "done: binary $size bytes, all deploy checks passed"
