// AppProject policy as pure predicates, with Argo CD's semantics (pkg/apis/application/v1alpha1
// app_project_types.go), each refusal a PolicyViolation that names the rule and the object.
import type { AppProjectSpec, ApplicationSpec } from "../api/index.ts";
import { displayURL, normalizeRepoURL } from "../git/url.ts";
import { globMatch } from "./glob.ts";
import { syncWindowState } from "./sync-windows.ts";

export const PolicyRule = {
  SourceRepos: "sourceRepos",
  Destinations: "destinations",
  ClusterResourceWhitelist: "clusterResourceWhitelist",
  ClusterResourceBlacklist: "clusterResourceBlacklist",
  NamespaceResourceWhitelist: "namespaceResourceWhitelist",
  NamespaceResourceBlacklist: "namespaceResourceBlacklist",
  SyncWindows: "syncWindows",
} as const;
export type PolicyRule = (typeof PolicyRule)[keyof typeof PolicyRule];

export interface PolicyViolation {
  rule: PolicyRule;
  /** The object refused, as Kind/namespace/name (Kind/name when cluster-scoped); absent for app-level rules. */
  object?: string;
  message: string;
}

/** The in-cluster destination, known by both its server URL and its name as in Argo CD. */
export const IN_CLUSTER = { server: "https://kubernetes.default.svc", name: "in-cluster" } as const;

/**
 * What Tack creates as the `default` AppProject when it is missing (Argo CD's default project): everything
 * allowed. A `default` project that exists is enforced like any other.
 */
export const DEFAULT_PROJECT_SPEC: AppProjectSpec = Object.freeze({
  sourceRepos: ["*"],
  destinations: [{ server: "*", namespace: "*", name: "*" }],
  clusterResourceWhitelist: [{ group: "*", kind: "*" }],
}) as AppProjectSpec;

export interface PolicyApp {
  name: string;
  namespace: string;
  spec: Pick<ApplicationSpec, "source" | "destination" | "project">;
}

export interface PolicyObject {
  group: string;
  kind: string;
  /** The object's namespace; for a namespaced object "" means the app's destination namespace. */
  namespace: string;
  name: string;
  /** Whether the kind is namespaced, as discovery says (the caller knows; a manifest does not). */
  namespaced: boolean;
}

export interface CheckOptions {
  now: Date;
  /** A sync a user asked for (operation initiated by a user), as opposed to an automated one. */
  manual: boolean;
  /** The destination cluster's name when the app names it by server (Argo CD resolves both from the cluster). */
  destinationName?: string;
  /** The destination cluster's server when the app names it by name. */
  destinationServer?: string;
  /** Skip syncWindows (for a comparison that will not sync). */
  skipSyncWindows?: boolean;
}

/**
 * Every violation of the project's policy by this app and these (desired) objects. `project` undefined is
 * the default project when it does not exist: everything allowed. An empty result means permitted.
 */
export function checkProject(
  project: AppProjectSpec | undefined, app: PolicyApp, objects: readonly PolicyObject[], opts: CheckOptions,
): PolicyViolation[] {
  if (project === undefined) return [];
  const projectName = app.spec.project || "default";
  const violations: PolicyViolation[] = [];
  const dest = resolvedDestination(app.spec.destination, opts);

  if (app.spec.source?.repoURL !== undefined) {
    const source = sourcePermitted(project, app.spec.source.repoURL);
    if (!source.permitted) {
      violations.push({
        rule: PolicyRule.SourceRepos,
        message: `repository ${displayURL(app.spec.source.repoURL)} ${source.why} of project '${projectName}'`,
      });
    }
  }

  const appDest = destinationPermitted(project, { ...dest, namespace: app.spec.destination.namespace ?? "" });
  if (!appDest.permitted) {
    violations.push({
      rule: PolicyRule.Destinations,
      message: `destination ${describeDestination(dest, app.spec.destination.namespace ?? "")} ${appDest.why} of project '${projectName}'`,
    });
  }

  for (const obj of objects) {
    const namespace = obj.namespaced ? obj.namespace || app.spec.destination.namespace || "" : "";
    const display = namespace ? `${obj.kind}/${namespace}/${obj.name}` : `${obj.kind}/${obj.name}`;
    const kind = obj.group ? `${obj.group}/${obj.kind}` : obj.kind;
    const gk = groupKindPermitted(project, obj.group, obj.kind, obj.namespaced);
    if (!gk.permitted) {
      violations.push({ rule: gk.rule, object: display, message: `${display}: kind ${kind} ${gk.why} of project '${projectName}'` });
      continue;
    }
    if (obj.namespaced) {
      const d = destinationPermitted(project, { ...dest, namespace });
      if (!d.permitted) {
        violations.push({
          rule: PolicyRule.Destinations, object: display,
          message: `${display}: namespace '${namespace}' on ${describeDestination(dest)} ${d.why} of project '${projectName}'`,
        });
      }
    }
  }

  if (!opts.skipSyncWindows) {
    const state = syncWindowState(project.syncWindows, { name: app.name, spec: { destination: dest } }, opts.now, opts.manual, { projectName });
    if (!state.allowed) violations.push({ rule: PolicyRule.SyncWindows, message: state.reason });
  }
  return violations;
}

interface Verdict { permitted: boolean; why: string }

function resolvedDestination(
  d: ApplicationSpec["destination"], opts: Pick<CheckOptions, "destinationName" | "destinationServer">,
): { server?: string; name?: string; namespace?: string } {
  let server = d.server || opts.destinationServer || undefined;
  let name = d.name || opts.destinationName || undefined;
  if (server === IN_CLUSTER.server && !name) name = IN_CLUSTER.name;
  if (name === IN_CLUSTER.name && !server) server = IN_CLUSTER.server;
  return { ...(server ? { server } : {}), ...(name ? { name } : {}), ...(d.namespace !== undefined ? { namespace: d.namespace } : {}) };
}

function describeDestination(d: { server?: string; name?: string }, namespace?: string): string {
  const parts = [d.server ? `server ${d.server}` : "", d.name ? `name ${d.name}` : ""].filter(Boolean).join(", ") || "(no cluster)";
  return namespace === undefined ? parts : `${parts}, namespace '${namespace}'`;
}

/** Argo CD's globMatch: a `!` pattern matches what its rest does not match; `*` matches everything. */
function argoGlob(pattern: string, value: string, separators = ""): boolean {
  if (pattern.startsWith("!")) return !globMatch(pattern.slice(1), value, separators);
  if (pattern === "*") return true;
  return globMatch(pattern, value, separators);
}

/**
 * Repository patterns are normalised as Argo CD's NormalizeGitURL does (lower-case, no ".git", no trailing
 * "/", scp-like ssh as ssh://, no credentials) without URL-parsing them, so glob characters survive.
 */
export function normalizeRepoPattern(pattern: string): string {
  let p = pattern.trim().toLowerCase();
  if (p === "*") return p;
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.*)$/.exec(p);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//.test(p)) p = `ssh://${scp[1]}/${(scp[2] ?? "").replace(/^\/+/, "")}`;
  p = p.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/, "$1");
  p = p.replace(/^(https:\/\/[^/]+):443(?=\/|$)/, "$1").replace(/^(http:\/\/[^/]+):80(?=\/|$)/, "$1");
  p = p.replace(/\/+$/, "");
  if (p.endsWith(".git")) p = p.slice(0, -4);
  return p.replace(/\/+$/, "");
}

/** sourceRepos: some entry matches and no `!` entry excludes the repository. Globs use `/` as separator. */
export function sourcePermitted(project: AppProjectSpec, repoURL: string): Verdict {
  const value = normalizeRepoURL(repoURL).toLowerCase();
  let matchedAny = false;
  for (const entry of project.sourceRepos ?? []) {
    const deny = entry.startsWith("!");
    const pattern = deny ? `!${normalizeRepoPattern(entry.slice(1))}` : normalizeRepoPattern(entry);
    const matched = argoGlob(pattern, value, "/");
    if (matched) matchedAny = true;
    else if (deny) return { permitted: false, why: `is denied by sourceRepos entry '${entry}'` };
  }
  return matchedAny ? { permitted: true, why: "" } : { permitted: false, why: "matches no entry of sourceRepos" };
}

/**
 * destinations: some entry matches (server or name, and namespace) and no `!` entry excludes it. An entry
 * with a `!` field excludes every destination whose value for that field matches the rest of the pattern,
 * whatever its other fields say (Argo CD's isDestinationMatched).
 */
export function destinationPermitted(project: AppProjectSpec, dst: { server?: string; name?: string; namespace: string }): Verdict {
  let matchedAny = false;
  for (const item of project.destinations ?? []) {
    const nameMatched = !!dst.name && argoGlob(item.name ?? "", dst.name);
    const serverMatched = !!dst.server && argoGlob(item.server ?? "", dst.server);
    const namespaceMatched = argoGlob(item.namespace ?? "", dst.namespace);
    if ((serverMatched || nameMatched) && namespaceMatched) {
      matchedAny = true;
    } else if ((!nameMatched && isDeny(item.name)) || (!serverMatched && isDeny(item.server)) || (!namespaceMatched && isDeny(item.namespace))) {
      return { permitted: false, why: `is denied by destinations entry ${JSON.stringify(item)}` };
    }
  }
  return matchedAny ? { permitted: true, why: "" } : { permitted: false, why: "matches no entry of destinations" };
}

function isDeny(pattern: string | undefined): boolean {
  return pattern?.startsWith("!") ?? false;
}

function inList(group: string, kind: string, list: ReadonlyArray<{ group: string; kind: string }>): boolean {
  return list.some((item) => globMatch(item.kind, kind) && globMatch(item.group, group));
}

/**
 * Argo CD's IsGroupKindPermitted. Namespaced kinds: an absent namespaceResourceWhitelist allows all, a
 * present but empty one allows none; the blacklist subtracts. Cluster-scoped kinds: only what
 * clusterResourceWhitelist lists (absent or empty: none), minus the blacklist.
 */
export function groupKindPermitted(
  project: AppProjectSpec, group: string, kind: string, namespaced: boolean,
): Verdict & { rule: PolicyRule } {
  if (namespaced) {
    const white = project.namespaceResourceWhitelist;
    if (white !== undefined && !inList(group, kind, white)) {
      return { permitted: false, rule: PolicyRule.NamespaceResourceWhitelist, why: white.length === 0
        ? "is not permitted: namespaceResourceWhitelist is empty (it permits no namespaced kind)"
        : "is not in namespaceResourceWhitelist" };
    }
    if (inList(group, kind, project.namespaceResourceBlacklist ?? [])) {
      return { permitted: false, rule: PolicyRule.NamespaceResourceBlacklist, why: "is in namespaceResourceBlacklist" };
    }
    return { permitted: true, rule: PolicyRule.NamespaceResourceWhitelist, why: "" };
  }
  const white = project.clusterResourceWhitelist ?? [];
  if (!inList(group, kind, white)) {
    return { permitted: false, rule: PolicyRule.ClusterResourceWhitelist, why: white.length === 0
      ? "is cluster-scoped and the project has no clusterResourceWhitelist (it permits no cluster-scoped kind)"
      : "is not in clusterResourceWhitelist" };
  }
  if (inList(group, kind, project.clusterResourceBlacklist ?? [])) {
    return { permitted: false, rule: PolicyRule.ClusterResourceBlacklist, why: "is in clusterResourceBlacklist" };
  }
  return { permitted: true, rule: PolicyRule.ClusterResourceWhitelist, why: "" };
}
