// The one HTTP client for the API server. @kubernetes/client-node supplies the kubeconfig handling
// (in-cluster service account, client certificates, tokens, exec plugins); requests themselves are sent as
// raw JSON because its typed serializer drops fields of built-in kinds that its models do not know
// (docs/architecture.md §5), and because we want one place that times and counts every request.
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { KubeConfig } from "@kubernetes/client-node";

export type Verb = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface KubeRequest {
  method: Verb;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RequestObservation {
  verb: string;
  /** Resource plural from the path ("deployments"), or the path's kind of endpoint ("discovery"). */
  resource: string;
  code: number;
  durationMs: number;
}

/** A non-2xx answer from the API server, with its Status object's reason and message. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly details: unknown;
  constructor(status: number, reason: string, message: string, details?: unknown) {
    super(message);
    this.name = "KubeApiError";
    this.status = status;
    this.reason = reason;
    this.details = details;
  }
  get isNotFound(): boolean { return this.status === 404; }
  get isConflict(): boolean { return this.status === 409; }
  get isGone(): boolean { return this.status === 410; }
}

/** The connection failed before any answer (refused, reset, timed out). */
export class KubeConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) { super(message, options); this.name = "KubeConnectionError"; }
}

export interface KubeClientOptions {
  kubeconfigPath?: string;
  userAgent?: string;
  timeoutMs?: number;
  onRequest?: (observation: RequestObservation) => void;
  /** How often connection settings are rebuilt (tests shorten it). */
  authRefreshMs?: number;
}

/** Connection settings are rebuilt at most this often, so rotated service-account tokens are picked up. */
const AUTH_REFRESH_MS = 60_000;

export class KubeClient {
  readonly server: string;
  readonly userAgent: string;
  readonly #kubeConfig: KubeConfig;
  readonly #timeoutMs: number;
  readonly #onRequest: ((o: RequestObservation) => void) | undefined;
  readonly #authRefreshMs: number;
  #auth: { at: number; options: https.RequestOptions; agent: http.Agent; tls: string } | undefined;

  constructor(kubeConfig: KubeConfig, options: KubeClientOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster: set a current-context");
    this.server = cluster.server.replace(/\/+$/, "");
    this.#kubeConfig = kubeConfig;
    this.userAgent = options.userAgent ?? "tack-controller";
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#onRequest = options.onRequest;
    this.#authRefreshMs = options.authRefreshMs ?? AUTH_REFRESH_MS;
  }

  /** A kubeconfig file when given, else in-cluster config, else KUBECONFIG / ~/.kube/config. */
  static load(options: KubeClientOptions = {}): KubeClient {
    const kc = new KubeConfig();
    if (options.kubeconfigPath) kc.loadFromFile(options.kubeconfigPath);
    else kc.loadFromDefault();
    return new KubeClient(kc, options);
  }

  async #connection(): Promise<{ options: https.RequestOptions; agent: http.Agent }> {
    const now = Date.now();
    if (this.#auth && now - this.#auth.at < this.#authRefreshMs) return this.#auth;
    const options: https.RequestOptions = {};
    await this.#kubeConfig.applyToHTTPSOptions(options);
    const agentOptions = { keepAlive: true, maxSockets: 64, ca: options.ca, cert: options.cert, key: options.key,
      rejectUnauthorized: options.rejectUnauthorized, servername: options.servername };
    const tls = tlsFingerprint(agentOptions);
    const previous = this.#auth;
    if (previous && previous.tls === tls) {
      // Only the headers (a rotated bearer token) changed: keep the agent, and with it every open watch.
      this.#auth = { ...previous, at: now, options };
      return this.#auth;
    }
    const agent = this.server.startsWith("https:") ? new https.Agent(agentOptions) : new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.#auth = { at: now, options, agent, tls };
    if (previous) retireAgent(previous.agent);
    return this.#auth;
  }

  #url(path: string, query?: KubeRequest["query"]): URL {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  async #send(req: KubeRequest, streaming: boolean): Promise<http.IncomingMessage> {
    const { options, agent } = await this.#connection();
    const url = this.#url(req.path, req.query);
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string | number> = {
      ...(options.headers as Record<string, string> | undefined),
      "User-Agent": this.userAgent,
      Accept: req.accept ?? "application/json",
    };
    if (body) { headers["Content-Type"] = req.contentType ?? "application/json"; headers["Content-Length"] = body.length; }
    const transport = url.protocol === "https:" ? https : http;
    return await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = transport.request(url, {
        method: req.method, headers, agent, auth: options.auth,
        signal: req.signal,
        // Watches are long-lived: the server ends them (timeoutSeconds); only the connect is bounded here.
        timeout: streaming ? undefined : req.timeoutMs ?? this.#timeoutMs,
      }, resolve);
      request.on("timeout", () => request.destroy(new KubeConnectionError(`${req.method} ${req.path}: no answer within ${req.timeoutMs ?? this.#timeoutMs} ms`)));
      request.on("error", (err) => reject(err instanceof KubeConnectionError || err.name === "AbortError" ? err
        : new KubeConnectionError(`${req.method} ${req.path}: ${err.message}`, { cause: err })));
      request.end(body);
    });
  }

  /** Sends a request and returns the parsed JSON body; throws KubeApiError on a non-2xx answer. */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    const started = performance.now();
    let code = 0;
    try {
      const res = await this.#send(req, false);
      code = res.statusCode ?? 0;
      const text = await readBody(res);
      if (code < 200 || code >= 300) throw toApiError(code, text, req);
      return (text ? JSON.parse(text) : undefined) as T;
    } finally {
      this.#onRequest?.({ verb: verbOf(req), resource: resourceOf(req.path), code, durationMs: performance.now() - started });
    }
  }

  /**
   * Opens a watch and calls onEvent for each JSON line until the server ends the stream (resolves) or the
   * connection fails (rejects). A non-2xx answer rejects with KubeApiError (410 Gone: relist).
   */
  async watch(path: string, query: KubeRequest["query"], onEvent: (event: WatchEvent) => void, signal: AbortSignal,
    onOpen?: () => void): Promise<void> {
    const started = performance.now();
    const res = await this.#send({ method: "GET", path, query: { ...query, watch: 1 }, signal }, true).catch((err: unknown) => {
      this.#onRequest?.({ verb: "WATCH", resource: resourceOf(path), code: 0, durationMs: performance.now() - started });
      throw err;
    });
    const code = res.statusCode ?? 0;
    this.#onRequest?.({ verb: "WATCH", resource: resourceOf(path), code, durationMs: performance.now() - started });
    if (code !== 200) throw toApiError(code, await readBody(res), { method: "GET", path });
    onOpen?.();
    let buffered = "";
    res.setEncoding("utf8");
    await new Promise<void>((resolve, reject) => {
      // The first outcome is the watch's outcome. Destroying the response (below) makes Node emit 'aborted' and
      // 'error' synchronously: without this guard a "connection aborted" would hide the handler's reason (a 410
      // in an ERROR event), and the caller would resume from a resourceVersion the server no longer has.
      let settled = false;
      const settle = (outcome: () => void) => { if (!settled) { settled = true; outcome(); } };
      res.on("data", (chunk: string) => {
        if (settled) return;
        buffered += chunk;
        let newline: number;
        try {
          while ((newline = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line) onEvent(JSON.parse(line) as WatchEvent);
          }
        } catch (err) {
          // A handler that gives up on this stream (410 in an ERROR event, a malformed line) ends the watch.
          settle(() => reject(err));
          res.destroy();
        }
      });
      res.on("end", () => settle(resolve));
      res.on("error", (err) => settle(() => reject(err instanceof KubeConnectionError || err.name === "AbortError" ? err
        : new KubeConnectionError(`watch ${path}: ${err.message}`, { cause: err }))));
      res.on("aborted", () => settle(() => reject(new KubeConnectionError(`watch ${path}: connection aborted`))));
    });
  }
}

/** What the agent's TLS settings are made of, hashed: a new agent is needed only when it changes. */
function tlsFingerprint(options: Record<string, unknown>): string {
  const hash = createHash("sha256");
  for (const key of ["ca", "cert", "key", "rejectUnauthorized", "servername"]) hash.update(`${key}=${String(options[key] ?? "")}\n`);
  return hash.digest("hex");
}

/**
 * An agent replaced by one with new TLS material: its idle sockets are closed now; the requests and watches still
 * using it keep their sockets (agent.destroy() would cut them, and every watch with them) until the longest watch
 * has ended on its own.
 */
function retireAgent(agent: http.Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  setTimeout(() => agent.destroy(), RETIRED_AGENT_GRACE_MS).unref();
}

/** Longer than any watch's timeoutSeconds (300 by default), so a retired agent's watches end by themselves first. */
const RETIRED_AGENT_GRACE_MS = 10 * 60_000;

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: Record<string, unknown>;
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function toApiError(code: number, text: string, req: Pick<KubeRequest, "method" | "path">): KubeApiError {
  let status: { reason?: string; message?: string; details?: unknown } = {};
  try { status = JSON.parse(text) as typeof status; } catch { /* not a Status object */ }
  const message = status.message ?? (text.slice(0, 200) || `HTTP ${code}`);
  return new KubeApiError(code, status.reason ?? `HTTP${code}`, `${req.method} ${req.path}: ${message}`, status.details);
}

function verbOf(req: KubeRequest): string {
  if (req.method === "GET") return req.query?.watch ? "WATCH" : "GET";
  return req.method;
}

/** The resource plural in a path like /apis/apps/v1/namespaces/x/deployments/y/status. */
export function resourceOf(path: string): string {
  const parts = path.split("?")[0]!.split("/").filter(Boolean);
  const start = parts[0] === "api" ? 2 : parts[0] === "apis" ? 3 : -1;
  if (start < 0 || parts.length <= start) return "discovery";
  const rest = parts.slice(start);
  return (rest[0] === "namespaces" && rest.length > 2 ? rest[2] : rest[0]) ?? "discovery";
}
