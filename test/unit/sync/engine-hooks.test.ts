// Hooks without a cluster: each phase's hooks run before the phase goes on, are followed across calls until they
// finish, and are deleted per policy; a failed hook stops the sync and runs the SyncFail hooks, which the
// operation follows to the end before it is Failed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KubeApiError } from "../../../src/cluster/index.ts";
import { SYNC_FAIL_GRACE_MS } from "../../../src/sync/hooks.ts";
import { FakeCluster, declared, hook, hookRecords, job, obj, NS } from "./fake-cluster.ts";

const hookOf = (phase: string, policy?: string) => ({
  "argocd.argoproj.io/hook": phase, ...(policy ? { "argocd.argoproj.io/hook-delete-policy": policy } : {}),
});

test("a PreSync hook runs to completion before the Sync phase writes anything; HookSucceeded deletes it at the end", async () => {
  const cluster = new FakeCluster();
  const items = [declared(obj("v1", "ConfigMap", "app"))];
  const hooks = [hook(job("migrate", hookOf("PreSync", "HookSucceeded")))];

  const created = await cluster.sync(items, { hooks });
  assert.equal(created.phase, "Running");
  assert.equal(created.message, "PreSync wave 0: waiting for Job/apps/migrate: created");
  assert.deepEqual(hookRecords(created.results), ["PreSync Job/migrate: Running"]);
  const running = await cluster.sync(items, { hooks, previous: created });
  assert.equal(running.phase, "Running");
  assert.deepEqual(cluster.calls, ["apply Job/apps/migrate"], "created once, then followed");

  cluster.finishJob("migrate", "Complete");
  const done = await cluster.sync(items, { hooks, previous: running });
  assert.equal(done.phase, "Succeeded", done.message);
  assert.equal(done.message, "successfully synced (1 applied, 0 pruned, 1 hook(s) succeeded)");
  assert.deepEqual(cluster.calls, ["apply Job/apps/migrate", "apply ConfigMap/apps/app", "delete Job/apps/migrate"]);
  assert.deepEqual(hookRecords(done.results), ["PreSync Job/migrate: Succeeded"]);
  assert.deepEqual(done.hookDeletionFailures, []);
});

test("a hook recorded as Succeeded is never run again", async () => {
  const cluster = new FakeCluster();
  const hooks = [hook(job("migrate", hookOf("PreSync")))];
  const first = await cluster.sync([], { hooks });
  cluster.finishJob("migrate", "Complete");
  const done = await cluster.sync([], { hooks, previous: first });
  assert.equal(done.phase, "Succeeded");
  await cluster.sync([], { hooks, results: done.results });
  assert.deepEqual(cluster.calls, ["apply Job/apps/migrate"]);
});

test("PreSync, Sync and PostSync hooks run in their phase, hooks of one phase ordered by wave", async () => {
  const cluster = new FakeCluster();
  const hooks = [
    hook(job("post", hookOf("PostSync"))), hook(job("sync", hookOf("Sync"))),
    hook(job("pre-late", { ...hookOf("PreSync"), "argocd.argoproj.io/sync-wave": "5" })), hook(job("pre", hookOf("PreSync"))),
  ];
  const items = [declared(obj("v1", "ConfigMap", "app"))];
  let outcome = await cluster.sync(items, { hooks });
  for (const name of ["pre", "pre-late", "sync", "post"]) {
    cluster.finishJob(name, "Complete");
    outcome = await cluster.sync(items, { hooks, previous: outcome });
  }
  assert.equal(outcome.phase, "Succeeded", outcome.message);
  assert.deepEqual(cluster.calls, ["apply Job/apps/pre", "apply Job/apps/pre-late", "apply Job/apps/sync", "apply ConfigMap/apps/app", "apply Job/apps/post"]);
});

test("a hook with generateName is created under a new name each operation and followed by that name", async () => {
  const cluster = new FakeCluster();
  const hooks = [hook(job("smoke-", hookOf("PostSync", "HookSucceeded"), { generateName: true }))];
  const created = await cluster.sync([], { hooks });
  assert.deepEqual(cluster.calls, ["create Job/apps/smoke-1"]);
  assert.equal(created.results[0]!.hookName, "smoke-");
  cluster.finishJob("smoke-1", "Complete");
  const done = await cluster.sync([], { hooks, previous: created });
  assert.equal(done.phase, "Succeeded", done.message);
  assert.deepEqual(cluster.calls, ["create Job/apps/smoke-1", "delete Job/apps/smoke-1"]);
});

test("BeforeHookCreation (the default) deletes the previous run and waits until it is gone before creating the hook", async () => {
  const cluster = new FakeCluster();
  cluster.slowDeletes = true;
  cluster.seed(job("migrate", hookOf("PreSync")));
  const hooks = [hook(job("migrate", hookOf("PreSync")))];
  const deleting = await cluster.sync([], { hooks });
  assert.equal(deleting.phase, "Running");
  assert.match(deleting.message, /deleting the previous run \(BeforeHookCreation\)/);
  const waiting = await cluster.sync([], { hooks, previous: deleting });
  assert.match(waiting.message, /waiting for the previous run to be deleted/);
  cluster.settle();
  const created = await cluster.sync([], { hooks, previous: waiting });
  assert.match(created.message, /Job\/apps\/migrate: created/);
  assert.deepEqual(cluster.calls, ["delete Job/apps/migrate", "apply Job/apps/migrate"]);
});

test("without BeforeHookCreation an earlier run stays and is applied over", async () => {
  const cluster = new FakeCluster();
  cluster.seed(job("migrate", hookOf("PreSync", "HookSucceeded")));
  await cluster.sync([], { hooks: [hook(job("migrate", hookOf("PreSync", "HookSucceeded")))] });
  assert.deepEqual(cluster.calls, ["apply Job/apps/migrate"]);
});

test("a failed PreSync hook fails the sync before any Sync-phase write; HookFailed deletes it, HookSucceeded keeps it", async () => {
  const cluster = new FakeCluster();
  const hooks = [hook(job("deleted", hookOf("PreSync", "HookFailed"))), hook(job("kept", hookOf("PreSync", "HookSucceeded")))];
  const items = [declared(obj("v1", "ConfigMap", "app"))];
  const started = await cluster.sync(items, { hooks });
  cluster.finishJob("deleted", "Failed");
  cluster.finishJob("kept", "Failed");
  const failed = await cluster.sync(items, { hooks, previous: started });
  assert.equal(failed.phase, "Failed");
  assert.equal(failed.message, "PreSync hook Job/apps/deleted failed: BackoffLimitExceeded");
  assert.deepEqual(cluster.calls, ["apply Job/apps/deleted", "apply Job/apps/kept", "delete Job/apps/deleted"]);
  assert.deepEqual(failed.changes.hooks.failed.map((r) => r.name), ["deleted"]);
});

test("a hook that cannot be created fails the sync with the server's message", async () => {
  const cluster = new FakeCluster();
  cluster.failing.set("apply Job/apps/migrate", new Error("jobs.batch is forbidden"));
  const outcome = await cluster.sync([], { hooks: [hook(job("migrate", hookOf("PreSync")))] });
  assert.equal(outcome.phase, "Failed");
  assert.equal(outcome.message, "PreSync hook Job/apps/migrate failed: jobs.batch is forbidden");
});

test("a dry run runs no hook and records each as it would run", async () => {
  const cluster = new FakeCluster();
  const outcome = await cluster.sync([], { hooks: [hook(job("migrate", hookOf("PreSync"))), hook(job("notify", hookOf("SyncFail")))], dryRun: true });
  assert.equal(outcome.phase, "Succeeded");
  assert.deepEqual(cluster.calls, []);
  assert.deepEqual(hookRecords(outcome.results), ["PreSync Job/migrate: Succeeded"]);
});

// Defect (issue 13): SyncFail hooks were recorded as Running for good, and HookSucceeded never deleted them.
test("SyncFail hooks run after a failure and are followed to the end; the operation is Failed then, and HookSucceeded deletes them", async () => {
  const cluster = new FakeCluster();
  cluster.failing.set("apply ConfigMap/apps/app", new Error("admission webhook denied the request"));
  const hooks = [hook(job("notify", hookOf("SyncFail", "HookSucceeded")))];
  const items = [declared(obj("v1", "ConfigMap", "app"))];

  const failing = await cluster.sync(items, { hooks });
  assert.equal(failing.phase, "Running", "the operation waits for its SyncFail hooks");
  assert.match(failing.message, /^running SyncFail hooks; the sync failed: 1 object\(s\) failed to apply in Sync wave 0: ConfigMap\/apps\/app: admission webhook denied/);
  assert.deepEqual(hookRecords(failing.results), ["SyncFail Job/notify: Running"]);

  const still = await cluster.sync(items, { hooks, previous: failing });
  assert.equal(still.phase, "Running");
  assert.deepEqual(cluster.calls, ["apply ConfigMap/apps/app", "apply Job/apps/notify"], "nothing retried, the hook created once");

  cluster.finishJob("notify", "Complete");
  const failed = await cluster.sync(items, { hooks, previous: still });
  assert.equal(failed.phase, "Failed");
  assert.equal(failed.message, "1 object(s) failed to apply in Sync wave 0: ConfigMap/apps/app: admission webhook denied the request");
  assert.deepEqual(hookRecords(failed.results), ["SyncFail Job/notify: Succeeded"]);
  assert.deepEqual(cluster.calls.at(-1), "delete Job/apps/notify");
  assert.equal(cluster.get("Job", "notify"), undefined);
});

test("a failed SyncFail hook is named in the final message and deleted under HookFailed", async () => {
  const cluster = new FakeCluster();
  const hooks = [hook(job("migrate", hookOf("PreSync"))), hook(job("notify", hookOf("SyncFail", "HookFailed")))];
  const started = await cluster.sync([], { hooks });
  cluster.finishJob("migrate", "Failed");
  const failing = await cluster.sync([], { hooks, previous: started });
  cluster.finishJob("notify", "Failed");
  const failed = await cluster.sync([], { hooks, previous: failing });
  assert.equal(failed.phase, "Failed");
  assert.equal(failed.message, "PreSync hook Job/apps/migrate failed: BackoffLimitExceeded; SyncFail hook(s) failed: Job/apps/notify: BackoffLimitExceeded");
  assert.equal(cluster.calls.at(-1), "delete Job/apps/notify");
});

test("SyncFail hooks of a sync that failed by its deadline get a grace period of their own, then are given up", async () => {
  const cluster = new FakeCluster();
  cluster.health.set(`Deployment/${NS}/db`, { status: "Progressing", message: "rolling out" });
  const items = [declared(obj("apps/v1", "Deployment", "db")), declared(obj("v1", "ConfigMap", "later", { annotations: { "argocd.argoproj.io/sync-wave": "1" } }))];
  const hooks = [hook(job("notify", hookOf("SyncFail", "HookSucceeded")))];
  const started = await cluster.sync(items, { hooks, deadline: 1_000 });
  const timedOut = await cluster.sync(items, { hooks, previous: started, now: 1_000, deadline: 1_000 });
  assert.equal(timedOut.phase, "Running", "the SyncFail hook is followed past the deadline");
  const givenUp = await cluster.sync(items, { hooks, previous: timedOut, now: 1_000 + SYNC_FAIL_GRACE_MS, deadline: 1_000 });
  assert.equal(givenUp.phase, "Failed");
  assert.match(givenUp.message, /^timed out in Sync wave 0 waiting for Deployment\/apps\/db: Progressing: rolling out; SyncFail hook\(s\) failed: Job\/apps\/notify: job running \(given up\)$/);
  assert.deepEqual(hookRecords(givenUp.results), ["SyncFail Job/notify: Failed"], "no hook is left Running in status");
});

// Defect (issue 13): a hook deletion the API server refused was only logged.
/** A sync with one HookSucceeded PreSync hook, run until the hook has completed and its deletion was tried. */
async function completeMigration(deleteError: Error) {
  const cluster = new FakeCluster();
  cluster.failing.set("delete Job/apps/migrate", deleteError);
  const hooks = [hook(job("migrate", hookOf("PreSync", "HookSucceeded")))];
  const started = await cluster.sync([], { hooks });
  cluster.finishJob("migrate", "Complete");
  return { cluster, done: await cluster.sync([], { hooks, previous: started }) };
}

test("a hook deletion that fails is returned, typed, and noted in the hook's record; the sync still succeeds", async () => {
  const { cluster, done } = await completeMigration(new KubeApiError(403, "Forbidden", "jobs.batch \"migrate\" is forbidden: cannot delete"));
  assert.equal(done.phase, "Succeeded");
  assert.deepEqual(done.hookDeletionFailures, [{
    key: { group: "batch", kind: "Job", namespace: NS, name: "migrate" }, policy: "HookSucceeded",
    message: "jobs.batch \"migrate\" is forbidden: cannot delete",
  }]);
  assert.match(done.results[0]!.message!, /not deleted \(HookSucceeded\): jobs\.batch "migrate" is forbidden/);
  assert.ok(cluster.get("Job", "migrate"), "the hook stays");
});

test("a hook already gone when its policy deletes it is no failure", async () => {
  const { done } = await completeMigration(new KubeApiError(404, "NotFound", "not found"));
  assert.deepEqual(done.hookDeletionFailures, []);
});
