import { test } from "node:test";
import assert from "node:assert/strict";
import { mergePatch } from "../../../src/util/merge-patch.ts";

test("merge patch removes with null, replaces arrays, and omits unchanged keys", () => {
  assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1], f: "x" }, { a: 1, b: { c: 2 }, e: [1, 2], g: true }),
    { b: { d: null }, e: [1, 2], f: null, g: true });
  assert.deepEqual(mergePatch({ a: { b: 1 } }, { a: { b: 1 } }), {});
});
