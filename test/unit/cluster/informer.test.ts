// The informer's view of reachability: one dropped watch is routine; two failures in a row are not; a watch that
// connects again clears the error at once, before any event arrives.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Informer, type KubeClient } from "../../../src/cluster/index.ts";
import { createLogger } from "../../../src/main.ts";

type Step = "fail" | "open";

/** A client whose list is empty and whose watch calls follow the script; an "open" watch lasts until aborted. */
function scriptedClient(steps: Step[]) {
  let calls = 0;
  const client = {
    async request() { return { items: [], metadata: { resourceVersion: "1" } }; },
    async watch(_path: string, _query: unknown, _onEvent: unknown, signal: AbortSignal, onOpen?: () => void) {
      const step = steps[calls++] ?? "open";
      if (step === "fail") throw new Error("watch /api/v1/configmaps: connection aborted");
      onOpen?.();
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    },
  } as unknown as KubeClient;
  return { client, calls: () => calls };
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

test("two failures in a row report the error until the watch connects again", async () => {
  const { client, calls } = scriptedClient(["fail", "fail", "open"]);
  const informer = new Informer(client, { path: "/api/v1/configmaps", logger: createLogger({ logLevel: "silent" }) });
  informer.start();
  await until(() => calls() >= 2, "second attempt");
  await until(() => informer.lastError !== undefined || calls() >= 3, "error reported after the second failure");
  if (calls() < 3) assert.match(informer.lastError!.message, /connection aborted/);
  await until(() => calls() >= 3, "third attempt opens");
  await until(() => informer.lastError === undefined, "cleared by the reconnect");
  await informer.stop();
});
