# syntax=docker/dockerfile:1
# taskorch: one image for every component. The entrypoint is the `taskorch` CLI:
#   docker run taskorch scheduler|coordinator|worker|all-in-one    (default: all-in-one)
# Build: docker build -t taskorch:dev .

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile every workspace (tsc -b); generated protobuf code is committed -------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Manifests first, so the dependency layer is cached until a package.json or the lockfile changes.
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY libs/proto/package.json libs/proto/
COPY libs/domain/package.json libs/domain/
COPY libs/config/package.json libs/config/
COPY libs/telemetry/package.json libs/telemetry/
COPY libs/store/package.json libs/store/
COPY libs/bus/package.json libs/bus/
COPY libs/rpc/package.json libs/rpc/
COPY libs/worker-sdk/package.json libs/worker-sdk/
COPY libs/testkit/package.json libs/testkit/
COPY services/scheduler/package.json services/scheduler/
COPY services/coordinator/package.json services/coordinator/
COPY services/worker/package.json services/worker/
COPY services/all-in-one/package.json services/all-in-one/
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY libs libs
COPY services services
RUN npm run build
# Keep what runs: package.json, dist/ and runtime assets (migrations/, queries/, *.binpb, protos/).
RUN mkdir /out && tar -c \
      --exclude=src --exclude=scripts --exclude=node_modules --exclude='*.tsbuildinfo' \
      --exclude='tsconfig*.json' --exclude='*.test.*' --exclude='*.map' \
      libs services | tar -x -C /out

# --- prod-deps: production dependencies only ---------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it (the Helm chart uses 10001).
RUN groupadd --system --gid 10001 taskorch \
 && useradd --system --uid 10001 --gid taskorch --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin taskorch
COPY --from=prod-deps --chown=root:root /app/ ./
USER 10001:10001
# gRPC: scheduler 50051, coordinator 50052. Metrics and /health: METRICS_PORT (9090).
EXPOSE 50051 50052 9090
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || 9090) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "services/all-in-one/dist/cli.js"]
CMD ["all-in-one"]
