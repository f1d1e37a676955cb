// The server's refs: one listing per repository and credentials, shared by concurrent callers and reused for
// a TTL, and how a revision (branch, tag, full ref, HEAD, SHA) is looked up in it.
import * as git from "isomorphic-git";
import { credentialKey, effectiveCredentials, authFor } from "./credentials.ts";
import { classifyGitError } from "./errors.ts";
import type { GitOperations } from "./operations.ts";
import { FULL_SHA, type RemoteRefs, type RepoState } from "./store.ts";
import type { RepoCredentials } from "./types.ts";

export interface ListRefsOptions {
  /** Ask the server even when a listing younger than the TTL is at hand. */
  readonly force: boolean;
  /** How long a listing answers without asking the server again; 0 asks every time. */
  readonly ttlMs: number;
  /** The revision being resolved, for error messages. */
  readonly revision: string;
}

export async function listRefs(
  ops: GitOperations,
  repo: RepoState,
  credentials: RepoCredentials | undefined,
  opts: ListRefsOptions,
): Promise<RemoteRefs> {
  const key = credentialKey(effectiveCredentials(repo, credentials));
  let listing = repo.store.listings.get(key);
  if (!listing) {
    listing = { at: 0 };
    repo.store.listings.set(key, listing);
  }
  if (listing.inflight) return listing.inflight;
  if (!opts.force && listing.value && opts.ttlMs > 0 && Date.now() - listing.at < opts.ttlMs) return listing.value;

  const entry = listing;
  const run = ops.timed(repo, "ls-remote", async (signal) => {
    const http = ops.http(repo, credentials, signal);
    const refs = await git.listServerRefs({
      http,
      url: repo.url.fetchURL,
      onAuth: authFor(repo, credentials),
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
      throw classifyGitError(err, ops.context(repo, "listing refs of", credentials, opts.revision));
    })
    .finally(() => {
      entry.inflight = undefined;
    });
  return entry.inflight;
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
export function lookupRevision(remote: RemoteRefs, revision: string): string | undefined {
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
