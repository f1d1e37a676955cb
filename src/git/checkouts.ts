// Checkouts: a commit's tree written once into a directory that every caller shares (read-only), atomically
// (temp dir + rename), and kept under an LRU bound that never evicts one handed out within the grace period.
// A partial checkout holds one plain folder of manifests, for renders that read nothing else.
import { createHash, randomBytes } from "node:crypto";
import { rename, rm } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { classifyGitError } from "./errors.ts";
import { materializeCommit, UnsafeTreeError, type SkippedSymlink } from "./materialize.ts";
import type { GitOperations } from "./operations.ts";
import type { RepoState } from "./store.ts";

/** Files that make a folder a Kustomize or Helm source (Argo CD's detection), which may read outside it. */
const SOURCE_MARKERS = new Set(["kustomization.yaml", "kustomization.yml", "Kustomization", "Chart.yaml"]);

interface CheckoutEntry {
  readonly repo: string;
  lastUsed: number;
  readonly skippedSymlinks: readonly SkippedSymlink[];
}

export interface CheckoutsOptions {
  /** Checkout directories kept on disk. */
  readonly maxCheckouts: number;
  /** A checkout handed out this recently is never evicted. */
  readonly graceMs: number;
}

export class Checkouts {
  readonly #ops: GitOperations;
  readonly #maxCheckouts: number;
  readonly #graceMs: number;
  /** Checkout directory → entry; Map order is least recently used first. */
  readonly #checkouts = new Map<string, CheckoutEntry>();
  readonly #inFlight = new Map<string, Promise<string>>();

  constructor(ops: GitOperations, opts: CheckoutsOptions) {
    this.#ops = ops;
    this.#maxCheckouts = opts.maxCheckouts;
    this.#graceMs = opts.graceMs;
  }

  /**
   * The checkout of the commit (or of only the repo-relative folder `only`): reused when it exists, written
   * once however many callers ask at the same time. The commit must be in the store.
   */
  get(repo: RepoState, sha: string, only?: string): Promise<string> {
    const dir = only === undefined
      ? join(repo.store.checkoutsDir, sha)
      : join(repo.store.checkoutsDir, `${sha}-${createHash("sha256").update(only).digest("hex").slice(0, 16)}`);
    const known = this.#checkouts.get(dir);
    if (known) {
      this.#touch(dir, known);
      return Promise.resolve(dir);
    }
    let pending = this.#inFlight.get(dir);
    if (!pending) {
      pending = this.#materialize(repo, sha, dir, only).finally(() => this.#inFlight.delete(dir));
      this.#inFlight.set(dir, pending);
    }
    return pending;
  }

  /** The symlinks left out of the checkout holding `dir` (see RepoCache.escapingSymlinks). */
  escapingSymlinks(dir: string): readonly SkippedSymlink[] {
    for (const [checkoutDir, entry] of this.#checkouts) {
      const rel = relative(checkoutDir, dir);
      if (rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel))) {
        return entry.skippedSymlinks;
      }
    }
    return [];
  }

  async #materialize(repo: RepoState, sha: string, dir: string, only?: string): Promise<string> {
    // Written under a temp name and renamed into place, so nobody ever sees half a tree.
    const tmp = join(repo.store.checkoutsDir, `.tmp-${sha.slice(0, 12)}-${randomBytes(4).toString("hex")}`);
    let skippedSymlinks: readonly SkippedSymlink[] = [];
    try {
      await this.#ops.timed(repo, "checkout", async () => {
        const last = repo.store.lastCheckout;
        const previous = !only && last && this.#checkouts.has(last.dir) ? last : undefined;
        const result = await materializeCommit({ gitdir: repo.store.gitdir, cache: repo.store.cache, trees: repo.store.trees, commit: sha, dest: tmp,
          ...(previous ? { previous } : {}), ...(only ? { only } : {}) });
        skippedSymlinks = result.skippedSymlinks;
        try {
          await rename(tmp, dir);
        } catch (err) {
          // Another writer got there first (a leftover of ours is removed at startup, so this is a peer
          // sharing the cache dir): its tree is the same commit, use it.
          if ((err as NodeJS.ErrnoException).code !== "ENOTEMPTY" && (err as NodeJS.ErrnoException).code !== "EEXIST") {
            throw err;
          }
          await rm(tmp, { recursive: true, force: true });
        }
      });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      if (err instanceof UnsafeTreeError) {
        throw new ComparisonError(
          ErrorReason.GitError,
          `commit ${sha} of ${repo.url.display} cannot be checked out: ${err.message}`,
          { cause: err, terminal: true },
        );
      }
      throw classifyGitError(err, this.#ops.context(repo, "checking out", undefined, sha));
    }
    if (skippedSymlinks.length > 0) {
      this.#ops.log?.warn(
        { repo: repo.url.display, revision: sha, symlinks: skippedSymlinks.map((s) => `${s.path} -> ${s.target}`) },
        "symlinks pointing outside the repository were not checked out",
      );
    }
    this.#touch(dir, { repo: repo.store.normalized, lastUsed: 0, skippedSymlinks });
    if (!only) repo.store.lastCheckout = { commit: sha, dir };
    this.#evict();
    return dir;
  }

  #touch(dir: string, entry: CheckoutEntry): void {
    entry.lastUsed = Date.now();
    this.#checkouts.delete(dir);
    this.#checkouts.set(dir, entry);
  }

  #evict(): void {
    const now = Date.now();
    for (const [dir, entry] of this.#checkouts) {
      if (this.#checkouts.size <= this.#maxCheckouts) break;
      if (now - entry.lastUsed < this.#graceMs) continue;
      this.#checkouts.delete(dir);
      // Renamed away first, so a new checkout of the same commit can be written while this one is deleted.
      const trash = `${dir}.evicted-${randomBytes(4).toString("hex")}`;
      rename(dir, trash)
        .then(() => rm(trash, { recursive: true, force: true }))
        .catch((err: unknown) => this.#ops.log?.warn({ err, dir }, "could not remove an evicted checkout"));
    }
  }
}

/**
 * Whether a folder can be checked out on its own: no symlink or submodule anywhere below it (a link's target
 * may be elsewhere in the repository), and no kustomization or Chart.yaml at its top (those read outside it).
 */
export async function isPlainManifestTree(repo: RepoState, oid: string, top = true): Promise<boolean> {
  let tree;
  try {
    tree = await repo.store.trees.read(oid);
  } catch {
    return false;   // a file, not a directory
  }
  for (const entry of tree) {
    if (entry.mode === "120000" || entry.mode === "160000") return false;
    if (top && SOURCE_MARKERS.has(entry.path)) return false;
    if (entry.type === "tree" && !(await isPlainManifestTree(repo, entry.oid, false))) return false;
  }
  return true;
}
