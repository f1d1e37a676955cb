// Checkout writing on trees built object by object, including ones git itself would refuse to create.

import assert from "node:assert/strict";
import fs from "node:fs";
import { mkdtemp, readFile, readlink, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as git from "isomorphic-git";
import type { TreeEntry } from "isomorphic-git";
import { UnsafeTreeError, materializeCommit } from "../../../src/git/materialize.ts";
import { refusedEntryReason } from "../../../src/git/refused-entries.ts";
import { TreeCache } from "../../../src/git/trees.ts";

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

type Node = string | { link: string } | { exec: string } | { [name: string]: Node };

async function buildCommit(gitdir: string, tree: Record<string, Node>): Promise<string> {
  const write = async (entries: Record<string, Node>): Promise<string> => {
    const out: TreeEntry[] = [];
    for (const [path, node] of Object.entries(entries)) {
      if (typeof node === "string") {
        out.push({ path, mode: "100644", type: "blob", oid: await git.writeBlob({ fs, gitdir, blob: Buffer.from(node) }) });
      } else if ("link" in node && typeof node.link === "string") {
        out.push({ path, mode: "120000", type: "blob", oid: await git.writeBlob({ fs, gitdir, blob: Buffer.from(node.link) }) });
      } else if ("exec" in node && typeof node.exec === "string") {
        out.push({ path, mode: "100755", type: "blob", oid: await git.writeBlob({ fs, gitdir, blob: Buffer.from(node.exec) }) });
      } else {
        out.push({ path, mode: "040000", type: "tree", oid: await write(node as Record<string, Node>) });
      }
    }
    return git.writeTree({ fs, gitdir, tree: out });
  };
  const treeOid = await write(tree);
  const who = { name: "T", email: "t@t.invalid", timestamp: 0, timezoneOffset: 0 };
  return git.writeCommit({ fs, gitdir, commit: { tree: treeOid, parent: [], author: who, committer: who, message: "m\n" } });
}

async function setup(tree: Record<string, Node>) {
  const root = await mkdtemp(join(tmpdir(), "tack-materialize-"));
  roots.push(root);
  const gitdir = join(root, "store.git");
  await git.init({ fs, gitdir, bare: true });
  const commit = await buildCommit(gitdir, tree);
  return { gitdir, commit, dest: join(root, "out") };
}

describe("materializeCommit", () => {
  it("writes files, directories and the executable bit", async () => {
    const { gitdir, commit, dest } = await setup({ "a.yaml": "a: 1\n", sub: { "b.yaml": "b" }, "run.sh": { exec: "#!/bin/sh\n" } });
    const result = await materializeCommit({ gitdir, cache: {}, trees: new TreeCache(gitdir, {}), commit, dest });
    assert.equal(result.files, 3);
    assert.equal(await readFile(join(dest, "a.yaml"), "utf8"), "a: 1\n");
    assert.equal(await readFile(join(dest, "sub/b.yaml"), "utf8"), "b");
    assert.equal((await stat(join(dest, "run.sh"))).mode & 0o100, 0o100);
    assert.equal((await stat(join(dest, "a.yaml"))).mode & 0o111, 0);
  });

  it("keeps symlinks that resolve inside and reports the rest", async () => {
    const { gitdir, commit, dest } = await setup({
      base: { "cm.yaml": "cm" },
      app: { base: { link: "../base" }, out: { link: "../../x" }, missing: { link: "nowhere" } },
      abs: { link: "/etc/passwd" },
      d: { up: { link: ".." }, loop: { link: "loop" } },
      sneaky: { link: "d/up/.." },
      chain: { link: "sneaky" },
    });
    const { skippedSymlinks } = await materializeCommit({ gitdir, cache: {}, trees: new TreeCache(gitdir, {}), commit, dest });
    assert.equal(await readlink(join(dest, "app/base")), "../base");
    assert.equal(await readFile(join(dest, "app/base/cm.yaml"), "utf8"), "cm");
    assert.equal(await readlink(join(dest, "d/up")), "..");
    assert.deepEqual(
      skippedSymlinks.map((s) => `${s.path} ${s.reason}`),
      ["abs absolute", "app/missing unresolvable", "app/out outside", "chain outside", "d/loop unresolvable", "sneaky outside"],
    );
    // Never left out (a missing entry would read as deleted from Git): each stands in as a link nothing can read.
    for (const s of skippedSymlinks) {
      assert.equal(refusedEntryReason(await readlink(join(dest, s.path))), s.reason, s.path);
      await assert.rejects(readFile(join(dest, s.path)), { code: "ENOTDIR" });
    }
  });

  it("writes a submodule as a stand-in that says it was not fetched, not as an empty directory", async () => {
    const { gitdir, dest } = await setup({});
    const blob = await git.writeBlob({ fs, gitdir, blob: Buffer.from("a: 1\n") });
    const tree = await git.writeTree({ fs, gitdir, tree: [
      { path: "a.yaml", mode: "100644", type: "blob", oid: blob },
      { path: "vendored", mode: "160000", type: "commit", oid: "0123456789abcdef0123456789abcdef01234567" },
    ] });
    const who = { name: "T", email: "t@t.invalid", timestamp: 0, timezoneOffset: 0 };
    const commit = await git.writeCommit({ fs, gitdir, commit: { tree, parent: [], author: who, committer: who, message: "m\n" } });
    await materializeCommit({ gitdir, cache: {}, trees: new TreeCache(gitdir, {}), commit, dest });
    assert.equal(refusedEntryReason(await readlink(join(dest, "vendored"))), "submodule");
    assert.equal(await readFile(join(dest, "a.yaml"), "utf8"), "a: 1\n");
  });

  it("hard-links the files an earlier checkout already holds and writes only the changed ones", async () => {
    const { gitdir, commit: first, dest: firstDir } = await setup({ "a.yaml": "a: 1\n", sub: { "b.yaml": "b" }, keep: { deep: { "c.yaml": "c" } } });
    const second = await buildCommit(gitdir, { "a.yaml": "a: 2\n", sub: { "b.yaml": "b", "new.yaml": "n" }, keep: { deep: { "c.yaml": "c" } } });
    const trees = new TreeCache(gitdir, {});
    await materializeCommit({ gitdir, cache: {}, trees, commit: first, dest: firstDir });
    const secondDir = `${firstDir}-2`;
    const result = await materializeCommit({ gitdir, cache: {}, trees, commit: second, dest: secondDir, previous: { commit: first, dir: firstDir } });
    assert.equal(result.files, 4);
    assert.equal(result.linked, 2, "sub/b.yaml and keep/deep/c.yaml are unchanged");
    assert.equal((await stat(join(secondDir, "sub/b.yaml"))).ino, (await stat(join(firstDir, "sub/b.yaml"))).ino);
    assert.equal((await stat(join(secondDir, "keep/deep/c.yaml"))).ino, (await stat(join(firstDir, "keep/deep/c.yaml"))).ino);
    assert.equal(await readFile(join(secondDir, "a.yaml"), "utf8"), "a: 2\n");
    assert.equal(await readFile(join(firstDir, "a.yaml"), "utf8"), "a: 1\n", "the earlier checkout is untouched");
    assert.equal(await readFile(join(secondDir, "sub/new.yaml"), "utf8"), "n");

    // The earlier checkout evicted meanwhile: every file is read from the store instead.
    await rm(firstDir, { recursive: true });
    const third = await materializeCommit({ gitdir, cache: {}, trees, commit: second, dest: `${firstDir}-3`, previous: { commit: first, dir: firstDir } });
    assert.equal(third.linked, 0);
    assert.equal(await readFile(join(`${firstDir}-3`, "keep/deep/c.yaml"), "utf8"), "c");
  });

  for (const bad of ["..", ".git", "a\\b"]) {
    it(`refuses a tree entry named '${bad}'`, async () => {
      const { gitdir, commit, dest } = await setup({ [bad]: "x" }).catch((err: unknown) => {
        // isomorphic-git may already refuse to write such a tree; that is as good.
        return { gitdir: "", commit: "", dest: "", err };
      });
      if (!gitdir) return;
      await assert.rejects(materializeCommit({ gitdir, cache: {}, trees: new TreeCache(gitdir, {}), commit, dest }), UnsafeTreeError);
    });
  }
});
