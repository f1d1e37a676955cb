// Rendering: from a checkout (or a Helm repository) and an Application source to the desired objects. One
// renderer per source type (directory.ts, kustomize.ts, helm.ts) behind one function, and a render cache keyed
// by content (cache.ts). Does I/O on the checkout, runs helm/kustomize on private copies (workspace.ts) and
// fetches charts from Helm repositories (helm-repo.ts); never talks to the cluster. Which helm and kustomize
// binaries run is decided by tools.ts, for the controller (through Config) and the CLI alike; request and
// result types live in types.ts. Must not import controller, cluster or sync.
import { execFile } from "node:child_process";
import { access, lstat, mkdtemp, readdir, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { promisify } from "node:util";
import { ComparisonError, ErrorReason, InvalidSpecError } from "../errors.ts";
import { renderDirectory } from "./directory.ts";
import { renderHelm } from "./helm.ts";
import { HelmRepositories, type HelmRepoCredentials } from "./helm-repo.ts";
import { renderKustomize, KUSTOMIZATION_FILES } from "./kustomize.ts";
import { resolveInside } from "./paths.ts";
import type { RenderOptions, RenderRequest, RenderResult, SourceType } from "./types.ts";
import { Workspace } from "./workspace.ts";

export type { RenderOptions, RenderRequest, RenderResult, SourceType } from "./types.ts";

/** Argo CD's exec timeout for config management tools (ARGOCD_EXEC_TIMEOUT). */
export const DEFAULT_RENDER_TIMEOUT_MS = 90_000;

const defaultRepos = new Map<string, HelmRepositories>();

export function defaultCacheDir(): string {
  return join(tmpdir(), "tack-render-cache");
}

/** The HelmRepositories used when RenderOptions gives none. */
export function helmRepositoriesFor(options: RenderOptions | undefined, credentials?: (repoURL: string) => HelmRepoCredentials | undefined): HelmRepositories {
  if (options?.helmRepositories) return options.helmRepositories;
  const cacheDir = options?.cacheDir ?? defaultCacheDir();
  let repos = defaultRepos.get(cacheDir);
  if (!repos) {
    repos = new HelmRepositories({ cacheDir: join(cacheDir, "charts"), timeoutMs: options?.timeoutMs, credentials });
    defaultRepos.set(cacheDir, repos);
  }
  return repos;
}

/** Which renderer a source uses, as Argo CD decides (explicit type first, then the files at the path). */
export async function sourceTypeOf(req: Pick<RenderRequest, "checkoutDir" | "source">): Promise<SourceType> {
  const { source } = req;
  if (source.plugin) throw new InvalidSpecError("config management plugins are not supported by Tack");
  const explicit: SourceType[] = [];
  if (source.kustomize) explicit.push("Kustomize");
  if (source.helm) explicit.push("Helm");
  if (source.directory) explicit.push("Directory");
  if (explicit.length > 1) throw new InvalidSpecError(`multiple application sources defined: ${explicit.join(",")}; keep one of helm, kustomize or directory`);
  if (source.chart) {
    if (source.kustomize || source.directory) throw new InvalidSpecError("spec.source.chart names a Helm chart: kustomize and directory settings do not apply to it");
    return "Helm";
  }
  if (explicit[0]) return explicit[0];
  if (!req.checkoutDir) throw new InvalidSpecError("no checkout to render: spec.source needs a Git repository path or a Helm chart");
  return detectSourceType(req.checkoutDir, source.path ?? "");
}

export async function render(req: RenderRequest): Promise<RenderResult> {
  const { source } = req;
  const options = req.options ?? {};
  if (source.directory?.jsonnet && Object.keys(source.directory.jsonnet).length > 0) {
    throw new InvalidSpecError("directory.jsonnet is not supported by Tack");
  }
  const type = await sourceTypeOf(req);
  if (source.chart) return renderRepositoryChart(req, options);
  if (!req.checkoutDir) throw new InvalidSpecError("no checkout to render: spec.source needs a Git repository path or a Helm chart");
  const rootReal = await realpath(req.checkoutDir);
  const path = source.path ?? "";

  if (type === "Directory") {
    const objects = await renderDirectory({
      root: req.checkoutDir, path, recurse: source.directory?.recurse, include: source.directory?.include,
      exclude: source.directory?.exclude, maxBytes: req.maxBytes,
    });
    return { sourceType: "Directory", objects, reads: await directoryReads(rootReal, path, Boolean(source.directory?.recurse)), cacheable: true };
  }

  const appDir = await resolveInside(rootReal, path, "path");
  if (!(await lstat(appDir).then((s) => s.isDirectory() || s.isSymbolicLink(), () => false))) {
    throw new ComparisonError(ErrorReason.PathNotFound, `path '${path}' does not exist in the repository`, { terminal: true });
  }
  const ws = await Workspace.create(rootReal, { tmpRoot: options.tmpDir });
  try {
    if (type === "Kustomize") {
      const out = await renderKustomize({
        rootReal, path, kustomize: source.kustomize, binary: options.kustomizeBinary ?? "kustomize",
        buildWith: options.kustomizeBuildWith ?? "kustomize", kubectlBinary: options.kubectlBinary ?? "kubectl",
        buildOptions: options.kustomizeBuildOptions ?? [], allowRemoteBases: options.allowRemoteBases ?? false,
        timeoutMs: options.timeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS, maxBytes: req.maxBytes, signal: req.signal, workspace: ws,
        env: buildEnv(req),
      });
      return { sourceType: "Kustomize", objects: out.objects, reads: ws.reads, cacheable: out.cacheable };
    }
    const objects = await renderHelm({
      rootReal, path, helm: source.helm, releaseName: source.helm?.releaseName || req.appName,
      namespace: req.destinationNamespace, kubeVersion: req.kubeVersion, apiVersions: req.apiVersions,
      binary: options.helmBinary ?? "helm", timeoutMs: options.timeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS, maxBytes: req.maxBytes,
      signal: req.signal, workspace: ws, repos: helmRepositoriesFor(options),
      dependencyCacheDir: join(options.cacheDir ?? defaultCacheDir(), "helm-dependencies"),
    });
    return { sourceType: "Helm", objects, reads: ws.reads, cacheable: true };
  } finally {
    await ws.dispose();
  }
}

/** A chart from a Helm repository: resolve the version, fetch the archive (cached), unpack, render as a chart. */
async function renderRepositoryChart(req: RenderRequest, options: RenderOptions): Promise<RenderResult> {
  const { source } = req;
  if (!/^https?:\/\//i.test(source.repoURL)) {
    throw new InvalidSpecError(`spec.source.chart '${source.chart}': repoURL must be an HTTP(S) Helm repository (OCI registries are not supported yet)`);
  }
  const repos = helmRepositoriesFor(options);
  const chart = await repos.resolve(source.repoURL, source.chart!, source.targetRevision ?? "", req.signal);
  const archive = await repos.fetchChart(source.repoURL, chart, req.signal);
  const unpacked = await mkdtemp(join(options.tmpDir ?? tmpdir(), "tack-chart-"));
  try {
    await promisify(execFile)("tar", ["-xzf", archive, "-C", unpacked, "--no-same-owner", "--no-same-permissions"], { timeout: 60_000, maxBuffer: 1 << 20 })
      .catch((err: unknown) => {
        throw new ComparisonError(ErrorReason.RenderError, `unpacking chart '${chart.name}' ${chart.version}: ${(err as Error).message.split("\n", 1)[0]}`);
      });
    const top = (await readdir(unpacked, { withFileTypes: true })).find((e) => e.isDirectory());
    if (!top) throw new ComparisonError(ErrorReason.RenderError, `chart '${chart.name}' ${chart.version}: the archive holds no chart directory`, { terminal: true });
    const rootReal = await realpath(unpacked);
    const ws = await Workspace.create(rootReal, { tmpRoot: options.tmpDir });
    try {
      const objects = await renderHelm({
        rootReal, path: top.name, helm: source.helm, releaseName: source.helm?.releaseName || req.appName,
        namespace: req.destinationNamespace, kubeVersion: req.kubeVersion, apiVersions: req.apiVersions,
        binary: options.helmBinary ?? "helm", timeoutMs: options.timeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS, maxBytes: req.maxBytes,
        signal: req.signal, workspace: ws, repos, dependencyCacheDir: join(options.cacheDir ?? defaultCacheDir(), "helm-dependencies"),
      });
      return { sourceType: "Helm", objects, reads: [], cacheable: true, chartVersion: chart.version };
    } finally {
      await ws.dispose();
    }
  } finally {
    await rm(unpacked, { recursive: true, force: true });
  }
}

/** Argo CD's build environment, as far as Tack knows it. */
function buildEnv(req: RenderRequest): Record<string, string> {
  const env: Record<string, string> = {
    ARGOCD_APP_NAME: req.appName,
    ARGOCD_APP_SOURCE_REPO_URL: req.source.repoURL,
    ARGOCD_APP_SOURCE_PATH: req.source.path ?? "",
    ARGOCD_APP_SOURCE_TARGET_REVISION: req.source.targetRevision ?? "",
  };
  if (req.appNamespace) env.ARGOCD_APP_NAMESPACE = req.appNamespace;
  if (req.revision) { env.ARGOCD_APP_REVISION = req.revision; env.ARGOCD_APP_REVISION_SHORT = req.revision.slice(0, 7); }
  if (req.kubeVersion) env.KUBE_VERSION = req.kubeVersion.replace(/^v/, "");
  if (req.apiVersions) env.KUBE_API_VERSIONS = req.apiVersions.join(",");
  return env;
}

/** The directory itself, plus the in-repo targets of the links it holds (renderDirectory follows them). */
async function directoryReads(rootReal: string, path: string, recurse: boolean): Promise<string[]> {
  const dir = await resolveInside(rootReal, path, "path");
  const rel = (abs: string) => abs === rootReal ? "" : abs.slice(rootReal.length + 1).split(sep).join("/");
  const reads = new Set([rel(dir)]);
  const visit = async (d: string, depth: number): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.name === ".git") continue;
      const full = join(d, e.name);
      if (e.isSymbolicLink()) {
        const target = await realpath(full).catch(() => undefined);
        if (target && (target === rootReal || target.startsWith(rootReal + sep))) {
          reads.add(rel(target));
          if (recurse && depth < 32 && (await lstat(target)).isDirectory()) await visit(target, depth + 1);
        }
      } else if (e.isDirectory() && recurse) await visit(full, depth + 1);
    }
  };
  await visit(dir, 0);
  return [...reads].sort();
}

export { parseManifests } from "./manifests.ts";
export { RenderCache, renderCacheKey, type RenderCacheOptions, type RenderCacheStats, type TreeHash } from "./cache.ts";
export { HelmRepositories, type HelmRepoCredentials, type HelmRepositoriesOptions } from "./helm-repo.ts";
export { mapHelmHooks } from "./helm-hooks.ts";
export { PINNED_TOOL_VERSIONS, findRenderTools, findTool, type FoundTool, type RenderTool } from "./tools.ts";

/** As Argo CD decides: a kustomization file makes it Kustomize, a Chart.yaml Helm, anything else a directory. */
export async function detectSourceType(checkoutDir: string, path: string): Promise<SourceType> {
  const dir = await resolveInside(await realpath(checkoutDir), path, "path");
  const has = (name: string) => access(join(dir, name)).then(() => true, () => false);
  for (const name of KUSTOMIZATION_FILES) if (await has(name)) return "Kustomize";
  if (await has("Chart.yaml")) return "Helm";
  return "Directory";
}

/**
 * The API versions Helm's .Capabilities.APIVersions should hold, as Argo CD passes them: "group/version" for each
 * served version and "group/version/Kind" for each kind ("v1" and "v1/ConfigMap" for the core group), sorted.
 */
export function helmApiVersions(types: Iterable<{ group: string; version: string; kind: string }>): string[] {
  const out = new Set<string>();
  for (const t of types) {
    const gv = t.group ? `${t.group}/${t.version}` : t.version;
    out.add(gv);
    out.add(`${gv}/${t.kind}`);
  }
  return [...out].sort();
}
