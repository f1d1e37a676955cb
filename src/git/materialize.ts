// Writes one commit's tree into a directory. Our own walk rather than isomorphic-git's checkout: that one
// needs an index and a working tree, and it writes every symlink as it is, including ones that point
// outside the repository. Here a symlink is written only when it resolves inside the checkout; each of the
// others (and each submodule, which Tack does not fetch) is written as a stand-in that nothing can read
// (refused-entries.ts) and reported, so a renderer refuses a path that relied on one with a clear message
// (docs/architecture.md, safety rule 4) instead of reading the controller's own files, or reading the entry as deleted.

import { link, mkdir, realpath, symlink, unlink, writeFile } from "node:fs/promises";
import { isAbsolute, join, posix, relative, sep } from "node:path";
import * as git from "isomorphic-git";
import { standInTarget } from "./refused-entries.ts";
import { storeFs as fs } from "./store-fs.ts";
import type { TreeCache } from "./trees.ts";

export interface SkippedSymlink {
  /** Repo-relative path of the symlink, "/"-separated. */
  readonly path: string;
  readonly target: string;
  readonly reason: "absolute" | "outside" | "unresolvable";
}

export interface MaterializeResult {
  readonly files: number;
  /** Files hard-linked from the previous checkout instead of written. */
  readonly linked: number;
  readonly skippedSymlinks: readonly SkippedSymlink[];
}

interface PendingLink {
  readonly path: string;
  readonly target: string;
}

const WRITE_CONCURRENCY = 16;
const MODE_EXECUTABLE = "100755";
const MODE_SYMLINK = "120000";
const MODE_SUBMODULE = "160000";

export class UnsafeTreeError extends Error {}

export async function materializeCommit(opts: {
  gitdir: string;
  cache: object;
  trees: TreeCache;
  commit: string;
  dest: string;
  /**
   * A checkout of an earlier commit of the same repository: files whose blob is unchanged are hard-linked from
   * it instead of being read out of the object store again (checkouts are never written to; renders copy).
   */
  previous?: { commit: string; dir: string };
  /** Write only this repo-relative directory (and the directories leading to it): a sparse checkout. */
  only?: string;
}): Promise<MaterializeResult> {
  const { gitdir, cache, dest, trees, previous } = opts;
  const onlySegments = opts.only ? opts.only.split("/").filter((s) => s !== "" && s !== ".") : [];
  const links: PendingLink[] = [];
  const writes: Array<() => Promise<void>> = [];
  let linked = 0;

  const readEntries = (treeOid: string, rel: string) => trees.read(treeOid).catch((err: unknown) => {
    // isomorphic-git refuses some unsafe names itself; report them the same way as ours.
    if ((err as { code?: unknown }).code === "UnsafeFilepathError") {
      throw new UnsafeTreeError(`the tree${rel ? ` '${rel}'` : ""} holds an unsafe path`, { cause: err });
    }
    throw err;
  });

  // Directories are created while walking (parents before children); file writes queue up and run with a
  // bounded number in flight so a large tree does not exhaust file descriptors. `before` is the same
  // directory's tree in the previous checkout, when there is one.
  const walk = async (treeOid: string, rel: string, before: string | undefined): Promise<void> => {
    const tree = await readEntries(treeOid, rel);
    const earlier = before ? new Map((await trees.read(before).catch(() => [])).map((e) => [e.path, e])) : undefined;
    const depth = rel === "" ? 0 : rel.split("/").length;
    for (const entry of tree) {
      assertSafeName(entry.path, rel);
      // A sparse checkout skips every entry off the way to the directory it writes.
      if (depth < onlySegments.length && entry.path !== onlySegments[depth]) continue;
      const path = rel ? `${rel}/${entry.path}` : entry.path;
      const abs = join(dest, path);
      const old = earlier?.get(entry.path);
      if (entry.mode === MODE_SUBMODULE) {
        // git leaves an empty directory for a submodule it does not initialise; an empty directory would read
        // as "no manifests here", so a stand-in says that its content was never fetched.
        await symlink(standInTarget("submodule"), abs);
      } else if (entry.type === "tree") {
        await mkdir(abs);
        await walk(entry.oid, path, old?.type === "tree" ? old.oid : undefined);
      } else if (entry.mode === MODE_SYMLINK) {
        const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid, cache });
        links.push({ path, target: Buffer.from(blob).toString("utf8") });
      } else {
        const mode = entry.mode === MODE_EXECUTABLE ? 0o755 : 0o644;
        const same = previous && old && old.oid === entry.oid && old.mode === entry.mode;
        writes.push(async () => {
          if (same) {
            try {
              await link(join(previous.dir, path), abs);
              linked++;
              return;
            } catch {
              // The earlier checkout was evicted meanwhile: read the blob after all.
            }
          }
          const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid, cache });
          await writeFile(abs, blob, { mode, flag: "wx" });
        });
      }
    }
  };

  await mkdir(dest, { recursive: true });
  const root = await trees.commitTree(opts.commit);
  const previousRoot = previous ? await trees.commitTree(previous.commit).catch(() => undefined) : undefined;
  await walk(root, "", previousRoot);
  await runLimited(writes, WRITE_CONCURRENCY);
  const skippedSymlinks = await writeSymlinks(dest, links);
  return { files: writes.length, linked, skippedSymlinks };
}

// A tree entry name is a single path component. git's own fsck rejects the names below; a crafted repo can
// still carry them, and written naively they would escape `dest` or plant a .git directory.
function assertSafeName(name: string, parent: string): void {
  if (
    name === "" ||
    name === "." ||
    name === ".." ||
    name.includes("/") ||
    name.includes("\\") ||
    name.includes("\0") ||
    name.toLowerCase() === ".git"
  ) {
    throw new UnsafeTreeError(`the tree holds an unsafe path '${parent ? `${parent}/` : ""}${name}'`);
  }
}

async function writeSymlinks(dest: string, links: readonly PendingLink[]): Promise<SkippedSymlink[]> {
  const skipped: SkippedSymlink[] = [];
  const written: PendingLink[] = [];
  for (const link of links) {
    if (isAbsolute(link.target) || posix.isAbsolute(link.target)) {
      await refuse(dest, skipped, { ...link, reason: "absolute" });
      continue;
    }
    // A first, lexical check: the target, taken relative to the link's directory, stays inside.
    const lexical = posix.normalize(posix.join(posix.dirname(link.path), link.target));
    if (lexical === ".." || lexical.startsWith("../")) {
      await refuse(dest, skipped, { ...link, reason: "outside" });
      continue;
    }
    await symlink(link.target, join(dest, link.path));
    written.push(link);
  }

  // The lexical check is not enough: "a/up -> .." then "x -> a/up/../.." normalises inside but resolves
  // outside. So resolve each written link for real and drop offenders; dropping one can break links that
  // went through it, hence the repeat until nothing changes.
  const root = await realpath(dest);
  let remaining = written;
  for (let changed = true; changed; ) {
    changed = false;
    const kept: PendingLink[] = [];
    for (const link of remaining) {
      const abs = join(dest, link.path);
      let resolved: string | undefined;
      try {
        resolved = await realpath(abs);
      } catch {
        resolved = undefined;
      }
      const inside = resolved !== undefined && isInside(root, resolved);
      if (inside) {
        kept.push(link);
        continue;
      }
      await unlink(abs);
      await refuse(dest, skipped, { ...link, reason: resolved === undefined ? "unresolvable" : "outside" });
      changed = true;
    }
    remaining = kept;
  }
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return skipped;
}

/** Records a refused link and writes its stand-in, so the path still exists and says why it cannot be read. */
async function refuse(dest: string, skipped: SkippedSymlink[], link: SkippedSymlink): Promise<void> {
  skipped.push(link);
  await symlink(standInTarget(link.reason), join(dest, link.path));
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

async function runLimited(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++];
      if (task) await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
