// A private, disposable copy of the parts of a checkout that one render reads. Tools (helm, kustomize) run
// on the copy, never on the shared read-only checkout: `kustomize edit` and `helm dependency build` write,
// and a copy made here holds no symlink leaving the repository (links inside it are replaced by what they
// point to; links leaving it are refused; dangling ones stay unreadable), so a tool that follows links cannot
// read outside the repository, and cannot mistake an unreadable file for a missing one.
// The copy keeps repo-relative layout, so `../base` and `file://../common` resolve as they do in the repo.
// Every repo-relative path copied (and every in-repo link target) is recorded: that is what the render
// depended on, the input of the render cache's key.
import { copyFile, lstat, mkdir, mkdtemp, readdir, readlink, realpath, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { refusedEntryReason, standInTarget } from "../git/index.ts";
import { escapingLinkError, isInside, unreadableLinkError } from "./paths.ts";

export interface WorkspaceOptions {
  /** Bound on the bytes copied (a kustomization at the root of a monorepo copies the whole repo). */
  maxBytes?: number;
  /** Parent of the temp directory (default: the OS temp dir). */
  tmpRoot?: string;
}

export class Workspace {
  /** The temp directory standing for the checkout's root. */
  readonly root: string;
  /** A temp directory beside the copy, for tool homes, caches and generated files (never part of the copy). */
  readonly scratch: string;
  readonly #base: string;
  readonly #repoRoot: string;
  readonly #copied = new Set<string>();
  readonly #reads = new Set<string>();
  readonly #maxBytes: number;
  #bytes = 0;

  private constructor(repoRoot: string, base: string, maxBytes: number) {
    this.#repoRoot = repoRoot;
    this.#base = base;
    this.root = join(base, "repo");
    this.scratch = join(base, "scratch");
    this.#maxBytes = maxBytes;
  }

  /** repoRootReal must already be a real path (realpath of the checkout). */
  static async create(repoRootReal: string, options: WorkspaceOptions = {}): Promise<Workspace> {
    const base = await mkdtemp(join(options.tmpRoot ?? tmpdir(), "tack-render-"));
    await mkdir(join(base, "repo"));
    await mkdir(join(base, "scratch"));
    return new Workspace(repoRootReal, base, options.maxBytes ?? 512 * 1024 * 1024);
  }

  /** Replaces the copy's temp paths in a tool's message by repo-relative ones. */
  tidy(text: string): string {
    return text.split(`${this.root}/`).join("").split(this.root).join(".").split(this.scratch).join("<tmp>");
  }

  /** Repo-relative paths (posix, "" for the root) the render read, sorted. */
  get reads(): string[] {
    return [...this.#reads].sort();
  }

  /** Marks a repo-relative path as read without copying it (a value file read in place). */
  recordRead(repoRel: string): void {
    this.#reads.add(repoRel);
  }

  /** Where a repo-relative path lives in the copy. */
  pathOf(repoRel: string): string {
    return repoRel === "" || repoRel === "." ? this.root : join(this.root, ...repoRel.split("/"));
  }

  /** The repo-relative form of an absolute path inside the (real) checkout. */
  repoRelative(absReal: string): string {
    return relative(this.#repoRoot, absReal).split(sep).join("/");
  }

  /** Copies a file or directory (recursively, without .git) of the checkout, given as an absolute real path inside it. */
  async copy(absReal: string): Promise<void> {
    const rel = this.repoRelative(absReal);
    if (this.#isCopied(rel)) return;
    this.#reads.add(rel);
    // Drop records made redundant by this (bigger) copy.
    for (const r of this.#copied) if (rel === "" || r.startsWith(`${rel}/`)) this.#copied.delete(r);
    this.#copied.add(rel);
    await this.#copyPath(absReal, this.pathOf(rel), new Set());
  }

  #isCopied(rel: string): boolean {
    for (const c of this.#copied) if (c === "" || c === rel || rel.startsWith(`${c}/`)) return true;
    return false;
  }

  async #copyPath(src: string, dst: string, visiting: Set<string>): Promise<void> {
    const info = await lstat(src);
    if (info.isSymbolicLink()) {
      const target = await realpath(src).catch(() => undefined);
      if (target === undefined) {
        // A link that cannot be followed: an error now if it would leave the repository; otherwise copied as a
        // link that cannot be followed either, so the tool fails on it if (and only if) it reads it, instead
        // of finding nothing there and rendering as if the file had been deleted.
        const error = await unreadableLinkError(src, this.repoRelative(src));
        if (error.reason === ErrorReason.PathEscapesRepository) throw error;
        await mkdir(dirname(dst), { recursive: true });
        await symlink(standInTarget(refusedEntryReason(await readlink(src)) ?? "unresolvable"), dst);
        return;
      }
      if (!isInside(this.#repoRoot, target)) throw escapingLinkError(`symlink '${this.repoRelative(src)}'`);
      this.#reads.add(this.repoRelative(target));
      if (visiting.has(target)) return;   // a link loop
      await this.#copyPath(target, dst, new Set([...visiting, target]));
      return;
    }
    if (info.isDirectory()) {
      await mkdir(dst, { recursive: true });
      for (const entry of await readdir(src)) {
        if (entry === ".git") continue;
        await this.#copyPath(join(src, entry), join(dst, entry), visiting);
      }
      return;
    }
    if (!info.isFile()) return;   // sockets, fifos: not content
    this.#bytes += info.size;
    if (this.#bytes > this.#maxBytes) {
      throw new ComparisonError(ErrorReason.ManifestTooLarge,
        `the files this render reads exceed ${this.#maxBytes} bytes (stopped at '${this.repoRelative(src)}')`, { terminal: true });
    }
    await mkdir(dirname(dst), { recursive: true });
    await copyFile(src, dst);
  }

  async dispose(): Promise<void> {
    await rm(this.#base, { recursive: true, force: true });
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

export async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}
