# syntax=docker/dockerfile:1
# Tidewatch console (Next.js, HTTP on 3000). It reaches the server's API at run time through
# TIDEWATCH_API_URL (e.g. http://server:8080), so one image serves every environment.
# Build from the repo root: docker build -f docker/console.Dockerfile -t tidewatch/console .
# Not built or run on the development machines (no Docker engine there): checked as text by
# e2e/deploy/test/docker.spec.ts.
ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
# The console's API types are generated from the built server's OpenAPI document.
RUN npm ci --no-audit --no-fund --workspace @tidewatch/console --workspace @tidewatch/server --include-workspace-root \
 && npm run build -w @tidewatch/proto \
 && npm run build -w @tidewatch/server \
 && npm run build -w @tidewatch/console

FROM build AS runtime-deps
RUN rm -rf node_modules \
 && npm ci --no-audit --no-fund --omit=dev --ignore-scripts --workspace @tidewatch/console

FROM ${NODE_IMAGE} AS runtime
RUN groupadd --system --gid 10002 tidewatch-console \
 && useradd --system --uid 10002 --gid tidewatch-console --home-dir /nonexistent --shell /usr/sbin/nologin tidewatch-console
WORKDIR /opt/tidewatch
COPY --from=runtime-deps /src/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/apps/console/package.json ./apps/console/package.json
COPY --from=build /src/apps/console/next.config.ts ./apps/console/next.config.ts
COPY --from=build /src/apps/console/src ./apps/console/src
COPY --from=build /src/apps/console/.next ./apps/console/.next
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    TIDEWATCH_API_URL=http://server:8080
USER tidewatch-console
WORKDIR /opt/tidewatch/apps/console
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/en').then((r) => process.exit(r.status < 500 ? 0 : 1), () => process.exit(1))"]
CMD ["node", "/opt/tidewatch/node_modules/next/dist/bin/next", "start", "--hostname", "0.0.0.0", "--port", "3000"]
