// Cascade deletion that fails is visible: a DeletionError condition naming the cause, a DeletionFailed Event, and a
// retry with backoff; the finalizer stays. Once a pass succeeds the condition goes.
import { test } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import type { Application, ApplicationStatus, KubeObject } from "../../../src/api/index.ts";
import { trackingId } from "../../../src/api/index.ts";
import { KubeApiError } from "../../../src/cluster/index.ts";
import { Reconciler, type ReconcilerDeps } from "../../../src/controller/reconciler.ts";

const ref = { namespace: "apps", name: "web" };
const key = { group: "", kind: "ConfigMap", namespace: "web", name: "settings" };
const type = { group: "", version: "v1", kind: "ConfigMap", resource: "configmaps", namespaced: true, verbs: [] };
const live: KubeObject = { apiVersion: "v1", kind: "ConfigMap",
  metadata: { name: "settings", namespace: "web", uid: "cm-1", annotations: { "tack.dev/tracking-id": trackingId(ref, key) } } };

function setup(deleteObject: () => Promise<void>) {
  let app: Application = {
    apiVersion: "tack.dev/v1alpha1", kind: "Application",
    metadata: { ...ref, uid: "u1", resourceVersion: "7", generation: 1, deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: ["resources-finalizer.tack.dev"] },
    spec: { source: { repoURL: "https://git.example/repo.git", path: "app" }, destination: { server: "https://kubernetes.default.svc", namespace: "web" } },
  } as Application;
  const events: string[] = [];
  const noop = () => {};
  const target = {
    cache: { get: () => live, ensureWatched: async () => {} },
    discovery: { byGroupKind: () => type, peek: () => true },
    ownership: { owned: () => [{ key, type }] },
    writer: { delete: deleteObject },
    scope: {},
  };
  const deps = {
    config: {}, logger: pino({ level: "silent" }),
    metrics: { setOutOfSyncSince: noop, setLastSync: noop, setAppInfo: noop, observeReconcile: noop, removeApp: noop },
    clusters: { resolve: () => target, assertReachable: noop },
    writer: {
      patchApplicationStatus: async (_ns: string, _name: string, patch: ApplicationStatus) => {
        app = { ...app, metadata: { ...app.metadata, resourceVersion: String(Number(app.metadata.resourceVersion) + 1) }, status: { ...app.status, ...patch } };
        return app;
      },
    },
    events: { record: (_app: unknown, type: string, reason: string, message: string) => { events.push(`${type} ${reason}: ${message}`); } },
    applications: { get: () => app },
    resyncDelayMs: () => 180_000,
    signal: new AbortController().signal,
  } as unknown as ReconcilerDeps;
  return { reconciler: new Reconciler(deps), events, current: () => app };
}

test("a failing cascade deletion is a DeletionError condition and an Event, retried; a later success clears it", async () => {
  let failing = true;
  const { reconciler, events, current } = setup(async () => {
    if (failing) throw new KubeApiError(500, "InternalError", "etcdserver: request timed out");
  });
  assert.deepEqual(await reconciler.reconcile("apps/web"), { retry: true });
  const condition = current().status?.conditions?.find((c) => c.type === "DeletionError");
  assert.equal(condition?.status, "True");
  assert.equal(condition?.reason, "ClusterError");
  assert.match(condition?.message ?? "", /etcdserver: request timed out/);
  assert.deepEqual(events, ["Warning DeletionFailed: Cascade deletion failed: etcdserver: request timed out"]);
  assert.deepEqual(current().metadata.finalizers, ["resources-finalizer.tack.dev"], "the finalizer stays");

  failing = false;
  assert.deepEqual(await reconciler.reconcile("apps/web"), { requeueAfterMs: 1_000 }, "waits for the object to go");
  assert.equal(current().status?.conditions?.some((c) => c.type === "DeletionError"), false, "cleared once a pass succeeds");
});
