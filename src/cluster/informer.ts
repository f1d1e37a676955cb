// A watch-fed store of one resource type: list, then watch from the list's resourceVersion with bookmarks,
// relist on 410 Gone, and restart with backoff after any other failure. client-node's informer does not
// restart itself after errors other than 410 (DESIGN.md §4), so this loop is ours.
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
  /** Server-side watch timeout; the loop re-watches from the last resourceVersion when it ends. */
  watchTimeoutSeconds?: number;
  pageSize?: number;
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

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
        }, (event) => { this.#apply(event); failures = 0; this.#lastError = undefined; }, signal,
        // Connected again: the server is reachable, even if nothing has changed since (no event may come for minutes).
        () => { this.#lastError = undefined; });
        failures = 0;
        this.#lastError = undefined;
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof KubeApiError && err.isGone || err instanceof ExpiredError) {
          // Our resourceVersion fell out of etcd's window: only a fresh list can tell what changed.
          needList = true;
          this.#options.logger.debug({ path: this.path }, "watch expired; relisting");
          continue;
        }
        failures++;
        // One dropped watch that reconnects on the first retry is routine (a server restart, a proxy's idle
        // timeout): only a second failure in a row says the server cannot be reached.
        if (failures >= 2) this.#lastError = err as Error;
        const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() / 2);
        this.#options.logger.warn({ path: this.path, err, retryInMs: Math.round(delay) }, "watch failed; retrying");
        await sleep(delay, signal);
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
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
    }
  }

  #apply(event: WatchEvent): void {
    if (event.type === "ERROR") {
      const code = (event.object as { code?: number }).code;
      if (code === 410) throw new ExpiredError();
      throw new Error(`watch error: ${JSON.stringify(event.object).slice(0, 300)}`);
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

class ExpiredError extends Error {
  constructor() { super("watch resourceVersion expired (410 Gone)"); this.name = "ExpiredError"; }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
