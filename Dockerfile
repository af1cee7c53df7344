# syntax=docker/dockerfile:1.7
# idgap: the operator and the CLI in one static-ish binary on a distroless, non-root base.
#
#   docker build -t ghcr.io/idgap/idgap:dev .
#   docker run --rm ghcr.io/idgap/idgap:dev --help
#
# TLS is rustls with bundled webpki roots, so the runtime image needs no OpenSSL and no CA
# package; distroless/cc provides glibc and libgcc for the Rust std runtime.

ARG RUST_VERSION=1.95
FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src

COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY src ./src
# Cache mounts keep the registry and incremental deps between builds; the binary is copied
# out of the cached target dir before the mount goes away.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p idgap --bin idgap \
 && install -D -m 0755 target/release/idgap /out/idgap

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="idgap" \
      org.opencontainers.image.description="Finds identity gaps and access-hygiene problems in Salesforce orgs" \
      org.opencontainers.image.source="https://github.com/idgap/idgap" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/idgap /idgap
# distroless's nonroot user; the Helm chart also sets runAsUser 65532 and a read-only root.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/idgap"]
CMD ["run"]
