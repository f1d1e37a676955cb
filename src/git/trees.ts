// Parsed Git trees, kept by object id. A tree's id is the hash of its content, so an entry never goes stale;
// isomorphic-git inflates and parses a tree again on every read (about 3 ms for a 1,000-entry tree), which made
// tree hashing and checkouts of monorepos cost more than the fetch that brought the commit.
import * as git from "isomorphic-git";
import { storeFs } from "./store-fs.ts";

export type TreeEntries = Awaited<ReturnType<typeof git.readTree>>["tree"];

/** Bound on the entries held across all cached trees (each costs ~150 bytes). */
const DEFAULT_MAX_ENTRIES = 200_000;

export class TreeCache {
  readonly #gitdir: string;
  /** isomorphic-git's own cache (parsed pack indexes), shared with the store's other reads. */
  readonly #objectCache: object;
  readonly #maxEntries: number;
  readonly #trees = new Map<string, TreeEntries>();
  readonly #commitTrees = new Map<string, string>();
  readonly #reading = new Map<string, Promise<TreeEntries>>();
  readonly #readingCommits = new Map<string, Promise<string>>();
  #entries = 0;

  constructor(gitdir: string, objectCache: object, maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#gitdir = gitdir;
    this.#objectCache = objectCache;
    this.#maxEntries = maxEntries;
  }

  /** The root tree id of a commit. */
  async commitTree(commit: string): Promise<string> {
    const known = this.#commitTrees.get(commit);
    if (known) return known;
    let reading = this.#readingCommits.get(commit);
    if (!reading) {
      reading = git.readCommit({ fs: storeFs, gitdir: this.#gitdir, oid: commit, cache: this.#objectCache })
        .then(({ commit: parsed }) => {
          if (this.#commitTrees.size >= 10_000) this.#commitTrees.delete(this.#commitTrees.keys().next().value!);
          this.#commitTrees.set(commit, parsed.tree);
          return parsed.tree;
        })
        .finally(() => this.#readingCommits.delete(commit));
      this.#readingCommits.set(commit, reading);
    }
    return reading;
  }

  /** The entries of a tree (callers must not modify them). Concurrent reads of one tree share one parse. */
  async read(oid: string): Promise<TreeEntries> {
    const known = this.#trees.get(oid);
    if (known) {
      this.#trees.delete(oid);
      this.#trees.set(oid, known);
      return known;
    }
    let reading = this.#reading.get(oid);
    if (!reading) {
      reading = git.readTree({ fs: storeFs, gitdir: this.#gitdir, oid, cache: this.#objectCache })
        .then(({ tree }) => { this.#remember(oid, tree); return tree; })
        .finally(() => this.#reading.delete(oid));
      this.#reading.set(oid, reading);
    }
    return reading;
  }

  #remember(oid: string, tree: TreeEntries): void {
    this.#trees.set(oid, tree);
    this.#entries += tree.length;
    while (this.#entries > this.#maxEntries && this.#trees.size > 1) {
      const [oldest, entries] = this.#trees.entries().next().value!;
      this.#trees.delete(oldest);
      this.#entries -= entries.length;
    }
  }
}
