// The file system isomorphic-git works on for our object stores. Two changes from plain node:fs:
//
// - Atomic writes. isomorphic-git writes pack indexes, refs and config with writeFile; a reader in another
//   async task (a checkout, treeHash) could see a half-written .idx. Writing to a temp name and renaming
//   makes each file appear whole or not at all.
// - Fewer syscalls per object read. Every object lookup first tries the loose-object file and then lists
//   objects/pack; on a checkout of thousands of files those failed opens and repeated listings dominated
//   (measured: ~0.55 ms per blob, mostly waiting on the thread pool). Our stores only ever receive packs,
//   so the listings are memoised and invalidated by any write through this module.

import { randomBytes } from "node:crypto";
import nodeFs from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";

const LOOSE_OBJECT = /[/\\]objects[/\\]([0-9a-f]{2})[/\\][0-9a-f]{38}$/;
const OBJECTS_DIR = /[/\\]objects(?:[/\\]([^/\\]+))?$/;

const listings = new Map<string, Promise<string[]>>();

function objectsDirOf(path: string): string | undefined {
  const m = /^(.*[/\\]objects)(?:[/\\]|$)/.exec(path);
  return m?.[1];
}

/** Forgets memoised listings that a change at `path` may affect. */
function invalidate(path: string): void {
  const objects = objectsDirOf(path);
  if (!objects) return;
  for (const key of listings.keys()) if (key.startsWith(objects)) listings.delete(key);
}

function memoReaddir(path: string): Promise<string[]> {
  let listing = listings.get(path);
  if (!listing) {
    listing = readdir(path);
    listings.set(path, listing);
    listing.catch(() => listings.delete(path));
  }
  return listing;
}

// Thrown for every loose-object miss and always caught inside isomorphic-git: one shared instance spares
// building a stack trace per object.
const NO_LOOSE_OBJECT = Object.assign(new Error("ENOENT: no loose object (this store holds packs only)"), {
  code: "ENOENT",
});

const gitdirStats = new Map<string, Promise<nodeFs.Stats>>();

export const storeFs = {
  promises: {
    ...nodeFs.promises,
    async readdir(path: string, ...rest: unknown[]): Promise<string[]> {
      if (rest.length === 0 && OBJECTS_DIR.test(path)) return [...(await memoReaddir(path))];
      return (readdir as (p: string, ...r: unknown[]) => Promise<string[]>)(path, ...rest);
    },
    async readFile(path: string, options?: unknown): Promise<string | Buffer> {
      // isomorphic-git probes every fs it is handed (on each API call) with a bare readFile() to see whether
      // it returns a promise; answer that without letting Node build a validation error.
      if (path === undefined) return "";
      const loose = LOOSE_OBJECT.exec(path);
      if (loose?.[1] !== undefined) {
        const fanout = await memoReaddir(dirname(dirname(path))).catch(() => [] as string[]);
        if (!fanout.includes(loose[1])) throw NO_LOOSE_OBJECT;
      }
      return readFile(path, options as Parameters<typeof readFile>[1]);
    },
    // Each isomorphic-git call stats the gitdir to tell a repository from a worktree link; ours never change.
    async stat(path: string, options?: nodeFs.StatOptions): Promise<nodeFs.Stats | nodeFs.BigIntStats> {
      if (options !== undefined || !path.endsWith(".git")) return stat(path, options);
      let cached = gitdirStats.get(path);
      if (!cached) {
        cached = stat(path);
        gitdirStats.set(path, cached);
        cached.catch(() => gitdirStats.delete(path));
      }
      return cached;
    },
    async writeFile(path: string, data: string | Uint8Array, options?: nodeFs.WriteFileOptions): Promise<void> {
      const tmp = `${dirname(path)}/.${basename(path)}.tmp-${randomBytes(6).toString("hex")}`;
      try {
        await writeFile(tmp, data, options);
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      } finally {
        invalidate(path);
      }
    },
    async mkdir(path: string, options?: nodeFs.MakeDirectoryOptions): Promise<string | undefined> {
      try {
        return await mkdir(path, options);
      } finally {
        invalidate(path);
      }
    },
    async unlink(path: string): Promise<void> {
      try {
        await unlink(path);
      } finally {
        invalidate(path);
      }
    },
    async rename(from: string, to: string): Promise<void> {
      try {
        await rename(from, to);
      } finally {
        invalidate(from);
        invalidate(to);
      }
    },
  },
};
