// The work queue's ordering, concurrency and timers. Timers run on node:test's mock clock, so a test about a
// backoff or a delay says exactly when something runs (and that nothing ran a moment before) without waiting.
import { mock, test } from "node:test";
import assert from "node:assert/strict";
import { WorkQueue } from "../../../src/controller/queue.ts";

/** Lets every callback that is already due run: promise jobs and I/O, not timers (those move with the clock). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Moves the mock clock forward by `ms`, then lets what became due run. */
const advance = async (ms: number) => {
  mock.timers.tick(ms);
  await settle();
};

/** Replaces setTimeout and Date with the mock clock for one test. */
function useMockClock(t: { after: (fn: () => void) => void }): void {
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  t.after(() => mock.timers.reset());
}

test("a key queued many times runs once; one added while running runs again after", async () => {
  const runs: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const q = new WorkQueue({ workers: 4, retryBaseMs: 1, retryMaxMs: 10, process: async (key) => { runs.push(key); if (runs.length === 1) await gate; } });
  q.add("a"); q.add("a"); q.add("a");
  assert.deepEqual(runs, ["a"], "picked up at once, once");
  q.add("a"); q.add("a");           // while processing: marked dirty once
  release();
  await q.idle();
  await settle();
  assert.deepEqual(runs, ["a", "a"]);
  assert.equal(q.length + q.active, 0, "nothing left queued or running");
});

test("never more than `workers` at once, and never one key twice at once", async () => {
  let active = 0, peak = 0;
  const perKey = new Map<string, number>();
  const q = new WorkQueue({ workers: 3, retryBaseMs: 1, retryMaxMs: 10, process: async (key) => {
    active++; peak = Math.max(peak, active);
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
    assert.equal(perKey.get(key), 1);
    await settle();                 // hold the worker across a turn of the event loop, so others overlap
    perKey.set(key, perKey.get(key)! - 1);
    active--;
  } });
  for (let i = 0; i < 30; i++) q.add(`k${i % 10}`);
  await q.idle();
  assert.equal(peak, 3);
});

test("failures come back with exponential backoff and jitter, then reset on success", async (t) => {
  const q = new WorkQueue({ workers: 1, retryBaseMs: 100, retryMaxMs: 1000, random: () => 0.5, process: async () => {} });
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => q.backoffMs(n)), [100, 200, 400, 800, 1000]);
  const jittered = new WorkQueue({ workers: 1, retryBaseMs: 100, retryMaxMs: 1000, random: () => 0, process: async () => {} });
  assert.equal(jittered.backoffMs(1), 80);

  useMockClock(t);
  let calls = 0;
  const retrying = new WorkQueue({ workers: 1, retryBaseMs: 5, retryMaxMs: 20, random: () => 0.5, process: async () => {
    calls++;
    if (calls < 3) throw new Error("boom");
  } });
  retrying.add("x");
  await settle();
  assert.equal(calls, 1);
  assert.equal(retrying.failures("x"), 1);
  await advance(4);
  assert.equal(calls, 1, "not before the first backoff (5 ms)");
  await advance(1);
  assert.equal(calls, 2, "retried after 5 ms");
  await advance(9);
  assert.equal(calls, 2, "not before the second backoff (10 ms)");
  await advance(1);
  assert.equal(calls, 3, "retried after 10 ms more");
  assert.equal(retrying.failures("x"), 0, "reset by the success");
  await advance(1_000);
  assert.equal(calls, 3, "no retry after a success");
});

test("addAfter keeps the earliest due time; shutdown drops queued work and waits for running work", async (t) => {
  useMockClock(t);
  const runs: string[] = [];
  const releases = new Map<string, () => void>();
  const q = new WorkQueue({ workers: 1, retryBaseMs: 1, retryMaxMs: 10, process: (key) => {
    runs.push(key);
    return new Promise<void>((resolve) => releases.set(key, resolve));
  } });
  q.addAfter("later", 10_000);
  q.addAfter("later", 10);
  q.addAfter("later", 50);          // a later due time does not push the earlier one back
  await advance(9);
  assert.deepEqual(runs, [], "not before its due time");
  await advance(1);
  assert.deepEqual(runs, ["later"]);
  releases.get("later")!();
  await advance(10_000);
  assert.deepEqual(runs, ["later"], "the later due times were dropped: it ran once");

  q.add("a"); q.add("b");
  assert.deepEqual(runs, ["later", "a"], "one worker: b waits");
  let shutDown: boolean | undefined;
  const shutdown = q.shutdown(1000).then((done) => { shutDown = done; });
  await settle();
  assert.equal(shutDown, undefined, "shutdown waits for the running key");
  releases.get("a")!();
  await shutdown;
  assert.equal(shutDown, true);
  assert.deepEqual(runs, ["later", "a"], "b was dropped");
  q.add("c");
  q.addAfter("d", 5);
  await advance(10);
  assert.deepEqual(runs, ["later", "a"], "nothing runs after shutdown");
});

test("a key added to the front runs before the keys already waiting", async () => {
  const runs: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const q = new WorkQueue({ workers: 1, retryBaseMs: 1, retryMaxMs: 10, process: async (key) => { runs.push(key); if (key === "busy") await gate; } });
  q.add("busy"); q.add("a"); q.add("b");
  q.add("urgent", { front: true });
  q.add("b", { front: true });
  release();
  await q.idle();
  assert.deepEqual(runs, ["busy", "b", "urgent", "a"]);
});

test("settled resolves once the named keys are processed, including a rerun queued while they ran", async () => {
  const gates = new Map<string, () => void>();
  const runs: string[] = [];
  const q = new WorkQueue({ workers: 4, retryBaseMs: 1, retryMaxMs: 10, process: (key) => {
    runs.push(key);
    return new Promise<void>((resolve) => gates.set(key, resolve));
  } });
  q.add("changed"); q.add("other");
  let settled = false;
  const waiting = q.settled(["changed"], 5_000).then(() => { settled = true; });
  await settle();
  q.add("changed");                  // dirty: runs again after the current run
  gates.get("changed")!();
  await settle();
  assert.equal(settled, false, "the rerun is still pending");
  gates.get("changed")!();
  await waiting;
  assert.deepEqual(runs.filter((k) => k === "changed").length, 2);
  gates.get("other")!();
  await q.idle();
});

test("settled gives up after its timeout, and resolves at once for keys not queued", async (t) => {
  useMockClock(t);
  const q = new WorkQueue({ workers: 1, retryBaseMs: 1, retryMaxMs: 10, process: () => new Promise<void>(() => {}) });
  await q.settled(["never-queued"], 10_000);   // the clock does not move: this resolves without its timer
  q.add("stuck");
  let gaveUp = false;
  const waiting = q.settled(["stuck"], 30).then(() => { gaveUp = true; });
  await advance(29);
  assert.equal(gaveUp, false, "still waiting before the timeout");
  await advance(1);
  assert.equal(gaveUp, true, "gave up at the timeout");
  await waiting;
});
