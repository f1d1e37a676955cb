// Which live objects each Application owns, by their tracking annotation; fed by the live cache's watch
// events, so finding what to prune never scans the cache nor asks the API server.
import type { KubeObject, ResourceKey } from "../api/index.ts";
import { keyOf, keyString, owningApp } from "../api/index.ts";
import type { ChangeType, ResourceType } from "../cluster/index.ts";

export interface OwnedObject { key: ResourceKey; type: ResourceType }

export class OwnershipIndex {
  readonly #byApp = new Map<string, Map<string, OwnedObject>>();
  readonly #ownerOf = new Map<string, string>();

  /** Updates the index; returns the apps whose set of owned objects or whose objects changed. */
  observe(type: ResourceType, change: ChangeType, obj: KubeObject): string[] {
    const key = keyOf(obj);
    const id = keyString(key);
    const previousOwner = this.#ownerOf.get(id);
    const owner = change === "deleted" ? undefined : owningApp(obj);
    const ownerKey = owner ? `${owner.namespace}/${owner.name}` : undefined;
    if (previousOwner && previousOwner !== ownerKey) {
      this.#byApp.get(previousOwner)?.delete(id);
      this.#ownerOf.delete(id);
    }
    if (ownerKey) {
      let owned = this.#byApp.get(ownerKey);
      if (!owned) { owned = new Map(); this.#byApp.set(ownerKey, owned); }
      owned.set(id, { key, type });
      this.#ownerOf.set(id, ownerKey);
    }
    return [...new Set([previousOwner, ownerKey].filter((k): k is string => k !== undefined))];
  }

  owned(appKey: string): OwnedObject[] { return [...(this.#byApp.get(appKey)?.values() ?? [])]; }
}
