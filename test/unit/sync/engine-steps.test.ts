// The step loop without a cluster: waves wait for the health of the wave before them, each call does only what
// the first unfinished step needs, objects in sync are not written, shared objects are not taken over, a failed
// write stops the sync, and the deadline and a shutdown end or pause it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeCluster, declared, obj, stale, NS } from "./fake-cluster.ts";

const wave = (n: number) => ({ "argocd.argoproj.io/sync-wave": String(n) });

test("a wave waits until the wave before it is Healthy; one call does only the first unfinished step", async () => {
  const cluster = new FakeCluster();
  const items = [declared(obj("apps/v1", "Deployment", "db", { annotations: wave(-1) })), declared(obj("v1", "ConfigMap", "web", { annotations: wave(1) }))];
  cluster.health.set(`Deployment/${NS}/db`, { status: "Progressing", message: "0 of 1 updated" });

  const first = await cluster.sync(items);
  assert.equal(first.phase, "Running");
  assert.match(first.message, /^Sync wave -1: waiting for 1 object\(s\) just applied; Deployment\/apps\/db: Progressing: 0 of 1 updated$/);
  assert.deepEqual(cluster.calls, ["apply Deployment/apps/db"]);
  assert.equal(first.requeueAfterMs, 2_000);

  const second = await cluster.sync(items, { previous: first });
  assert.equal(second.phase, "Running", "still Progressing");
  assert.deepEqual(cluster.calls, ["apply Deployment/apps/db"], "nothing written twice, the next wave not started");

  cluster.health.set(`Deployment/${NS}/db`, { status: "Healthy", message: "" });
  const third = await cluster.sync(items, { previous: second });
  assert.equal(third.phase, "Succeeded", third.message);
  assert.equal(third.message, "successfully synced (2 applied, 0 pruned)");
  assert.deepEqual(cluster.calls, ["apply Deployment/apps/db", "apply ConfigMap/apps/web"]);
  assert.deepEqual(third.results.map((r) => `${r.kind}/${r.name} ${r.status} ${r.message} wave=${r.wave ?? 0}`),
    ["Deployment/db Synced created wave=-1", "ConfigMap/web Synced created wave=1"]);
  assert.deepEqual(third.changes.applied.map((r) => r.name), ["db", "web"]);
  // The comparisons as they stand after this call: what it applied is in sync (the controller compares afresh on each reconcile).
  assert.deepEqual(third.after.map((i) => `${i.key.name} inSync=${i.inSync}`), ["db inSync=false", "web inSync=true"]);
});

test("the last step does not wait for health: the operation ends once it is applied", async () => {
  const cluster = new FakeCluster();
  cluster.health.set(`Deployment/${NS}/web`, { status: "Progressing", message: "rolling out" });
  const outcome = await cluster.sync([declared(obj("apps/v1", "Deployment", "web"))]);
  assert.equal(outcome.phase, "Succeeded", outcome.message);
});

test("within a wave, kinds are written in Argo CD's order: Namespace, ConfigMap, Service, Deployment", async () => {
  const cluster = new FakeCluster();
  const outcome = await cluster.sync([
    declared(obj("apps/v1", "Deployment", "web")), declared(obj("v1", "Service", "web")),
    declared(obj("v1", "ConfigMap", "web")), declared(obj("v1", "Namespace", NS, { namespace: null })),
  ]);
  assert.equal(outcome.phase, "Succeeded", outcome.message);
  assert.deepEqual(cluster.calls, ["apply Namespace/apps", "apply ConfigMap/apps/web", "apply Service/apps/web", "apply Deployment/apps/web"]);
});

test("objects in sync are not written, unless ApplyOutOfSyncOnly=false", async () => {
  const cluster = new FakeCluster();
  const live = cluster.seed(obj("v1", "ConfigMap", "same"));
  const items = [declared(obj("v1", "ConfigMap", "same"), { live, inSync: true }), declared(obj("v1", "ConfigMap", "drifted"))];
  assert.equal((await cluster.sync(items)).phase, "Succeeded");
  assert.deepEqual(cluster.calls, ["apply ConfigMap/apps/drifted"]);
  await cluster.sync(items, { syncOptions: ["ApplyOutOfSyncOnly=false"] });
  assert.deepEqual(cluster.calls.slice(1), ["apply ConfigMap/apps/drifted", "apply ConfigMap/apps/same"]);
});

test("an object tracked by another Application is skipped, and taken over only with TakeOwnership=true", async () => {
  const cluster = new FakeCluster();
  const live = cluster.seed(obj("v1", "ConfigMap", "shared"), { namespace: "tack-system", name: "other" });
  const items = [declared(obj("v1", "ConfigMap", "shared"), { live })];
  const skipped = await cluster.sync(items);
  assert.equal(skipped.phase, "Succeeded");
  assert.deepEqual(cluster.calls, []);
  assert.match(skipped.changes.skipped[0]!.message!, /tracked by Application tack-system\/other; not taken over/);
  const refused = await cluster.sync(items, { syncOptions: ["FailOnSharedResource=true"] });
  assert.equal(refused.phase, "Failed");
  assert.match(refused.message, /^FailOnSharedResource=true: ConfigMap\/apps\/shared \(tracked by Application tack-system\/other\)$/);
  await cluster.sync(items, { syncOptions: ["TakeOwnership=true"] });
  assert.deepEqual(cluster.calls, ["apply ConfigMap/apps/shared"]);
});

test("a failed write fails the sync before the next kind, and names the object; a Secret's values are masked", async () => {
  const cluster = new FakeCluster();
  cluster.failing.set("apply Secret/apps/creds", new Error("PATCH /api/v1/namespaces/apps/secrets/creds: invalid value \"hunter2\""));
  const secret = obj("v1", "Secret", "creds");
  secret.stringData = { password: "hunter2" };
  const outcome = await cluster.sync([declared(secret), declared(obj("v1", "Service", "web"))]);
  assert.equal(outcome.phase, "Failed");
  assert.match(outcome.message, /^1 object\(s\) failed to apply in Sync wave 0: Secret\/apps\/creds: invalid value/);
  assert.deepEqual(cluster.calls, ["apply Secret/apps/creds"], "the Service (a later kind) is not written");
  assert.equal(outcome.changes.failed.length, 1);
  assert.doesNotMatch(outcome.changes.failed[0]!.message!, /hunter2/);
  assert.doesNotMatch(outcome.message, /hunter2/, "nor in the operation message");
});

test("replace, merge patch and server-side apply are chosen by sync options", async () => {
  const cluster = new FakeCluster();
  await cluster.sync([
    declared(obj("v1", "ConfigMap", "a", { annotations: { "argocd.argoproj.io/sync-options": "Replace=true" } })),
    declared(obj("v1", "ConfigMap", "b", { annotations: { "argocd.argoproj.io/sync-options": "ServerSideApply=false" } })),
    declared(obj("v1", "ConfigMap", "c", { annotations: { "argocd.argoproj.io/sync-options": "Validate=false" } })),
    declared(obj("v1", "ConfigMap", "d")),
  ]);
  assert.deepEqual(cluster.calls, ["replace ConfigMap/apps/a", "merge ConfigMap/apps/b", "merge ConfigMap/apps/c", "apply ConfigMap/apps/d"]);
});

test("a wave still waiting at the deadline fails the sync, naming what it waited for", async () => {
  const cluster = new FakeCluster();
  const items = [declared(obj("apps/v1", "Deployment", "db", { annotations: wave(0) })), declared(obj("v1", "ConfigMap", "web", { annotations: wave(1) }))];
  cluster.health.set(`Deployment/${NS}/db`, { status: "Degraded", message: "ImagePullBackOff" });
  const first = await cluster.sync(items, { now: 0, deadline: 300_000 });
  assert.equal(first.phase, "Running");
  const late = await cluster.sync(items, { previous: first, now: 300_000, deadline: 300_000 });
  assert.equal(late.phase, "Failed");
  assert.equal(late.message, "timed out in Sync wave 0 waiting for Deployment/apps/db: Degraded: ImagePullBackOff");
  assert.deepEqual(cluster.calls, ["apply Deployment/apps/db"]);
});

test("a controller shutting down leaves the operation Running, to be resumed", async () => {
  const cluster = new FakeCluster();
  const controller = new AbortController();
  controller.abort();
  const outcome = await cluster.sync([declared(obj("v1", "ConfigMap", "a"))], { signal: controller.signal });
  assert.equal(outcome.phase, "Running");
  assert.match(outcome.message, /resumes on restart/);
  assert.deepEqual(cluster.calls, []);
});

test("a dry run writes with dryRun and records what would happen, and waits for nothing", async () => {
  const cluster = new FakeCluster();
  const old = cluster.seed(obj("v1", "ConfigMap", "old"));
  const outcome = await cluster.sync([declared(obj("v1", "ConfigMap", "new", { annotations: wave(0) })),
    declared(obj("v1", "ConfigMap", "later", { annotations: wave(1) })), stale(old)], { dryRun: true });
  assert.equal(outcome.phase, "Succeeded", outcome.message);
  assert.deepEqual(outcome.results.map((r) => `${r.name}: ${r.message}`), ["new: would be applied (dry run)", "old: would be pruned (dry run)", "later: would be applied (dry run)"]);
  assert.ok(cluster.get("ConfigMap", "old"), "nothing pruned");
  assert.equal(cluster.get("ConfigMap", "new"), undefined, "nothing created");
});

test("CreateNamespace=true creates the destination namespace first, with managedNamespaceMetadata", async () => {
  const cluster = new FakeCluster();
  await cluster.sync([declared(obj("v1", "ConfigMap", "a"))], { syncOptions: ["CreateNamespace=true"], managedNamespaceMetadata: { labels: { team: "x" } } });
  assert.deepEqual(cluster.calls, ["apply Namespace/apps", "apply ConfigMap/apps/a"]);
  assert.deepEqual(cluster.get("Namespace", NS, "")?.metadata.labels, { team: "x" });
});
