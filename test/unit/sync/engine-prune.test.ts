// Pruning without a cluster: the prune guard and an empty render hold deletes back, objects opt out with
// Prune=false, only this app's objects are deleted (by uid, with the propagation asked for), PruneLast prunes
// after every other wave, and a failed delete fails the sync.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KubeApiError } from "../../../src/cluster/index.ts";
import { propagationPolicy } from "../../../src/sync/engine.ts";
import { FakeCluster, declared, obj, stale } from "./fake-cluster.ts";

function staleConfigMaps(cluster: FakeCluster, names: string[], annotations?: Record<string, string>) {
  return names.map((name) => stale(cluster.seed(obj("v1", "ConfigMap", name, annotations ? { annotations } : {}))));
}

test("the prune guard refuses a sync that would delete more than its share of the app, before anything is written", async () => {
  const cluster = new FakeCluster();
  const items = [declared(obj("v1", "ConfigMap", "kept")), ...staleConfigMaps(cluster, ["a", "b"])];
  const refused = await cluster.sync(items);
  assert.equal(refused.phase, "Failed");
  assert.equal(refused.message, "prune guard: this sync would delete 2 of the app's 3 objects (67%, more than 50%); nothing was changed. " +
    "If that is intended, sync with the option AllowMassPrune=true");
  assert.deepEqual(cluster.calls, []);
  const allowed = await cluster.sync(items, { syncOptions: ["AllowMassPrune=true"] });
  assert.equal(allowed.phase, "Succeeded", allowed.message);
  assert.equal(allowed.message, "successfully synced (1 applied, 2 pruned)");
  assert.deepEqual(cluster.calls, ["apply ConfigMap/apps/kept", "delete ConfigMap/apps/a", "delete ConfigMap/apps/b"]);
  assert.deepEqual(allowed.after.map((i) => i.key.name), ["kept"], "pruned objects leave the comparisons");
});

test("objects with Prune=false are neither pruned nor counted by the guard", async () => {
  const cluster = new FakeCluster();
  const items = [declared(obj("v1", "ConfigMap", "kept")), ...staleConfigMaps(cluster, ["a", "b"], { "argocd.argoproj.io/sync-options": "Prune=false" })];
  const outcome = await cluster.sync(items);
  assert.equal(outcome.phase, "Succeeded", outcome.message);
  assert.deepEqual(outcome.changes.skipped.map((r) => `${r.name}: ${r.status} ${r.message}`), ["a: PruneSkipped sync option Prune=false", "b: PruneSkipped sync option Prune=false"]);
  assert.deepEqual(cluster.calls, ["apply ConfigMap/apps/kept"]);
});

test("an empty render prunes nothing without allowEmpty, and says so; with allowEmpty it prunes everything", async () => {
  const cluster = new FakeCluster();
  const items = staleConfigMaps(cluster, ["a", "b"]);
  const held = await cluster.sync(items, { emptyRender: true });
  assert.equal(held.phase, "Succeeded");
  assert.equal(held.message, "successfully synced (0 applied, 0 pruned, 2 skipped); refused to prune 2 object(s) because the render is empty " +
    "(set syncPolicy.automated.allowEmpty to allow it)");
  assert.deepEqual(cluster.calls, []);
  const allowed = await cluster.sync(items, { emptyRender: true, allowEmpty: true });
  assert.equal(allowed.message, "successfully synced (0 applied, 2 pruned)");
  assert.deepEqual(cluster.calls, ["delete ConfigMap/apps/a", "delete ConfigMap/apps/b"]);
});

test("with prune off, stale objects are reported and kept", async () => {
  const cluster = new FakeCluster();
  const outcome = await cluster.sync(staleConfigMaps(cluster, ["a"]), { prune: false });
  assert.equal(outcome.results[0]!.status, "PruneSkipped");
  assert.equal(outcome.results[0]!.message, "ignored (requires pruning, and prune is off)");
  assert.deepEqual(cluster.calls, []);
});

test("an object whose tracking id names another app (or none) is never pruned", async () => {
  const cluster = new FakeCluster();
  const items = [declared(obj("v1", "ConfigMap", "kept")), declared(obj("v1", "ConfigMap", "kept2")),
    stale(cluster.seed(obj("v1", "ConfigMap", "theirs"), { namespace: "tack-system", name: "other" })),
    stale(cluster.seed(obj("v1", "ConfigMap", "nobodys"), null))];
  const outcome = await cluster.sync(items, { syncOptions: ["AllowMassPrune=true"] });
  assert.deepEqual(outcome.changes.skipped.map((r) => `${r.name}: ${r.message}`), ["theirs: not tracked by this application", "nobodys: not tracked by this application"]);
  assert.ok(!cluster.calls.some((c) => c.startsWith("delete")));
});

test("PruneLast prunes in a step after every wave, which waits for the waves' health", async () => {
  const cluster = new FakeCluster();
  cluster.health.set("Deployment/apps/web", { status: "Progressing", message: "rolling out" });
  const items = [declared(obj("v1", "ConfigMap", "a")), declared(obj("apps/v1", "Deployment", "web")), ...staleConfigMaps(cluster, ["old"])];
  const first = await cluster.sync(items, { syncOptions: ["PruneLast=true"] });
  assert.equal(first.phase, "Running");
  assert.ok(!cluster.calls.some((c) => c.startsWith("delete")));
  cluster.health.set("Deployment/apps/web", { status: "Healthy", message: "" });
  const done = await cluster.sync(items, { syncOptions: ["PruneLast=true"], previous: first });
  assert.equal(done.phase, "Succeeded", done.message);
  assert.equal(cluster.calls.at(-1), "delete ConfigMap/apps/old");
});

test("a failed delete fails the sync; an object already gone counts as pruned", async () => {
  const cluster = new FakeCluster();
  const items = [declared(obj("v1", "ConfigMap", "k1")), declared(obj("v1", "ConfigMap", "k2")), ...staleConfigMaps(cluster, ["gone", "stuck"])];
  cluster.failing.set("delete ConfigMap/apps/gone", new KubeApiError(404, "NotFound", "not found"));
  cluster.failing.set("delete ConfigMap/apps/stuck", new KubeApiError(403, "Forbidden", "configmaps \"stuck\" is forbidden"));
  const outcome = await cluster.sync(items);
  assert.equal(outcome.phase, "Failed");
  assert.equal(outcome.message, "prune of ConfigMap/apps/stuck failed: configmaps \"stuck\" is forbidden");
  assert.deepEqual(outcome.results.map((r) => `${r.name} ${r.status}`), ["k1 Synced", "k2 Synced", "gone Pruned", "stuck SyncFailed"]);
});

test("the propagation policy comes from the object, then the app; Foreground by default", () => {
  const live = obj("v1", "ConfigMap", "a", { annotations: { "argocd.argoproj.io/sync-options": "PrunePropagationPolicy=orphan" } });
  assert.equal(propagationPolicy([], live), "Orphan");
  assert.equal(propagationPolicy(["PrunePropagationPolicy=background"], obj("v1", "ConfigMap", "b")), "Background");
  assert.equal(propagationPolicy([], undefined), "Foreground");
});
