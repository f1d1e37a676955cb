// One store over several watches of the same collection: one per namespace when Tack is confined to a list of
// namespaces (its service account then holds only namespaced Roles, and a cluster-wide list would be refused
// with 403), or the single cluster-wide watch otherwise. Readers see one store either way.
import type { KubeObject } from "../api/index.ts";
import type { KubeClient } from "./kube-client.ts";
import { Informer, type InformerOptions } from "./informer.ts";

/** What readers of a watch-fed collection use: satisfied by an Informer and by an InformerGroup. */
export interface ObjectStore {
  readonly synced: boolean;
  readonly lastError: Error | undefined;
  readonly size: number;
  get(namespace: string | undefined, name: string): KubeObject | undefined;
  list(): Iterable<KubeObject>;
  start(): void;
  stop(): Promise<void>;
  waitForSync(timeoutMs: number): Promise<void>;
}

export class InformerGroup implements ObjectStore {
  readonly #members: ReadonlyMap<string | undefined, Informer>;

  /**
   * `pathFor(namespace)` gives the collection path in one namespace, or the cluster-wide path for undefined.
   * An empty `namespaces` list means the whole cluster.
   */
  constructor(client: KubeClient, options: Omit<InformerOptions, "path">, pathFor: (namespace?: string) => string, namespaces: readonly string[]) {
    const scopes = namespaces.length > 0 ? [...new Set(namespaces)] : [undefined];
    this.#members = new Map(scopes.map((ns) => [ns, new Informer(client, { ...options, path: pathFor(ns) })]));
  }

  get synced(): boolean { return [...this.#members.values()].every((m) => m.synced); }

  get lastError(): Error | undefined {
    for (const member of this.#members.values()) if (member.lastError) return member.lastError;
    return undefined;
  }

  get size(): number {
    let total = 0;
    for (const member of this.#members.values()) total += member.size;
    return total;
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    const member = this.#members.get(namespace) ?? this.#members.get(undefined);
    return member?.get(namespace, name);
  }

  *list(): IterableIterator<KubeObject> {
    for (const member of this.#members.values()) yield* member.list();
  }

  start(): void { for (const member of this.#members.values()) member.start(); }

  async stop(): Promise<void> { await Promise.all([...this.#members.values()].map((m) => m.stop())); }

  async waitForSync(timeoutMs: number): Promise<void> {
    await Promise.all([...this.#members.values()].map((m) => m.waitForSync(timeoutMs)));
  }
}
