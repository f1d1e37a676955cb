import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../../src/api/index.ts";
import { OwnWrites } from "../../../src/controller/own-writes.ts";

const app = (resourceVersion: string | undefined, uid = "u1"): KubeObject =>
  ({ apiVersion: "tack.dev/v1alpha1", kind: "Application", metadata: { name: "web", namespace: "apps", uid, resourceVersion } });

test("an Application read before the informer delivered our last write is stale until it holds our version", () => {
  const writes = new OwnWrites();
  writes.record("apps/web", app("120"));
  assert.equal(writes.isStale("apps/web", app("119")), true, "the informer still holds the version before our write");
  assert.equal(writes.isStale("apps/web", app("a-later-looking-version")), true, "versions are opaque: only ours counts");
  assert.equal(writes.isStale("apps/web", app("120")), false, "our write arrived");
  assert.equal(writes.size, 0, "caught up: nothing kept");
  assert.equal(writes.isStale("apps/web", app("119")), false, "after catching up, nothing is remembered");
});

test("once the informer delivered our version, a newer one (a user's edit after our write) is current", () => {
  const writes = new OwnWrites();
  writes.record("apps/web", app("200"));
  writes.observed("apps/web", app("199"));
  assert.equal(writes.isStale("apps/web", app("199")), true, "an event from before our write does not count");
  writes.observed("apps/web", app("200"));
  assert.equal(writes.isStale("apps/web", app("250")), false, "delivered ours, then the user's");
});

test("the last of our writes is the one waited for", () => {
  const writes = new OwnWrites();
  writes.record("apps/web", app("150"));
  writes.record("apps/web", app("200"));
  assert.equal(writes.isStale("apps/web", app("150")), true);
  assert.equal(writes.isStale("apps/web", app("200")), false);
});

test("a write never delivered (a relist skipped it) holds reconciles for a bounded time only", () => {
  let now = 1_000_000;
  const writes = new OwnWrites(() => now);
  writes.record("apps/web", app("300"));
  now += 29_000;
  assert.equal(writes.isStale("apps/web", app("301")), true);
  now += 2_000;
  assert.equal(writes.isStale("apps/web", app("301")), false, "past the bound the informer's copy is taken as current");
  assert.equal(writes.size, 0);
});

test("a recreated Application (new uid) or a failed write never holds a reconcile", () => {
  const writes = new OwnWrites();
  writes.record("apps/web", app("500", "old-uid"));
  assert.equal(writes.isStale("apps/web", app("3", "new-uid")), false, "deleted and created again");
  writes.record("apps/web", undefined);
  writes.record("apps/other", app(undefined));
  assert.equal(writes.size, 0);
  writes.record("apps/web", app("10"));
  writes.forget("apps/web");
  assert.equal(writes.isStale("apps/web", app("1")), false, "forgotten when the app is gone");
});

test("the wait for the informer starts at 50 ms and doubles while it stays behind (a watch that is down), up to 5 s", () => {
  const writes = new OwnWrites();
  writes.record("apps/web", app("120"));
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    assert.equal(writes.isStale("apps/web", app("119")), true);
    delays.push(writes.retryDelayMs("apps/web"));
  }
  assert.deepEqual(delays, [50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  writes.record("apps/web", app("130"));
  assert.equal(writes.isStale("apps/web", app("125")), true);
  assert.equal(writes.retryDelayMs("apps/web"), 50, "a new write starts the wait afresh");
});

test("a write whose watch event arrived before its own response is already caught up", () => {
  const writes = new OwnWrites();
  writes.observed("apps/web", app("400"));
  writes.record("apps/web", app("400"));
  assert.equal(writes.size, 0);
  assert.equal(writes.isStale("apps/web", app("401")), false, "a later edit by someone else is current at once");
});

test("a relist holds every write that completed before it began", () => {
  let now = 5_000;
  const writes = new OwnWrites(() => now);
  writes.record("apps/a", app("10"));
  now = 6_000;
  writes.record("apps/b", app("20"));
  writes.listedSince(5_500);
  assert.equal(writes.isStale("apps/a", app("12")), false, "written before the list began: the list has it or newer");
  assert.equal(writes.isStale("apps/b", app("19")), true, "written after: still waited for");
});
