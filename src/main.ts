// Wiring only: config → logger → metrics → kube client → git cache → controller → HTTP server.
import { pino, type Logger } from "pino";
import { KubeClient } from "./cluster/index.ts";
import { revisionCacheMs, type Config } from "./config.ts";
import { Controller } from "./controller/controller.ts";
import { RepoCache } from "./git/index.ts";
import { Metrics } from "./metrics/index.ts";
import { startServer, type RunningServer } from "./server/index.ts";
import { createWebhookHandler } from "./server/webhooks/index.ts";
import { redactUrlCredentials } from "./redact.ts";

export const VERSION = "0.1.0";

export interface Tack {
  controller: Controller;
  server: RunningServer;
  metrics: Metrics;
  logger: Logger;
  /** Finishes in-flight writes (up to the grace period), stops watches and the server. */
  stop(): Promise<void>;
}

export function createLogger(config: Pick<Config, "logLevel">, destination?: NodeJS.WritableStream): Logger {
  return pino({
    level: config.logLevel,
    base: { component: "tack-controller" },
    // Belt and braces: credentials are never logged on purpose, and these paths are masked if one slips in.
    redact: { paths: ["*.password", "*.token", "*.bearerToken", "*.credentials", "credentials", "*.authorization", "*.Authorization"], censor: "***" },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method) {
        // URLs with user:password@ are masked wherever they appear in a message.
        const redacted = args.map((a) => (typeof a === "string" ? redactUrlCredentials(a) : a)) as typeof args;
        method.apply(this, redacted);
      },
    },
  }, destination as pino.DestinationStream | undefined);
}

export async function startTack(config: Config, options: { logger?: Logger; processMetrics?: boolean } = {}): Promise<Tack> {
  const logger = options.logger ?? createLogger(config);
  const metrics = new Metrics({ processMetrics: options.processMetrics ?? true });
  const client = KubeClient.load({
    kubeconfigPath: config.kubeconfig,
    userAgent: `tack-controller/${VERSION}`,
    timeoutMs: config.apiTimeoutSeconds * 1000,
    onRequest: (o) => metrics.countK8sRequest(o.verb, o.resource, o.code),
  });
  const repos = new RepoCache({
    cacheDir: config.cacheDir,
    fetchTimeoutMs: config.gitTimeoutSeconds * 1000,
    // 1,000 apps on one repository polled every 3 minutes would otherwise list its refs 5 times a second.
    lsRemoteTtlMs: revisionCacheMs(config),
    logger,
    onRequest: (e) => metrics.observeGit(redactUrlCredentials(e.repo), e.type, e.ok, e.durationMs / 1000),
  });
  const controller = new Controller({ config, logger, metrics, client, repos });
  const webhook = createWebhookHandler({
    secrets: () => controller.webhookSecrets(),
    onPush: (push) => controller.handlePush(push),
    maxBodyBytes: config.webhookMaxBodyBytes,
    logger,
  });
  const server = await startServer({ host: config.httpHost, port: config.httpPort, metrics, ready: () => controller.ready(), logger, webhook });
  logger.info({ port: server.port, server: client.server }, "tack starting");
  try {
    await controller.start();
  } catch (err) {
    await server.close();
    await controller.stop(0);
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    controller, server, metrics, logger,
    stop: () => (stopping ??= (async () => {
      const drained = await controller.stop(config.shutdownGraceSeconds * 1000);
      if (!drained) logger.warn("grace period ended with reconciles still running");
      await server.close();
    })()),
  };
}
