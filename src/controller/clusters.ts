// Destination clusters. The cluster Tack runs in is always known (server https://kubernetes.default.svc, name
// in-cluster); others are registered with Secrets labelled `tack.dev/secret-type: cluster` in Tack's namespace,
// in Argo CD's format: `name`, `server`, and `config` (JSON: bearerToken, or tlsClientConfig with caData,
// certData, keyData, insecure). Each cluster has its own client, discovery, watch-fed cache and ownership
// index, so an unreachable cluster marks only its own apps Unknown. A cluster may be confined to namespaces
// (Argo CD's `namespaces` and `clusterResources` fields; for the cluster Tack runs in, --managed-namespaces).
import { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { keyOf, type KubeObject } from "../api/index.ts";
import {
  ClusterWriter, Discovery, KubeClient, LiveCache, NAMESPACE_NAME, WHOLE_CLUSTER, type ClusterScope, type Informer, type RequestObservation,
} from "../cluster/index.ts";
import { ComparisonError, ErrorReason, InvalidSpecError, errorMessage } from "../errors.ts";
import { ComparisonCache } from "./compare.ts";
import { OwnershipIndex } from "./ownership.ts";

export const IN_CLUSTER = { name: "in-cluster", server: "https://kubernetes.default.svc" } as const;

export interface TargetCluster {
  readonly name: string;
  readonly server: string;
  readonly client: KubeClient;
  readonly discovery: Discovery;
  readonly cache: LiveCache;
  readonly writer: ClusterWriter;
  readonly ownership: OwnershipIndex;
  readonly comparisons: ComparisonCache;
  /** What Tack may manage there: every object outside it is refused before any write. */
  readonly scope: ClusterScope;
}

export interface ClusterRegistryOptions {
  home: KubeClient;
  logger: Logger;
  userAgent: string;
  timeoutMs: number;
  leadership: () => AbortSignal;
  /** A managed object changed in a cluster: the apps that own it (by tracking id) need a reconcile. */
  onOwnedChange: (appKey: string) => void;
  /** A cluster became reachable or unreachable. */
  onConnectivityChange: (cluster: TargetCluster, reachable: boolean) => void;
  onRequest?: (observation: RequestObservation) => void;
  /** The part of the cluster Tack runs in that it may manage (--managed-namespaces); the whole cluster by default. */
  inClusterScope?: ClusterScope;
}

interface ClusterConfig { name: string; server: string; scope: ClusterScope; config: { bearerToken?: string; tlsClientConfig?: { caData?: string; certData?: string; keyData?: string; insecure?: boolean } } }

/** How often cluster connectivity is looked at (from the watches' own errors: no extra requests). */
const CONNECTIVITY_CHECK_MS = 1_000;

export class ClusterRegistry {
  readonly #options: ClusterRegistryOptions;
  readonly #clusters = new Map<string, TargetCluster & { secretVersion?: string }>();
  readonly #reachable = new Map<string, boolean>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: ClusterRegistryOptions) {
    this.#options = options;
    this.#clusters.set(IN_CLUSTER.server, this.#create(IN_CLUSTER.name, IN_CLUSTER.server, options.home, options.inClusterScope ?? WHOLE_CLUSTER));
    this.#timer = setInterval(() => this.#checkConnectivity(), CONNECTIVITY_CHECK_MS);
    this.#timer.unref();
  }

  get inCluster(): TargetCluster { return this.#clusters.get(IN_CLUSTER.server)!; }

  all(): TargetCluster[] { return [...this.#clusters.values()]; }

  /** The cluster an Application's destination names (by server or by name). */
  resolve(destination: { server?: string; name?: string }): TargetCluster {
    const byServer = destination.server ? this.#clusters.get(destination.server.replace(/\/+$/, "")) : undefined;
    const byName = destination.name ? this.all().find((c) => c.name === destination.name) : undefined;
    if (destination.server && destination.name && byServer && byServer !== byName) {
      throw new InvalidSpecError(`destination names both server '${destination.server}' and name '${destination.name}', which are different clusters`);
    }
    const found = byServer ?? byName;
    if (!found) {
      const what = destination.server ? `server '${destination.server}'` : destination.name ? `name '${destination.name}'` : "no cluster";
      throw new InvalidSpecError(`destination cluster with ${what} is not registered: add a Secret labelled tack.dev/secret-type: cluster ` +
        `in Tack's namespace (the cluster Tack runs in is ${IN_CLUSTER.server}, name ${IN_CLUSTER.name})`);
    }
    return found;
  }

  /** Why the cluster is unreachable right now, or undefined when its watches are healthy. */
  unreachable(cluster: TargetCluster): string | undefined {
    const err = cluster.cache.lastError();
    return err ? `cluster '${cluster.name}' (${cluster.server}) is unreachable: ${errorMessage(err)}` : undefined;
  }

  /** Throws the ComparisonError of an unreachable cluster, so its apps go Unknown and nothing is pruned. */
  assertReachable(cluster: TargetCluster): void {
    const reason = this.unreachable(cluster);
    if (reason) throw new ComparisonError(ErrorReason.ClusterError, reason);
  }

  /** Re-reads the cluster Secrets: new clusters added, changed ones replaced, removed ones stopped. */
  async syncFromSecrets(secrets: Informer): Promise<void> {
    const seen = new Set<string>([IN_CLUSTER.server]);
    for (const secret of secrets.list()) {
      let parsed: ClusterConfig;
      try {
        parsed = parseClusterSecret(secret);
      } catch (err) {
        this.#options.logger.error({ secret: secret.metadata.name, err: { message: errorMessage(err) } }, "cluster Secret refused");
        continue;
      }
      seen.add(parsed.server);
      const existing = this.#clusters.get(parsed.server);
      if (existing?.secretVersion === secret.metadata.resourceVersion) continue;
      if (existing && existing.server !== IN_CLUSTER.server) await existing.cache.stop();
      const client = new KubeClient(kubeConfigFor(parsed), {
        userAgent: this.#options.userAgent, timeoutMs: this.#options.timeoutMs, onRequest: this.#options.onRequest,
      });
      this.#clusters.set(parsed.server, { ...this.#create(parsed.name, parsed.server, client, parsed.scope), secretVersion: secret.metadata.resourceVersion });
      this.#options.logger.info({ cluster: parsed.name, server: parsed.server }, "destination cluster registered");
    }
    for (const [server, cluster] of this.#clusters) {
      if (seen.has(server)) continue;
      this.#clusters.delete(server);
      await cluster.cache.stop();
      this.#options.logger.info({ cluster: cluster.name, server }, "destination cluster removed");
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.all().map((c) => c.cache.stop()));
  }

  #create(name: string, server: string, client: KubeClient, scope: ClusterScope): TargetCluster {
    const cache = new LiveCache(client, { logger: this.#options.logger.child({ cluster: name }), syncTimeoutMs: 30_000, scope });
    const ownership = new OwnershipIndex();
    const comparisons = new ComparisonCache();
    cache.onChange((type, change, obj) => {
      // A deleted object's remembered comparison goes with it, so the cache is bounded by the live objects.
      if (change === "deleted") comparisons.forget(keyOf(obj));
      for (const key of ownership.observe(type, change, obj)) this.#options.onOwnedChange(key);
    });
    return {
      name, server, client, cache, ownership, comparisons, scope,
      discovery: new Discovery(client),
      writer: new ClusterWriter(client, { leadership: this.#options.leadership }),
    };
  }

  #checkConnectivity(): void {
    for (const cluster of this.all()) {
      const reachable = cluster.cache.lastError() === undefined;
      if (this.#reachable.get(cluster.server) === reachable) continue;
      const known = this.#reachable.has(cluster.server);
      this.#reachable.set(cluster.server, reachable);
      if (known || !reachable) this.#options.onConnectivityChange(cluster, reachable);
    }
  }
}

function field(secret: KubeObject, name: string): string | undefined {
  const data = secret.data as Record<string, string> | undefined;
  return data?.[name] !== undefined ? Buffer.from(data[name], "base64").toString("utf8") : (secret.stringData as Record<string, string> | undefined)?.[name];
}

/** Argo CD's cluster Secret format; errors name the Secret and the field (never a credential). */
export function parseClusterSecret(secret: KubeObject): ClusterConfig {
  const where = `cluster Secret ${secret.metadata.namespace}/${secret.metadata.name}`;
  const server = field(secret, "server")?.trim().replace(/\/+$/, "");
  if (!server || !/^https?:\/\//.test(server)) throw new Error(`${where}: 'server' must be an https:// URL`);
  const name = field(secret, "name")?.trim() || server;
  let config: ClusterConfig["config"] = {};
  const raw = field(secret, "config");
  if (raw) {
    try {
      config = JSON.parse(raw) as ClusterConfig["config"];
    } catch {
      throw new Error(`${where}: 'config' is not JSON`);
    }
  }
  if (!config.bearerToken && !(config.tlsClientConfig?.certData && config.tlsClientConfig.keyData)) {
    throw new Error(`${where}: 'config' needs a bearerToken or tlsClientConfig.certData and keyData`);
  }
  return { name, server, config, scope: parseScope(where, field(secret, "namespaces"), field(secret, "clusterResources")) };
}

/** `namespaces` (comma-separated; empty means all) and `clusterResources` ("true"/"false", default false). */
function parseScope(where: string, namespaces: string | undefined, clusterResources: string | undefined): ClusterScope {
  const list = (namespaces ?? "").split(",").map((n) => n.trim()).filter(Boolean);
  const invalid = list.find((n) => !NAMESPACE_NAME.test(n));
  if (invalid !== undefined) throw new Error(`${where}: 'namespaces' entry '${invalid}' is not a namespace name`);
  const flag = clusterResources?.trim().toLowerCase();
  if (flag !== undefined && flag !== "" && flag !== "true" && flag !== "false") throw new Error(`${where}: 'clusterResources' must be "true" or "false"`);
  if (list.length === 0) return WHOLE_CLUSTER;
  return Object.freeze({ namespaces: Object.freeze(list), clusterResources: flag === "true" });
}

function kubeConfigFor(cluster: ClusterConfig): KubeConfig {
  const tls = cluster.config.tlsClientConfig ?? {};
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: cluster.name, server: cluster.server, caData: tls.caData, skipTLSVerify: tls.insecure ?? false }],
    users: [{ name: cluster.name, token: cluster.config.bearerToken, certData: tls.certData, keyData: tls.keyData }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: cluster.name }],
    currentContext: cluster.name,
  });
  return kc;
}
