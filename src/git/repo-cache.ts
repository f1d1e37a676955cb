// The repository cache: one bare object store per repository (by normalized URL) under cacheDir, shared by
// every Application on that repository. The expensive things happen once no matter how many apps ask:
// ref listings and fetches are single-flight per repository, fetches happen only when the wanted commit is
// missing, and a checkout of a commit is written once and handed to every caller.

import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import { join, posix, relative, sep, isAbsolute } from "node:path";
import * as git from "isomorphic-git";
import type { GitAuth } from "isomorphic-git";
import type { Logger } from "pino";
import type { GitRequestEvent, RepoCacheOptions, RepoCredentials } from "./types.ts";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { classifyGitError, revisionNotFound } from "./errors.ts";
import { createHttpClient, tlsFingerprint } from "./http-client.ts";
import { storeFs } from "./store-fs.ts";
import { materializeCommit, UnsafeTreeError, type SkippedSymlink } from "./materialize.ts";
import { TreeCache } from "./trees.ts";
import { parseRepoURL, repoDirName, type ParsedRepoURL } from "./url.ts";

interface RemoteRefs {
  /** Full ref name → commit SHA (annotated tags already peeled). */
  readonly refs: ReadonlyMap<string, string>;
  /** The commit HEAD points at, when the server advertises one. */
  readonly head?: string;
}

interface RefListing {
  value?: RemoteRefs;
  at: number;
  inflight?: Promise<RemoteRefs>;
}

/** What one repository's callers share, whatever spelling of its URL they use. */
interface RepoStore {
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
interface RepoState {
  readonly store: RepoStore;
  readonly url: ParsedRepoURL;
}

interface CheckoutEntry {
  readonly repo: string;
  lastUsed: number;
  readonly skippedSymlinks: readonly SkippedSymlink[];
}

const FULL_SHA = /^[0-9a-f]{40}$/i;
/** Files that make a folder a Kustomize or Helm source (Argo CD's detection), which may read outside it. */
const SOURCE_MARKERS = new Set(["kustomization.yaml", "kustomization.yml", "Kustomization", "Chart.yaml"]);
// Persisted "have": after a restart the first fetch still negotiates from what the store already holds.
const LAST_FETCHED_REF = "refs/tack/last-fetched";

export class RepoCache {
  readonly #cacheDir: string;
  readonly #fetchTimeoutMs: number;
  readonly #ttlMs: number;
  readonly #maxCheckouts: number;
  readonly #graceMs: number;
  readonly #maxBytes: number;
  readonly #onRequest: ((e: GitRequestEvent) => void) | undefined;
  readonly #log: Logger | undefined;
  readonly #stores = new Map<string, RepoStore>();
  /** Checkout directory → entry; Map order is least recently used first. */
  readonly #checkouts = new Map<string, CheckoutEntry>();
  readonly #checkoutsInFlight = new Map<string, Promise<string>>();
  /** Repositories already warned about running without server certificate verification. */
  readonly #insecureWarned = new Set<string>();
  #prepared: Promise<void> | undefined;

  constructor(opts: RepoCacheOptions) {
    this.#cacheDir = opts.cacheDir;
    this.#fetchTimeoutMs = opts.fetchTimeoutMs ?? 60_000;
    this.#ttlMs = opts.lsRemoteTtlMs ?? 0;
    this.#maxCheckouts = Math.max(1, opts.maxCheckouts ?? 64);
    this.#graceMs = opts.checkoutGraceMs ?? 60_000;
    this.#maxBytes = opts.maxFetchBytes ?? 1024 ** 3;
    this.#onRequest = opts.onRequest;
    this.#log = opts.logger?.child({ component: "git" });
  }

  async resolveRevision(
    repoURL: string,
    targetRevision: string,
    opts: { credentials?: RepoCredentials; force?: boolean } = {},
  ): Promise<string> {
    const repo = await this.#repo(repoURL);
    const revision = targetRevision.trim();
    const sha = FULL_SHA.test(revision) ? revision.toLowerCase() : undefined;
    if (sha && (await this.#hasCommit(repo, sha))) return sha;

    const remote = await this.#listRefs(repo, opts.credentials, opts.force ?? false, revision || "HEAD");
    const found = lookupRevision(remote, revision);
    if (found) return found;
    if (sha) {
      // Not a tip: it may still be an older commit of some branch. Fetching is the only way to know.
      await this.#ensureCommit(repo, sha, opts.credentials, revision);
      return sha;
    }
    throw revisionNotFound(repo.url.display, revision);
  }

  async checkout(repoURL: string, commitSha: string, opts: { credentials?: RepoCredentials } = {}): Promise<string> {
    const repo = await this.#repo(repoURL);
    const sha = this.#requireSha(repo, commitSha);
    await this.#ensureCommit(repo, sha, opts.credentials, commitSha);
    return this.#checkoutOnce(repo, sha, join(repo.store.checkoutsDir, sha));
  }

  /** The checkout in `dir`: reused when it exists, written once however many callers ask at the same time. */
  #checkoutOnce(repo: RepoState, sha: string, dir: string, only?: string): Promise<string> {
    const known = this.#checkouts.get(dir);
    if (known) {
      this.#touch(dir, known);
      return Promise.resolve(dir);
    }
    let pending = this.#checkoutsInFlight.get(dir);
    if (!pending) {
      pending = this.#materialize(repo, sha, dir, only).finally(() => this.#checkoutsInFlight.delete(dir));
      this.#checkoutsInFlight.set(dir, pending);
    }
    return pending;
  }

  /**
   * A checkout holding only `path`, for a plain directory of manifests: a render that reads nothing else need not
   * wait for every file of a monorepo to be written. Undefined (use `checkout`) when the path is the repository's
   * root, is missing, holds a kustomization or a Helm chart (those read outside their folder), or holds a symlink
   * anywhere below it (its target may be elsewhere in the repository).
   */
  async checkoutPath(repoURL: string, commitSha: string, path: string, opts: { credentials?: RepoCredentials } = {}): Promise<string | undefined> {
    const repo = await this.#repo(repoURL);
    const sha = this.#requireSha(repo, commitSha);
    const normalized = posix.normalize(`./${path.replaceAll("\\", "/")}`).replace(/^\/+|\/+$/g, "");
    if (normalized === "." || normalized === "" || normalized === ".." || normalized.startsWith("../")) return undefined;
    await this.#ensureCommit(repo, sha, opts.credentials, commitSha);
    const oid = await this.treeHash(repoURL, sha, normalized);
    if (!oid || !(await this.#isPlainManifestTree(repo, oid, true))) return undefined;
    const dir = join(repo.store.checkoutsDir, `${sha}-${createHash("sha256").update(normalized).digest("hex").slice(0, 16)}`);
    return this.#checkoutOnce(repo, sha, dir, normalized);
  }

  /** No symlink, submodule, kustomization or Chart.yaml (the latter two at its top only) in the tree. */
  async #isPlainManifestTree(repo: RepoState, oid: string, top: boolean): Promise<boolean> {
    let tree;
    try {
      tree = await repo.store.trees.read(oid);
    } catch {
      return false;   // a file, not a directory
    }
    for (const entry of tree) {
      if (entry.mode === "120000" || entry.mode === "160000") return false;
      if (top && SOURCE_MARKERS.has(entry.path)) return false;
      if (entry.type === "tree" && !(await this.#isPlainManifestTree(repo, entry.oid, false))) return false;
    }
    return true;
  }

  /**
   * Symlinks that `checkout` left out of `dir` (or of the checkout holding `dir`) because they pointed outside
   * the checkout, were absolute, or did not resolve. A renderer that meets a missing path should look here to
   * explain why.
   */
  escapingSymlinks(dir: string): readonly SkippedSymlink[] {
    for (const [checkoutDir, entry] of this.#checkouts) {
      const rel = relative(checkoutDir, dir);
      if (rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel))) {
        return entry.skippedSymlinks;
      }
    }
    return [];
  }

  /** Makes sure the commit is in the local object store (fetching only when missing), without a checkout. */
  async ensureCommit(repoURL: string, commitSha: string, opts: { credentials?: RepoCredentials } = {}): Promise<void> {
    const repo = await this.#repo(repoURL);
    const sha = this.#requireSha(repo, commitSha);
    await this.#ensureCommit(repo, sha, opts.credentials, commitSha);
  }

  async treeHash(repoURL: string, commitSha: string, path: string): Promise<string | undefined> {
    const repo = await this.#repo(repoURL);
    const sha = this.#requireSha(repo, commitSha);
    await this.#requireLocal(repo, sha);
    const normalized = posix.normalize(`./${path.replaceAll("\\", "/")}`).replace(/^\/+|\/+$/g, "");
    if (normalized === ".." || normalized.startsWith("../")) return undefined;
    try {
      let oid = await repo.store.trees.commitTree(sha);
      if (normalized === "." || normalized === "") return oid;
      const segments = normalized.split("/");
      for (const [i, segment] of segments.entries()) {
        const tree = await repo.store.trees.read(oid);
        const entry = tree.find((e) => e.path === segment);
        // Only the last segment may be a file (or a symlink, whose hash is that of its target text).
        if (!entry || (entry.type !== "tree" && i < segments.length - 1)) return undefined;
        oid = entry.oid;
      }
      return oid;
    } catch (err) {
      throw classifyGitError(err, this.#context(repo, "reading the tree of", undefined, commitSha));
    }
  }

  async commitInfo(repoURL: string, commitSha: string): Promise<{ author: string; date: string; message: string }> {
    const repo = await this.#repo(repoURL);
    const sha = this.#requireSha(repo, commitSha);
    await this.#requireLocal(repo, sha);
    try {
      const { commit } = await git.readCommit({ fs: storeFs, gitdir: repo.store.gitdir, oid: sha, cache: repo.store.cache });
      return {
        author: `${commit.author.name} <${commit.author.email}>`,
        date: new Date(commit.author.timestamp * 1000).toISOString(),
        message: (commit.message.split("\n", 1)[0] ?? "").trim(),
      };
    } catch (err) {
      throw classifyGitError(err, this.#context(repo, "reading commit of", undefined, commitSha));
    }
  }

  // ---- repositories ----------------------------------------------------------------------------------

  async #repo(repoURL: string): Promise<RepoState> {
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
    shared.ready ??= this.#initStore(repo).catch((err: unknown) => {
      shared.ready = undefined; // let the next call retry, e.g. after a full disk was cleared
      throw classifyGitError(err, this.#context(repo, "preparing the local store of"));
    });
    await shared.ready;
    return repo;
  }

  async #initStore(repo: RepoState): Promise<void> {
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

  #requireSha(repo: RepoState, commitSha: string): string {
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

  async #requireLocal(repo: RepoState, sha: string): Promise<void> {
    if (!(await this.#hasCommit(repo, sha))) {
      throw new ComparisonError(
        ErrorReason.GitError,
        `commit ${sha} of ${repo.url.display} is not in the local cache: check it out first`,
      );
    }
  }

  async #hasCommit(repo: RepoState, sha: string): Promise<boolean> {
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

  // ---- remote refs -----------------------------------------------------------------------------------

  async #listRefs(
    repo: RepoState,
    credentials: RepoCredentials | undefined,
    force: boolean,
    revision: string,
  ): Promise<RemoteRefs> {
    const key = credentialKey(effectiveCredentials(repo, credentials));
    let listing = repo.store.listings.get(key);
    if (!listing) {
      listing = { at: 0 };
      repo.store.listings.set(key, listing);
    }
    if (listing.inflight) return listing.inflight;
    if (!force && listing.value && this.#ttlMs > 0 && Date.now() - listing.at < this.#ttlMs) return listing.value;

    const entry = listing;
    const run = this.#timed(repo, "ls-remote", async (signal) => {
      const http = this.#http(repo, credentials, signal);
      const refs = await git.listServerRefs({
        http,
        url: repo.url.fetchURL,
        onAuth: this.#onAuth(repo, credentials),
        // v1 answers refs, HEAD's target and peeled tags in a single GET; v2 needs a second round trip.
        protocolVersion: 1,
        symrefs: true,
        peelTags: true,
      });
      return toRemoteRefs(refs);
    });
    entry.inflight = run
      .then((value) => {
        entry.value = value;
        entry.at = Date.now();
        repo.store.tips = tipsOf(value);
        return value;
      })
      .catch((err: unknown) => {
        throw classifyGitError(err, this.#context(repo, "listing refs of", credentials, revision));
      })
      .finally(() => {
        entry.inflight = undefined;
      });
    return entry.inflight;
  }

  // ---- fetching --------------------------------------------------------------------------------------

  /** Makes sure the commit is in the object store; fetches only when it is missing. */
  async #ensureCommit(
    repo: RepoState,
    sha: string,
    credentials: RepoCredentials | undefined,
    revision: string,
  ): Promise<void> {
    if (await this.#hasCommit(repo, sha)) return;
    // A fetch already running (for any commit) likely brings ours too: wait for it before starting another.
    // Fetches into one store never overlap.
    while (repo.store.fetching) {
      await repo.store.fetching.catch(() => undefined);
      if (await this.#hasCommit(repo, sha)) return;
    }
    const run = this.#fetchMissing(repo, sha, credentials, revision);
    repo.store.fetching = run;
    try {
      await run;
    } finally {
      if (repo.store.fetching === run) repo.store.fetching = undefined;
    }
  }

  async #fetchMissing(
    repo: RepoState,
    sha: string,
    credentials: RepoCredentials | undefined,
    revision: string,
  ): Promise<void> {
    // Cheapest first: the one ref known to point at the commit. If it moved on since (or the commit was never
    // a tip), fetch every branch and tag: the commit may be anywhere in their history.
    const ref = repo.store.tips.get(sha);
    if (ref) {
      await this.#fetch(repo, credentials, revision, ref);
      if (await this.#hasCommit(repo, sha)) return;
    }
    await this.#fetch(repo, credentials, revision, undefined);
    if (await this.#hasCommit(repo, sha)) return;
    throw revisionNotFound(repo.url.display, revision);
  }

  async #fetch(
    repo: RepoState,
    credentials: RepoCredentials | undefined,
    revision: string,
    ref: string | undefined,
  ): Promise<void> {
    const have = (ref && repo.store.haves.get(ref)) || (await this.#lastFetched(repo));
    try {
      await this.#timed(repo, "fetch", async (signal) => {
        const result = await git.fetch({
          fs: storeFs,
          http: this.#http(repo, credentials, signal),
          gitdir: repo.store.gitdir,
          cache: repo.store.cache,
          url: repo.url.fetchURL,
          remote: "origin",
          // isomorphic-git offers `ref` as the "have" of a single-ref fetch; a SHA we hold is the best one.
          ...(have ? { ref: have } : {}),
          remoteRef: ref ?? "HEAD",
          singleBranch: ref !== undefined,
          tags: ref === undefined,
          onAuth: this.#onAuth(repo, credentials),
        });
        const fetched = result.fetchHead;
        if (fetched && (await this.#hasCommit(repo, fetched))) {
          if (ref) repo.store.haves.set(ref, fetched);
          await git.writeRef({ fs: storeFs, gitdir: repo.store.gitdir, ref: LAST_FETCHED_REF, value: fetched, force: true });
        }
      });
    } catch (err) {
      // The ref vanished between listing and fetching (deleted branch): fall back to the full fetch.
      if (ref !== undefined && (err as { code?: unknown }).code === "NotFoundError") return;
      throw classifyGitError(err, this.#context(repo, "fetching", credentials, revision));
    }
  }

  async #lastFetched(repo: RepoState): Promise<string | undefined> {
    try {
      return await git.resolveRef({ fs: storeFs, gitdir: repo.store.gitdir, ref: LAST_FETCHED_REF });
    } catch {
      return undefined;
    }
  }

  #http(repo: RepoState, credentials: RepoCredentials | undefined, signal: AbortSignal): git.HttpClient {
    const tls = credentials?.tls;
    if (tls?.insecure && !this.#insecureWarned.has(repo.store.normalized)) {
      this.#insecureWarned.add(repo.store.normalized);
      this.#log?.warn(
        { repo: repo.url.display },
        "TLS certificate verification is off for this repository (insecure: \"true\" in its Secret): anyone on the path can impersonate the server",
      );
    }
    return createHttpClient({ signal, maxBytes: this.#maxBytes, tls });
  }

  #onAuth(repo: RepoState, credentials: RepoCredentials | undefined): () => GitAuth | undefined {
    const creds = effectiveCredentials(repo, credentials);
    // Answering only the first 401 (isomorphic-git asks again through onAuthFailure, which we do not pass)
    // turns wrong credentials into one HTTP 401 error instead of a retry loop.
    return () => {
      if (!creds) return undefined;
      if ("bearerToken" in creds && creds.bearerToken) {
        return { headers: { Authorization: `Bearer ${creds.bearerToken}` } };
      }
      if (creds.password === undefined && creds.username === undefined) return undefined;
      return { username: creds.username || "git", password: creds.password ?? "" };
    };
  }

  // ---- checkouts -------------------------------------------------------------------------------------

  async #materialize(repo: RepoState, sha: string, dir: string, only?: string): Promise<string> {
    // Written under a temp name and renamed into place, so nobody ever sees half a tree.
    const tmp = join(repo.store.checkoutsDir, `.tmp-${sha.slice(0, 12)}-${randomBytes(4).toString("hex")}`);
    let skippedSymlinks: readonly SkippedSymlink[] = [];
    try {
      await this.#timed(repo, "checkout", async () => {
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
      throw classifyGitError(err, this.#context(repo, "checking out", undefined, sha));
    }
    if (skippedSymlinks.length > 0) {
      this.#log?.warn(
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
        .catch((err: unknown) => this.#log?.warn({ err, dir }, "could not remove an evicted checkout"));
    }
  }

  // ---- plumbing --------------------------------------------------------------------------------------

  /** Runs one timed network or disk operation, reports it, and gives it the fetch deadline. */
  async #timed<T>(
    repo: RepoState,
    type: GitRequestEvent["type"],
    op: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    let ok = false;
    try {
      const result = await op(AbortSignal.timeout(this.#fetchTimeoutMs));
      ok = true;
      return result;
    } finally {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const event: GitRequestEvent = { repo: repo.store.normalized, type, durationMs, ok };
      this.#log?.debug(event, `git ${type}`);
      try {
        this.#onRequest?.(event);
      } catch (err) {
        this.#log?.warn({ err }, "onRequest callback failed");
      }
    }
  }

  #context(repo: RepoState, action: string, credentials?: RepoCredentials, revision?: string) {
    const creds = effectiveCredentials(repo, credentials);
    const login = [creds?.password, creds?.bearerToken].filter((s): s is string => typeof s === "string" && s.length > 0);
    return {
      repo: repo.url.display,
      action,
      secrets: creds?.tls?.keyData ? [...login, creds.tls.keyData] : login,
      // An HTTP 401 answers the login, not the client certificate, so only the login counts here.
      hadCredentials: login.length > 0,
      hadCustomCa: !!creds?.tls?.caData,
      hadClientCert: !!creds?.tls?.certData,
      timeoutMs: this.#fetchTimeoutMs,
      ...(revision !== undefined ? { revision } : {}),
    };
  }
}

function toRemoteRefs(list: readonly git.ServerRef[]): RemoteRefs {
  const refs = new Map<string, string>();
  let headTarget: string | undefined;
  let headOid: string | undefined;
  for (const r of list) {
    if (r.ref === "HEAD") {
      headTarget = r.target;
      headOid = r.oid;
      continue;
    }
    refs.set(r.ref, r.peeled ?? r.oid);
  }
  const head = (headTarget && refs.get(headTarget)) || headOid;
  return head ? { refs, head } : { refs };
}

/** Which remote ref to fetch to get a commit: branches first, as they move and carry history. */
function tipsOf(remote: RemoteRefs): Map<string, string> {
  const tips = new Map<string, string>();
  for (const [ref, sha] of remote.refs) {
    if (ref.startsWith("refs/heads/") && !tips.has(sha)) tips.set(sha, ref);
  }
  for (const [ref, sha] of remote.refs) {
    if (!tips.has(sha)) tips.set(sha, ref);
  }
  return tips;
}

/**
 * "" and "HEAD" → what HEAD points at; a full ref name as is; otherwise a branch, then a tag, of that name
 * (Argo CD's order; git's rev-parse would prefer the tag, but a branch and tag of one name are rare and
 * users of GitOps tools expect the moving branch). A full SHA that is some ref's tip also resolves here.
 */
function lookupRevision(remote: RemoteRefs, revision: string): string | undefined {
  if (revision === "" || revision === "HEAD") return remote.head;
  if (revision.startsWith("refs/")) return remote.refs.get(revision);
  const byName = remote.refs.get(`refs/heads/${revision}`) ?? remote.refs.get(`refs/tags/${revision}`);
  if (byName) return byName;
  if (FULL_SHA.test(revision)) {
    const sha = revision.toLowerCase();
    for (const tip of remote.refs.values()) if (tip === sha) return sha;
  }
  return undefined;
}

/**
 * The credentials an operation runs with. The URL's user:pass@ stands in when none are given, and also when
 * the given ones carry only TLS settings (a Secret holding just a CA must not drop the URL's login).
 */
function effectiveCredentials(repo: RepoState, credentials: RepoCredentials | undefined): RepoCredentials | undefined {
  const fromURL = repo.url.urlCredentials;
  if (!credentials) return fromURL;
  const hasLogin = credentials.username !== undefined || credentials.password !== undefined || !!credentials.bearerToken;
  return hasLogin || !fromURL ? credentials : { ...fromURL, ...credentials };
}

// TLS settings are part of the key: a client certificate is a credential, and a listing that needed a custom CA
// must not answer a caller that would have failed verification.
function credentialKey(creds: RepoCredentials | undefined): string {
  if (!creds) return "anonymous";
  return createHash("sha256")
    .update(JSON.stringify([creds.username ?? "", creds.password ?? "", creds.bearerToken ?? "", creds.tls ? tlsFingerprint(creds.tls) : ""]))
    .digest("hex");
}
