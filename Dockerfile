# Tack controller image: Node.js 24 (the same major as the pinned devDependency), production dependencies
# only, a numeric non-root user, and tini as PID 1 so SIGTERM reaches Node and zombies are reaped.
# helm and kustomize at the versions pinned in hack/tools/build.sh, built from the Go module proxy (never a
# release download), as the project's own set-up does for the tests and the demo.
FROM golang:1.26-bookworm AS tools
COPY hack/tools/build.sh /src/hack/tools/build.sh
RUN dir=$(TACK_BUILD_CACHE_DIR=/cache bash /src/hack/tools/build.sh) && install -m 0755 "$dir/helm" "$dir/kustomize" /usr/local/bin/

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=tools /usr/local/bin/helm /usr/local/bin/kustomize /usr/local/bin/
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
