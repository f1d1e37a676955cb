// Watches survive the client's periodic rebuild of its connection settings (a rotated token must not cut every
// open watch, which would mark the cluster unreachable once a minute), against the real API server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { KubeClient } from "../../src/cluster/index.ts";
import type { WatchEvent } from "../../src/cluster/kube-client.ts";
import { startTestCluster, type TestCluster } from "../support/cluster.ts";
import { TestKube, eventually } from "../support/kube.ts";

let cluster: TestCluster;
let kube: TestKube;

before(async () => {
  cluster = await startTestCluster();
  kube = new TestKube(cluster.kubeconfigPath);
  await kube.createNamespace("watch-conn");
});

after(async () => { await cluster?.stop(); });

test("a watch opened before the connection settings are rebuilt keeps receiving events after", async () => {
  const client = KubeClient.load({ kubeconfigPath: cluster.kubeconfigPath, authRefreshMs: 50 });
  const events: WatchEvent[] = [];
  const abort = new AbortController();
  let ended: string | undefined;
  let opened = false;
  const watching = client.watch("/api/v1/namespaces/watch-conn/configmaps", { timeoutSeconds: 60 }, (e) => events.push(e), abort.signal,
    () => { opened = true; })
    .then(() => { ended = "ended"; }, (err: unknown) => { ended = `failed: ${(err as Error).message}`; });
  await eventually(async () => opened, { message: "watch open" });
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 120));
    await client.request({ method: "GET", path: "/api/v1/namespaces/watch-conn/configmaps" });   // rebuilds the settings
  }
  await kube.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "after-rebuild", namespace: "watch-conn" }, data: { k: "v" } });
  await eventually(async () => events.some((e) => (e.object as { metadata?: { name?: string } }).metadata?.name === "after-rebuild") || ended !== undefined,
    { message: "the event, or the end of the watch" });
  assert.equal(ended, undefined, "the watch was not cut");
  assert.ok(events.some((e) => e.type === "ADDED"));
  abort.abort();
  await watching;
});
