# syntax=docker/dockerfile:1
# Supporting Parents: the production image (see docs/deployment.md).
#
#   docker build -t supporting-parents .
#   docker run --rm -p 3000:3000 -e BASE_URL=… -e SESSION_SECRET_FILE=/run/secrets/… supporting-parents
#
# Two stages: the first installs every package and builds dist/ (the server,
# the static files and the embedded database's template); the second holds
# only what runs: the production packages, dist/ and the reference data.
# No setting is baked in beyond where to listen and where DATA_DIR is: the
# site's settings and secrets come at run time (environment, or NAME_FILE).

ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# The packages first: this layer is reused until package-lock.json changes.
# The packages need no install scripts (prebuilt binaries in registry packages).
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build --silent \
 && npm prune --omit=dev --no-audit --no-fund --ignore-scripts \
 && rm -rf dist/.compile-cache

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/reference ./reference
COPY --from=build /app/bin ./bin
# The code belongs to root and cannot be changed by the server; the server
# runs as the image's unprivileged `node` user and writes only DATA_DIR (and
# Node's compiled-code cache).
RUN mkdir -p /data dist/.compile-cache \
 && chown node:node /data dist/.compile-cache
USER node
VOLUME ["/data"]
EXPOSE 3000
STOPSIGNAL SIGTERM
# /healthz: the process answers (whatever the role; /readyz is for the proxy).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--max-old-space-size=512", "dist/main.js", "serve"]
