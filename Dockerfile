# One image, two roles (DESIGN.md §8):
#   API     docker run IMAGE                          (node dist/server.js)
#   worker  docker run IMAGE node dist/worker.js
# Production shape: PostgreSQL (DATABASE_URL) and an external Redis (REDIS_URL, AOF on, noeviction).
# redis-server is deliberately not installed, so REDIS_URL is required: the embedded "start a local
# redis-server" fallback is for `npm start` on a developer machine only.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 is a native addon: npm tries a prebuilt binary first and compiles from source when none
# matches, which needs a toolchain. Only this stage has it; the runtime stage copies the built addon.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && node -e "require('better-sqlite3')"

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    CERTS_DIR=/certs \
    RULES_DIR=/app/rules
WORKDIR /app
RUN groupadd --system --gid 10001 miaopi \
 && useradd --system --uid 10001 --gid miaopi --home-dir /app --no-create-home --shell /usr/sbin/nologin miaopi \
 && mkdir -p /data /certs \
 && chown miaopi:miaopi /data
# The CJK font for certificates is the npm package @expo-google-fonts/noto-sans-sc (TrueType, OFL) inside node_modules, so the image needs
# no system fonts (no fonts-noto-cjk, no fontconfig).
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY rules ./rules
# The applicant portal and admin console (plain files; json-editor is served from node_modules).
COPY public ./public
USER 10001:10001
# SQLite file and dev JWT secret when no DATABASE_URL / auth key is configured; keep it on a volume.
VOLUME ["/data"]
# Signing keys are mounted read-only here and named by configuration; nothing is baked into the image.
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server.js"]
