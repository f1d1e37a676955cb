// The Event recorder writes in the background and folds repeats into one write carrying the latest count.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Application, KubeObject } from "../../../src/api/index.ts";
import type { ClusterWriter } from "../../../src/cluster/index.ts";
import { createLogger } from "../../../src/main.ts";
import { EventReason, EventRecorder } from "../../../src/controller/events.ts";

interface Call { verb: "create" | "patch"; name: string; count: number }

/** A writer whose requests stay pending until released, so the test controls what is in flight. */
function fakeWriter(opts: { failCreates?: boolean } = {}) {
  const calls: Call[] = [];
  const pending: Array<() => void> = [];
  const wait = () => new Promise<void>((resolve) => pending.push(resolve));
  const writer = {
    async createEvent(event: KubeObject) {
      calls.push({ verb: "create", name: event.metadata.name!, count: Number(event.count) });
      await wait();
      if (opts.failCreates) throw new Error("POST events: forbidden");
    },
    async patchEvent(_ns: string, name: string, patch: Record<string, unknown>) {
      calls.push({ verb: "patch", name, count: Number(patch.count) });
      await wait();
    },
  } as unknown as ClusterWriter;
  const releaseAll = async () => {
    while (pending.length > 0) {
      for (const resolve of pending.splice(0)) resolve();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { writer, calls, releaseAll, inFlight: () => pending.length };
}

function app(name: string): Application {
  return { apiVersion: "tack.dev/v1alpha1", kind: "Application", metadata: { name, namespace: "apps", uid: `uid-${name}` }, spec: {} } as unknown as Application;
}

const silent = createLogger({ logLevel: "silent" });

test("record returns at once; repeats while the create is in flight become one patch with the final count", async () => {
  const w = fakeWriter();
  const events = new EventRecorder(w.writer, silent);
  events.record(app("web"), "Normal", EventReason.SyncSucceeded, "Synced to abc");
  assert.equal(w.calls.length, 1, "the create is sent without waiting for the caller");
  for (let i = 0; i < 4; i++) events.record(app("web"), "Normal", EventReason.SyncSucceeded, "Synced to abc");
  assert.equal(w.calls.length, 1, "no second write while the first is in flight");
  const flushed = events.flush();
  await w.releaseAll();
  await flushed;
  assert.deepEqual(w.calls.map((c) => [c.verb, c.count]), [["create", 1], ["patch", 5]]);
  assert.equal(w.calls[0]!.name, w.calls[1]!.name, "the patch bumps the Event that was created");
});

test("no more than two writes in flight; distinct Events all go out in order", async () => {
  const w = fakeWriter();
  const events = new EventRecorder(w.writer, silent);
  for (let i = 0; i < 5; i++) events.record(app(`a${i}`), "Warning", EventReason.OutOfSync, "drift");
  assert.equal(w.inFlight(), 2);
  const flushed = events.flush();
  await w.releaseAll();
  await flushed;
  assert.deepEqual(w.calls.map((c) => c.name.split(".")[0]), ["a0", "a1", "a2", "a3", "a4"]);
  assert.ok(w.calls.every((c) => c.verb === "create"));
});

test("a failed create is forgotten: the next occurrence creates a fresh Event instead of patching a missing one", async () => {
  const w = fakeWriter({ failCreates: true });
  const events = new EventRecorder(w.writer, silent);
  events.record(app("web"), "Warning", EventReason.SyncFailed, "boom");
  let flushed = events.flush();
  await w.releaseAll();
  await flushed;
  events.record(app("web"), "Warning", EventReason.SyncFailed, "boom");
  flushed = events.flush();
  await w.releaseAll();
  await flushed;
  assert.deepEqual(w.calls.map((c) => [c.verb, c.count]), [["create", 1], ["create", 1]]);
  assert.notEqual(w.calls[0]!.name, w.calls[1]!.name);
});

test("flush resolves at once when nothing is queued", async () => {
  const w = fakeWriter();
  const events = new EventRecorder(w.writer, silent);
  // "At once": before the next turn of the event loop. A flush that waited for a write (or for a timer)
  // would still be pending when the setImmediate callback runs.
  const order: string[] = [];
  const flushed = events.flush().then(() => order.push("flushed"));
  await new Promise((resolve) => setImmediate(resolve)).then(() => order.push("next turn"));
  await flushed;
  assert.deepEqual(order, ["flushed", "next turn"]);
  assert.deepEqual(w.calls, [], "nothing written");
});
