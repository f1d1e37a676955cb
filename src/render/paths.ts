// Resolution of paths taken from an Application spec: always inside the checkout (docs/architecture.md, safety rule 4). And the
// one way a renderer reports a symlink it cannot follow, so no path is ever skipped as if it were not in Git.
import { lstat, readlink, realpath } from "node:fs/promises";
import { isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { refusedEntryReason } from "../git/index.ts";

/**
 * Resolves a repo-relative path against the (already real) checkout root. Absolute paths and `..` escapes
 * are refused; when the path exists, its real location (after symlinks) must also be inside the root; when
 * it does not, a symlink on the way to it that cannot be followed is the error, not "not found".
 * `what` names the spec field in the message ("path", "valueFiles").
 */
export async function resolveInside(rootReal: string, relPath: string, what: string): Promise<string> {
  const cleaned = relPath.trim() === "" ? "." : relPath.trim();
  if (isAbsolute(cleaned)) {
    throw new ComparisonError(ErrorReason.InvalidSpec, `${what} '${relPath}' is absolute; it must be relative to the repository root`, { terminal: true });
  }
  const joined = resolve(rootReal, normalize(cleaned));
  if (!isInside(rootReal, joined)) {
    throw new ComparisonError(ErrorReason.InvalidSpec, `${what} '${relPath}' leaves the repository`, { terminal: true });
  }
  const real = await realpath(joined).catch(() => undefined);
  if (real === undefined) {
    const blocked = await blockedBy(rootReal, joined);
    if (blocked) throw blocked;
    return joined;
  }
  if (!isInside(rootReal, real)) {
    throw escapingLinkError(`${what} '${relPath}' is a symlink that`);
  }
  return real;
}

export function isInside(rootReal: string, abs: string): boolean {
  return abs === rootReal || abs.startsWith(rootReal + sep);
}

/**
 * Why a symlink cannot be read: it points outside the repository (a stand-in the checkout wrote for such a link,
 * or a real one in a local directory), it dangles, or it stands for a submodule Tack does not fetch. Names the
 * link by its repo-relative path and never the content or location of what an escaping link points at.
 */
export async function unreadableLinkError(linkAbs: string, repoRel: string): Promise<ComparisonError> {
  const target = await readlink(linkAbs).catch(() => "");
  const reason = refusedEntryReason(target);
  if (reason === "submodule") {
    return new ComparisonError(ErrorReason.ManifestInvalid,
      `'${repoRel}' is a git submodule: Tack does not fetch submodules, so nothing under it can be rendered; vendor its files into the repository`, { terminal: true });
  }
  if (reason === "outside" || reason === "absolute" || (reason === undefined && isAbsolute(target))) return escapingLinkError(`symlink '${repoRel}'`);
  return new ComparisonError(ErrorReason.ManifestInvalid,
    `symlink '${repoRel}' points to nothing in the repository (a dangling link); refusing to read it as deleted`, { terminal: true });
}

/** `what` (e.g. "symlink 'app/c.yaml'") points outside the repository. */
export function escapingLinkError(what: string): ComparisonError {
  return new ComparisonError(ErrorReason.PathEscapesRepository, `${what} points outside the repository; refusing to follow it`, { terminal: true });
}

/**
 * For a path that does not resolve: the error for the first symlink on the way to it that cannot be followed,
 * or undefined when the path is simply missing.
 */
export async function blockedBy(rootReal: string, abs: string): Promise<ComparisonError | undefined> {
  const rel = relative(rootReal, abs);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return undefined;
  let current = rootReal;
  for (const part of rel.split(sep)) {
    current = join(current, part);
    const info = await lstat(current).catch(() => undefined);
    if (!info) return undefined;
    if (!info.isSymbolicLink()) continue;
    const real = await realpath(current).catch(() => undefined);
    const linkRel = relative(rootReal, current).split(sep).join("/");
    if (real === undefined) return unreadableLinkError(current, linkRel);
    if (!isInside(rootReal, real)) return escapingLinkError(`symlink '${linkRel}'`);
  }
  return undefined;
}
