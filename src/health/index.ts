// Health assessment: what state a live object is in, as a status word and a message a person can act on.
//
// Pure: no I/O, no clock, no environment, no logger. It must not import cluster/, controller/, git/, render/,
// server/ or metrics/; the controller and `tack health` both call assessHealth on plain objects, so they
// always agree. Custom rules arrive already compiled (custom-rules.ts), and are evaluated with a bounded budget.

import { groupOf, type KubeObject } from "../api/kube-object.ts";
import { argoWorkflowHealth, cronJobHealth, jobHealth } from "./batch.ts";
import {
  apiServiceHealth, applicationHealth, crdHealth, hpaHealth, namespaceHealth, pvcHealth,
} from "./cluster.ts";
import { genericHealth } from "./generic.ts";
import { ingressHealth, serviceHealth } from "./network.ts";
import { shippedChecks } from "./shipped/index.ts";
import { progressing, type CustomHealthRules, type HealthCheck, type HealthStatus, type RuleSource } from "./types.ts";
import { daemonSetHealth, deploymentHealth, podHealth, replicaSetHealth, statefulSetHealth } from "./workloads.ts";

export {
  compareHealth, HealthStatusCode, worstHealth,
  type CustomHealthRules, type HealthCheck, type HealthStatus, type RuleSource,
} from "./types.ts";
export { compileHealthRules, HEALTH_RULES_CONFIGMAP, type HealthRuleError } from "./custom-rules.ts";
export { compileHealthConfig, compileLuaRuleDir, type CompiledHealthRules } from "./rule-config.ts";
export type { LuaRuleLayer } from "./lua-rules.ts";

/** The key of the check tables: "group/Kind", or just "Kind" for the core group (no version: health is the same). */
export function groupKind(obj: Pick<KubeObject, "apiVersion" | "kind">): string {
  const group = groupOf(obj.apiVersion);
  return group ? `${group}/${obj.kind}` : obj.kind;
}

const checks: Readonly<Record<string, HealthCheck>> = {
  "apps/Deployment": deploymentHealth,
  "apps/StatefulSet": statefulSetHealth,
  "apps/DaemonSet": daemonSetHealth,
  "apps/ReplicaSet": replicaSetHealth,
  "extensions/Deployment": deploymentHealth,
  "extensions/DaemonSet": daemonSetHealth,
  "extensions/ReplicaSet": replicaSetHealth,
  "Pod": podHealth,
  "Service": serviceHealth,
  "PersistentVolumeClaim": pvcHealth,
  "Namespace": namespaceHealth,
  "networking.k8s.io/Ingress": ingressHealth,
  "extensions/Ingress": ingressHealth,
  "batch/Job": jobHealth,
  "batch/CronJob": cronJobHealth,
  "autoscaling/HorizontalPodAutoscaler": hpaHealth,
  "apiregistration.k8s.io/APIService": apiServiceHealth,
  "apiextensions.k8s.io/CustomResourceDefinition": crdHealth,
  "argoproj.io/Workflow": argoWorkflowHealth,
  "argoproj.io/Application": applicationHealth,
  "tack.dev/Application": applicationHealth,
};

/** Whether Tack has a built-in check for this kind (used by docs and by `tack health` to explain silence). */
export function hasBuiltInCheck(obj: Pick<KubeObject, "apiVersion" | "kind">): boolean {
  return Object.hasOwn(checks, groupKind(obj));
}

/**
 * The health of one live object; undefined = no opinion (the object's kind has no rule and its status says
 * nothing). Order: being deleted → Progressing; the user's CEL rule for the kind; the user's Lua rule; the rule
 * shipped with Tack; the built-in check; the generic conditions-based rule. A rule that gives no verdict defers to
 * the next one. The verdict says which rule decided (`rule`).
 */
export function assessHealth(obj: KubeObject, custom?: CustomHealthRules): HealthStatus | undefined {
  if (obj.metadata.deletionTimestamp) return { ...progressing("Pending deletion"), rule: "built-in" };
  const key = groupKind(obj);
  const ladder: Array<[RuleSource, HealthCheck | undefined]> = [
    ["cel", custom?.checks.get(key)],
    ["lua", custom?.lua?.get(key)],
    ["shipped", shippedChecks.get(key)],
    ["built-in", Object.hasOwn(checks, key) ? checks[key] : undefined],
  ];
  for (const [rule, check] of ladder) {
    const verdict = check?.(obj);
    if (verdict) return { ...verdict, rule };
    // A built-in kind's check is the last word for it: the generic rule is for kinds Tack knows nothing about.
    if (rule === "built-in" && check) return undefined;
  }
  const generic = genericHealth(obj);
  return generic ? { ...generic, rule: "generic" } : undefined;
}
