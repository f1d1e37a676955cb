// Property tests of the two parsers of outside input on the render path: manifest text and spec paths.
// Seeded, so a failure reproduces; bounded in count, so the suite stays fast.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { parseManifests } from "../../../src/render/manifests.ts";
import { resolveInside } from "../../../src/render/paths.ts";
import { ComparisonError } from "../../../src/errors.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
}

const FRAGMENTS = ["apiVersion: v1\n", "kind: ConfigMap\n", "metadata: {name: x}\n", "---\n", "&a ", "*a", "[", "]", "{", "}", ":", "- ",
  "\t", "  ", "\n", "'", '"', "!!binary ", "<<: *a\n", "? ", "|\n", ">-\n", "%YAML 1.1\n", "\u0000", "\uFFFF", "data:\n", "k: v\n", "#"];

test("random YAML-ish text never throws anything but a ComparisonError, and never hangs", () => {
  const random = rng(42);
  for (let i = 0; i < 3_000; i++) {
    let text = "";
    const parts = 1 + Math.floor(random() * 40);
    for (let j = 0; j < parts; j++) {
      text += random() < 0.8 ? FRAGMENTS[Math.floor(random() * FRAGMENTS.length)]! : String.fromCharCode(Math.floor(random() * 0x3000));
    }
    try {
      const objects = parseManifests(text, `fuzz-${i}.yaml`);
      for (const o of objects) assert.equal(typeof o.kind, "string");
    } catch (err) {
      assert.ok(err instanceof ComparisonError, `input ${JSON.stringify(text)} threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
    }
  }
});

test("a huge document is parsed or refused within its bounds, not by exhausting memory", () => {
  const wide = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wide}\ndata:\n${Array.from({ length: 50_000 }, (_, i) => `  k${i}: v`).join("\n")}\n`;
  assert.equal(Object.keys(parseManifests(wide, "wide.yaml")[0]!.data as object).length, 50_000);
  const deep = `${"[".repeat(5_000)}${"]".repeat(5_000)}`;
  assert.throws(() => parseManifests(deep, "deep.yaml"), ComparisonError);
});

test("random relative paths never resolve outside the checkout", async () => {
  const root = await mkdtemp(join(tmpdir(), "tack-fuzz-"));
  try {
    await mkdir(join(root, "a/b"), { recursive: true });
    await symlink("/etc", join(root, "a/out"));
    await symlink("..", join(root, "a/b/up"));
    const random = rng(7);
    const segments = ["a", "b", "..", ".", "out", "up", "", "/", "~", "%2e%2e", "a/../..", "\\..\\"];
    for (let i = 0; i < 2_000; i++) {
      const path = Array.from({ length: 1 + Math.floor(random() * 6) }, () => segments[Math.floor(random() * segments.length)]).join("/");
      try {
        const resolved = await resolveInside(root, path, "path");
        assert.ok(resolved === root || resolved.startsWith(root + sep), `'${path}' resolved to ${resolved}`);
      } catch (err) {
        assert.ok(err instanceof ComparisonError, `'${path}' threw ${(err as Error).message}`);
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
