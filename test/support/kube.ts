// Test-side helpers against a real API server: install the CRDs, create namespaces and Applications,
// read objects back, and run Tack in-process with test settings.
import { readdir, readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after } from "node:test";
import { loadAll } from "js-yaml";
import type { KubeObject } from "../../src/api/index.ts";
import { KubeApiError, KubeClient } from "../../src/cluster/index.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger, startTack, type Tack } from "../../src/main.ts";
import { startTestCluster, type TestCluster } from "./cluster.ts";
import { startGitServer, type GitServer } from "./git-server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

export class TestKube {
  readonly client: KubeClient;
  constructor(kubeconfigPath: string) {
    this.client = KubeClient.load({ kubeconfigPath, userAgent: "tack-test" });
  }

  #path(apiVersion: string, kind: string, namespace?: string, name?: string): string {
    const plural = PLURALS[kind] ?? `${kind.toLowerCase()}s`;
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = namespace && kind !== "Namespace" && kind !== "CustomResourceDefinition" ? `/namespaces/${namespace}` : "";
    return `${base}${ns}/${plural}${name ? `/${name}` : ""}`;
  }

  async apply(obj: KubeObject, fieldManager = "tack-test"): Promise<KubeObject> {
    return this.client.request<KubeObject>({
      method: "PATCH", path: this.#path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name),
      query: { fieldManager, force: true }, contentType: "application/apply-patch+yaml", body: obj,
    });
  }

  async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.client.request<KubeObject>({ method: "GET", path: this.#path(apiVersion, kind, namespace, name) });
    } catch (err) {
      if (err instanceof KubeApiError && err.isNotFound) return undefined;
      throw err;
    }
  }

  async list(apiVersion: string, kind: string, namespace?: string): Promise<KubeObject[]> {
    const res = await this.client.request<{ items: KubeObject[] }>({ method: "GET", path: this.#path(apiVersion, kind, namespace) });
    return res.items;
  }

  async mergePatch(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown): Promise<KubeObject> {
    return this.client.request<KubeObject>({
      method: "PATCH", path: this.#path(apiVersion, kind, namespace, name), contentType: "application/merge-patch+json", body: patch,
    });
  }

  async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<void> {
    await this.client.request({ method: "DELETE", path: this.#path(apiVersion, kind, namespace, name) }).catch((err: unknown) => {
      if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
    });
  }

  async createNamespace(name: string): Promise<void> {
    await this.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }

  /** Applies crds/*.yaml and waits until the API server serves the types. */
  async installCrds(): Promise<void> {
    const dir = join(ROOT, "crds");
    for (const file of (await readdir(dir)).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort()) {
      for (const doc of loadAll(await readFile(join(dir, file), "utf8"))) await this.apply(doc as KubeObject);
    }
    await eventually(async () => {
      try {
        await this.client.request({ method: "GET", path: "/apis/tack.dev/v1alpha1/applications" });
        await this.client.request({ method: "GET", path: "/apis/tack.dev/v1alpha1/appprojects" });
        return true;
      } catch { return false; }
    }, { message: "tack.dev CRDs not served" });
  }

  async app(namespace: string, name: string): Promise<KubeObject | undefined> {
    return this.get("tack.dev/v1alpha1", "Application", namespace, name);
  }
}

const PLURALS: Record<string, string> = {
  Application: "applications", AppProject: "appprojects", ConfigMap: "configmaps", Service: "services",
  Deployment: "deployments", Namespace: "namespaces", Secret: "secrets", CustomResourceDefinition: "customresourcedefinitions",
  Event: "events", Lease: "leases",
};

export interface EventuallyOptions { timeoutMs?: number; intervalMs?: number; message?: string }

/** Polls until fn returns a truthy value; fails with the message and the last value seen. */
export async function eventually<T>(fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, options: EventuallyOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last: unknown;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last as T;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
  const detail = lastError ? ` (last error: ${(lastError as Error).message})` : last !== undefined ? ` (last value: ${JSON.stringify(last)?.slice(0, 500)})` : "";
  throw new Error(`${options.message ?? "condition not met"} within ${options.timeoutMs ?? 20_000} ms${detail}`);
}

/** Log lines Tack wrote, kept in memory so tests can assert on them (e.g. that no secret leaks). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString("utf8").split("\n")) if (line) this.lines.push(line);
    if (process.env.TACK_TEST_LOGS) process.stderr.write(chunk);
    done();
  }
}

export interface TestTack extends Tack { logs: LogCapture; cacheDir: string }

/** Runs the controller in this process against the test cluster, on a free port, with a private git cache. */
export async function startTestTack(kubeconfigPath: string, flags: Record<string, string | number> = {}): Promise<TestTack> {
  const cacheDir = await mkdtemp(join(tmpdir(), "tack-test-cache-"));
  const argv = Object.entries({ "http-port": 0, "http-host": "127.0.0.1", "cache-dir": cacheDir, "log-level": "debug", "retry-base-seconds": 0.2, "retry-max-seconds": 2, "leader-elect": "false", ...flags })
    .map(([k, v]) => `--${k}=${v}`);
  const config = loadConfig({ KUBECONFIG: kubeconfigPath, TACK_NAMESPACE: "tack-system" }, argv);
  const logs = new LogCapture();
  const logger = createLogger(config, logs);
  const tack = await startTack(config, { logger, processMetrics: false });
  const stop = tack.stop;
  return Object.assign(tack, {
    logs, cacheDir,
    stop: async () => { await stop(); await rm(cacheDir, { recursive: true, force: true }); },
  });
}

export function application(name: string, namespace: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "tack.dev/v1alpha1", kind: "Application", metadata: { name, namespace }, spec };
}

export async function fileExists(path: string): Promise<boolean> {
  return readFile(path).then(() => true, () => false);
}

/** The parts of an Application's status that tests read. */
export interface AppStatusView {
  sync?: { status?: string; revision?: string };
  health?: { status?: string; message?: string };
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  resources?: Array<{ group?: string; kind: string; namespace?: string; name: string; status?: string; requiresPruning?: boolean; health?: { status?: string; message?: string } }>;
  operationState?: { phase?: string; message?: string; startedAt?: string; finishedAt?: string; retryCount?: number;
    syncResult?: { revision?: string; resources?: Array<{ kind: string; name: string; status: string; message?: string; syncPhase?: string; hookType?: string; hookPhase?: string; hookName?: string }> } };
  history?: Array<{ id: number; revision: string; deployedAt?: string }>;
  /** When the controller last wrote this status. */
  reconciledAt?: string;
}

export async function appStatus(kube: TestKube, namespace: string, name: string): Promise<AppStatusView | undefined> {
  return ((await kube.app(namespace, name)) as { status?: AppStatusView } | undefined)?.status;
}

/** Waits until the Application's status satisfies the predicate; returns that status. */
export async function waitForApp(kube: TestKube, namespace: string, name: string, predicate: (s: AppStatusView) => boolean,
  message: string, timeoutMs = 30_000): Promise<AppStatusView> {
  return eventually(async () => {
    const status = await appStatus(kube, namespace, name);
    return status && predicate(status) ? status : undefined;
  }, { message: `${namespace}/${name}: ${message}`, timeoutMs });
}

/** Sets a manual sync operation, as `tack app sync` and `argocd app sync` do. */
export async function requestSync(kube: TestKube, namespace: string, name: string, sync: Record<string, unknown> = {}): Promise<void> {
  await kube.mergePatch("tack.dev/v1alpha1", "Application", namespace, name, { operation: { sync, initiatedBy: { username: "test" } } });
}

export async function refreshApp(kube: TestKube, namespace: string, name: string): Promise<void> {
  await kube.mergePatch("tack.dev/v1alpha1", "Application", namespace, name, { metadata: { annotations: { "tack.dev/refresh": "normal" } } });
}

export interface Environment { cluster: TestCluster; git: GitServer; kube: TestKube; tack: TestTack }

/**
 * What most integration files need: a test cluster with Tack's CRDs and namespace, a git server, and Tack
 * running in-process with `flags`; all stopped after the file's tests (registered here with node:test).
 * Called with top-level await at the top of a test file.
 */
export async function startEnvironment(flags: Record<string, string | number> = {}): Promise<Environment> {
  const cluster = await startTestCluster();
  const git = await startGitServer();
  const kube = new TestKube(cluster.kubeconfigPath);
  await kube.installCrds();
  await kube.createNamespace("tack-system");
  const tack = await startTestTack(cluster.kubeconfigPath, flags);
  after(async () => {
    await tack.stop();
    await git.stop();
    await cluster.stop();
  });
  return { cluster, git, kube, tack };
}
