// Which resource types the API server serves: kind → plural, scope, verbs. Aggregated discovery (v2, GA
// since Kubernetes 1.30) answers with two requests; the table is refreshed when a lookup misses (a CRD
// installed since), at most once per MIN_REFRESH_MS so a typo'd kind cannot turn into a request storm.
import type { KubeClient } from "./kube-client.ts";

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  /** Plural used in URLs. */
  resource: string;
  namespaced: boolean;
  verbs: string[];
}

interface AggregatedResource {
  resource: string;
  responseKind?: { group?: string; version?: string; kind?: string };
  scope: "Namespaced" | "Cluster";
  verbs?: string[];
}
interface AggregatedGroup {
  metadata?: { name?: string };
  versions?: Array<{ version: string; resources?: AggregatedResource[] }>;
}

const AGGREGATED_ACCEPT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
const MIN_REFRESH_MS = 5_000;

export class Discovery {
  readonly #client: KubeClient;
  /** "group/version/Kind" → type */
  #byGvk = new Map<string, ResourceType>();
  /** types(), kept until discovery changes, so what callers derive from it can be cached by its identity. */
  #types: readonly ResourceType[] | undefined;
  /** "group/Kind" → type at the group's preferred (first listed) version */
  #byGroupKind = new Map<string, ResourceType>();
  #lastRefresh = 0;
  #refreshing: Promise<void> | undefined;
  #serverVersion: { gitVersion: string; major: string; minor: string } | undefined;

  constructor(client: KubeClient) { this.#client = client; }

  async refresh(): Promise<void> {
    this.#refreshing ??= this.#load().finally(() => { this.#refreshing = undefined; });
    return this.#refreshing;
  }

  async #load(): Promise<void> {
    const [core, groups] = await Promise.all([
      this.#client.request<{ items?: AggregatedGroup[] }>({ method: "GET", path: "/api", accept: AGGREGATED_ACCEPT }),
      this.#client.request<{ items?: AggregatedGroup[] }>({ method: "GET", path: "/apis", accept: AGGREGATED_ACCEPT }),
    ]);
    const byGvk = new Map<string, ResourceType>();
    const byGroupKind = new Map<string, ResourceType>();
    for (const group of [...(core.items ?? []), ...(groups.items ?? [])]) {
      const groupName = group.metadata?.name ?? "";
      for (const version of group.versions ?? []) {
        for (const r of version.resources ?? []) {
          const kind = r.responseKind?.kind;
          if (!kind || r.resource.includes("/")) continue;
          const type: ResourceType = { group: groupName, version: version.version, kind, resource: r.resource,
            namespaced: r.scope === "Namespaced", verbs: r.verbs ?? [] };
          byGvk.set(`${groupName}/${version.version}/${kind}`, type);
          if (!byGroupKind.has(`${groupName}/${kind}`)) byGroupKind.set(`${groupName}/${kind}`, type);
        }
      }
    }
    if (byGvk.size === 0) throw new Error("the API server's discovery listed no resources (aggregated discovery v2 is required: Kubernetes ≥ 1.30)");
    this.#byGvk = byGvk;
    this.#types = undefined;
    this.#byGroupKind = byGroupKind;
    this.#lastRefresh = Date.now();
  }

  /** The type serving apiVersion+kind; refreshes once on a miss; undefined when the server does not serve it. */
  async lookup(apiVersion: string, kind: string): Promise<ResourceType | undefined> {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) as [string, string] : ["", apiVersion];
    const key = `${group}/${version}/${kind}`;
    let found = this.#byGvk.get(key);
    if (!found && Date.now() - this.#lastRefresh >= MIN_REFRESH_MS) {
      await this.refresh();
      found = this.#byGvk.get(key);
    }
    return found;
  }

  /** Cached only: for hot paths that must not wait on the network. */
  peek(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) as [string, string] : ["", apiVersion];
    return this.#byGvk.get(`${group}/${version}/${kind}`);
  }

  /** The preferred version's type for a group and kind (inventory entries carry no version). */
  byGroupKind(group: string, kind: string): ResourceType | undefined {
    return this.#byGroupKind.get(`${group}/${kind}`);
  }

  /** Every served type, as last discovered (for Helm's --api-versions): the same array until discovery changes. */
  types(): readonly ResourceType[] { return this.#types ??= [...this.#byGvk.values()]; }

  async serverVersion(): Promise<{ gitVersion: string; major: string; minor: string }> {
    if (!this.#serverVersion) this.#serverVersion = await this.#client.request<{ gitVersion: string; major: string; minor: string }>({ method: "GET", path: "/version" });
    return this.#serverVersion;
  }
}

/** The URL path of a collection (namespace omitted: all namespaces) or of one object. */
export function resourcePath(type: ResourceType, namespace?: string, name?: string): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${type.resource}${name ? `/${encodeURIComponent(name)}` : ""}`;
}
