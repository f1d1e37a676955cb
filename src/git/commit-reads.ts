// What is read from a commit in the object store without a checkout: the git hash of a path (the render
// cache's key) and the commit's author, date and subject (status history).
import { posix } from "node:path";
import * as git from "isomorphic-git";
import { classifyGitError } from "./errors.ts";
import type { GitOperations } from "./operations.ts";
import { storeFs } from "./store-fs.ts";
import type { RepoState } from "./store.ts";

export interface CommitInfo {
  author: string;
  date: string;
  message: string;
}

/** A spec path as a repo-relative posix path without leading or trailing slashes ("." or "" is the root). */
export function normalizeRepoPath(path: string): string {
  return posix.normalize(`./${path.replaceAll("\\", "/")}`).replace(/^\/+|\/+$/g, "");
}

/**
 * The object id of what `path` names in the commit (tree, file or symlink); undefined when absent or outside.
 * `revision` is the commit as the caller spelled it, for error messages.
 */
export async function treeHashAt(ops: GitOperations, repo: RepoState, sha: string, path: string, revision: string): Promise<string | undefined> {
  const normalized = normalizeRepoPath(path);
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
    throw classifyGitError(err, ops.context(repo, "reading the tree of", undefined, revision));
  }
}

export async function readCommitInfo(ops: GitOperations, repo: RepoState, sha: string, revision: string): Promise<CommitInfo> {
  try {
    const { commit } = await git.readCommit({ fs: storeFs, gitdir: repo.store.gitdir, oid: sha, cache: repo.store.cache });
    return {
      author: `${commit.author.name} <${commit.author.email}>`,
      date: new Date(commit.author.timestamp * 1000).toISOString(),
      message: (commit.message.split("\n", 1)[0] ?? "").trim(),
    };
  } catch (err) {
    throw classifyGitError(err, ops.context(repo, "reading commit of", undefined, revision));
  }
}
