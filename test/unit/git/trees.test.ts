// Parsed trees by object id: one parse for concurrent readers, bounded by the entries held.
import assert from "node:assert/strict";
import fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import * as git from "isomorphic-git";
import { TreeCache } from "../../../src/git/trees.ts";

const roots: string[] = [];
after(async () => { for (const r of roots) await rm(r, { recursive: true, force: true }); });

async function store(): Promise<{ gitdir: string; trees: string[]; commit: string }> {
  const root = await mkdtemp(join(tmpdir(), "tack-trees-"));
  roots.push(root);
  const gitdir = join(root, "s.git");
  await git.init({ fs, gitdir, bare: true });
  const trees: string[] = [];
  for (let t = 0; t < 3; t++) {
    const entries = [];
    for (let i = 0; i < 10; i++) entries.push({ path: `f${i}`, mode: "100644", type: "blob" as const, oid: await git.writeBlob({ fs, gitdir, blob: Buffer.from(`${t}-${i}`) }) });
    trees.push(await git.writeTree({ fs, gitdir, tree: entries }));
  }
  const who = { name: "T", email: "t@t.invalid", timestamp: 0, timezoneOffset: 0 };
  const commit = await git.writeCommit({ fs, gitdir, commit: { tree: trees[0]!, parent: [], author: who, committer: who, message: "m\n" } });
  return { gitdir, trees, commit };
}

test("concurrent reads of one tree share one parse; the commit's root tree is remembered", async () => {
  const { gitdir, trees, commit } = await store();
  const cache = new TreeCache(gitdir, {});
  const reads = await Promise.all(Array.from({ length: 50 }, () => cache.read(trees[0]!)));
  assert.ok(reads.every((r) => r === reads[0]), "one parsed array for every reader");
  assert.equal(reads[0]!.length, 10);
  assert.equal(await cache.commitTree(commit), trees[0]);
  await assert.rejects(cache.commitTree(trees[1]!), "a tree is not a commit");
});

test("past its entry bound the least recently used trees are dropped (and read again when asked)", async () => {
  const { gitdir, trees } = await store();
  const cache = new TreeCache(gitdir, {}, 20);   // room for two 10-entry trees
  const first = await cache.read(trees[0]!);
  await cache.read(trees[1]!);
  await cache.read(trees[0]!);                   // tree 0 is now the most recently used
  await cache.read(trees[2]!);                   // evicts tree 1
  assert.equal(await cache.read(trees[0]!), first, "kept");
  const again = await cache.read(trees[1]!);
  assert.equal(again.length, 10, "re-read after eviction");
});
