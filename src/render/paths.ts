// Resolution of paths taken from an Application spec: always inside the checkout (DESIGN.md §3 rule 4).
import { realpath } from "node:fs/promises";
import { isAbsolute, normalize, resolve, sep } from "node:path";
import { ComparisonError, ErrorReason } from "../errors.ts";

/**
 * Resolves a repo-relative path against the (already real) checkout root. Absolute paths and `..` escapes
 * are refused; when the path exists, its real location (after symlinks) must also be inside the root.
 * `what` names the spec field in the message ("path", "valueFiles").
 */
export async function resolveInside(rootReal: string, relPath: string, what: string): Promise<string> {
  const cleaned = relPath.trim() === "" ? "." : relPath.trim();
  if (isAbsolute(cleaned)) {
    throw new ComparisonError(ErrorReason.InvalidSpec, `${what} '${relPath}' is absolute; it must be relative to the repository root`, { terminal: true });
  }
  const joined = resolve(rootReal, normalize(cleaned));
  if (joined !== rootReal && !joined.startsWith(rootReal + sep)) {
    throw new ComparisonError(ErrorReason.InvalidSpec, `${what} '${relPath}' leaves the repository`, { terminal: true });
  }
  const real = await realpath(joined).catch(() => undefined);
  if (real !== undefined && real !== rootReal && !real.startsWith(rootReal + sep)) {
    throw new ComparisonError(ErrorReason.InvalidSpec, `${what} '${relPath}' is a symlink that leaves the repository`, { terminal: true });
  }
  return real ?? joined;
}
