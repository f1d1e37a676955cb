// The local side of the repository cache: one bare object store per repository (by normalized URL) under
// cacheDir, shared by every caller whatever spelling of the URL it uses, and the checks of what a store holds.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import * as git from "isomorphic-git";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { classifyGitError, type ErrorContext } from "./errors.ts";
import { storeFs } from "./store-fs.ts";
import { TreeCache } from "./trees.ts";
import { parseRepoURL, repoDirName, type ParsedRepoURL } from "./url.ts";

export const FULL_SHA = /^[0-9a-f]{40}$/i;

export interface RemoteRefs {
  /** Full ref name → commit SHA (annotated tags already peeled). */
  readonly refs: ReadonlyMap<string, string>;
  /** The commit HEAD points at, when the server advertises one. */
  readonly head?: string;
}

/** The latest ref listing made with one set of credentials, and the one in flight. */
export interface RefListing {
  value?: RemoteRefs;
  at: number;
  inflight?: Promise<RemoteRefs>;
}

/** What one repository's callers share, whatever spelling of its URL they use. */
export interface RepoStore {
  readonly normalized: string;
  readonly gitdir: string;
  readonly checkoutsDir: string;
  /** isomorphic-git's object cache (parsed pack indexes): shared so repeated reads stay cheap. */
  readonly cache: object;
  /** Parsed trees by object id, for tree hashes and checkouts. */
  readonly trees: TreeCache;
  /** Commits known to be in the store (a bounded memo of successful lookups). */
  readonly present: Set<string>;
  /** The newest checkout written: the next one hard-links its unchanged files. */
  lastCheckout?: { commit: string; dir: string };
  ready?: Promise<void>;
  /** Keyed by a fingerprint of the credentials, so one caller's credentials never answer for another's. */
  readonly listings: Map<string, RefListing>;
  /** Commit SHA → a remote ref pointing at it, from the latest listing: what to fetch to get that commit. */
  tips: Map<string, string>;
  /** Remote ref → the commit we last fetched for it: offered as "have" so the server sends only what is new. */
  readonly haves: Map<string, string>;
  fetching?: Promise<void>;
}

/** One call's view of a repository: the shared store plus the URL as this caller spelled it. */
export interface RepoState {
  readonly store: RepoStore;
  readonly url: ParsedRepoURL;
}

export class RepoStores {
  readonly #cacheDir: string;
  readonly #stores = new Map<string, RepoStore>();
  #prepared: Promise<void> | undefined;

  constructor(cacheDir: string) {
    this.#cacheDir = cacheDir;
  }

  /** The repository's store, initialised on first use; `describe` gives the context of an error doing so. */
  async open(repoURL: string, describe: (repo: RepoState, action: string) => ErrorContext): Promise<RepoState> {
    const url = parseRepoURL(repoURL);
    let store = this.#stores.get(url.normalized);
    if (!store) {
      const name = repoDirName(url.normalized);
      const gitdir = join(this.#cacheDir, "repos", `${name}.git`);
      const cache = {};
      store = {
        normalized: url.normalized,
        gitdir,
        checkoutsDir: join(this.#cacheDir, "checkouts", name),
        cache,
        trees: new TreeCache(gitdir, cache),
        present: new Set(),
        listings: new Map(),
        tips: new Map(),
        haves: new Map(),
      };
      this.#stores.set(url.normalized, store);
    }
    const repo: RepoState = { store, url };
    const shared = store;
    shared.ready ??= this.#init(repo).catch((err: unknown) => {
      shared.ready = undefined; // let the next call retry, e.g. after a full disk was cleared
      throw classifyGitError(err, describe(repo, "preparing the local store of"));
    });
    await shared.ready;
    return repo;
  }

  async #init(repo: RepoState): Promise<void> {
    this.#prepared ??= this.#prepareCheckouts().catch((err: unknown) => {
      this.#prepared = undefined;
      throw err;
    });
    await this.#prepared;
    await mkdir(repo.store.gitdir, { recursive: true });
    await git.init({ fs: storeFs, gitdir: repo.store.gitdir, bare: true });
    await git.setConfig({ fs: storeFs, gitdir: repo.store.gitdir, path: "remote.origin.url", value: repo.url.fetchURL });
    await git.setConfig({
      fs: storeFs,
      gitdir: repo.store.gitdir,
      path: "remote.origin.fetch",
      value: "+refs/heads/*:refs/remotes/origin/*",
    });
    await mkdir(repo.store.checkoutsDir, { recursive: true });
  }

  // Checkouts from a previous run are dropped: the LRU bound and the symlink records live in memory only,
  // and re-writing a tree is cheap next to fetching it (the object stores are kept).
  async #prepareCheckouts(): Promise<void> {
    const root = join(this.#cacheDir, "checkouts");
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
  }
}

export function requireSha(repo: RepoState, commitSha: string): string {
  const sha = commitSha.trim().toLowerCase();
  if (!FULL_SHA.test(sha)) {
    throw new ComparisonError(
      ErrorReason.RevisionNotFound,
      `'${commitSha}' is not a full commit SHA of ${repo.url.display}: resolve the revision first`,
      { terminal: true },
    );
  }
  return sha;
}

export async function requireLocal(repo: RepoState, sha: string): Promise<void> {
  if (!(await hasCommit(repo, sha))) {
    throw new ComparisonError(
      ErrorReason.GitError,
      `commit ${sha} of ${repo.url.display} is not in the local cache: check it out first`,
    );
  }
}

export async function hasCommit(repo: RepoState, sha: string): Promise<boolean> {
  // Objects never leave the store (nothing here prunes it), so a commit found once is there for good.
  if (repo.store.present.has(sha)) return true;
  try {
    await repo.store.trees.commitTree(sha);
    if (repo.store.present.size >= 10_000) repo.store.present.clear();
    repo.store.present.add(sha);
    return true;
  } catch {
    return false;
  }
}
