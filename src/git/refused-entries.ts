// A checkout never silently loses an entry of the commit's tree. An entry Tack refuses to write as it is (a
// symlink leaving the repository, an absolute or dangling one, a submodule it does not fetch) is written as a
// stand-in symlink whose target can never exist, because it runs through /dev/null, which is not a directory.
// Every reader that follows it gets an error (ENOTDIR) instead of content, and a renderer that finds a
// dangling link reads the reason back from the stand-in's target to say why the path cannot be rendered. Left
// out instead, the entry would read as "deleted from Git", and prune would delete the live object it declared.

export type RefusedEntryReason = "absolute" | "outside" | "unresolvable" | "submodule";

const STAND_IN_PREFIX = "/dev/null/tack-refused-";
const REASONS: readonly RefusedEntryReason[] = ["absolute", "outside", "unresolvable", "submodule"];

/** The symlink target that stands for a refused entry. */
export function standInTarget(reason: RefusedEntryReason): string {
  return `${STAND_IN_PREFIX}${reason}`;
}

/** The reason a stand-in was written, or undefined when the link is an ordinary one (of the repository's own). */
export function refusedEntryReason(linkTarget: string): RefusedEntryReason | undefined {
  if (!linkTarget.startsWith(STAND_IN_PREFIX)) return undefined;
  const reason = linkTarget.slice(STAND_IN_PREFIX.length);
  return REASONS.find((r) => r === reason);
}
