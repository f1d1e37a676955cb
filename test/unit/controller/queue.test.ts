import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkQueue } from "../../../src/controller/queue.ts";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

test("a key queued many times runs once; one added while running runs again after", async () => {
  const runs: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const q = new WorkQueue({ workers: 4, retryBaseMs: 1, retryMaxMs: 10, process: async (key) => { runs.push(key); if (runs.length === 1) await gate; } });
  q.add("a"); q.add("a"); q.add("a");
  await tick();
  q.add("a"); q.add("a");           // while processing: marked dirty once
  release();
  await q.idle();
  await tick();
  await q.idle();
  assert.deepEqual(runs, ["a", "a"]);
});

test("never more than `workers` at once, and never one key twice at once", async () => {
  let active = 0, peak = 0;
  const perKey = new Map<string, number>();
  const q = new WorkQueue({ workers: 3, retryBaseMs: 1, retryMaxMs: 10, process: async (key) => {
    active++; peak = Math.max(peak, active);
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
    assert.equal(perKey.get(key), 1);
    await tick(2);
    perKey.set(key, perKey.get(key)! - 1);
    active--;
  } });
  for (let i = 0; i < 30; i++) q.add(`k${i % 10}`);
  await q.idle();
  assert.equal(peak, 3);
});

test("failures come back with exponential backoff and jitter, then reset on success", async () => {
  const q = new WorkQueue({ workers: 1, retryBaseMs: 100, retryMaxMs: 1000, random: () => 0.5, process: async () => {} });
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => q.backoffMs(n)), [100, 200, 400, 800, 1000]);
  const jittered = new WorkQueue({ workers: 1, retryBaseMs: 100, retryMaxMs: 1000, random: () => 0, process: async () => {} });
  assert.equal(jittered.backoffMs(1), 80);

  let calls = 0;
  const retrying = new WorkQueue({ workers: 1, retryBaseMs: 5, retryMaxMs: 20, process: async () => {
    calls++;
    if (calls < 3) throw new Error("boom");
  } });
  retrying.add("x");
  await tick(100);
  assert.equal(calls, 3);
  assert.equal(retrying.failures("x"), 0);
});

test("addAfter keeps the earliest due time; shutdown drops queued work and waits for running work", async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ workers: 1, retryBaseMs: 1, retryMaxMs: 10, process: async (key) => { runs.push(key); await tick(20); } });
  q.addAfter("later", 10_000);
  q.addAfter("later", 10);
  await tick(40);
  assert.deepEqual(runs, ["later"]);
  q.add("a"); q.add("b");
  await tick(2);
  assert.equal(await q.shutdown(1000), true);
  assert.deepEqual(runs, ["later", "a"]);
  q.add("c");
  await tick(30);
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
  await tick();
  q.add("changed");                  // dirty: runs again after the current run
  gates.get("changed")!();
  await tick();
  assert.equal(settled, false, "the rerun is still pending");
  gates.get("changed")!();
  await waiting;
  assert.deepEqual(runs.filter((k) => k === "changed").length, 2);
  gates.get("other")!();
  await q.idle();
});

test("settled gives up after its timeout, and resolves at once for keys not queued", async () => {
  const q = new WorkQueue({ workers: 1, retryBaseMs: 1, retryMaxMs: 10, process: () => new Promise<void>(() => {}) });
  await q.settled(["never-queued"], 10_000);
  q.add("stuck");
  const started = Date.now();
  await q.settled(["stuck"], 30);
  assert.ok(Date.now() - started < 1_000);
});
