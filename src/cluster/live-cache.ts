// Live state of the cluster, fed by watches: one informer per resource type that some Application uses,
// started on first use and kept. Comparing an unchanged app reads only from here, so it costs no request.
import type { Logger } from "pino";
import type { KubeObject } from "../api/index.ts";
import type { KubeClient } from "./kube-client.ts";
import { resourcePath, type ResourceType } from "./discovery.ts";
import type { ChangeType } from "./informer.ts";
import { InformerGroup } from "./informer-group.ts";
import { isConfined, WHOLE_CLUSTER, type ClusterScope } from "./scope.ts";

export type LiveChangeHandler = (type: ResourceType, change: ChangeType, obj: KubeObject, old: KubeObject | undefined) => void;

export interface LiveCacheOptions {
  logger: Logger;
  /** How long ensureWatched waits for a new type's first list. */
  syncTimeoutMs?: number;
  /** Confined to namespaces: a namespaced type is watched in each of them, never cluster-wide. */
  scope?: ClusterScope;
}

export class LiveCache {
  readonly #client: KubeClient;
  readonly #options: LiveCacheOptions;
  readonly #informers = new Map<string, { type: ResourceType; informer: InformerGroup }>();
  readonly #handlers: LiveChangeHandler[] = [];
  #stopped = false;

  constructor(client: KubeClient, options: LiveCacheOptions) {
    this.#client = client;
    this.#options = options;
  }

  onChange(handler: LiveChangeHandler): void { this.#handlers.push(handler); }

  get scope(): ClusterScope { return this.#options.scope ?? WHOLE_CLUSTER; }

  /**
   * Starts watching the type (all namespaces, or each managed one) if not yet, and waits until its cache is
   * synced. A confined cache never watches a cluster-scoped type it may not manage.
   */
  async ensureWatched(type: ResourceType): Promise<void> {
    if (this.#stopped) throw new Error("live cache stopped");
    const scope = this.scope;
    if (!type.namespaced && isConfined(scope) && !scope.clusterResources) {
      throw new Error(`${type.kind} is cluster-scoped and this cluster is managed in namespaces ${scope.namespaces.join(", ")} only`);
    }
    const key = typeKey(type);
    let entry = this.#informers.get(key);
    if (!entry) {
      const informer = new InformerGroup(this.#client, {
        logger: this.#options.logger,
        onChange: (change, obj, old) => { for (const h of this.#handlers) h(type, change, obj, old); },
      }, (namespace) => resourcePath(type, namespace), type.namespaced ? scope.namespaces : []);
      entry = { type, informer };
      this.#informers.set(key, entry);
      informer.start();
    }
    await entry.informer.waitForSync(this.#options.syncTimeoutMs ?? 60_000);
  }

  isWatched(type: ResourceType): boolean { return this.#informers.get(typeKey(type))?.informer.synced ?? false; }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#informers.get(typeKey(type))?.informer.get(type.namespaced ? namespace : undefined, name);
  }

  list(type: ResourceType): Iterable<KubeObject> {
    return this.#informers.get(typeKey(type))?.informer.list() ?? [];
  }

  types(): ResourceType[] { return [...this.#informers.values()].map((e) => e.type); }

  /** Objects held, per type: for the tack_cluster_cache_objects metric. */
  objectCount(): number {
    let total = 0;
    for (const { informer } of this.#informers.values()) total += informer.size;
    return total;
  }

  /** The error of a watch that is failing now (connection refused, …), if any: the cluster is unreachable. */
  lastError(): Error | undefined {
    for (const { informer } of this.#informers.values()) if (informer.lastError) return informer.lastError;
    return undefined;
  }

  allSynced(): boolean { return [...this.#informers.values()].every((e) => e.informer.synced); }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#informers.values()].map((e) => e.informer.stop()));
  }
}

/** Informers are per group and kind: one version is enough to see every object of the type. */
function typeKey(type: ResourceType): string { return `${type.group}/${type.kind}`; }
