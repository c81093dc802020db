# syntax=docker/dockerfile:1
# Tidewatch server (REST + WebSocket on 8080, gRPC ingest on 50051).
# Build from the repo root: docker build -f docker/server.Dockerfile -t tidewatch/server .
# Not built or run on the development machines (no Docker engine there): checked as text by
# e2e/deploy/test/docker.spec.ts (dockerfile-utils' linter plus the properties below).
ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund --workspace @tidewatch/server --include-workspace-root \
 && npm run build -w @tidewatch/proto \
 && npm run build -w @tidewatch/server

FROM build AS runtime-deps
RUN rm -rf node_modules \
 && npm ci --no-audit --no-fund --omit=dev --ignore-scripts --workspace @tidewatch/server

FROM ${NODE_IMAGE} AS runtime
# A fixed, unprivileged uid: files mounted from the host (secrets, keys) are given to it.
RUN groupadd --system --gid 10001 tidewatch \
 && useradd --system --uid 10001 --gid tidewatch --home-dir /nonexistent --shell /usr/sbin/nologin tidewatch
WORKDIR /opt/tidewatch
COPY --from=runtime-deps /src/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/libs/proto/package.json ./libs/proto/package.json
COPY --from=build /src/libs/proto/dist ./libs/proto/dist
COPY --from=build /src/libs/proto/proto ./libs/proto/proto
COPY --from=build /src/apps/server/package.json ./apps/server/package.json
COPY --from=build /src/apps/server/bin ./apps/server/bin
COPY --from=build /src/apps/server/dist ./apps/server/dist
COPY docker/server-entrypoint.sh /usr/local/bin/tidewatch-server-entrypoint
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    GRPC_HOST=0.0.0.0
USER tidewatch
EXPOSE 8080 50051
# Ready = the database answers and the gRPC ingest listens (/readyz).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/tidewatch-server-entrypoint"]
CMD ["serve"]
