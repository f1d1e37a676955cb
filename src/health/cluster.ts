// Cluster plumbing: storage claims, autoscalers, aggregated APIs, CRDs and namespaces.

import type { KubeObject } from "../api/kube-object.ts";
import {
  conditions, conditionsOf, describe, findCondition, status, str, type Condition,
} from "./fields.ts";
import { degraded, healthy, progressing, unknown, type HealthStatus } from "./types.ts";

export function pvcHealth(obj: KubeObject): HealthStatus {
  const phase = str(status(obj)?.phase);
  switch (phase) {
    case "Bound":
      return healthy("Claim is bound to a volume");
    case "Pending":
      return progressing("Waiting for the claim to be bound to a volume");
    case "Lost":
      return degraded("Claim lost its volume");
    default:
      return unknown(phase ? `Claim phase ${phase} is not known` : "Claim has no phase yet");
  }
}

// The autoscaler's condition reasons that Argo CD treats as decided; anything else is still settling.
const HPA_DEGRADED = new Set([
  "AbleToScale/FailedGetScale", "AbleToScale/FailedUpdateScale",
  "ScalingActive/FailedGetResourceMetric", "ScalingActive/InvalidSelector",
]);
const HPA_HEALTHY = new Set([
  "AbleToScale/SucceededRescale", "ScalingLimited/DesiredWithinRange",
  "ScalingLimited/TooFewReplicas", "ScalingLimited/TooManyReplicas",
]);
const HPA_WAITING = "Waiting to autoscale";

function hpaFromConditions(list: Condition[]): HealthStatus {
  for (const c of list) {
    const key = `${c.type}/${c.reason}`;
    if (HPA_DEGRADED.has(key)) return degraded(describe(c));
    if (HPA_HEALTHY.has(key)) return healthy(describe(c));
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
