// Pure planning of a sync: which phase and wave each object and hook belongs to, which options apply to it,
// and the order of the steps. Argo CD's annotations are honoured beside ours, and Helm's hook annotations
// map onto sync hooks as Argo CD maps them. No I/O, no clock.
import type { KubeObject } from "../api/index.ts";
import { groupOf } from "../api/index.ts";

export const SyncPhase = { PreSync: "PreSync", Sync: "Sync", PostSync: "PostSync", SyncFail: "SyncFail", PostDelete: "PostDelete" } as const;
export type SyncPhase = (typeof SyncPhase)[keyof typeof SyncPhase];
/** The phases a successful sync walks through, in order. SyncFail and PostDelete run only on their event. */
export const PHASE_ORDER: readonly SyncPhase[] = [SyncPhase.PreSync, SyncPhase.Sync, SyncPhase.PostSync];

export type HookType = SyncPhase | "Skip";
export const DeletePolicy = { HookSucceeded: "HookSucceeded", HookFailed: "HookFailed", BeforeHookCreation: "BeforeHookCreation" } as const;
export type DeletePolicy = (typeof DeletePolicy)[keyof typeof DeletePolicy];

const HOOK_KEYS = ["tack.dev/hook", "argocd.argoproj.io/hook"];
const DELETE_POLICY_KEYS = ["tack.dev/hook-delete-policy", "argocd.argoproj.io/hook-delete-policy"];
const WAVE_KEYS = ["tack.dev/sync-wave", "argocd.argoproj.io/sync-wave"];
const SYNC_OPTION_KEYS = ["tack.dev/sync-options", "argocd.argoproj.io/sync-options"];
const COMPARE_OPTION_KEYS = ["tack.dev/compare-options", "argocd.argoproj.io/compare-options"];

const HELM_HOOKS: Record<string, HookType | undefined> = {
  "pre-install": SyncPhase.PreSync, "pre-upgrade": SyncPhase.PreSync,
  "post-install": SyncPhase.PostSync, "post-upgrade": SyncPhase.PostSync,
  // Argo CD drops test hooks and the delete/rollback ones; so do we.
};
const HELM_DELETE_POLICIES: Record<string, DeletePolicy> = {
  "hook-succeeded": DeletePolicy.HookSucceeded, "hook-failed": DeletePolicy.HookFailed, "before-hook-creation": DeletePolicy.BeforeHookCreation,
};

function annotation(obj: KubeObject, keys: readonly string[]): string | undefined {
  const annotations = obj.metadata.annotations;
  if (!annotations) return undefined;
  for (const key of keys) if (annotations[key] !== undefined) return annotations[key];
  return undefined;
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

export interface HookSpec {
  types: HookType[];
  deletePolicies: DeletePolicy[];
}

/**
 * The hook annotations of an object, or undefined when it is an ordinary resource. Tack's and Argo CD's
 * keys win over Helm's (as in Argo CD); Helm test hooks yield `{types: []}`, meaning "never run".
 */
export function hookSpec(obj: KubeObject): HookSpec | undefined {
  const own = annotation(obj, HOOK_KEYS);
  if (own !== undefined) {
    const types = list(own).filter((t): t is HookType => t === "Skip" || Object.hasOwn(SyncPhase, t));
    const deletePolicies = list(annotation(obj, DELETE_POLICY_KEYS)).filter((p): p is DeletePolicy => Object.hasOwn(DeletePolicy, p));
    return { types, deletePolicies: deletePolicies.length > 0 ? deletePolicies : [DeletePolicy.BeforeHookCreation] };
  }
  const helm = obj.metadata.annotations?.["helm.sh/hook"];
  if (helm === undefined) return undefined;
  const types = [...new Set(list(helm).map((h) => HELM_HOOKS[h]).filter((t): t is HookType => t !== undefined))];
  const helmPolicies = list(obj.metadata.annotations?.["helm.sh/hook-delete-policy"]).map((p) => HELM_DELETE_POLICIES[p]).filter((p): p is DeletePolicy => p !== undefined);
  return { types, deletePolicies: helmPolicies.length > 0 ? helmPolicies : [DeletePolicy.BeforeHookCreation] };
}

/** The sync wave: Tack's or Argo CD's annotation, else Helm's hook-weight for Helm hooks, else 0. */
export function syncWave(obj: KubeObject): number {
  const raw = annotation(obj, WAVE_KEYS) ?? (obj.metadata.annotations?.["helm.sh/hook"] !== undefined ? obj.metadata.annotations["helm.sh/hook-weight"] : undefined);
  const wave = raw === undefined ? 0 : Number.parseInt(raw, 10);
  return Number.isFinite(wave) ? wave : 0;
}

/** Sync options set on the object itself (`Prune=false,Replace=true`). */
export function objectSyncOptions(obj: KubeObject | undefined): string[] {
  return obj ? list(annotation(obj, SYNC_OPTION_KEYS)) : [];
}

export function objectCompareOptions(obj: KubeObject | undefined): string[] {
  return obj ? list(annotation(obj, COMPARE_OPTION_KEYS)) : [];
}

/** Whether `Name=value` is among the options (spaces ignored, value case-insensitive as in Argo CD). */
export function hasOption(options: readonly string[], name: string, value = "true"): boolean {
  return options.some((o) => {
    const [k, v] = o.replace(/\s/g, "").split("=", 2);
    return k === name && (v ?? "").toLowerCase() === value.toLowerCase();
  });
}

export function optionValue(options: readonly string[], name: string): string | undefined {
  for (const o of options) {
    const [k, v] = o.replace(/\s/g, "").split("=", 2);
    if (k === name) return v;
  }
  return undefined;
}

const KIND_RANK: Record<string, number> = {
  Namespace: 0,
  CustomResourceDefinition: 1,
  ServiceAccount: 2, ClusterRole: 2, Role: 2, ClusterRoleBinding: 3, RoleBinding: 3,
  PriorityClass: 3, StorageClass: 3, PodSecurityPolicy: 3, LimitRange: 3, ResourceQuota: 3,
  ConfigMap: 4, Secret: 4, PersistentVolume: 4, PersistentVolumeClaim: 5,
  Service: 6,
};
const DEFAULT_RANK = 7;

export function kindRank(obj: Pick<KubeObject, "kind" | "apiVersion">): number {
  // Only the built-in kinds are ranked: a CRD kind that happens to be called "Secret" is just another object.
  const builtIn = groupOf(obj.apiVersion) === "" || obj.kind === "CustomResourceDefinition" ||
    /^(rbac\.authorization|scheduling|storage|policy)\.k8s\.io$/.test(groupOf(obj.apiVersion));
  return builtIn ? KIND_RANK[obj.kind] ?? DEFAULT_RANK : DEFAULT_RANK;
}

function compareStrings(a: string, b: string): number { return a < b ? -1 : a > b ? 1 : 0; }

export function compareForApply(a: KubeObject, b: KubeObject): number {
  return kindRank(a) - kindRank(b) ||
    compareStrings(a.kind, b.kind) ||
    compareStrings(a.metadata.namespace ?? "", b.metadata.namespace ?? "") ||
    compareStrings(a.metadata.name ?? a.metadata.generateName ?? "", b.metadata.name ?? b.metadata.generateName ?? "");
}

/** Groups of objects of one wave that can be written in parallel: namespaces, then CRDs, then the rest. */
export function applySteps<T extends { desired: KubeObject }>(items: T[]): T[][] {
  const sorted = [...items].sort((x, y) => compareForApply(x.desired, y.desired));
  const steps: T[][] = [];
  let lastRank = -1;
  for (const item of sorted) {
    const rank = kindRank(item.desired);
    const step = rank <= 1 ? rank : 2;
    if (step !== lastRank) { steps.push([]); lastRank = step; }
    steps[steps.length - 1]!.push(item);
  }
  return steps;
}

export interface Step { phase: SyncPhase; wave: number }

/** The steps of a sync in order: each phase's waves ascending. `pruneLast` adds a final Sync step. */
export function orderSteps(entries: Iterable<Step>): Step[] {
  const seen = new Map<string, Step>();
  for (const e of entries) seen.set(`${e.phase}/${e.wave}`, { phase: e.phase, wave: e.wave });
  return [...seen.values()].sort((a, b) => PHASE_ORDER.indexOf(a.phase) - PHASE_ORDER.indexOf(b.phase) || a.wave - b.wave);
}

/** The wave that runs after every other Sync wave (PruneLast). */
export const LAST_WAVE = Number.MAX_SAFE_INTEGER;
