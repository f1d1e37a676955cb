// The /api/webhook request handler. Order of checks, so that an unauthenticated sender costs little and
// learns nothing: method → flavour from headers → flavour configured → declared size → read the body up
// to the cap → signature/token → event → JSON → payload shape → onPush. Nothing here throws into node:http.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { detectFlavour, type Push, type WebhookSecrets } from "./flavours.ts";

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookHandlerOptions {
  /** Read on every request, so a rotated Secret takes effect without a restart. */
  secrets: () => WebhookSecrets;
  /** Called once per authenticated push; coalescing bursts is the caller's job. */
  onPush: (push: Push) => void;
  /** Bodies larger than this are refused with 413 without being read. Default 1 MiB. */
  maxBodyBytes?: number;
  logger: Pick<Logger, "info" | "warn" | "debug" | "error">;
}

export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createWebhookHandler(opts: WebhookHandlerOptions): WebhookHandler {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = opts.logger;

  return (req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      log.error({ err }, "webhook handler failed");
      reply(req, res, 500, "internal error", true);
    }
  };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      return reply(req, res, 405, "method not allowed: POST a webhook here", true);
    }
    const detected = detectFlavour(req.headers);
    if (!detected) return reply(req, res, 400, "not a webhook Tack knows: no GitHub, GitLab, Gitea, Gogs, Bitbucket or X-Tack-Signature header", true);
    const { flavour, event } = detected;
    let secret: string | undefined;
    try {
      secret = opts.secrets()[flavour.name];
    } catch (err) {
      log.error({ err }, "reading webhook secrets failed");
      return reply(req, res, 500, "webhook secrets unavailable", true);
    }
    if (!secret) {
      log.warn({ flavour: flavour.name }, "webhook refused: flavour not configured");
      return reply(req, res, 401, `${flavour.name} webhooks are not configured`, true);
    }
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      log.warn({ flavour: flavour.name, bytes: declared }, "webhook refused: body too large");
      return reply(req, res, 413, `body larger than ${maxBodyBytes} bytes`, true);
    }
    readBounded(req, maxBodyBytes, (result) => {
      if (result === "too-large") {
        log.warn({ flavour: flavour.name }, "webhook refused: body too large");
        return reply(req, res, 413, `body larger than ${maxBodyBytes} bytes`, true);
      }
      if (result === "error") return reply(req, res, 400, "request body could not be read", true);
      if (!flavour.authenticate(req.headers, result, secret)) {
        log.warn({ flavour: flavour.name, event }, "webhook refused: bad or missing signature");
        return reply(req, res, 401, "bad or missing signature", false);
      }
      if (!flavour.isPush(event)) return reply(req, res, 200, `event '${event.slice(0, 64)}' ignored`, false);
      let payload: unknown;
      try {
        payload = JSON.parse(result.toString("utf8"));
      } catch {
        return reply(req, res, 400, "body is not JSON", false);
      }
      const push = flavour.parse(payload);
      if (typeof push === "string") {
        log.info({ flavour: flavour.name, problem: push }, "webhook refused: unexpected payload");
        return reply(req, res, 400, `unexpected ${flavour.name} push payload: ${push}`, false);
      }
      log.info({ flavour: flavour.name, repoURLs: push.repoURLs, revisions: push.revisions }, "webhook push");
      try {
        opts.onPush(push);
      } catch (err) {
        log.error({ err }, "webhook push handler failed");
        return reply(req, res, 500, "push not processed", false);
      }
      reply(req, res, 200, "ok", false);
    });
  }
}

/**
 * Collects the body until `limit`; past it, stops collecting and reports "too-large" at once (the rest is
 * never read: the reply closes the connection). Memory held is at most `limit` plus one chunk.
 */
function readBounded(req: IncomingMessage, limit: number, done: (result: Buffer | "too-large" | "error") => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (result: Buffer | "too-large" | "error") => {
    if (finished) return;
    finished = true;
    req.off("data", onData);
    req.off("end", onEnd);
    if (result === "too-large") { chunks.length = 0; req.pause(); }
    done(result);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) return finish("too-large");
    chunks.push(chunk);
  };
  const onEnd = () => finish(Buffer.concat(chunks, size));
  req.on("data", onData);
  req.on("end", onEnd);
  req.on("error", () => finish("error"));
  req.on("aborted", () => finish("error"));
}

function reply(req: IncomingMessage, res: ServerResponse, code: number, message: string, close: boolean): void {
  if (res.headersSent || res.destroyed) {
    if (close) req.socket.destroy();
    return;
  }
  const body = `${message}\n`;
  const headers: Record<string, string | number> = { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body) };
  // Refusing before the body is read: tell the client this connection ends, and end it once the answer is out,
  // so an oversized or unauthenticated body is never read.
  if (close && !req.complete) headers["Connection"] = "close";
  res.writeHead(code, headers);
  res.end(body, () => {
    if (close && !req.complete) req.socket.destroy();
  });
}
