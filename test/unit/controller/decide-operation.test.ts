// The operation decision, one row per case: what a reconcile does about the sync operation given the Application,
// the stored operation state, the comparison and the clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Application, OperationState } from "../../../src/api/index.ts";
import { decideOperation, type OperationDecision, type OperationInputs } from "../../../src/controller/stages/decide-operation.ts";

const NOW = new Date("2026-06-03T10:00:00Z");
const OLD = "a".repeat(40);
const NEW = "b".repeat(40);
const source = { repoURL: "https://git.example/r.git", path: "app" };
const denyNow = [{ kind: "deny" as const, schedule: "0 10 * * *", duration: "1h", applications: ["*"] }];
const drift = [{ inSync: false, requiresPruning: false }];
const clean = [{ inSync: true, requiresPruning: false }];

function app(over: { automated?: Record<string, unknown> | null; retry?: Record<string, unknown>; operation?: Application["operation"]; last?: OperationState } = {}): Application {
  const syncPolicy = over.automated === null ? {} : { automated: over.automated ?? {}, ...(over.retry ? { retry: over.retry } : {}) };
  return {
    apiVersion: "tack.dev/v1alpha1", kind: "Application", metadata: { name: "web", namespace: "team" },
    spec: { source, destination: { namespace: "team" }, syncPolicy },
    ...(over.operation ? { operation: over.operation } : {}),
    ...(over.last ? { status: { operationState: over.last } } : {}),
  } as Application;
}

function state(phase: OperationState["phase"], revision: string, over: Partial<OperationState> = {}): OperationState {
  return { phase, operation: { initiatedBy: { automated: true } }, startedAt: "2026-06-03T09:59:00Z", finishedAt: phase === "Running" ? undefined : "2026-06-03T09:59:58Z",
    syncResult: { revision, source, resources: [] }, ...over } as OperationState;
}

type Row = [name: string, input: Partial<OperationInputs> & { app: Application }, expected: Partial<OperationDecision> & { action: OperationDecision["action"] }];

const manual = { sync: { prune: true }, initiatedBy: { username: "ana" } };
const rows: Row[] = [
  ["in sync, automated: nothing", { app: app(), comparisons: clean }, { action: "none", why: "in-sync" }],
  ["drift, automation off: nothing", { app: app({ automated: null }), comparisons: drift }, { action: "none", why: "disabled" }],
  ["drift on a new revision: start automated", { app: app({ last: state("Succeeded", OLD) }), comparisons: drift }, { action: "start", manual: false, retryCount: 0 }],
  ["drift after a success on this revision, no selfHeal: nothing", { app: app({ last: state("Succeeded", NEW) }), comparisons: drift }, { action: "none", why: "synced" }],
  ["drift after a success, selfHeal: start", { app: app({ automated: { selfHeal: true }, last: state("Succeeded", NEW) }), comparisons: drift }, { action: "start", manual: false }],
  ["failed on this revision, no retry policy: nothing", { app: app({ last: state("Failed", NEW) }), comparisons: drift }, { action: "none", why: "failed" }],
  ["failed on this revision, retry due later: wait", { app: app({ retry: { limit: 3, backoff: { duration: "10s" } }, last: state("Failed", NEW) }), comparisons: drift },
    { action: "wait", waitMs: 8_000 }],
  ["failed, retry backoff elapsed: start retry 1", { app: app({ retry: { limit: 3, backoff: { duration: "1s" } }, last: state("Failed", NEW) }), comparisons: drift },
    { action: "start", retryCount: 1 }],
  ["running: continue", { app: app(), stored: state("Running", NEW), comparisons: drift }, { action: "continue" }],
  ["running automated on an older revision, newer due: supersede and start",
    { app: app({ last: state("Running", OLD) }), stored: state("Running", OLD), comparisons: drift }, { action: "start", manual: false }],
  ["running manual on an older revision: continue (a user's sync is not superseded)",
    { app: app({ last: state("Running", OLD, { operation: manual }) }), stored: state("Running", OLD, { operation: manual }), comparisons: drift }, { action: "continue" }],
  ["a user's operation: start manual", { app: app({ automated: null, operation: manual }), comparisons: clean }, { action: "start", manual: true, retryCount: 0 }],
  ["a user's operation in a closed window: refused", { app: app({ automated: null, operation: manual }), comparisons: clean, project: { syncWindows: denyNow } },
    { action: "refused" }],
  ["automated in a closed window: held", { app: app(), comparisons: drift, project: { syncWindows: denyNow } }, { action: "held" }],
];

for (const [name, input, expected] of rows) {
  test(name, () => {
    const decision = decideOperation({ stored: undefined, revision: NEW, comparisons: [], project: {}, now: NOW, ...input });
    for (const [field, value] of Object.entries(expected)) {
      assert.deepEqual((decision as Record<string, unknown>)[field], value, `${field} of ${JSON.stringify(decision)}`);
    }
  });
}

test("superseding names the running operation to finish, and the decision starts the newer one", () => {
  const running = state("Running", OLD);
  const decision = decideOperation({ app: app({ last: running }), stored: running, revision: NEW, comparisons: drift, project: {}, now: NOW });
  assert.equal(decision.action, "start");
  assert.equal(decision.action === "start" ? decision.supersedes : undefined, running);
});

test("the automated operation carries the app's prune setting and retry policy", () => {
  const retry = { limit: 2 };
  const decision = decideOperation({ app: app({ automated: { prune: true }, retry }), stored: undefined, revision: NEW, comparisons: drift, project: {}, now: NOW });
  assert.deepEqual(decision.action === "start" ? decision.operation : undefined, { sync: { prune: true }, initiatedBy: { automated: true }, retry });
});

test("SyncError: the failure and whether it is retried, or hooks left undeleted; nothing while running or after a clean success", async () => {
  const { syncErrorCondition } = await import("../../../src/controller/stages/status.ts");
  const hook = { group: "batch", kind: "Job", namespace: "team", name: "migrate", status: "Synced", hookType: "PreSync", hookPhase: "Succeeded",
    message: "job completed; not deleted (HookSucceeded): jobs.batch \"migrate\" is forbidden" };
  const done = (phase: OperationState["phase"], resources: unknown[] = []) => state(phase, NEW, { message: "boom", syncResult: { revision: NEW, source, resources } } as never);
  assert.deepEqual(syncErrorCondition(state("Running", NEW), undefined), []);
  assert.deepEqual(syncErrorCondition(done("Succeeded"), undefined), []);
  const failed = syncErrorCondition(done("Failed"), undefined);
  assert.equal(failed[0]?.reason, "SyncFailed");
  const undeleted = syncErrorCondition(done("Succeeded", [hook]), undefined);
  assert.equal(undeleted[0]?.reason, "HookDeletionFailed");
  assert.match(undeleted[0]?.message ?? "", /could not delete 1 hook object\(s\), left in the cluster: Job\/team\/migrate \(HookSucceeded\): jobs.batch "migrate" is forbidden/);
  const both = syncErrorCondition(done("Failed", [hook]), undefined);
  assert.equal(both[0]?.reason, "SyncFailed");
  assert.match(both[0]?.message ?? "", /boom.*could not delete 1 hook object/);
});
