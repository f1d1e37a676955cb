// A watch-fed store of one resource type: list, then watch from the list's resourceVersion with bookmarks,
// relist when that resume point is gone, and restart with backoff after any other failure. client-node's
// informer does not restart itself after errors other than 410 (docs/architecture.md §5), so this loop is ours.
//
// The resume point is gone when the server says so (410 Gone as the answer or in an ERROR event, "too large
// resource version" from a server whose cache is behind), and also when the server was away long enough to fail
// twice in a row: a restarted or replaced API server may not know our resourceVersion, and whatever it answers,
// a fresh list is the only view of what changed meanwhile. Resuming from a stale position instead leaves the
// store serving a state nobody can see is old.
import type { Logger } from "pino";
import type { KubeObject } from "../api/index.ts";
import { Annotation } from "../api/index.ts";
import { KubeApiError, type KubeClient, type WatchEvent } from "./kube-client.ts";

export type ChangeType = "added" | "modified" | "deleted";
export type ChangeHandler = (type: ChangeType, obj: KubeObject, old: KubeObject | undefined) => void;

export interface InformerOptions {
  /** Collection path, e.g. /apis/apps/v1/deployments (all namespaces) or a namespaced one. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  logger: Logger;
  onChange?: ChangeHandler;
  /**
   * Called after each list but the first: the watch was lost (410, or the server away), and the store is fresh
   * again. Changes found by the list have gone to onChange already; this is for work that failed meanwhile.
   * `listStartedAt` (Date.now() when the list began): every write that completed before it is in the list.
   */
  onRelist?: (listStartedAt: number) => void;
  /** Server-side watch timeout; the loop re-watches from the last resourceVersion when it ends. */
  watchTimeoutSeconds?: number;
  pageSize?: number;
}

const BACKOFF_BASE_MS = 500;
/**
 * The longest wait between two attempts. It bounds how long apps stay Unknown after a server comes back (the
 * first attempt after its return lands within this), so it is kept well below the 30 s a user notices; an
 * attempt against a server that is down is one refused connection.
 */
const BACKOFF_MAX_MS = 5_000;
/** Consecutive failures after which the store counts as stale: the error is reported and the next attempt lists. */
const FAILURES_BEFORE_RELIST = 2;

/**
 * Fields nobody in Tack reads, dropped to keep memory per cached object small. managedFields are kept on
 * objects Tack tracks: ignoreDifferences' managedFieldsManagers reads them.
 */
export function slim(obj: KubeObject): KubeObject {
  const meta = obj.metadata;
  const tracked = meta.annotations?.[Annotation.TrackingId] !== undefined;
  if ((tracked || !meta.managedFields) && !meta.annotations?.[Annotation.KubectlLastApplied]) return obj;
  const { managedFields, ...rest } = meta;
  if (tracked && managedFields) (rest as typeof meta).managedFields = managedFields;
  if (rest.annotations?.[Annotation.KubectlLastApplied]) {
    const { [Annotation.KubectlLastApplied]: _last, ...annotations } = rest.annotations;
    rest.annotations = annotations;
  }
  return { ...obj, metadata: rest };
}

export function objectKey(namespace: string | undefined, name: string | undefined): string {
  return namespace ? `${namespace}/${name}` : (name ?? "");
}

export class Informer {
  readonly path: string;
  readonly #client: KubeClient;
  readonly #options: InformerOptions;
  readonly #store = new Map<string, KubeObject>();
  readonly #handlers: ChangeHandler[] = [];
  #resourceVersion = "";
  #synced = false;
  #syncWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  #lastError: Error | undefined;
  #abort = new AbortController();
  #running: Promise<void> | undefined;

  constructor(client: KubeClient, options: InformerOptions) {
    this.#client = client;
    this.#options = options;
    this.path = options.path;
    if (options.onChange) this.#handlers.push(options.onChange);
  }

  onChange(handler: ChangeHandler): void { this.#handlers.push(handler); }

  get synced(): boolean { return this.#synced; }
  get lastError(): Error | undefined { return this.#lastError; }
  get size(): number { return this.#store.size; }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#store.get(objectKey(namespace, name));
  }

  list(): IterableIterator<KubeObject> { return this.#store.values(); }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
    for (const waiter of this.#syncWaiters) waiter.reject(new Error(`informer for ${this.path} stopped before it synced`));
    this.#syncWaiters = [];
  }

  /** Resolves once the first list has landed; rejects after timeoutMs with the last error seen. */
  waitForSync(timeoutMs: number): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w.resolve !== done);
        reject(new Error(`cache of ${this.path} not synced after ${timeoutMs} ms${this.#lastError ? `: ${this.#lastError.message}` : ""}`));
      }, timeoutMs);
      const done = () => { clearTimeout(timer); resolve(); };
      this.#syncWaiters.push({ resolve: done, reject: (err) => { clearTimeout(timer); reject(err); } });
    });
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let failures = 0;
    let expiredInARow = 0;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) { await this.#list(signal); needList = false; }
        await this.#client.watch(this.#options.path, {
          resourceVersion: this.#resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: this.#options.watchTimeoutSeconds ?? 300,
          labelSelector: this.#options.labelSelector,
          fieldSelector: this.#options.fieldSelector,
        }, (event) => { this.#apply(event); failures = 0; expiredInARow = 0; this.#lastError = undefined; }, signal,
        // Connected again: the server is reachable, even if nothing has changed since (no event may come for minutes).
        // After a stale spell this point is not reached without a fresh list first (needList below).
        () => { this.#lastError = undefined; });
        failures = 0;
        expiredInARow = 0;
        this.#lastError = undefined;
      } catch (err) {
        if (signal.aborted) break;
        if (resumePointGone(err)) {
          // Our resourceVersion fell out of the server's window (or a restarted server's cache is not there yet):
          // only a fresh list can tell what changed. At once the first time, as client-go's reflector does; a
          // second expiry straight after a list is a server in trouble, so that one waits like any failure.
          needList = true;
          expiredInARow++;
          this.#options.logger.debug({ path: this.path, err }, "watch resume point gone; relisting");
          if (expiredInARow > 1) await sleep(backoffMs(expiredInARow), signal);
          continue;
        }
        failures++;
        // One dropped watch that reconnects on the first retry is routine (a proxy's idle timeout, a load balancer
        // moving the connection): resuming from our resourceVersion is right. A second failure in a row says the
        // server was away: report it, and list again when it answers (see the header).
        if (failures >= FAILURES_BEFORE_RELIST) {
          this.#lastError = err as Error;
          needList = true;
        }
        const delay = backoffMs(failures);
        this.#options.logger.warn({ path: this.path, err, retryInMs: Math.round(delay), relist: needList }, "watch failed; retrying");
        await sleep(delay, signal);
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const startedAt = Date.now();
    const fresh = new Map<string, KubeObject>();
    let continueToken: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.#client.request<{ items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string }; apiVersion?: string; kind?: string }>({
        method: "GET", path: this.#options.path, signal,
        query: { limit: this.#options.pageSize ?? 500, continue: continueToken, labelSelector: this.#options.labelSelector, fieldSelector: this.#options.fieldSelector },
      });
      const apiVersion = page.apiVersion ?? "v1";
      const kind = (page.kind ?? "").replace(/List$/, "");
      for (const item of page.items ?? []) {
        // List items come without apiVersion/kind; give them their type back so they look like watch objects.
        const obj = slim({ ...item, apiVersion: item.apiVersion ?? apiVersion, kind: item.kind ?? kind });
        fresh.set(objectKey(obj.metadata.namespace, obj.metadata.name), obj);
      }
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken);

    const previous = new Map(this.#store);
    this.#store.clear();
    for (const [key, obj] of fresh) this.#store.set(key, obj);
    this.#resourceVersion = resourceVersion;
    for (const [key, obj] of fresh) {
      const old = previous.get(key);
      if (!old) this.#emit("added", obj, undefined);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#emit("modified", obj, old);
    }
    for (const [key, old] of previous) if (!fresh.has(key)) this.#emit("deleted", old, old);
    this.#lastError = undefined;
    if (!this.#synced) {
      this.#synced = true;
      for (const waiter of this.#syncWaiters) waiter.resolve();
      this.#syncWaiters = [];
      return;
    }
    try { this.#options.onRelist?.(startedAt); } catch (err) {
      this.#options.logger.error({ err, path: this.path }, "relist handler threw");
    }
  }

  #apply(event: WatchEvent): void {
    if (event.type === "ERROR") {
      // The server ends the watch with a Status: the same error an answer with that status would have been.
      const status = event.object as { code?: number; reason?: string; message?: string; details?: unknown };
      throw new KubeApiError(status.code ?? 500, status.reason ?? "WatchError",
        `watch ${this.path}: ${status.message ?? JSON.stringify(event.object).slice(0, 300)}`, status.details);
    }
    const obj = event.object as unknown as KubeObject;
    if (obj.metadata?.resourceVersion) this.#resourceVersion = obj.metadata.resourceVersion;
    if (event.type === "BOOKMARK") return;
    const key = objectKey(obj.metadata.namespace, obj.metadata.name);
    const old = this.#store.get(key);
    if (event.type === "DELETED") {
      this.#store.delete(key);
      this.#emit("deleted", slim(obj), old);
      return;
    }
    const slimmed = slim(obj);
    this.#store.set(key, slimmed);
    this.#emit(old ? "modified" : "added", slimmed, old);
  }

  #emit(type: ChangeType, obj: KubeObject, old: KubeObject | undefined): void {
    for (const handler of this.#handlers) {
      try { handler(type, obj, old); } catch (err) {
        this.#options.logger.error({ err, path: this.path }, "change handler threw");
      }
    }
  }
}

/**
 * Whether resuming from our resourceVersion cannot work: 410 Gone (compacted, or a restarted server's cache
 * starts later), or "too large resource version" (the server, e.g. a fresh or lagging one, has not reached it;
 * client-go's reflector relists on it too). Either way a list, which reads from etcd, is what answers.
 */
function resumePointGone(err: unknown): boolean {
  if (!(err instanceof KubeApiError)) return false;
  if (err.isGone) return true;
  const causes = (err.details as { causes?: Array<{ reason?: string }> } | undefined)?.causes ?? [];
  return causes.some((c) => c.reason === "ResourceVersionTooLarge") || /too large resource version/i.test(err.message);
}

function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
