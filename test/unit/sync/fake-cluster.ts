// A cluster for the sync engine's unit tests, in the manner of gitops-engine's sync context tests: live state is a
// map, the writer records every call (and fails the calls a test scripts to fail), health is scripted per object,
// and a test moves time and hook runs forward by hand. No API server, no timers.
import pino from "pino";
import type { AppRef, KubeObject, ResourceResult } from "../../../src/api/index.ts";
import { Annotation, displayName, keyOf, trackingId } from "../../../src/api/index.ts";
import { KubeApiError, type ClusterWriter, type Discovery, type ResourceType } from "../../../src/cluster/index.ts";
import type { HealthStatus } from "../../../src/health/index.ts";
import { hookSpec } from "../../../src/sync/plan.ts";
import { runSyncStep, type EngineOutcome, type EngineRequest, type HookItem, type SyncItem } from "../../../src/sync/engine.ts";

export const APP: AppRef = { namespace: "tack-system", name: "web" };
export const NS = "apps";

export function obj(apiVersion: string, kind: string, name: string, opts: { namespace?: string | null; annotations?: Record<string, string>; generateName?: boolean } = {}): KubeObject {
  const namespace = opts.namespace === null ? undefined : opts.namespace ?? NS;
  return {
    apiVersion, kind,
    metadata: { ...(opts.generateName ? { generateName: name } : { name }), ...(namespace ? { namespace } : {}), ...(opts.annotations ? { annotations: opts.annotations } : {}) },
  };
}

export function typeOf(o: KubeObject): ResourceType {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/", 2) as [string, string] : ["", o.apiVersion];
  return { group, version, kind: o.kind, resource: `${o.kind.toLowerCase()}s`, namespaced: o.metadata.namespace !== undefined, verbs: [] };
}

/** An object of the app that Git declares; `live` when it already exists (then in sync unless told otherwise). */
export function declared(desired: KubeObject, opts: { live?: KubeObject; inSync?: boolean } = {}): SyncItem {
  return { key: keyOf(desired), type: typeOf(desired), desired, live: opts.live, inSync: opts.inSync ?? false, requiresPruning: false };
}

/** An object this app tracks that Git no longer declares. */
export function stale(live: KubeObject): SyncItem {
  return { key: keyOf(live), type: typeOf(live), desired: undefined, live, inSync: false, requiresPruning: true };
}

export function hook(desired: KubeObject): HookItem {
  const spec = hookSpec(desired);
  if (!spec) throw new Error(`${desired.kind}/${desired.metadata.name} has no hook annotation`);
  const key = keyOf(desired);
  return { id: `${key.group}/${key.kind}/${key.namespace}/${desired.metadata.name ?? desired.metadata.generateName}`, key: { ...key, name: desired.metadata.name ?? desired.metadata.generateName ?? "" }, type: typeOf(desired), desired, spec };
}

export function job(name: string, annotations: Record<string, string>, opts: { generateName?: boolean } = {}): KubeObject {
  return obj("batch/v1", "Job", name, { annotations, ...opts });
}

export class FakeCluster {
  readonly live = new Map<string, KubeObject>();
  /** Every write, in order: "apply ConfigMap/apps/a", "create Job/apps/x-1", "delete Job/apps/x". */
  readonly calls: string[] = [];
  /** Scripted health by "Kind/namespace/name"; objects not listed have no health of their own. */
  readonly health = new Map<string, HealthStatus>();
  /** Calls that fail: "delete Job/apps/x" → the error thrown. */
  readonly failing = new Map<string, Error>();
  /** When true, a delete only marks the object as terminating (a finalizer holds it) until `settle()`. */
  slowDeletes = false;
  #uid = 0;
  #generated = 0;

  /** An object in the cluster; cluster-scoped ones with namespace "". */
  get(kind: string, name: string, namespace = NS): KubeObject | undefined {
    return this.live.get(displayName({ group: "", kind, namespace, name }));
  }

  /** Puts an object in the cluster as if it were there before the sync (owned by APP unless `owner` is given). */
  seed(o: KubeObject, owner: AppRef | null = APP): KubeObject {
    const key = keyOf(o);
    const annotations = { ...o.metadata.annotations, ...(owner ? { [Annotation.TrackingId]: trackingId(owner, key) } : {}) };
    const stored = { ...o, metadata: { ...o.metadata, annotations, uid: `uid-${++this.#uid}` } };
    this.live.set(displayName(key), stored);
    return stored;
  }

  /** Ends a Job hook's run the way the Job controller reports it. */
  finishJob(name: string, outcome: "Complete" | "Failed", namespace = NS): void {
    const live = this.get("Job", name, namespace);
    if (!live) throw new Error(`no Job ${namespace}/${name}`);
    live.status = { conditions: [{ type: outcome, status: "True", ...(outcome === "Failed" ? { message: "BackoffLimitExceeded" } : {}) }] };
  }

  /** Removes the objects that slow deletes left terminating. */
  settle(): void {
    for (const [k, o] of this.live) if (o.metadata.deletionTimestamp) this.live.delete(k);
  }

  #call(verb: string, o: { kind: string; namespace?: string | undefined; name: string }): void {
    const line = `${verb} ${displayName({ group: "", kind: o.kind, namespace: o.namespace ?? "", name: o.name })}`;
    this.calls.push(line);
    const error = this.failing.get(line);
    if (error) throw error;
  }

  #store(o: KubeObject, dryRun: boolean | undefined): KubeObject {
    const key = displayName(keyOf(o));
    const previous = this.live.get(key);
    const stored: KubeObject = { ...o, metadata: { ...o.metadata, uid: previous?.metadata.uid ?? `uid-${++this.#uid}` } };
    if (!dryRun) this.live.set(key, stored);
    return stored;
  }

  readonly writer = {
    apply: async (_type: ResourceType, o: KubeObject, options: { dryRun?: boolean } = {}) => {
      this.#call("apply", { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name! });
      return this.#store(o, options.dryRun);
    },
    replace: async (_type: ResourceType, o: KubeObject, _live: KubeObject | undefined, options: { dryRun?: boolean } = {}) => {
      this.#call("replace", { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name! });
      return this.#store(o, options.dryRun);
    },
    mergeUpdate: async (_type: ResourceType, o: KubeObject, _live: KubeObject | undefined, options: { dryRun?: boolean } = {}) => {
      this.#call("merge", { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name! });
      return this.#store(o, options.dryRun);
    },
    create: async (_type: ResourceType, o: KubeObject) => {
      const name = `${o.metadata.generateName}${++this.#generated}`;
      this.#call("create", { kind: o.kind, namespace: o.metadata.namespace, name });
      return this.#store({ ...o, metadata: { ...o.metadata, name } }, false);
    },
    delete: async (type: ResourceType, namespace: string | undefined, name: string, uid: string) => {
      this.#call("delete", { kind: type.kind, namespace, name });
      const key = displayName({ group: "", kind: type.kind, namespace: namespace ?? "", name });
      const live = this.live.get(key);
      if (!live) throw new KubeApiError(404, "NotFound", `${type.kind} ${name} not found`);
      if (live.metadata.uid !== uid) throw new KubeApiError(409, "Conflict", "uid precondition failed");
      if (this.slowDeletes) live.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
      else this.live.delete(key);
    },
  } as unknown as ClusterWriter;

  readonly discovery = {
    refresh: async () => {},
    peek: () => ({}),
    lookup: async (apiVersion: string, kind: string) => typeOf({ apiVersion, kind, metadata: {} }),
  } as unknown as Discovery;

  /** A request as the controller builds one, with this cluster behind it; `previous` continues an operation. */
  request(items: SyncItem[], opts: Partial<EngineRequest<SyncItem>> & { previous?: EngineOutcome<SyncItem> } = {}): EngineRequest<SyncItem> {
    const { previous, ...overrides } = opts;
    return {
      app: APP, items, hooks: [], results: previous?.results ?? [], message: previous?.message, prune: true, dryRun: false, allowEmpty: false,
      emptyRender: false, syncOptions: [], destinationNamespace: NS, pruneGuardPercent: 50, now: 0, deadline: 300_000,
      health: (o) => this.health.get(displayName(keyOf(o))),
      live: (type, namespace, name) => this.live.get(displayName({ group: "", kind: type.kind, namespace, name })),
      writer: this.writer, discovery: this.discovery, signal: new AbortController().signal, logger: pino({ level: "silent" }),
      ...overrides,
    };
  }

  /** One call of the engine, as one reconcile makes it; `previous` carries the operation's records and message on. */
  async sync(items: SyncItem[], opts: Partial<EngineRequest<SyncItem>> & { previous?: EngineOutcome<SyncItem> } = {}): Promise<EngineOutcome<SyncItem>> {
    return runSyncStep(this.request(items, opts));
  }
}

export function hookRecords(results: readonly ResourceResult[]): string[] {
  return results.filter((r) => r.hookType).map((r) => `${r.hookType} ${r.kind}/${r.name}: ${r.hookPhase}`);
}
