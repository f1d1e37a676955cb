# Tack controller image: Node.js 24 (the same major as the pinned devDependency), production dependencies
# only, a numeric non-root user, and tini as PID 1 so SIGTERM reaches Node and zombies are reaped.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY crds ./crds
ENV NODE_ENV=production
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/tack.js"]
CMD ["controller"]
