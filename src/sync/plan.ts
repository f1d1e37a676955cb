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
const WAVE_KEYS = ["tack.dev/sync-wave", "argocd.argoproj.io/sync-wave", "helm.sh/hook-weight"];
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

/**
 * The sync wave, read as Argo CD reads it (gitops-engine syncwaves.Wave): the sync-wave annotation (Tack's, then
 * Argo CD's), else `helm.sh/hook-weight` (for any object, hook or not: a Helm chart's weighted Service is ordered
 * by its weight under Argo CD too), else 0. A value that is not an integer is passed over as if absent.
 */
export function syncWave(obj: KubeObject): number {
  const annotations = obj.metadata.annotations ?? {};
  for (const key of WAVE_KEYS) {
    const raw = annotations[key];
    const wave = raw === undefined ? undefined : parseWave(raw);
    if (wave !== undefined) return wave;
  }
  return 0;
}

/** An integer as Go's strconv.Atoi accepts it (optional sign, digits, nothing around them), below the PruneLast wave. */
function parseWave(raw: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(raw)) return undefined;
  const wave = Number(raw);
  return Math.abs(wave) < LAST_WAVE ? wave : undefined;
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

/**
 * Argo CD's kind order within a wave (gitops-engine sync_tasks.go `kindOrder`, itself Helm's install order):
 * namespaces and policies first, then configuration and storage, CRDs, RBAC, Services, workloads, and ingress.
 * A kind is written only after the previous kind's writes have returned. Kinds are qualified by their API group
 * here (Argo CD matches the bare kind): a custom kind that happens to be called "Service" is not ranked as one.
 * Argo CD's `…List` entries are left out: the renderer expands Lists into their items.
 */
const KIND_ORDER: readonly string[] = [
  "Namespace", "networking.k8s.io/NetworkPolicy", "ResourceQuota", "LimitRange", "policy/PodSecurityPolicy",
  "policy/PodDisruptionBudget", "ServiceAccount", "Secret", "ConfigMap", "storage.k8s.io/StorageClass", "PersistentVolume",
  "PersistentVolumeClaim", "apiextensions.k8s.io/CustomResourceDefinition", "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/ClusterRoleBinding", "rbac.authorization.k8s.io/Role", "rbac.authorization.k8s.io/RoleBinding",
  "Service", "apps/DaemonSet", "Pod", "ReplicationController", "apps/ReplicaSet", "apps/Deployment",
  "autoscaling/HorizontalPodAutoscaler", "apps/StatefulSet", "batch/Job", "batch/CronJob", "networking.k8s.io/IngressClass",
  "networking.k8s.io/Ingress", "apiregistration.k8s.io/APIService",
];
const KIND_RANK = new Map(KIND_ORDER.map((groupKind, rank) => [groupKind, rank]));
/** Every other kind (custom resources, and built-ins Argo CD does not list) comes after the listed ones. */
export const UNLISTED_KIND_RANK = KIND_ORDER.length;

function groupKindOf(obj: Pick<KubeObject, "kind" | "apiVersion">): string {
  const group = groupOf(obj.apiVersion);
  return group === "" ? obj.kind : `${group}/${obj.kind}`;
}

export function kindRank(obj: Pick<KubeObject, "kind" | "apiVersion">): number {
  return KIND_RANK.get(groupKindOf(obj)) ?? UNLISTED_KIND_RANK;
}

function compareStrings(a: string, b: string): number { return a < b ? -1 : a > b ? 1 : 0; }

/**
 * Order of writes within one step: kind rank, then (for unlisted kinds, which share a rank) kind name and group,
 * then namespace and name. Argo CD leaves unlisted kinds in object-name order, interleaving them, and so splits
 * one kind into several rounds of writes; ordering them by kind keeps each kind's writes together.
 */
export function compareForApply(a: KubeObject, b: KubeObject): number {
  return kindRank(a) - kindRank(b) ||
    compareStrings(a.kind, b.kind) ||
    compareStrings(groupOf(a.apiVersion), groupOf(b.apiVersion)) ||
    compareStrings(a.metadata.namespace ?? "", b.metadata.namespace ?? "") ||
    compareStrings(a.metadata.name ?? a.metadata.generateName ?? "", b.metadata.name ?? b.metadata.generateName ?? "");
}

/**
 * The objects of one step as rounds of writes, one round per kind in apply order. A round starts only when the
 * previous one has returned (a Namespace before the objects in it, a CRD before its custom resources); the
 * objects of one round are written concurrently.
 */
export function kindGroups<T extends { desired: KubeObject }>(items: readonly T[]): T[][] {
  const sorted = [...items].sort((x, y) => compareForApply(x.desired, y.desired));
  const groups: T[][] = [];
  let current = "";
  for (const item of sorted) {
    const groupKind = groupKindOf(item.desired);
    if (groups.length === 0 || groupKind !== current) { groups.push([]); current = groupKind; }
    groups[groups.length - 1]!.push(item);
  }
  return groups;
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
