// The plain-directory source: every .yaml, .yml and .json file under the app's path (recursively when asked),
// filtered by include/exclude globs, parsed with bounds. Reads only inside the checkout.
import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { KubeObject } from "../api/index.ts";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { decodeUtf8, parseJsonManifests, parseManifests } from "./manifests.ts";
import { escapingLinkError, isInside, resolveInside, unreadableLinkError } from "./paths.ts";

export interface DirectoryRenderInput {
  /** The checkout root: nothing outside it is read. */
  root: string;
  /** Repo-relative directory ("" or "." for the root). */
  path: string;
  recurse?: boolean;
  include?: string;
  exclude?: string;
  /** Bound on the total bytes of manifest files read. */
  maxBytes: number;
}

const MANIFEST_EXTENSIONS = [".yaml", ".yml", ".json"];

/**
 * Argo CD matches include/exclude against the path relative to the app directory with globs in which `*`
 * also crosses `/` (gobwas/glob without separators); so does this, so `*.yaml` also selects sub/x.yaml.
 */
export function globToRegExp(glob: string): RegExp {
  let out = "";
  let inBraces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "{") { inBraces++; out += "(?:"; }
    else if (c === "}" && inBraces > 0) { inBraces--; out += ")"; }
    else if (c === "," && inBraces > 0) out += "|";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 1);
      if (close < 0) { out += "\\["; continue; }
      const body = glob.slice(i + 1, close).replace(/^!/, "^").replace(/\\/g, "\\\\");
      out += `[${body}]`;
      i = close;
    } else out += c.replace(/[.+^$()|\\/]/g, "\\$&");
  }
  if (inBraces > 0) throw new ComparisonError(ErrorReason.InvalidSpec, `glob '${glob}' has an unclosed '{'`, { terminal: true });
  return new RegExp(`^${out}$`);
}

export async function renderDirectory(input: DirectoryRenderInput): Promise<KubeObject[]> {
  const rootReal = await realpath(input.root);
  const dir = await resolveInside(rootReal, input.path, "path");
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat) {
    throw new ComparisonError(ErrorReason.PathNotFound, `path '${input.path}' does not exist in the repository`, { terminal: true });
  }
  if (!dirStat.isDirectory()) {
    throw new ComparisonError(ErrorReason.PathNotFound, `path '${input.path}' is a file, not a directory`, { terminal: true });
  }
  const include = input.include ? globToRegExp(input.include) : undefined;
  const exclude = input.exclude ? globToRegExp(input.exclude) : undefined;

  const files: Found[] = [];
  await walk(rootReal, dir, dir, Boolean(input.recurse), files, new Set([dir]));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  let total = 0;
  const objects: KubeObject[] = [];
  for (const { path: file, unreadableLink } of files) {
    const rel = relative(dir, file).split(sep).join("/");
    if (exclude && exclude.test(rel)) continue;
    // An unreadable entry that may be a directory cannot be matched against include: what it held is unknown.
    if (include && !include.test(rel) && (unreadableLink === undefined || isManifestFile(rel))) continue;
    if (unreadableLink !== undefined) throw await unreadableLinkError(file, unreadableLink);
    const size = (await stat(file)).size;
    total += size;
    if (total > input.maxBytes) {
      throw new ComparisonError(ErrorReason.ManifestTooLarge,
        `manifests under '${input.path || "."}' exceed ${formatBytes(input.maxBytes)} (stopped at ${rel}); raise --max-manifest-bytes or split the app`,
        { terminal: true });
    }
    const repoRel = relative(rootReal, file).split(sep).join("/");
    const text = decodeUtf8(await readFile(file), repoRel);
    objects.push(...(file.endsWith(".json") ? parseJsonManifests(text, repoRel) : parseManifests(text, repoRel)));
  }
  return objects;
}

/** A file the walk found; `unreadableLink` (its repo-relative path) when it is a symlink that cannot be followed. */
interface Found { path: string; unreadableLink?: string }

function isManifestFile(name: string): boolean {
  return MANIFEST_EXTENSIONS.some((ext) => name.endsWith(ext));
}

async function walk(root: string, dir: string, appDir: string, recurse: boolean, out: Found[], visited: Set<string>): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name === ".git") continue;
    let full = join(dir, entry.name);
    let isDir = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      // A link is followed only when its target stays inside the checkout (docs/architecture.md, safety rule 4). One that
      // cannot be followed is an error whenever its entry would have been read: skipped, the objects it
      // declared would read as deleted from Git, and prune would delete them.
      const target = await realpath(full).catch(() => undefined);
      const repoRel = relative(root, full).split(sep).join("/");
      if (!target) {
        if (recurse || isManifestFile(entry.name)) out.push({ path: full, unreadableLink: repoRel });
        continue;
      }
      if (!isInside(root, target)) throw escapingLinkError(`symlink '${repoRel}'`);
      full = target;
      isDir = (await lstat(target)).isDirectory();
    }
    if (isDir) {
      if (recurse && !visited.has(full)) { visited.add(full); await walk(root, full, appDir, recurse, out, visited); }
    } else if (isManifestFile(entry.name)) {
      out.push({ path: full });
    }
  }
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) ? 1 : 0)} MB` : `${bytes} bytes`;
}
