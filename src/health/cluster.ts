// Cluster plumbing: storage claims, autoscalers, aggregated APIs, CRDs, namespaces, and Applications managed by
// another Application.

import type { KubeObject } from "../api/kube-object.ts";
import {
  conditions, conditionsOf, describe, findCondition, rec, status, str, type Condition,
} from "./fields.ts";
import { degraded, healthy, HealthStatusCode, progressing, unknown, type HealthStatus } from "./types.ts";

// The PV controller sets these when it starts provisioning a volume for the claim (both keys on current
// Kubernetes; older clusters only the beta one).
const PROVISIONER_ANNOTATIONS = [
  "volume.kubernetes.io/storage-provisioner", "volume.beta.kubernetes.io/storage-provisioner",
];

export function pvcHealth(obj: KubeObject): HealthStatus {
  const phase = str(status(obj)?.phase);
  switch (phase) {
    case "Bound":
      return healthy("Claim is bound to a volume");
    case "Pending": {
      // As Argo CD: a pending claim that nothing is provisioning is waiting for a consumer (a storage class with
      // WaitForFirstConsumer binds only when a Pod uses the claim), which is a normal resting state.
      const annotations = obj.metadata.annotations ?? {};
      const provisioner = PROVISIONER_ANNOTATIONS.map((key) => annotations[key]).find((v) => v);
      if (provisioner) return progressing(`Provisioning volume (provisioner ${provisioner})`);
      return healthy("Claim is pending: waiting for a consumer (no provisioner is working on it)");
    }
    case "Lost":
      return degraded("Claim lost its volume");
    default:
      return unknown(phase ? `Claim phase ${phase} is not known` : "Claim has no phase yet");
  }
}

// The autoscaler's condition reasons that Argo CD treats as failures.
const HPA_DEGRADED = new Set([
  "AbleToScale/FailedGetScale", "AbleToScale/FailedUpdateScale",
  "ScalingActive/FailedGetResourceMetric", "ScalingActive/InvalidSelector",
]);
// Either one True means the autoscaler works: it can reach its target (AbleToScale) or has computed a count and
// clamped it (ScalingLimited). ScalingActive=False "ScalingDisabled" (target scaled to 0) is therefore Healthy.
const HPA_HEALTHY_TYPES = new Set(["AbleToScale", "ScalingLimited"]);
const HPA_WAITING = "Waiting to autoscale";

/** Walks the conditions in the order the controller wrote them: the first one that decides wins, as in Argo CD. */
function hpaFromConditions(list: Condition[]): HealthStatus {
  for (const c of list) {
    if (HPA_DEGRADED.has(`${c.type}/${c.reason}`)) return degraded(`${c.type}: ${describe(c)}`);
    if (HPA_HEALTHY_TYPES.has(c.type) && c.status === "True") return healthy(`${c.type}: ${describe(c)}`);
  }
  return progressing(HPA_WAITING);
}

export function hpaHealth(obj: KubeObject): HealthStatus {
  if (obj.apiVersion !== "autoscaling/v1") return hpaFromConditions(conditions(obj));
  // autoscaling/v1 has no conditions field; the controller writes them as JSON into an annotation.
  const annotation = obj.metadata.annotations?.["autoscaling.alpha.kubernetes.io/conditions"];
  if (annotation === undefined) return progressing(HPA_WAITING);
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotation);
  } catch {
    return unknown("Conditions annotation autoscaling.alpha.kubernetes.io/conditions is not valid JSON");
  }
  return hpaFromConditions(conditionsOf(parsed));
}

export function apiServiceHealth(obj: KubeObject): HealthStatus {
  const available = findCondition(conditions(obj), "Available");
  if (!available) return progressing("Waiting for the API service to report availability");
  if (available.status === "True") return healthy(describe(available) || "API service is available");
  return progressing(describe(available) || "API service is not available yet");
}

export function crdHealth(obj: KubeObject): HealthStatus {
  const list = conditions(obj);
  if (list.length === 0) return progressing("Waiting for the API server to accept the definition");
  const terminating = list.find((c) => c.type === "Terminating" && c.status === "True");
  if (terminating) return progressing(`CRD is being terminated: ${terminating.message}`);
  const names = list.find((c) => c.type === "NamesAccepted" && c.status === "False");
  if (names) return degraded(`CRD names have not been accepted: ${names.message}`);
  const established = findCondition(list, "Established");
  if (established?.status !== "True") return degraded(`CRD is not established: ${established?.message ?? ""}`.trimEnd());
  const nonStructural = list.find((c) => c.type === "NonStructuralSchema" && c.status === "True");
  if (nonStructural) return degraded(`Schema violations found: ${nonStructural.message}`);
  return healthy("CRD is established");
}

export function namespaceHealth(obj: KubeObject): HealthStatus | undefined {
  const phase = str(status(obj)?.phase);
  if (phase === "Active") return healthy("Namespace is active");
  if (phase === "Terminating") return progressing("Namespace is terminating");
  return undefined;
}

const APPLICATION_HEALTH = new Set<string>(Object.values(HealthStatusCode));

/**
 * An Argo CD or Tack Application managed by another (app of apps): its own status.health, as gitops-engine once
 * did built in and as Argo CD's documentation tells users to restore with a Lua rule. No health yet: Progressing.
 */
export function applicationHealth(obj: KubeObject): HealthStatus {
  const health = rec(status(obj)?.health);
  const word = str(health?.status);
  if (!word || !APPLICATION_HEALTH.has(word)) return progressing("Waiting for the Application to report status.health");
  return { status: word as HealthStatusCode, message: str(health?.message) || `status.health.status is ${word}` };
}
