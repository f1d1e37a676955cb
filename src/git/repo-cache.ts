// The repository cache: one bare object store per repository (by normalized URL) under cacheDir, shared by
// every Application on that repository. The expensive things happen once no matter how many apps ask:
// ref listings and fetches are single-flight per repository, fetches happen only when the wanted commit is
// missing, and a checkout of a commit is written once and handed to every caller.
//
// This class is the module's facade: it checks its arguments and composes the parts, each in its own file:
// store.ts (object stores), refs.ts (ref listings, revision lookup), fetch.ts, checkouts.ts, commit-reads.ts
// (tree hashes, commit metadata), credentials.ts and operations.ts (deadline, HTTP client, timing).
import { Checkouts, isPlainManifestTree } from "./checkouts.ts";
import { normalizeRepoPath, readCommitInfo, treeHashAt, type CommitInfo } from "./commit-reads.ts";
import { revisionNotFound } from "./errors.ts";
import { ensureCommit } from "./fetch.ts";
import type { SkippedSymlink } from "./materialize.ts";
import { GitOperations } from "./operations.ts";
import { listRefs, lookupRevision } from "./refs.ts";
import { FULL_SHA, hasCommit, RepoStores, requireLocal, requireSha, type RepoState } from "./store.ts";
import type { RepoCacheOptions, RepoCredentials } from "./types.ts";

export class RepoCache {
  readonly #ttlMs: number;
  readonly #ops: GitOperations;
  readonly #stores: RepoStores;
  readonly #checkouts: Checkouts;

  constructor(opts: RepoCacheOptions) {
    this.#ttlMs = opts.lsRemoteTtlMs ?? 0;
    this.#ops = new GitOperations({
      fetchTimeoutMs: opts.fetchTimeoutMs ?? 60_000,
      maxFetchBytes: opts.maxFetchBytes ?? 1024 ** 3,
      onRequest: opts.onRequest,
      log: opts.logger?.child({ component: "git" }),
    });
    this.#stores = new RepoStores(opts.cacheDir);
    this.#checkouts = new Checkouts(this.#ops, {
      maxCheckouts: Math.max(1, opts.maxCheckouts ?? 64),
      graceMs: opts.checkoutGraceMs ?? 60_000,
    });
  }

  async resolveRevision(
    repoURL: string,
    targetRevision: string,
    opts: { credentials?: RepoCredentials; force?: boolean } = {},
  ): Promise<string> {
    const repo = await this.#repo(repoURL);
    const revision = targetRevision.trim();
    const sha = FULL_SHA.test(revision) ? revision.toLowerCase() : undefined;
    if (sha && (await hasCommit(repo, sha))) return sha;

    const remote = await listRefs(this.#ops, repo, opts.credentials, { force: opts.force ?? false, ttlMs: this.#ttlMs, revision: revision || "HEAD" });
    const found = lookupRevision(remote, revision);
    if (found) return found;
    if (sha) {
      // Not a tip: it may still be an older commit of some branch. Fetching is the only way to know.
      await ensureCommit(this.#ops, repo, sha, opts.credentials, revision);
      return sha;
    }
    throw revisionNotFound(repo.url.display, revision);
  }

  async checkout(repoURL: string, commitSha: string, opts: { credentials?: RepoCredentials } = {}): Promise<string> {
    const repo = await this.#repo(repoURL);
    const sha = requireSha(repo, commitSha);
    await ensureCommit(this.#ops, repo, sha, opts.credentials, commitSha);
    return this.#checkouts.get(repo, sha);
  }

  /**
   * A checkout holding only `path`, for a plain directory of manifests: a render that reads nothing else need not
   * wait for every file of a monorepo to be written. Undefined (use `checkout`) when the path is the repository's
   * root, is missing, holds a kustomization or a Helm chart (those read outside their folder), or holds a symlink
   * anywhere below it (its target may be elsewhere in the repository).
   */
  async checkoutPath(repoURL: string, commitSha: string, path: string, opts: { credentials?: RepoCredentials } = {}): Promise<string | undefined> {
    const repo = await this.#repo(repoURL);
    const sha = requireSha(repo, commitSha);
    const normalized = normalizeRepoPath(path);
    if (normalized === "." || normalized === "" || normalized === ".." || normalized.startsWith("../")) return undefined;
    await ensureCommit(this.#ops, repo, sha, opts.credentials, commitSha);
    const oid = await this.treeHash(repoURL, sha, normalized);
    if (!oid || !(await isPlainManifestTree(repo, oid))) return undefined;
    return this.#checkouts.get(repo, sha, normalized);
  }

  /**
   * Symlinks that `checkout` left out of `dir` (or of the checkout holding `dir`) because they pointed outside
   * the checkout, were absolute, or did not resolve. A renderer that meets a missing path should look here to
   * explain why.
   */
  escapingSymlinks(dir: string): readonly SkippedSymlink[] {
    return this.#checkouts.escapingSymlinks(dir);
  }

  /** Makes sure the commit is in the local object store (fetching only when missing), without a checkout. */
  async ensureCommit(repoURL: string, commitSha: string, opts: { credentials?: RepoCredentials } = {}): Promise<void> {
    const repo = await this.#repo(repoURL);
    const sha = requireSha(repo, commitSha);
    await ensureCommit(this.#ops, repo, sha, opts.credentials, commitSha);
  }

  async treeHash(repoURL: string, commitSha: string, path: string): Promise<string | undefined> {
    const repo = await this.#repo(repoURL);
    const sha = requireSha(repo, commitSha);
    await requireLocal(repo, sha);
    return treeHashAt(this.#ops, repo, sha, path, commitSha);
  }

  async commitInfo(repoURL: string, commitSha: string): Promise<CommitInfo> {
    const repo = await this.#repo(repoURL);
    const sha = requireSha(repo, commitSha);
    await requireLocal(repo, sha);
    return readCommitInfo(this.#ops, repo, sha, commitSha);
  }

  #repo(repoURL: string): Promise<RepoState> {
    return this.#stores.open(repoURL, (repo, action) => this.#ops.context(repo, action));
  }
}
