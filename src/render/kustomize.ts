// Kustomize sources, rendered as Argo CD renders them: the spec's overrides are applied with `kustomize edit`
// (set nameprefix/namesuffix/image/replicas/namespace, add label/annotation/component; patches appended to the
// kustomization file), then `kustomize build` (or `kubectl kustomize`). Argo CD edits its own working copy;
// we edit a private copy (workspace.ts) of exactly the kustomization roots the build reaches, so the shared
// checkout is never written and the tools see no symlink leaving the repository.
//
// Before anything runs, the kustomization graph is walked here: every base, component and referenced file must
// be inside the repository (no `..` escape, no symlink out); an entry that is not in the repository is what
// kustomize would fetch as a remote base, refused unless allowRemoteBases.
import { readFile, realpath, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve, sep } from "node:path";
import { dump, load, YAMLException } from "js-yaml";
import type { ApplicationSource, KubeObject } from "../api/index.ts";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { runTool } from "./exec.ts";
import { decodeUtf8, parseManifests } from "./manifests.ts";
import { blockedBy, escapingLinkError, isInside, resolveInside } from "./paths.ts";
import { exists, isDirectory, Workspace } from "./workspace.ts";

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;

export interface KustomizeRenderInput {
  /** Real path of the checkout. */
  rootReal: string;
  /** Repo-relative path of the kustomization directory. */
  path: string;
  kustomize: NonNullable<ApplicationSource["kustomize"]> | undefined;
  /** Values substituted for $ARGOCD_APP_* in images and labels (Argo CD's build environment). */
  env: Record<string, string>;
  binary: string;
  /** "kubectl": build with `kubectl kustomize` (edits still need the kustomize binary). */
  buildWith: "kustomize" | "kubectl";
  kubectlBinary: string;
  /** Extra `kustomize build` flags (Argo CD's kustomize.buildOptions), e.g. ["--load-restrictor", "LoadRestrictionsNone"]. */
  buildOptions: string[];
  allowRemoteBases: boolean;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  workspace: Workspace;
}

export interface KustomizeRenderOutput {
  objects: KubeObject[];
  /** false when a remote base was allowed: the render depends on more than the repository. */
  cacheable: boolean;
}

export async function findKustomizationFile(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) if (await exists(join(dir, name))) return name;
  return undefined;
}

const REMOTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|git::|(?:github\.com|gitlab\.com|bitbucket\.org)[/:])/i;

interface Walk {
  rootReal: string;
  allowRemote: boolean;
  roots: Set<string>;
  files: Set<string>;
  remote: boolean;
  ws: Workspace;
}

function rel(walk: Walk, abs: string): string {
  return walk.ws.repoRelative(abs) || ".";
}

/** Resolves an entry of a kustomization (relative to its directory) to a real path inside the repository. */
async function resolveEntry(walk: Walk, dirReal: string, entry: string, file: string, field: string): Promise<string | undefined> {
  const where = `'${entry}' (${field} in ${rel(walk, join(dirReal, file))})`;
  if (REMOTE.test(entry)) {
    if (walk.allowRemote) { walk.remote = true; return undefined; }
    throw new ComparisonError(ErrorReason.RemoteBaseRefused,
      `${where} is a remote base outside the repository; remote bases are refused (allow them in the render options, --kustomize-allow-remote-bases)`, { terminal: true });
  }
  if (isAbsolute(entry)) {
    throw new ComparisonError(ErrorReason.ManifestInvalid, `${where} is an absolute path; it must be relative to the kustomization`, { terminal: true });
  }
  const joined = resolve(dirReal, entry);
  if (joined !== walk.rootReal && !joined.startsWith(walk.rootReal + sep)) {
    throw new ComparisonError(ErrorReason.ManifestInvalid, `${where} leaves the repository`, { terminal: true });
  }
  const real = await realpath(joined).catch(() => undefined);
  if (real === undefined) {
    // A symlink on the way that cannot be followed is the cause, whatever kustomize would make of the entry.
    const blocked = await blockedBy(walk.rootReal, joined);
    if (blocked) throw blocked;
    if (field === "resources" || field === "bases" || field === "components") {
      if (walk.allowRemote) { walk.remote = true; return undefined; }
      throw new ComparisonError(ErrorReason.RemoteBaseRefused,
        `${where} is not a file or directory of the repository; kustomize would fetch it as a remote base, which is refused (allow remote bases in the render options)`, { terminal: true });
    }
    return undefined;   // kustomize reports the missing file itself
  }
  if (!isInside(walk.rootReal, real)) throw escapingLinkError(`${where} is a symlink that`);
  return real;
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** A field value that is a file path rather than inline YAML (kustomize accepts both in several fields). */
function isPathLike(value: string): boolean {
  return !value.includes("\n") && value.trim() !== "";
}

async function walkKustomization(walk: Walk, dirReal: string, via: string): Promise<void> {
  if (walk.roots.has(dirReal)) return;
  const file = await findKustomizationFile(dirReal);
  if (!file) {
    throw new ComparisonError(ErrorReason.ManifestInvalid,
      `'${rel(walk, dirReal)}' (${via}) has no kustomization.yaml, kustomization.yml or Kustomization`, { terminal: true });
  }
  walk.roots.add(dirReal);
  const k = await readKustomization(join(dirReal, file), rel(walk, join(dirReal, file)));

  for (const field of ["resources", "bases", "components"] as const) {
    for (const entry of asStrings(k[field])) {
      const real = await resolveEntry(walk, dirReal, entry, file, field);
      if (real && await isDirectory(real)) await walkKustomization(walk, real, `${field} of ${rel(walk, dirReal)}`);
      else if (real) walk.files.add(real);
    }
  }
  // Generator, transformer and validator entries: a kustomization directory, a plugin config file, or inline YAML.
  for (const field of ["generators", "transformers", "validators"] as const) {
    for (const entry of asStrings(k[field]).filter(isPathLike)) {
      const real = await resolveEntry(walk, dirReal, entry, file, field);
      if (real && await isDirectory(real)) await walkKustomization(walk, real, `${field} of ${rel(walk, dirReal)}`);
      else if (real) walk.files.add(real);
    }
  }
  const filePaths: Array<[string, string]> = [];
  for (const entry of asStrings(k.crds)) filePaths.push([entry, "crds"]);
  for (const entry of asStrings(k.configurations)) filePaths.push([entry, "configurations"]);
  for (const entry of asStrings(k.patchesStrategicMerge).filter(isPathLike)) filePaths.push([entry, "patchesStrategicMerge"]);
  for (const field of ["patches", "patchesJson6902", "replacements"] as const) {
    for (const item of Array.isArray(k[field]) ? k[field] as unknown[] : []) {
      const path = (item as { path?: unknown } | null)?.path;
      if (typeof path === "string") filePaths.push([path, field]);
    }
  }
  const openapiPath = (k.openapi as { path?: unknown } | undefined)?.path;
  if (typeof openapiPath === "string") filePaths.push([openapiPath, "openapi"]);
  for (const field of ["configMapGenerator", "secretGenerator"] as const) {
    for (const gen of Array.isArray(k[field]) ? k[field] as unknown[] : []) {
      const g = (gen ?? {}) as { files?: unknown; envs?: unknown; env?: unknown };
      for (const f of asStrings(g.files)) filePaths.push([f.includes("=") ? f.slice(f.indexOf("=") + 1) : f, field]);
      for (const f of asStrings(g.envs)) filePaths.push([f, field]);
      if (typeof g.env === "string") filePaths.push([g.env, field]);
    }
  }
  for (const [entry, field] of filePaths) {
    const real = await resolveEntry(walk, dirReal, entry, file, field);
    if (real) walk.files.add(real);
  }
}

async function readKustomization(file: string, relName: string): Promise<Record<string, unknown>> {
  const text = decodeUtf8(await readFile(file), relName);
  let doc: unknown;
  try {
    doc = load(text, { filename: relName });
  } catch (err) {
    const detail = err instanceof YAMLException ? err.message.split("\n", 1)[0] : String(err);
    throw new ComparisonError(ErrorReason.ManifestInvalid, `${relName}: invalid YAML: ${detail}`, { terminal: true });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ComparisonError(ErrorReason.ManifestInvalid, `${relName}: not a kustomization (expected a mapping)`, { terminal: true });
  }
  return doc as Record<string, unknown>;
}

/** Argo CD's build-environment substitution ($VAR, ${VAR}, $$ for a literal $); unknown variables become empty. */
export function envsubst(text: string, env: Record<string, string>): string {
  return text.replace(/\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, all: string, braced?: string, bare?: string) =>
    all === "$" ? "$" : env[braced ?? bare ?? ""] ?? "");
}

/** One `key:value` argument per entry, as Argo CD passes them. */
function labelArgs(map: Record<string, string>, transform: (v: string) => string): string[] {
  return Object.keys(map).sort().map((k) => `${k}:${transform(map[k]!)}`);
}

export async function renderKustomize(input: KustomizeRenderInput): Promise<KustomizeRenderOutput> {
  const { rootReal, workspace: ws } = input;
  const appReal = await resolveInside(rootReal, input.path, "path");
  const spec = input.kustomize ?? {};
  const walk: Walk = { rootReal, allowRemote: input.allowRemoteBases, roots: new Set(), files: new Set(), remote: false, ws };
  await walkKustomization(walk, appReal, `path`);
  // The spec's own references are held to the same rules as the kustomization's.
  const appFile = (await findKustomizationFile(appReal))!;
  for (const component of spec.components ?? []) {
    const real = await resolveEntry(walk, appReal, component, appFile, "components");
    if (real && await isDirectory(real)) await walkKustomization(walk, real, "spec.source.kustomize.components");
  }
  for (const patch of spec.patches ?? []) {
    if (typeof patch.path === "string") {
      const real = await resolveEntry(walk, appReal, patch.path, appFile, "spec.source.kustomize.patches");
      if (real) walk.files.add(real);
    }
  }
  for (const dir of walk.roots) await ws.copy(dir);
  for (const file of walk.files) await ws.copy(file);

  const appDir = ws.pathOf(ws.repoRelative(appReal));
  const what = `kustomize build of '${input.path || "."}'`;
  const edit = (args: string[]) => runTool({
    tool: "kustomize", binary: input.binary, args: ["edit", ...args], cwd: appDir, env: { HOME: ws.scratch }, tidy: (t) => ws.tidy(t),
    timeoutMs: input.timeoutMs, maxOutputBytes: 1 << 20, signal: input.signal, what: `kustomize edit ${args.slice(0, 2).join(" ")} in '${input.path || "."}'`,
  });
  if (spec.namePrefix) await edit(["set", "nameprefix", "--", spec.namePrefix]);
  if (spec.nameSuffix) await edit(["set", "namesuffix", "--", spec.nameSuffix]);
  if (spec.images?.length) await edit(["set", "image", ...spec.images.map((i) => envsubst(i, input.env))]);
  if (spec.replicas?.length) await edit(["set", "replicas", ...spec.replicas.map((r) => `${r.name}=${r.count}`)]);
  if (spec.commonLabels && Object.keys(spec.commonLabels).length > 0) {
    await edit(["add", "label", ...labelArgs(spec.commonLabels, (v) => envsubst(v, input.env))]);
  }
  if (spec.commonAnnotations && Object.keys(spec.commonAnnotations).length > 0) {
    await edit(["add", "annotation", ...labelArgs(spec.commonAnnotations, (v) => v)]);
  }
  if (spec.namespace) await edit(["set", "namespace", "--", spec.namespace]);
  if (spec.components?.length) await edit(["add", "component", ...spec.components]);
  if (spec.patches?.length) {
    // As Argo CD: the patches are appended to the kustomization file's `patches`.
    const file = join(appDir, appFile);
    const k = await readKustomization(file, appFile);
    k.patches = [...(Array.isArray(k.patches) ? k.patches : []), ...spec.patches];
    await writeFile(file, dump(k, { lineWidth: -1, noRefs: true }));
  }

  const args = input.buildWith === "kubectl" ? ["kustomize", appDir, ...input.buildOptions] : ["build", appDir, ...input.buildOptions];
  const stdout = await runTool({
    tool: input.buildWith === "kubectl" ? "kubectl" : "kustomize",
    binary: input.buildWith === "kubectl" ? input.kubectlBinary : input.binary,
    args, cwd: appDir, env: { HOME: ws.scratch, KUBECONFIG: "/dev/null" }, tidy: (t) => ws.tidy(t),
    timeoutMs: input.timeoutMs, maxOutputBytes: input.maxBytes, signal: input.signal, what,
  });
  const objects = parseManifests(stdout, `${input.path || "."} (kustomize build)`);
  return { objects, cacheable: !walk.remote };
}
