import { test } from "node:test";
import assert from "node:assert/strict";
import { RenderCache } from "../../../src/render/index.ts";
import type { RenderResult } from "../../../src/render/index.ts";

const result = (tree: string): RenderResult => ({
  sourceType: "Directory", reads: ["app"],
  objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: tree } }],
});

test("one app rendered at more trees than variantsPerKey keeps only the newest (and returns)", { timeout: 5_000 }, async () => {
  const cache = new RenderCache({ variantsPerKey: 2 });
  for (let i = 0; i < 6; i++) await cache.set("params", result(`t${i}`), async () => `tree-${i}`);
  assert.equal(cache.stats().entries, 2);
  assert.equal((await cache.get("params", async () => "tree-5"))?.objects[0]?.metadata.name, "t5");
  assert.equal((await cache.get("params", async () => "tree-4"))?.objects[0]?.metadata.name, "t4");
  assert.equal(await cache.get("params", async () => "tree-0"), undefined, "the oldest variant was evicted");
});

test("a fresh render (a hard refresh) renders that app again and leaves every other app's entries cached", async () => {
  const cache = new RenderCache();
  let renders = 0;
  const io = (tree: string, fresh = false) => ({
    treeHash: async () => tree, checkout: async () => "/nonexistent", fresh,
    render: async () => { renders++; return result(`render-${renders}`); },
  });
  const request = (appName: string) => ({ source: { repoURL: "https://git.example/r.git", path: "app" }, maxBytes: 1 << 20, appName, destinationNamespace: "ns" });
  await cache.render(request("a"), io("t1"));
  await cache.render(request("b"), io("t1"));
  assert.equal(renders, 2);
  const again = await cache.render(request("a"), io("t1", true));
  assert.equal(again.cacheHit, false);
  assert.equal(renders, 3, "app a rendered again");
  assert.equal((await cache.render(request("b"), io("t1"))).cacheHit, true, "app b still cached");
  const next = await cache.render(request("a"), io("t1"));
  assert.equal(next.cacheHit, true);
  assert.equal(next.objects[0]?.metadata.name, "render-3", "the fresh result replaced the old one");
});
