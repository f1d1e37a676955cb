// The records of an operation as one change set, and the text made of it for the operation message, the
// Pruned Event, hook-deletion reports and `tack app sync`'s table.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ResourceResult } from "../../../src/api/index.ts";
import { changeSetOf, changeSummary, hookDeletionMessage, prunedMessage, resultRow } from "../../../src/sync/results.ts";

const results: ResourceResult[] = [
  { kind: "ConfigMap", namespace: "apps", name: "a", status: "Synced", message: "created", syncPhase: "Sync" },
  { group: "apps", kind: "Deployment", namespace: "apps", name: "web", status: "SyncFailed", message: "invalid", syncPhase: "Sync" },
  { kind: "ConfigMap", namespace: "apps", name: "old", status: "Pruned", message: "pruned", syncPhase: "Sync" },
  { kind: "Namespace", name: "gone", status: "Pruned", message: "pruned", syncPhase: "Sync" },
  { kind: "ConfigMap", namespace: "apps", name: "kept", status: "PruneSkipped", message: "sync option Prune=false", syncPhase: "Sync" },
  { group: "batch", kind: "Job", namespace: "apps", name: "migrate", status: "Synced", syncPhase: "PreSync", hookType: "PreSync", hookPhase: "Succeeded", hookName: "migrate" },
  { group: "batch", kind: "Job", namespace: "apps", name: "notify", status: "Synced", syncPhase: "SyncFail", hookType: "SyncFail", hookPhase: "Running", hookName: "notify" },
];

test("a change set groups the records by what happened, hooks apart", () => {
  const changes = changeSetOf(results);
  const names = (rs: ResourceResult[]) => rs.map((r) => r.name);
  assert.deepEqual(names(changes.applied), ["a"]);
  assert.deepEqual(names(changes.failed), ["web"]);
  assert.deepEqual(names(changes.pruned), ["old", "gone"]);
  assert.deepEqual(names(changes.skipped), ["kept"]);
  assert.deepEqual({ running: names(changes.hooks.running), succeeded: names(changes.hooks.succeeded), failed: names(changes.hooks.failed) },
    { running: ["notify"], succeeded: ["migrate"], failed: [] });
});

test("the summary, the Pruned Event and the hook-deletion report read the change set", () => {
  const changes = changeSetOf(results);
  assert.equal(changeSummary(changes), "1 applied, 2 pruned, 1 hook(s) succeeded, 1 skipped");
  assert.equal(changeSummary(changeSetOf([])), "0 applied, 0 pruned");
  assert.equal(prunedMessage(changes), "Pruned ConfigMap/apps/old, Namespace/gone");
  assert.equal(prunedMessage(changeSetOf([])), undefined);
  assert.equal(hookDeletionMessage([]), undefined);
  const failures = Array.from({ length: 6 }, (_, i) => ({ key: { group: "batch", kind: "Job", namespace: "apps", name: `j${i}` }, policy: "HookSucceeded" as const, message: "forbidden" }));
  assert.equal(hookDeletionMessage(failures.slice(0, 1)), "could not delete 1 hook object(s), left in the cluster: Job/apps/j0 (HookSucceeded): forbidden");
  assert.match(hookDeletionMessage(failures)!, /^could not delete 6 hook object\(s\), left in the cluster: Job\/apps\/j0 .*Job\/apps\/j4 \(HookSucceeded\): forbidden; and 1 more$/);
});

test("tack app sync prints one row per record", () => {
  assert.deepEqual(resultRow(results[3]!), ["", "Namespace", "", "gone", "Pruned", "pruned"]);
  assert.deepEqual(resultRow(results[1]!), ["apps", "Deployment", "apps", "web", "SyncFailed", "invalid"]);
});
