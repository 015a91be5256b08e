# syntax=docker/dockerfile:1
# mcp-trino server image: a release build on Debian bookworm, run as a non-root user.
#
#   docker build -t mcp-trino .
#   docker run --rm -p 127.0.0.1:8080:8080 -v $PWD/my.yaml:/etc/mcp-trino/config.yaml:ro \
#     -e MCP_TRINO_CONFIG=/etc/mcp-trino/config.yaml mcp-trino
#
# The default command serves HTTP on 0.0.0.0:8080, which mcp-trino refuses while an endpoint
# needs no bearer token, unless the configuration sets server.allow_unauthenticated_remote
# (see compose/mcp-trino.yaml). For stdio: docker run -i ... mcp-trino serve --transport stdio

FROM rust:1.95-bookworm AS builder
WORKDIR /src
# The whole workspace is needed to resolve it (Cargo.lock, members, declared benches);
# .dockerignore keeps target/ and .git out.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p mcp-trino --bin mcp-trino \
    && cp target/release/mcp-trino /usr/local/bin/mcp-trino

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 mcp \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin mcp
COPY --from=builder /usr/local/bin/mcp-trino /usr/local/bin/mcp-trino
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["mcp-trino"]
CMD ["serve", "--transport", "http", "--bind", "0.0.0.0:8080"]
