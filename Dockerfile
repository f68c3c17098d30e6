# Locus as a container: `docker compose up --build` runs it with PostgreSQL (see docker-compose.yaml).

# Build stage: the full toolchain. better-sqlite3 compiles its native module here when no prebuilt binary can be
# downloaded, so the production dependencies are installed here too and only the result is copied on.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm ci --omit=dev --no-audit --no-fund

# Runtime stage: same base image (so the native module matches its libc), no compiler, no dev dependencies,
# and not root.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The default DATABASE_URL (sqlite:./data/locus.db) writes here; the node user must own it.
RUN mkdir data && chown node:node data
USER node
EXPOSE 5000
CMD ["node", "dist/src/cli/main.js", "serve"]
