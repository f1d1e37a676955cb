// A reconcile that hits an error nobody classified (a bug) reports reason InternalError, logs the stack once per
// distinct error, and asks the queue to back off; Kubernetes API failures stay ClusterError.
import { mock, test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import pino from "pino";
import type { Application, ApplicationStatus } from "../../../src/api/index.ts";
import { KubeApiError, KubeConnectionError } from "../../../src/cluster/index.ts";
import { DistinctErrors } from "../../../src/controller/distinct-errors.ts";
import { WorkQueue } from "../../../src/controller/queue.ts";
import { Reconciler, toTackError, type ReconcilerDeps } from "../../../src/controller/reconciler.ts";
import { ComparisonError, ErrorReason, InternalError } from "../../../src/errors.ts";

function overflow(): never {
  throw new RangeError("Maximum call stack size exceeded");
}

/** A Reconciler whose destination lookup throws `fail()`; everything it writes is kept for the assertions. */
function setup(fail: () => never) {
  const app: Application = {
    apiVersion: "tack.dev/v1alpha1", kind: "Application",
    metadata: { namespace: "apps", name: "web", uid: "u1", resourceVersion: "1", generation: 1 },
    spec: { source: { repoURL: "https://git.example/repo.git", path: "app" }, destination: { server: "https://kubernetes.default.svc", namespace: "web" } },
  } as Application;
  const statuses: ApplicationStatus[] = [];
  const events: string[] = [];
  const logs: Array<{ level: string; msg: string; err?: { stack?: string; message?: string } }> = [];
  const logger = pino({ level: "debug", formatters: { level: (label) => ({ level: label }) } }, new Writable({
    write(chunk: Buffer, _enc, done) { for (const line of chunk.toString().split("\n").filter(Boolean)) logs.push(JSON.parse(line)); done(); },
  }));
  const noop = () => {};
  const deps = {
    config: {}, logger,
    metrics: { setOutOfSyncSince: noop, setLastSync: noop, setAppInfo: noop, observeReconcile: noop, removeApp: noop },
    clusters: { resolve: fail },
    writer: {
      patchApplicationStatus: async (_ns: string, _name: string, status: ApplicationStatus) => {
        statuses.push(status);
        return { ...app, status };
      },
    },
    events: { record: (_app: unknown, type: string, reason: string, message: string) => { events.push(`${type} ${reason}: ${message}`); } },
    applications: { get: () => app },
    projects: { get: () => ({ spec: {} }) },
    resyncDelayMs: () => 180_000,
    signal: new AbortController().signal,
  } as unknown as ReconcilerDeps;
  return { reconciler: new Reconciler(deps), statuses, events, logs };
}

test("an untyped error is InternalError: condition with its message, stack logged once, retried with backoff", async () => {
  const { reconciler, statuses, events, logs } = setup(overflow);
  const first = await reconciler.reconcile("apps/web");
  const second = await reconciler.reconcile("apps/web");
  assert.deepEqual(first, { retry: true }, "the queue's backoff, not the resync and not at once");
  assert.deepEqual(second, { retry: true });

  const condition = statuses.at(-1)?.conditions?.find((c) => c.type === "ComparisonError");
  assert.equal(condition?.reason, "InternalError");
  assert.equal(condition?.message, "internal error: RangeError: Maximum call stack size exceeded");
  assert.equal(statuses.at(-1)?.sync?.status, "Unknown");
  assert.match(events[0] ?? "", /^Warning ComparisonError: internal error: RangeError/);

  const stacks = logs.filter((l) => l.err?.stack);
  assert.equal(stacks.length, 1, "the stack once, not on every retry");
  assert.match(stacks[0]!.err!.stack!, /RangeError: Maximum call stack size exceeded\n\s+at .*overflow/);
  assert.equal(logs.filter((l) => l.msg === "reconcile failed").length, 2, "each failure still has its one-line warning");
});

test("through the work queue a failing key backs off exponentially: no hot loop", async (t) => {
  // On the mock clock each retry is seen at its due time and not a millisecond before, without waiting.
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  t.after(() => mock.timers.reset());
  const settle = async () => { for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)); };
  const { reconciler } = setup(overflow);
  let runs = 0;
  const queue = new WorkQueue({ workers: 1, retryBaseMs: 20, retryMaxMs: 10_000, random: () => 0.5,
    process: (key) => { runs++; return reconciler.reconcile(key); } });
  queue.add("apps/web");
  await settle();
  assert.equal(runs, 1);
  for (const [n, backoffMs] of [[2, 20], [3, 40], [4, 80], [5, 160]] as const) {
    mock.timers.tick(backoffMs - 1);
    await settle();
    assert.equal(runs, n - 1, `run ${n} waits its full ${backoffMs} ms backoff`);
    mock.timers.tick(1);
    await settle();
    assert.equal(runs, n, `run ${n} after ${backoffMs} ms`);
  }
  assert.equal(queue.failures("apps/web"), 5);
  await queue.shutdown(1_000);
});

test("API server answers and lost connections stay ClusterError; anything else is InternalError", () => {
  const cases: Array<[string, unknown, ErrorReason]> = [
    ["API answer", new KubeApiError(500, "InternalError", "etcdserver: request timed out"), ErrorReason.ClusterError],
    ["connection", new KubeConnectionError("connect ECONNREFUSED 127.0.0.1:6443"), ErrorReason.ClusterError],
    ["abort", Object.assign(new Error("This operation was aborted"), { name: "AbortError" }), ErrorReason.ClusterError],
    ["typed", new ComparisonError(ErrorReason.GitError, "git"), ErrorReason.GitError],
    ["bug", new TypeError("Cannot read properties of undefined (reading 'kind')"), ErrorReason.InternalError],
    ["not an Error", "a string thrown", ErrorReason.InternalError],
  ];
  for (const [name, err, reason] of cases) assert.equal(toTackError(err, []).reason, reason, name);
  const redacted = toTackError(new Error("token s3cret in the message"), ["s3cret"]);
  assert.ok(redacted instanceof InternalError && !redacted.message.includes("s3cret"), redacted.message);
});

test("distinct errors: by name, message and throwing frame; bounded", () => {
  const seen = new DistinctErrors(2);
  const a = new RangeError("x");
  assert.equal(seen.firstSeen(a), true);
  assert.equal(seen.firstSeen(a), false);
  assert.equal(seen.firstSeen(new TypeError("x")), true);
  assert.equal(seen.firstSeen(new RangeError("y")), true);   // evicts the first
  assert.equal(seen.firstSeen(a), true);
});
