# syntax=docker/dockerfile:1
# The base is pinned by digest: a rebuild gets the same bytes, and a moved upstream tag cannot
# change the image silently. Bump it deliberately (docker buildx imagetools inspect node:20-bookworm-slim).
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
# Set by scripts/build-image.sh from package.json, so the image says which release it is.
ARG VERSION=dev
LABEL org.opencontainers.image.title="similarity-worker" org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production
# V8 otherwise lets the heap grow far past what a batch needs: the old space stays under 160 MB,
# the young generation under 2 x 8 MB.
ENV NODE_OPTIONS="--max-old-space-size=160 --max-semi-space-size=8"
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
