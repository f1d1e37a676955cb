// The HTTP server: /metrics for Prometheus, /healthz (the process answers) and /readyz (caches synced).
// /api/webhook for Git push webhooks. Every handler is bounded and never throws into node:http.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Metrics } from "../metrics/index.ts";
import type { WebhookHandler } from "./webhooks/index.ts";

export interface ServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  ready: () => boolean;
  logger: Logger;
  /** Git push webhooks on /api/webhook (POST; signature checked by the handler). */
  webhook?: WebhookHandler;
}

export interface RunningServer { port: number; close(): Promise<void> }

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (code: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === "/api/webhook" && options.webhook) return options.webhook(req, res);
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "method not allowed\n");
    if (path === "/healthz") return reply(200, "ok\n");
    if (path === "/readyz") return options.ready() ? reply(200, "ok\n") : reply(503, "caches not synced\n");
    if (path === "/metrics") {
      options.metrics.render().then(({ contentType, body }) => reply(200, body, contentType), (err: unknown) => {
        options.logger.error({ err }, "rendering metrics failed");
        reply(500, "metrics unavailable\n");
      });
      return;
    }
    reply(404, "not found\n");
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => { server.off("error", reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
