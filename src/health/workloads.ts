// Controllers that roll out Pods, and Pods themselves. Semantics follow Argo CD's gitops-engine (which in
// turn follows `kubectl rollout status`), so a status means the same thing to a user moving from Argo CD.

import type { KubeObject } from "../api/kube-object.ts";
import {
  arr, at, conditions, describe, findCondition, generationObserved, num, rec, spec, status, str,
} from "./fields.ts";
import { degraded, healthy, progressing, suspended, unknown, type HealthStatus } from "./types.ts";

/** spec.replicas as the API server defaults it: absent means 1. */
function desiredReplicas(obj: KubeObject): number {
  return num(spec(obj).replicas) ?? 1;
}

export function deploymentHealth(obj: KubeObject): HealthStatus {
  if (spec(obj).paused === true) return suspended("Deployment is paused");
  if (!generationObserved(obj)) {
    return progressing("Waiting for rollout to finish: observed deployment generation less than desired generation");
  }
  const st = status(obj) ?? {};
  const progress = findCondition(conditions(obj), "Progressing");
  if (progress?.reason === "ProgressDeadlineExceeded") {
    return degraded(`Deployment exceeded its progress deadline${progress.message ? `: ${progress.message}` : ""}`);
  }
  const desired = desiredReplicas(obj);
  const replicas = num(st.replicas) ?? 0;
  const updated = num(st.updatedReplicas) ?? 0;
  const available = num(st.availableReplicas) ?? 0;
  if (updated < desired) {
    return progressing(`Waiting for rollout to finish: ${updated} out of ${desired} new replicas have been updated...`);
  }
  if (replicas > updated) {
    return progressing(`Waiting for rollout to finish: ${replicas - updated} old replicas are pending termination...`);
  }
  if (available < updated) {
    return progressing(`Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...`);
  }
  return healthy(`${available} of ${desired} replicas are updated and available`);
}

export function statefulSetHealth(obj: KubeObject): HealthStatus {
  const st = status(obj) ?? {};
  // A StatefulSet never observed by its controller has observedGeneration 0; it is not done, whatever else it says.
  if ((num(st.observedGeneration) ?? 0) === 0 || !generationObserved(obj)) {
    return progressing("Waiting for statefulset spec update to be observed...");
  }
  const desired = desiredReplicas(obj);
  const ready = num(st.readyReplicas) ?? 0;
  const updated = num(st.updatedReplicas) ?? 0;
  if (ready < desired) return progressing(`Waiting for ${desired - ready} pods to be ready...`);

  const strategy = rec(spec(obj).updateStrategy) ?? {};
  const type = str(strategy.type) ?? "RollingUpdate";
  const rolling = rec(strategy.rollingUpdate);
  if (type === "RollingUpdate" && rolling) {
    const partition = num(rolling.partition);
    if (partition !== undefined && updated < desired - partition) {
      return progressing(
        `Waiting for partitioned roll out to finish: ${updated} out of ${desired - partition} new pods have been updated...`,
      );
    }
    return healthy(`Partitioned roll out complete: ${updated} new pods have been updated`);
  }
  // OnDelete: the controller replaces pods only when someone deletes them, so "updated" cannot be waited for.
  if (type === "OnDelete") return healthy(`StatefulSet has ${ready} ready pods`);
  const updateRevision = str(st.updateRevision) ?? "";
  if (updateRevision !== (str(st.currentRevision) ?? "")) {
    return progressing(
      `Waiting for statefulset rolling update to complete: ${updated} pods at revision ${updateRevision}...`,
    );
  }
  return healthy(`StatefulSet rolling update complete: ${num(st.currentReplicas) ?? 0} pods at revision ${updateRevision}`);
}

export function daemonSetHealth(obj: KubeObject): HealthStatus {
  if (!generationObserved(obj)) {
    return progressing("Waiting for rollout to finish: observed daemon set generation less than desired generation");
  }
  const st = status(obj) ?? {};
  const desired = num(st.desiredNumberScheduled) ?? 0;
  const updated = num(st.updatedNumberScheduled) ?? 0;
  const available = num(st.numberAvailable) ?? 0;
  if (str(at(spec(obj), "updateStrategy", "type")) === "OnDelete") {
    return healthy(`DaemonSet has ${updated} out of ${desired} pods updated (OnDelete strategy)`);
  }
  if (updated < desired) {
    return progressing(`Waiting for daemon set rollout to finish: ${updated} out of ${desired} new pods have been updated...`);
  }
  if (available < desired) {
    return progressing(`Waiting for daemon set rollout to finish: ${available} of ${updated} updated pods are available...`);
  }
  return healthy(`${available} of ${desired} pods are updated and available`);
}

export function replicaSetHealth(obj: KubeObject): HealthStatus {
  if (!generationObserved(obj)) {
    return progressing("Waiting for rollout to finish: observed replica set generation less than desired generation");
  }
  const failure = findCondition(conditions(obj), "ReplicaFailure");
  if (failure?.status === "True") return degraded(describe(failure) || "ReplicaSet failed to create pods");
  const desired = desiredReplicas(obj);
  const available = num(status(obj)?.availableReplicas) ?? 0;
  if (available < desired) {
    return progressing(`Waiting for rollout to finish: ${available} out of ${desired} new replicas are available...`);
  }
  return healthy(`${available} of ${desired} replicas are available`);
}

interface ContainerStatus {
  name: string;
  waitingReason: string;
  waitingMessage: string;
  terminated: Record<string, unknown> | undefined;
  lastTerminated: Record<string, unknown> | undefined;
}

function containerStatuses(list: unknown): ContainerStatus[] {
  return arr(list).flatMap((item) => {
    const c = rec(item);
    if (!c) return [];
    return [{
      name: str(c.name) ?? "",
      waitingReason: str(at(c, "state", "waiting", "reason")) ?? "",
      waitingMessage: str(at(c, "state", "waiting", "message")) ?? "",
      terminated: rec(at(c, "state", "terminated")),
      lastTerminated: rec(at(c, "lastState", "terminated")),
    }];
  });
}

/** Waiting reasons that mean the container will not start by itself: ErrImagePull, CrashLoopBackOff, CreateContainerConfigError … */
function isStuckWaiting(reason: string): boolean {
  return reason.startsWith("Err") || reason.endsWith("Error") || reason.endsWith("BackOff");
}

function terminationMessage(c: ContainerStatus): string {
  const t = c.terminated;
  if (!t) return "";
  const message = str(t.message);
  if (message) return message;
  const reason = str(t.reason) ?? "";
  if (reason === "OOMKilled") return `container "${c.name}" was OOMKilled`;
  const exitCode = num(t.exitCode) ?? 0;
  return exitCode !== 0 ? `container "${c.name}" failed with exit code ${exitCode}` : "";
}

export function podHealth(obj: KubeObject): HealthStatus {
  const st = status(obj) ?? {};
  const restartPolicy = str(spec(obj).restartPolicy) ?? "Always";
  const initContainers = containerStatuses(st.initContainerStatuses);
  const containers = containerStatuses(st.containerStatuses);
  const podMessage = str(st.message) ?? "";

  // Only for long-running pods: a hook Pod (restartPolicy Never/OnFailure) waiting on its image must not fail
  // a sync early, since it would run anyway once the image appears.
  if (restartPolicy === "Always") {
    const stuck = [...initContainers, ...containers].filter((c) => isStuckWaiting(c.waitingReason));
    if (stuck.length > 0) {
      return degraded(stuck.map((c) =>
        `container "${c.name}" is ${c.waitingReason}${c.waitingMessage ? `: ${c.waitingMessage}` : ""}`).join("; "));
    }
  }

  switch (str(st.phase)) {
    case "Pending": {
      const scheduled = findCondition(conditions(obj), "PodScheduled");
      const why = podMessage || (scheduled?.status === "False" ? describe(scheduled) : "");
      return progressing(why ? `Pod is pending: ${why}` : "Pod is pending");
    }
    case "Succeeded":
      return healthy(podMessage || "Pod completed successfully");
    case "Failed": {
      if (podMessage) return degraded(podMessage);
      for (const c of [...initContainers, ...containers]) {
        const message = terminationMessage(c);
        if (message) return degraded(message);
      }
      return degraded("Pod failed");
    }
    case "Running": {
      if (restartPolicy !== "Always") {
        // A finite pod (typically a hook) is not done until it has succeeded.
        return progressing(podMessage || "Pod is running");
      }
      if (findCondition(conditions(obj), "Ready")?.status === "True") {
        return healthy(podMessage || "Pod is running and ready");
      }
      const restarted = containers.find((c) => c.lastTerminated);
      if (restarted) {
        const reason = str(restarted.lastTerminated?.reason) ?? "terminated";
        return degraded(podMessage || `container "${restarted.name}" is not ready after it restarted (last state: ${reason})`);
      }
      return progressing(podMessage || "Waiting for containers to become ready");
    }
    default:
      return unknown(podMessage || "Pod phase is not known");
  }
}
