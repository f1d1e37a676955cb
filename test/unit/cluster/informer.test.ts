// The informer's view of reachability: one dropped watch is routine; two failures in a row are not; a watch that
// connects again clears the error at once, before any event arrives.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Informer, type KubeClient } from "../../../src/cluster/index.ts";
import { createLogger } from "../../../src/main.ts";

type Step = "fail" | "open";

/**
 * A client whose list is empty and whose watch calls follow the script; an "open" watch lasts until aborted. With
 * `holdRelist`, every list after the first waits until the test calls release() (a server still away).
 */
function scriptedClient(steps: Step[], opts: { holdRelist?: boolean } = {}) {
  let calls = 0;
  let lists = 0;
  let release = () => {};
  const held = new Promise<void>((resolve) => { release = resolve; });
  const client = {
    async request() {
      if (lists++ > 0 && opts.holdRelist) await held;
      return { items: [], metadata: { resourceVersion: "1" } };
    },
    async watch(_path: string, _query: unknown, _onEvent: unknown, signal: AbortSignal, onOpen?: () => void) {
      const step = steps[calls++] ?? "open";
      if (step === "fail") throw new Error("watch /api/v1/configmaps: connection aborted");
      onOpen?.();
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    },
  } as unknown as KubeClient;
  return { client, calls: () => calls, lists: () => lists, release: () => release() };
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
};

test("a single failure does not report an error; a reconnect clears one without waiting for an event", async () => {
  const { client, calls } = scriptedClient(["fail", "open"]);
  const informer = new Informer(client, { path: "/api/v1/configmaps", logger: createLogger({ logLevel: "silent" }) });
  informer.start();
  await until(() => calls() >= 1, "first watch");
  assert.equal(informer.lastError, undefined, "one dropped watch is not an unreachable server");
  await until(() => calls() >= 2, "reconnected");
  assert.equal(informer.lastError, undefined);
  await informer.stop();
});

test("two failures in a row report the error until the server answers again", async () => {
  const { client, calls, lists, release } = scriptedClient(["fail", "fail", "open"], { holdRelist: true });
  const informer = new Informer(client, { path: "/api/v1/configmaps", logger: createLogger({ logLevel: "silent" }) });
  informer.start();
  // Two failures in a row: the resume point is given up and a list is attempted, held here as if the server
  // were still away.
  await until(() => lists() >= 2, "listing again after the second failure");
  assert.equal(calls(), 2);
  assert.match(informer.lastError?.message ?? "", /connection aborted/, "reported after the second failure in a row");
  release();
  await until(() => calls() >= 3, "watching again after the list");
  await until(() => informer.lastError === undefined, "cleared once the server answers");
  await informer.stop();
});
