// Helm sources, rendered as Argo CD renders them: `helm template CHART --name-template RELEASE --namespace NS
// --kube-version V --api-versions … --values FILE… --values INLINE --set/--set-string … --include-crds|--skip-crds`
// on a private copy of the chart (workspace.ts), after `helm dependency build` when the chart's dependencies are
// not vendored. Built dependencies are cached by the content of Chart.yaml/Chart.lock (and of file:// charts),
// so a chart's dependencies are fetched once. Helm hooks are mapped to sync hooks (helm-hooks.ts).
import { createHash } from "node:crypto";
import { cp, mkdir, readdir, readFile, realpath, rename, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve, sep } from "node:path";
import { dump, load, YAMLException } from "js-yaml";
import type { ApplicationSource, KubeObject } from "../api/index.ts";
import { ComparisonError, ErrorReason } from "../errors.ts";
import { runTool } from "./exec.ts";
import { mapHelmHooks } from "./helm-hooks.ts";
import type { HelmRepositories } from "./helm-repo.ts";
import { decodeUtf8, parseManifests } from "./manifests.ts";
import { blockedBy, escapingLinkError, isInside, resolveInside } from "./paths.ts";
import { exists, isDirectory, type Workspace } from "./workspace.ts";

export type HelmSource = NonNullable<ApplicationSource["helm"]>;

export interface HelmRenderInput {
  /** Real path of the tree holding the chart (the checkout, or an unpacked chart archive). */
  rootReal: string;
  /** Path of the chart directory inside rootReal. */
  path: string;
  helm: HelmSource | undefined;
  releaseName: string;
  namespace: string | undefined;
  kubeVersion?: string;
  apiVersions?: string[];
  binary: string;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  workspace: Workspace;
  repos: HelmRepositories;
  /** Where built dependencies are kept, keyed by content. */
  dependencyCacheDir: string;
}

const MAX_VALUES_ALIASES = 100;

function helmEnv(ws: Workspace): Record<string, string> {
  // Nothing of the machine's Helm set-up (repositories, plugins, registry logins) is used, and no cluster
  // is contacted: `helm template` only renders.
  return {
    HOME: join(ws.scratch, "home"),
    HELM_CONFIG_HOME: join(ws.scratch, "helm/config"),
    HELM_CACHE_HOME: join(ws.scratch, "helm/cache"),
    HELM_DATA_HOME: join(ws.scratch, "helm/data"),
    HELM_REPOSITORY_CONFIG: join(ws.scratch, "helm/config/repositories.yaml"),
    HELM_REPOSITORY_CACHE: join(ws.scratch, "helm/cache/repository"),
    HELM_REGISTRY_CONFIG: join(ws.scratch, "helm/config/registry.json"),
    KUBECONFIG: "/dev/null",
  };
}

/** Values files must be YAML mappings: checked here, so that the message names the file and the line. */
export function checkValuesYaml(text: string, name: string, reason: ErrorReason = ErrorReason.ManifestInvalid): void {
  let doc: unknown;
  try {
    doc = load(text, { filename: name, maxAliases: MAX_VALUES_ALIASES });
  } catch (err) {
    const detail = err instanceof YAMLException ? err.message.split("\n", 1)[0] : String(err);
    throw new ComparisonError(reason, `${name} is not valid YAML: ${detail}`, { terminal: true });
  }
  if (doc !== null && doc !== undefined && (typeof doc !== "object" || Array.isArray(doc))) {
    throw new ComparisonError(reason, `${name} is not a YAML mapping of values (found ${Array.isArray(doc) ? "a list" : typeof doc})`, { terminal: true });
  }
}

/** Argo CD escapes commas in --set values (so `a,b` stays one value) unless the value is a list `{a,b}`. */
export function escapeSetValue(value: string): string {
  if (value.startsWith("{") && value.endsWith("}")) return value;
  return value.replace(/(?<!\\),/g, "\\,");
}

interface Dependency { name?: string; repository?: string; alias?: string; version?: string; condition?: string }

async function readYamlFile(path: string, name: string): Promise<unknown> {
  const text = decodeUtf8(await readFile(path), name);
  try {
    return load(text, { filename: name, maxAliases: MAX_VALUES_ALIASES });
  } catch (err) {
    const detail = err instanceof YAMLException ? err.message.split("\n", 1)[0] : String(err);
    throw new ComparisonError(ErrorReason.ManifestInvalid, `${name}: invalid YAML: ${detail}`, { terminal: true });
  }
}

export async function renderHelm(input: HelmRenderInput): Promise<KubeObject[]> {
  const { rootReal, workspace: ws } = input;
  const helm = input.helm ?? {};
  const chartReal = await resolveInside(rootReal, input.path, "path");
  const chartRel = ws.repoRelative(chartReal);
  const chartName = chartRel || ".";
  if (!(await exists(join(chartReal, "Chart.yaml")))) {
    throw new ComparisonError(ErrorReason.ManifestInvalid, `'${chartName}' is not a Helm chart: it has no Chart.yaml`, { terminal: true });
  }
  await ws.copy(chartReal);
  const chartDir = ws.pathOf(chartRel);
  const env = helmEnv(ws);
  await mkdir(join(ws.scratch, "helm/config"), { recursive: true });

  // file:// dependencies live elsewhere in the repository: held to the same rules, copied beside.
  const chartYaml = (await readYamlFile(join(chartDir, "Chart.yaml"), `${chartName}/Chart.yaml`)) as { apiVersion?: string; dependencies?: Dependency[] } | null;
  let deps: Dependency[] = Array.isArray(chartYaml?.dependencies) ? chartYaml.dependencies : [];
  if (chartYaml?.apiVersion === "v1" && await exists(join(chartDir, "requirements.yaml"))) {
    const req = (await readYamlFile(join(chartDir, "requirements.yaml"), `${chartName}/requirements.yaml`)) as { dependencies?: Dependency[] } | null;
    deps = Array.isArray(req?.dependencies) ? req.dependencies : [];
  }
  for (const dep of deps) {
    if (typeof dep.repository !== "string" || !dep.repository.startsWith("file://")) continue;
    const relPath = dep.repository.slice("file://".length);
    if (isAbsolute(relPath)) {
      throw new ComparisonError(ErrorReason.ManifestInvalid, `${chartName}/Chart.yaml: dependency '${dep.name}' uses an absolute path (${dep.repository}); use a path relative to the chart`, { terminal: true });
    }
    const depReal = await resolveInside(rootReal, join(chartRel, relPath), `dependency '${dep.name}' of ${chartName}`);
    if (!(await isDirectory(depReal))) {
      throw new ComparisonError(ErrorReason.PathNotFound, `${chartName}/Chart.yaml: dependency '${dep.name}' (${dep.repository}) is not a directory of the repository`, { terminal: true });
    }
    await ws.copy(depReal);
  }
  if (deps.length > 0 && !(await dependenciesPresent(chartDir, deps))) await buildDependencies(input, chartDir, chartName, deps, env);

  const args = ["template", chartDir, "--name-template", input.releaseName];
  const namespace = helm.namespace || input.namespace;
  if (namespace) args.push("--namespace", namespace);
  if (input.kubeVersion) args.push("--kube-version", input.kubeVersion);
  for (const api of input.apiVersions ?? []) args.push("--api-versions", api);

  for (const file of helm.valueFiles ?? []) {
    const path = await valueFilePath(input, chartReal, file);
    if (path) args.push("--values", path);
  }
  const inline = helm.valuesObject !== undefined ? dump(helm.valuesObject, { noRefs: true, lineWidth: -1 }) : helm.values;
  if (inline !== undefined && inline.trim() !== "") {
    checkValuesYaml(inline, helm.valuesObject !== undefined ? "spec.source.helm.valuesObject" : "spec.source.helm.values", ErrorReason.InvalidSpec);
    const file = join(ws.scratch, "inline-values.yaml");
    await writeFile(file, inline);
    args.push("--values", file);
  }
  // Like Argo CD's map of parameters: a name given twice keeps its last value.
  const params = new Map<string, { value: string; forceString?: boolean }>();
  for (const p of helm.parameters ?? []) { params.delete(p.name); params.set(p.name, p); }
  for (const [name, p] of params) args.push(p.forceString ? "--set-string" : "--set", `${name}=${escapeSetValue(p.value)}`);
  args.push(helm.skipCrds ? "--skip-crds" : "--include-crds");

  const stdout = await runTool({
    tool: "helm", binary: input.binary, args, cwd: chartDir, env, timeoutMs: input.timeoutMs, maxOutputBytes: input.maxBytes,
    signal: input.signal, what: `helm template of '${chartName}'`, tidy: (t) => ws.tidy(t),
  });
  return mapHelmHooks(parseManifests(stdout, `${chartName} (helm template)`));
}

/** A value file: relative to the chart, inside the repository, a YAML mapping. Copied into the workspace. */
async function valueFilePath(input: HelmRenderInput, chartReal: string, file: string): Promise<string | undefined> {
  const ws = input.workspace;
  const root = input.rootReal;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
    throw new ComparisonError(ErrorReason.InvalidSpec, `valueFiles '${file}' is a URL; Tack reads value files from the repository only`, { terminal: true });
  }
  if (isAbsolute(file)) {
    throw new ComparisonError(ErrorReason.InvalidSpec, `valueFiles '${file}' is absolute; it must be relative to the chart directory`, { terminal: true });
  }
  const joined = resolve(chartReal, file);
  if (joined !== root && !joined.startsWith(root + sep)) {
    throw new ComparisonError(ErrorReason.InvalidSpec, `valueFiles '${file}' leaves the repository (value files are resolved from the chart directory and must stay inside the repository)`, { terminal: true });
  }
  const real = await realpath(joined).catch(() => undefined);
  if (real !== undefined && !isInside(root, real)) throw escapingLinkError(`valueFiles '${file}' is a symlink that`);
  // ignoreMissingValueFiles is for files that are not in Git, not for one behind a link Tack cannot follow.
  const blocked = real === undefined ? await blockedBy(root, joined) : undefined;
  if (blocked) throw blocked;
  const content = real === undefined ? undefined : await readFile(real).catch(() => undefined);
  if (!content) {
    if (input.helm?.ignoreMissingValueFiles) return undefined;
    throw new ComparisonError(ErrorReason.PathNotFound, `valueFiles '${file}' does not exist in the repository (resolved from the chart directory '${ws.repoRelative(chartReal) || "."}')`, { terminal: true });
  }
  checkValuesYaml(decodeUtf8(content, `valueFiles '${file}'`), `valueFiles '${file}'`);
  await ws.copy(real!);
  return ws.pathOf(ws.repoRelative(real!));
}

/** Every dependency vendored under charts/ (a directory or an archive): nothing to build, as Argo CD decides. */
async function dependenciesPresent(chartDir: string, deps: Dependency[]): Promise<boolean> {
  const entries = await readdir(join(chartDir, "charts")).catch(() => [] as string[]);
  return deps.every((d) => d.name !== undefined &&
    entries.some((e) => e === d.name || (e.startsWith(`${d.name}-`) && e.endsWith(".tgz"))));
}

async function buildDependencies(input: HelmRenderInput, chartDir: string, chartName: string, deps: Dependency[], env: Record<string, string>): Promise<void> {
  const ws = input.workspace;
  // The key: what `helm dependency build` reads (Chart.yaml, the lock file, the file:// charts' content).
  const hash = createHash("sha256");
  for (const name of ["Chart.yaml", "Chart.lock", "requirements.yaml", "requirements.lock"]) {
    hash.update(`${name}\0`).update(await readFile(join(chartDir, name)).catch(() => Buffer.alloc(0))).update("\0");
  }
  for (const dep of deps) {
    if (dep.repository?.startsWith("file://")) await hashTree(hash, resolve(chartDir, dep.repository.slice(7)));
  }
  const key = hash.digest("hex").slice(0, 32);
  const cached = join(input.dependencyCacheDir, key);
  const chartsDir = join(chartDir, "charts");
  if (await isDirectory(cached)) {
    await cp(cached, chartsDir, { recursive: true });
    return;
  }
  const secrets: string[] = [];
  // As Argo CD: each HTTP(S) repository a dependency names is added first (with its credentials, if any).
  const repoURLs = [...new Set(deps.map((d) => d.repository).filter((r): r is string => typeof r === "string" && /^https?:\/\//.test(r)))];
  for (const url of repoURLs) {
    const creds = input.repos.credentialsFor(url);
    if (creds?.password) secrets.push(creds.password);
    const name = `tack-${createHash("sha256").update(url).digest("hex").slice(0, 12)}`;
    const args = ["repo", "add", name, url, "--force-update"];
    if (creds?.username !== undefined && creds.password !== undefined) args.push("--username", creds.username, "--password-stdin");
    await runTool({
      tool: "helm", binary: input.binary, args, env, stdin: creds?.password, timeoutMs: input.timeoutMs, maxOutputBytes: 1 << 20,
      signal: input.signal, secrets, what: `adding the chart repository of ${chartName}'s dependencies`, terminalOnFailure: false, tidy: (t) => ws.tidy(t),
    });
  }
  await runTool({
    tool: "helm", binary: input.binary, args: ["dependency", "build", chartDir], cwd: chartDir, env, timeoutMs: input.timeoutMs,
    maxOutputBytes: 1 << 20, signal: input.signal, secrets, what: `helm dependency build of '${chartName}'`, terminalOnFailure: false, tidy: (t) => ws.tidy(t),
  });
  // Keep what was built (whole or not at all) for the next render of the same dependencies.
  const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await mkdir(input.dependencyCacheDir, { recursive: true });
  await cp(chartsDir, tmp, { recursive: true });
  await rename(tmp, cached).catch(async () => { await rm(tmp, { recursive: true, force: true }); });
}

async function hashTree(hash: ReturnType<typeof createHash>, dir: string): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true }).catch(() => [])).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { hash.update(`d:${e.name}${sep}`); await hashTree(hash, p); }
    else if (e.isFile()) hash.update(`f:${e.name}\0`).update(await readFile(p)).update("\0");
  }
}
