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
