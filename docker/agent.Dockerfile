# syntax=docker/dockerfile:1
# Tidewatch host agent. It watches the host's own interfaces, so it runs with host networking
# and only its capabilities (docker/compose.yaml): CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON on
# kernels >= 5.8; CAP_SYS_ADMIN and CAP_NET_ADMIN before 5.8 (Kylin V10's 4.19: build with
# --build-arg AGENT_CAPS=cap_sys_admin,cap_net_admin, service agent-kernel-lt-5.8).
# The user is not root: Docker gives a non-root user no ambient capabilities, so this image's own
# copy of node carries them as file capabilities (setcap), bounded by the container's cap_add.
# Build from the repo root: docker build -f docker/agent.Dockerfile -t tidewatch/agent .
# Not built or run on the development machines (no Docker engine there): checked as text by
# e2e/deploy/test/docker.spec.ts.
ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS build
# clang/llvm for the BPF objects, libbpf/libelf/zlib and a C++ toolchain for the native addon.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      clang llvm libbpf-dev \
      libelf-dev zlib1g-dev linux-libc-dev make g++ python3 pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund --workspace @tidewatch/agent --include-workspace-root \
 && npm run build -w @tidewatch/proto \
 && npm run build -w @tidewatch/bpf \
 && npm run build -w @tidewatch/agent

FROM build AS runtime-deps
RUN rm -rf node_modules \
 && npm ci --no-audit --no-fund --omit=dev --ignore-scripts --workspace @tidewatch/agent

FROM ${NODE_IMAGE} AS runtime
ARG AGENT_CAPS=cap_bpf,cap_net_admin,cap_perfmon
# Shared libraries of the addon, and setcap (libcap2-bin) for the node copy below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 libelf1 libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10003 tidewatch-agent \
 && useradd --system --uid 10003 --gid tidewatch-agent --home-dir /var/lib/tidewatch --shell /usr/sbin/nologin tidewatch-agent \
 && mkdir -p /opt/tidewatch/bin /var/lib/tidewatch \
 && cp /usr/local/bin/node /opt/tidewatch/bin/node \
 && setcap "${AGENT_CAPS}=ep" /opt/tidewatch/bin/node \
 && chown tidewatch-agent:tidewatch-agent /var/lib/tidewatch \
 && chmod 0700 /var/lib/tidewatch
WORKDIR /opt/tidewatch
COPY --from=runtime-deps /src/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/libs/proto/package.json ./libs/proto/package.json
COPY --from=build /src/libs/proto/dist ./libs/proto/dist
COPY --from=build /src/libs/proto/proto ./libs/proto/proto
COPY --from=build /src/libs/bpf/package.json ./libs/bpf/package.json
COPY --from=build /src/libs/bpf/dist ./libs/bpf/dist
COPY --from=build /src/libs/bpf/build ./libs/bpf/build
COPY --from=build /src/libs/bpf/native/build/Release ./libs/bpf/native/build/Release
COPY --from=build /src/apps/agent/package.json ./apps/agent/package.json
COPY --from=build /src/apps/agent/bin ./apps/agent/bin
COPY --from=build /src/apps/agent/dist ./apps/agent/dist
# MALLOC_ARENA_MAX=2 and --jitless --no-expose-wasm: the agent's launch settings
# (apps/agent/src/health/launch-flags.ts), ~10 MB less memory for the same windows.
ENV NODE_ENV=production \
    TIDEWATCH_STATE_DIR=/var/lib/tidewatch \
    MALLOC_ARENA_MAX=2
USER tidewatch-agent
VOLUME ["/var/lib/tidewatch"]
# /healthz on the metrics listener (metricsListen in the config, e.g. 127.0.0.1:9464).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/opt/tidewatch/bin/node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/opt/tidewatch/bin/node", "--jitless", "--no-expose-wasm", "/opt/tidewatch/apps/agent/bin/tidewatch-agent.js"]
CMD ["run", "--config", "/etc/tidewatch/agent.yaml"]
