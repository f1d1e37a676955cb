// Pure ordering of a sync: which objects are applied in which step. Kinds that others depend on come
// first (namespaces, CRDs, identities and RBAC, config), then everything else, then by name. Waves and
// hooks (argocd.argoproj.io/sync-wave, /hook) extend this ordering in the sync-engine work.
import type { KubeObject } from "../api/index.ts";
import { groupOf } from "../api/index.ts";

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
    compareStrings(a.metadata.name ?? "", b.metadata.name ?? "");
}

/** Steps of objects that can be applied in parallel; each step waits for the previous one. */
export function applySteps<T extends { desired: KubeObject }>(items: T[]): T[][] {
  const sorted = [...items].sort((x, y) => compareForApply(x.desired, y.desired));
  const steps: T[][] = [];
  let lastRank = -1;
  for (const item of sorted) {
    const rank = kindRank(item.desired);
    // Namespaces and CRDs must exist before what lives in them; everything later may go together.
    const step = rank <= 1 ? rank : 2;
    if (step !== lastRank) { steps.push([]); lastRank = step; }
    steps[steps.length - 1]!.push(item);
  }
  return steps;
}
