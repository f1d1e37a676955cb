// Fetching into a repository's object store: only when a wanted commit is missing, one fetch per store at a
// time, the cheapest fetch first (the one ref known to point at the commit), offering what the store already
// holds as "have" so the server sends only what is new.
import * as git from "isomorphic-git";
import { authFor } from "./credentials.ts";
import { classifyGitError, revisionNotFound } from "./errors.ts";
import type { GitOperations } from "./operations.ts";
import { storeFs } from "./store-fs.ts";
import { hasCommit, type RepoState } from "./store.ts";
import type { RepoCredentials } from "./types.ts";

// Persisted "have": after a restart the first fetch still negotiates from what the store already holds.
const LAST_FETCHED_REF = "refs/tack/last-fetched";

/** Makes sure the commit is in the object store; fetches only when it is missing. */
export async function ensureCommit(ops: GitOperations, repo: RepoState, sha: string, credentials: RepoCredentials | undefined, revision: string): Promise<void> {
  if (await hasCommit(repo, sha)) return;
  // A fetch already running (for any commit) likely brings ours too: wait for it before starting another.
  // Fetches into one store never overlap.
  while (repo.store.fetching) {
    await repo.store.fetching.catch(() => undefined);
    if (await hasCommit(repo, sha)) return;
  }
  const run = fetchMissing(ops, repo, sha, credentials, revision);
  repo.store.fetching = run;
  try {
    await run;
  } finally {
    if (repo.store.fetching === run) repo.store.fetching = undefined;
  }
}

async function fetchMissing(ops: GitOperations, repo: RepoState, sha: string, credentials: RepoCredentials | undefined, revision: string): Promise<void> {
  // Cheapest first: the one ref known to point at the commit. If it moved on since (or the commit was never
  // a tip), fetch every branch and tag: the commit may be anywhere in their history.
  const ref = repo.store.tips.get(sha);
  if (ref) {
    await fetchRef(ops, repo, credentials, revision, ref);
    if (await hasCommit(repo, sha)) return;
  }
  await fetchRef(ops, repo, credentials, revision, undefined);
  if (await hasCommit(repo, sha)) return;
  throw revisionNotFound(repo.url.display, revision);
}

/** Fetches one remote ref, or (undefined) every branch and tag. */
async function fetchRef(
  ops: GitOperations,
  repo: RepoState,
  credentials: RepoCredentials | undefined,
  revision: string,
  ref: string | undefined,
): Promise<void> {
  const have = (ref && repo.store.haves.get(ref)) || (await lastFetched(repo));
  try {
    await ops.timed(repo, "fetch", async (signal) => {
      const result = await git.fetch({
        fs: storeFs,
        http: ops.http(repo, credentials, signal),
        gitdir: repo.store.gitdir,
        cache: repo.store.cache,
        url: repo.url.fetchURL,
        remote: "origin",
        // isomorphic-git offers `ref` as the "have" of a single-ref fetch; a SHA we hold is the best one.
        ...(have ? { ref: have } : {}),
        remoteRef: ref ?? "HEAD",
        singleBranch: ref !== undefined,
        tags: ref === undefined,
        onAuth: authFor(repo, credentials),
      });
      const fetched = result.fetchHead;
      if (fetched && (await hasCommit(repo, fetched))) {
        if (ref) repo.store.haves.set(ref, fetched);
        await git.writeRef({ fs: storeFs, gitdir: repo.store.gitdir, ref: LAST_FETCHED_REF, value: fetched, force: true });
      }
    });
  } catch (err) {
    // The ref vanished between listing and fetching (deleted branch): fall back to the full fetch.
    if (ref !== undefined && (err as { code?: unknown }).code === "NotFoundError") return;
    throw classifyGitError(err, ops.context(repo, "fetching", credentials, revision));
  }
}

async function lastFetched(repo: RepoState): Promise<string | undefined> {
  try {
    return await git.resolveRef({ fs: storeFs, gitdir: repo.store.gitdir, ref: LAST_FETCHED_REF });
  } catch {
    return undefined;
  }
}
