import { test } from "node:test";
import assert from "node:assert/strict";
import type { OperationState, SyncPolicy } from "../../../src/api/index.ts";
import { automatedSync, failedSyncMessage, mayRetry, retryDelayMs, retryLimit, type AutomatedSync, type AutomatedSyncInput } from "../../../src/sync/policy.ts";

const SHA = "a".repeat(40);
const NEW = "b".repeat(40);
const source = { repoURL: "https://git.example/repo.git", path: "app" };
const NOW = Date.parse("2026-01-01T00:10:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function last(phase: string, opts: { revision?: string; retryCount?: number; finishedMsAgo?: number; manual?: boolean; path?: string } = {}): OperationState {
  return {
    phase, retryCount: opts.retryCount ?? 0, startedAt: ago((opts.finishedMsAgo ?? 60_000) + 1_000), finishedAt: ago(opts.finishedMsAgo ?? 60_000),
    operation: { sync: {}, initiatedBy: opts.manual ? { username: "ann" } : { automated: true } },
    syncResult: { revision: opts.revision ?? SHA, source: { ...source, path: opts.path ?? source.path } },
  };
}

const auto: SyncPolicy = { automated: {} };
const heal: SyncPolicy = { automated: { selfHeal: true } };
const retry2: SyncPolicy = { automated: {}, retry: { limit: 2, backoff: { duration: "1s" } } };
const retryForever: SyncPolicy = { automated: {}, retry: { limit: -1 } };

function input(policy: SyncPolicy | undefined, previous: OperationState | undefined, more: Partial<AutomatedSyncInput> = {}): AutomatedSyncInput {
  return { policy, revision: SHA, source, needsApply: true, needsPrune: false, last: previous, now: NOW, ...more };
}

test("automated sync: one attempt per revision unless syncPolicy.retry says otherwise", () => {
  const cases: Array<[string, AutomatedSyncInput, AutomatedSync]> = [
    ["automated off", input(undefined, undefined), { action: "none", why: "disabled" }],
    ["automated.enabled false", input({ automated: { enabled: false } }, undefined), { action: "none", why: "disabled" }],
    ["in sync", input(auto, undefined, { needsApply: false }), { action: "none", why: "in-sync" }],
    ["only pruning, prune off", input(auto, undefined, { needsApply: false, needsPrune: true }), { action: "none", why: "in-sync" }],
    ["only pruning, prune on", input({ automated: { prune: true } }, undefined, { needsApply: false, needsPrune: true }), { action: "sync", retryCount: 0, why: "new-target" }],
    ["never synced", input(auto, undefined), { action: "sync", retryCount: 0, why: "new-target" }],
    ["new commit after a failure", input(auto, last("Failed", { revision: NEW })), { action: "sync", retryCount: 0, why: "new-target" }],
    ["changed source after a failure", input(auto, last("Failed", { path: "old" })), { action: "sync", retryCount: 0, why: "new-target" }],
    ["synced this revision: drift left alone", input(auto, last("Succeeded")), { action: "none", why: "synced" }],
    ["synced this revision: selfHeal re-applies", input(heal, last("Succeeded")), { action: "sync", retryCount: 0, why: "self-heal" }],
    ["running", input(auto, last("Running")), { action: "none", why: "running" }],
    // The default: a failure on this revision is final, however long ago it was.
    ["failed, no retry policy", input(auto, last("Failed", { finishedMsAgo: 3_600_000 })), { action: "none", why: "failed" }],
    ["error, no retry policy", input(auto, last("Error")), { action: "none", why: "failed" }],
    ["failed, selfHeal does not override", input(heal, last("Failed")), { action: "none", why: "failed" }],
    ["failed, retry without limit", input({ automated: {}, retry: {} }, last("Failed")), { action: "none", why: "failed" }],
    ["failed, retry limit 0", input({ automated: {}, retry: { limit: 0 } }, last("Failed")), { action: "none", why: "failed" }],
    ["failed, retry 1 of 2 due", input(retry2, last("Failed", { finishedMsAgo: 1_000 })), { action: "sync", retryCount: 1, why: "retry" }],
    ["failed, retry 1 of 2 waits its backoff", input(retry2, last("Failed", { finishedMsAgo: 400 })), { action: "wait", waitMs: 600 }],
    ["failed, retry 2 of 2 waits 2 s", input(retry2, last("Failed", { retryCount: 1, finishedMsAgo: 500 })), { action: "wait", waitMs: 1_500 }],
    ["failed, retry 2 of 2 due", input(retry2, last("Failed", { retryCount: 1, finishedMsAgo: 2_000 })), { action: "sync", retryCount: 2, why: "retry" }],
    ["failed, limit reached", input(retry2, last("Failed", { retryCount: 2 })), { action: "none", why: "failed" }],
    ["failed, unlimited", input(retryForever, last("Failed", { retryCount: 99, finishedMsAgo: 180_000 })), { action: "sync", retryCount: 100, why: "retry" }],
    ["a failed manual sync is not retried by the policy", input(retry2, last("Failed", { manual: true })), { action: "none", why: "failed" }],
  ];
  for (const [name, given, expected] of cases) assert.deepEqual(automatedSync(given), expected, name);
});

test("retry limit and backoff: Argo CD's defaults (5 s × 2, at most 3 min) where retry leaves them out", () => {
  const cases: Array<[string, SyncPolicy["retry"], number, number, boolean]> = [
    // name, retry, retryCount, expected delay (ms), may retry
    ["no retry", undefined, 0, 5_000, false],
    ["limit unset", {}, 0, 5_000, false],
    ["first retry", { limit: 3 }, 0, 5_000, true],
    ["second retry doubles", { limit: 3 }, 1, 10_000, true],
    ["capped at 3 min", { limit: 10 }, 8, 180_000, true],
    ["limit reached", { limit: 3 }, 3, 40_000, false],
    ["own backoff", { limit: 5, backoff: { duration: "1s", factor: 3, maxDuration: "5s" } }, 1, 3_000, true],
    ["own cap", { limit: 5, backoff: { duration: "1s", factor: 3, maxDuration: "5s" } }, 2, 5_000, true],
    ["unlimited", { limit: -1 }, 1_000, 180_000, true],
  ];
  for (const [name, retry, count, delay, allowed] of cases) {
    assert.equal(retryDelayMs(retry, count), delay, `${name}: delay`);
    assert.equal(mayRetry(retry, count), allowed, `${name}: may retry`);
  }
  assert.equal(retryLimit(undefined), 0);
});

test("a failed sync's message names the revision and what happens next", () => {
  assert.equal(failedSyncMessage(last("Failed"), undefined).split(";")[0], `Failed last sync attempt to ${SHA}: sync failed`);
  assert.match(failedSyncMessage({ ...last("Failed"), message: "PreSync hook Job/x/migrate failed" }, undefined),
    new RegExp(`^Failed last sync attempt to ${SHA}: PreSync hook Job/x/migrate failed; not retried \\(spec.syncPolicy.retry is not set\\)`));
  assert.match(failedSyncMessage(last("Failed"), retry2.retry), /; retry 1 of 2 after 1s$/);
  assert.match(failedSyncMessage(last("Failed", { retryCount: 2 }), retry2.retry), /; retried 2 time\(s\), the limit of spec.syncPolicy.retry/);
  assert.match(failedSyncMessage(last("Failed"), retryForever.retry), /; retry 1 after 5s$/);
  assert.equal(failedSyncMessage({ ...last("Failed", { manual: true }), message: "boom" }, retry2.retry), `Failed last sync attempt to ${SHA}: boom`);
});
