# warden container image: one static (musl) binary on an empty base.
#
# Targets:
#   (default) release  build the static binary from source in a Rust builder, then package it
#                      podman build -t warden:latest --build-arg WARDEN_GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
#   local              package an already built static binary; needs no base image at all
#                      (FROM scratch only, nothing is pulled). The build context must hold
#                        target/x86_64-unknown-linux-musl/release/warden
#                        deploy/container/
#                      e.g. after `cargo build --release --locked --target x86_64-unknown-linux-musl -p warden`:
#                      podman build --target local -t warden:local .
#                      (.ci/deploy-check.sh stages exactly those paths into a small context.)
#
# The image: /warden (ENTRYPOINT), `serve` (CMD), the config at /etc/warden/warden.toml
# (WARDEN_CONFIG; mount your own over it), a writable state directory /var/lib/warden
# (server.data_dir in the shipped configs; only the dev issuer writes there), user 65532:65532,
# main listener 10000, admin listener (health, /metrics, admin API) 10001.

ARG RUST_VERSION=1.95

# ---------------------------------------------------------------------------------------------
# builder: the static musl binary from source. aws-lc-sys (jsonwebtoken's aws_lc_rs backend)
# and libmimalloc-sys compile C with the `cc` crate, which picks musl-gcc for the musl target:
# musl-tools is all they need (no cmake, clang or nasm on x86_64).
FROM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
# .git is not in the build context: build.rs takes the commit from here for `warden --version`.
ARG WARDEN_GIT_COMMIT=unknown
ENV WARDEN_GIT_COMMIT=${WARDEN_GIT_COMMIT} CARGO_INCREMENTAL=0
RUN cargo build --release --locked --target x86_64-unknown-linux-musl -p warden \
 && install -D -m 0755 target/x86_64-unknown-linux-musl/release/warden /out/warden \
 && /out/warden --version

# ---------------------------------------------------------------------------------------------
# runtime: everything but the binary. Empty base, so no shell, no package manager, no libc.
FROM scratch AS runtime
ARG VERSION=0.1.0
ARG WARDEN_GIT_COMMIT=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="warden" \
      org.opencontainers.image.description="warden: OAuth 2.1 in front of MCP tools (static musl binary on scratch)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${WARDEN_GIT_COMMIT}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://example.invalid/warden" \
      org.opencontainers.image.url="https://example.invalid/warden" \
      org.opencontainers.image.documentation="https://example.invalid/warden/blob/main/deploy/README.md" \
      org.opencontainers.image.vendor="warden" \
      org.opencontainers.image.base.name="scratch"
# The skeleton, root-owned: /etc/passwd and /etc/group name the numeric user (for ps and logs;
# warden needs neither), /var/lib.
COPY deploy/container/rootfs/ /
# The example config: 0.0.0.0 binds, a jwt provider. Mount your own (ConfigMap, volume) over it.
COPY deploy/container/warden.toml /etc/warden/warden.toml
# The writable state directory (server.data_dir, XDG_STATE_HOME/warden), owned by the runtime
# user. Nothing else in the image is writable by it.
COPY --chown=65532:65532 deploy/container/state/ /var/lib/warden/
ENV WARDEN_CONFIG=/etc/warden/warden.toml \
    XDG_STATE_HOME=/var/lib \
    HOME=/var/lib/warden
USER 65532:65532
WORKDIR /var/lib/warden
EXPOSE 10000/tcp 10001/tcp
ENTRYPOINT ["/warden"]
CMD ["serve"]

# ---------------------------------------------------------------------------------------------
# local: a static binary built outside (CI, `cargo build --target x86_64-unknown-linux-musl`).
FROM runtime AS local
COPY --chown=0:0 target/x86_64-unknown-linux-musl/release/warden /warden

# ---------------------------------------------------------------------------------------------
# release (default): the binary from the builder stage.
FROM runtime AS release
COPY --from=builder --chown=0:0 /out/warden /warden
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
