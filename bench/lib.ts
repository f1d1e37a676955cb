// Shared helpers of the benchmark suite: statistics, the audit log, Tack's own metrics, a bench-side
// Tack started in-process, and small concurrency utilities. Everything talks to 127.0.0.1 only.
import { createHmac } from "node:crypto";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import type { KubeObject } from "../src/api/index.ts";
import { KubeApiError, KubeClient } from "../src/cluster/index.ts";
import { ConfigSchema, loadConfig } from "../src/config.ts";
import { createLogger, startTack, type Tack } from "../src/main.ts";
import type { ControlPlane } from "../test/support/control-plane.ts";
import type { GitServer } from "../test/support/git-server.ts";
import type { TestKube } from "../test/support/kube.ts";
import { mapLimit } from "../src/util/concurrency.ts";

export interface BenchContext {
  quick: boolean;
  cp: ControlPlane;
  kube: TestKube;
  /** A minimal client for the bench's own requests (user agent tack-bench). */
  client: KubeClient;
  git: GitServer;
  log: (line: string) => void;
  /** Results other benchmarks need (B0's floor rates). */
  shared: Record<string, number>;
}

export type Comparison = "<=" | ">=" | "==";

export interface Metric {
  bench: string;
  name: string;
  unit: string;
  /** The median over the repetitions (or the one aggregated value, see samples). */
  value: number;
  samples: number[];
  target?: { op: Comparison; value: number };
  met?: boolean;
  note?: string;
}

export function metric(bench: string, name: string, unit: string, samples: number[],
  target?: { op: Comparison; value: number }, note?: string, value?: number): Metric {
  const v = value ?? median(samples);
  const m: Metric = { bench, name, unit, value: round(v), samples: samples.map(round) };
  if (target) {
    m.target = target;
    m.met = target.op === "<=" ? v <= target.value : target.op === ">=" ? v >= target.value : v === target.value;
  }
  if (note) m.note = note;
  return m;
}

export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 3 : 5;
  return Number(x.toFixed(digits));
}

export function median(xs: number[]): number { return percentile(xs, 50); }

/** Nearest-rank percentile. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export { mapLimit };

/** Polls until fn is truthy; bounded by timeoutMs. */
export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs: number, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`bench: ${what} not reached within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

// ---- garbage collection and memory ----------------------------------------------------------------------

let gcFn: (() => void) | undefined;
/** A full GC (exposed at run time, so the npm script needs no flag). */
export function gc(): void {
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
  gcFn();
}

export async function settledHeap(): Promise<number> {
  await sleep(50);
  gc();
  return process.memoryUsage().heapUsed;
}

// ---- the audit log ----------------------------------------------------------------------------------------

export interface AuditEvent {
  verb: string;
  stage: string;
  requestURI: string;
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; subresource?: string };
  responseStatus?: { code?: number };
}

export async function auditOffset(ctx: BenchContext): Promise<number> {
  return (await stat(ctx.cp.auditLogPath!)).size;
}

/** ResponseComplete events written after `offset` (a byte offset from auditOffset). */
export async function auditSince(ctx: BenchContext, offset: number): Promise<AuditEvent[]> {
  const handle = await open(ctx.cp.auditLogPath!, "r");
  try {
    const size = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await handle.read(buffer, 0, buffer.length, offset);
    const events: AuditEvent[] = [];
    for (const line of buffer.toString("utf8").split("\n")) {
      if (!line) continue;
      try {
        const event = JSON.parse(line) as AuditEvent;
        if (event.stage === "ResponseComplete") events.push(event);
      } catch { /* a line being written */ }
    }
    return events;
  } finally {
    await handle.close();
  }
}

export const isTack = (e: AuditEvent) => (e.userAgent ?? "").startsWith("tack-controller");
const WRITE_VERBS = new Set(["create", "update", "patch", "delete", "deletecollection"]);
export const isWrite = (e: AuditEvent) => WRITE_VERBS.has(e.verb);
/** Whether a request is a dry run (the audit log at level Metadata keeps the query in requestURI). */
export const isDryRun = (e: AuditEvent) => /[?&]dryRun=All/.test(e.requestURI);

/** "verb resource[/subresource]" → count, for request breakdowns in the report. */
export function breakdown(events: AuditEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) {
    const res = `${e.objectRef?.resource ?? "?"}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""}`;
    const key = `${e.verb}${isDryRun(e) ? "(dry-run)" : ""} ${res}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}

// ---- Tack in-process ------------------------------------------------------------------------------------

export interface BenchTack extends Tack { cacheDir: string; warnings: string[] }

export async function startBenchTack(ctx: BenchContext, flags: Record<string, string | number> = {}): Promise<BenchTack> {
  const cacheDir = await mkdtemp(join(tmpdir(), "tack-bench-cache-"));
  const argv = Object.entries({
    "http-port": 0, "http-host": "127.0.0.1", "cache-dir": cacheDir, "log-level": "warn",
    "resync-seconds": 3600, "retry-base-seconds": 0.2, "retry-max-seconds": 2,
    // One replica: no Lease to wait for between the bench's restarts of Tack.
    ...("leaderElect" in ConfigSchema.shape ? { "leader-elect": "false" } : {}),
    ...flags,
  }).map(([k, v]) => `--${k}=${v}`);
  const config = loadConfig({ KUBECONFIG: ctx.cp.kubeconfigPath, TACK_NAMESPACE: "tack-system" }, argv);
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      // The latest 200 lines: the ones near a failure are those worth reading.
      for (const line of chunk.toString("utf8").split("\n")) if (line) warnings.push(line.slice(0, 500));
      if (warnings.length > 200) warnings.splice(0, warnings.length - 200);
      done();
    },
  });
  const logger = createLogger(config, sink);
  const tack = await startTack(config, { logger, processMetrics: false });
  const stop = tack.stop;
  return Object.assign(tack, {
    cacheDir, warnings,
    stop: async () => { await stop(); await rm(cacheDir, { recursive: true, force: true }); },
  });
}

/** Sum of a counter's values whose labels match. */
export async function counter(tack: Tack, name: string, match: Record<string, string> = {}): Promise<number> {
  const m = tack.metrics.registry.getSingleMetric(name);
  if (!m) return 0;
  const data = await m.get();
  let sum = 0;
  for (const v of data.values) {
    const labels = v.labels as Record<string, string | number>;
    if (Object.entries(match).every(([k, want]) => String(labels[k]) === want)) sum += v.value;
  }
  return sum;
}

/** Tack's own count of API requests, all verbs but watches (a watch is one long request). */
export async function tackRequests(tack: Tack): Promise<{ total: number; writes: number }> {
  const m = tack.metrics.registry.getSingleMetric("tack_app_k8s_request_total");
  if (!m) return { total: 0, writes: 0 };
  let total = 0;
  let writes = 0;
  for (const v of (await m.get()).values) {
    const verb = String((v.labels as Record<string, string>)["verb"]);
    total += v.value;
    if (verb !== "GET" && verb !== "WATCH") writes += v.value;
  }
  return { total, writes };
}

// ---- objects ------------------------------------------------------------------------------------------------

export async function ensureNamespace(ctx: BenchContext, name: string): Promise<void> {
  await ctx.kube.createNamespace(name);
}

export function configMap(namespace: string, name: string, data: Record<string, string>, annotations?: Record<string, string>): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, ...(annotations ? { annotations } : {}) }, data };
}

export function applicationObject(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "tack.dev/v1alpha1", kind: "Application", metadata: { name, namespace: "tack-system" }, spec };
}

export function appSpec(repoURL: string, path: string, namespace: string, selfHeal = true): Record<string, unknown> {
  return {
    project: "default",
    source: { repoURL, targetRevision: "main", path },
    destination: { server: "https://kubernetes.default.svc", namespace },
    syncPolicy: { automated: { prune: true, selfHeal } },
  };
}

/** Creates (POST) the Applications with bounded concurrency. */
export async function createApps(ctx: BenchContext, apps: KubeObject[], concurrency = 16): Promise<void> {
  await mapLimit(apps, concurrency, async (app) => {
    await ctx.client.request({ method: "POST", path: "/apis/tack.dev/v1alpha1/namespaces/tack-system/applications", body: app });
  });
}

/** Deletes every Application (no finalizer: their objects stay) and waits until none is left. */
export async function deleteAllApps(ctx: BenchContext): Promise<void> {
  await ctx.client.request({ method: "DELETE", path: "/apis/tack.dev/v1alpha1/namespaces/tack-system/applications" }).catch((err: unknown) => {
    if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
  });
  await until(async () => {
    const list = await ctx.client.request<{ items: unknown[] }>({ method: "GET", path: "/apis/tack.dev/v1alpha1/namespaces/tack-system/applications", query: { limit: 1 } });
    return list.items.length === 0;
  }, "all Applications deleted", 120_000, 200);
}

export interface AppView { metadata: { name: string; namespace: string }; status?: { sync?: { status?: string; revision?: string }; operationState?: { phase?: string } } }

export function isSynced(app: KubeObject, revision?: string): boolean {
  const status = (app as unknown as AppView).status;
  return status?.sync?.status === "Synced" && (revision === undefined || status.sync.revision === revision);
}

/** Manifest files for `count` apps of `perApp` ConfigMaps each, under apps/<prefix>-<i>/. */
export function appFiles(prefix: string, count: number, perApp: number, version: string, kinds: "configmaps" | "mixed" = "configmaps"): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`apps/${prefix}-${i}/manifests.yaml`] = appManifest(`${prefix}-${i}`, perApp, version, kinds);
  return files;
}

export function appManifest(app: string, perApp: number, version: string, kinds: "configmaps" | "mixed" = "configmaps"): string {
  const docs: string[] = [];
  for (let j = 0; j < perApp; j++) {
    const name = `${app}-${j}`;
    const kind = kinds === "mixed" ? (["ConfigMap", "Secret", "ServiceAccount", "Service"] as const)[j % 4]! : "ConfigMap";
    if (kind === "ConfigMap") docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  labels: {app: ${app}}\ndata:\n  version: "${version}"\n  setting-a: "alpha"\n  setting-b: "beta"\n`);
    else if (kind === "Secret") docs.push(`apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  labels: {app: ${app}}\ndata:\n  version: "${Buffer.from(version).toString("base64")}"\n`);
    else if (kind === "ServiceAccount") docs.push(`apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${name}\n  labels: {app: ${app}}\n  annotations: {version: "${version}"}\n`);
    else docs.push(`apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  labels: {app: ${app}}\n  annotations: {version: "${version}"}\nspec:\n  clusterIP: None\n  selector: {app: ${app}}\n  ports:\n  - port: 80\n    targetPort: 8080\n`);
  }
  return docs.join("---\n");
}

export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Sends a signed push to Tack's webhook receiver (generic flavour: X-Tack-Signature), as a Git server would. */
export async function sendWebhook(tack: Tack, secret: string, push: { repoURL: string; ref: string; after: string; changedFiles?: string[] }): Promise<number> {
  const body = JSON.stringify({ repository: { url: push.repoURL }, ref: push.ref, after: push.after, ...(push.changedFiles ? { changedFiles: push.changedFiles } : {}) });
  const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  const res = await fetch(`http://127.0.0.1:${tack.server.port}/api/webhook`, {
    method: "POST", body, headers: { "Content-Type": "application/json", "X-Tack-Signature": signature, "X-Tack-Event": "push" },
  });
  await res.text();
  return res.status;
}

export const WEBHOOK_SECRET = "bench-webhook-secret";

/** The tack-webhook Secret with a generic-flavour secret, so that the bench can announce pushes. */
export async function ensureWebhookSecret(ctx: BenchContext): Promise<void> {
  await ctx.kube.apply({ apiVersion: "v1", kind: "Secret", metadata: { name: "tack-webhook", namespace: "tack-system" },
    data: { generic: Buffer.from(WEBHOOK_SECRET).toString("base64") } } as KubeObject);
}
