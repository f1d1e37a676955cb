// OpenKruise (apps.kruise.io). Status API: openkruise.io/docs (CloneSet, Advanced StatefulSet, Advanced
// DaemonSet, BroadcastJob user manuals and their status fields): replica counts as in the Kubernetes workloads
// (replicas, readyReplicas, availableReplicas, updatedReplicas, updatedReadyReplicas; CloneSet also
// expectedUpdatedReplicas, which honours the partition), status.observedGeneration, and a paused flag in the
// update strategy. BroadcastJob reports status.phase (running, completed, failed, paused).
import { field, forKinds, generationStale, generationStaleText, phaseRules, specFlag, type Rule, type RuleSet } from "./cel.ts";

const wanted = field("spec.replicas", "1");
const counted = (name: string) => field(`status.${name}`, "0");
const seen = `has(object.status) && type(${field("status.observedGeneration", '""')}) == int`;

const cloneSet: Rule[] = [
  { when: generationStale, status: "Progressing", messageExpression: generationStaleText },
  { when: specFlag("updateStrategy.paused"), status: "Suspended", message: "spec.updateStrategy.paused is true" },
  { when: `${seen} && ${counted("updatedReadyReplicas")} < ${field("status.expectedUpdatedReplicas", wanted)}`,
    status: "Progressing",
    messageExpression: `"Waiting for rollout: " + string(${counted("updatedReadyReplicas")}) + " of " + ` +
      `string(${field("status.expectedUpdatedReplicas", wanted)}) + " updated replicas are ready"` },
  { when: `${seen} && ${counted("availableReplicas")} < ${wanted}`, status: "Progressing",
    messageExpression: `"Waiting for rollout: " + string(${counted("availableReplicas")}) + " of " + string(${wanted}) + " replicas are available"` },
  { when: seen, status: "Healthy",
    messageExpression: `string(${counted("availableReplicas")}) + " of " + string(${wanted}) + " replicas are updated and available"` },
];

const partition = field("spec.updateStrategy.rollingUpdate.partition", "0");
const statefulSet: Rule[] = [
  { when: generationStale, status: "Progressing", messageExpression: generationStaleText },
  { when: specFlag("updateStrategy.rollingUpdate.paused"), status: "Suspended",
    message: "spec.updateStrategy.rollingUpdate.paused is true" },
  { when: `${seen} && ${counted("updatedReplicas")} < ${wanted} - ${partition}`, status: "Progressing",
    messageExpression: `"Waiting for rollout: " + string(${counted("updatedReplicas")}) + " of " + string(${wanted} - ${partition}) + " pods are updated"` },
  { when: `${seen} && ${counted("readyReplicas")} < ${wanted}`, status: "Progressing",
    messageExpression: `"Waiting for " + string(${wanted} - ${counted("readyReplicas")}) + " pods to be ready"` },
  { when: seen, status: "Healthy", messageExpression: `string(${counted("readyReplicas")}) + " pods are updated and ready"` },
];

const desired = counted("desiredNumberScheduled");
const daemonSet: Rule[] = [
  { when: generationStale, status: "Progressing", messageExpression: generationStaleText },
  { when: specFlag("updateStrategy.rollingUpdate.paused"), status: "Suspended",
    message: "spec.updateStrategy.rollingUpdate.paused is true" },
  { when: `${seen} && ${counted("updatedNumberScheduled")} < ${desired} - ${partition}`, status: "Progressing",
    messageExpression: `"Waiting for rollout: " + string(${counted("updatedNumberScheduled")}) + " of " + string(${desired}) + " pods are updated"` },
  { when: `${seen} && ${counted("numberAvailable")} < ${desired}`, status: "Progressing",
    messageExpression: `"Waiting for rollout: " + string(${counted("numberAvailable")}) + " of " + string(${desired}) + " pods are available"` },
  { when: seen, status: "Healthy", messageExpression: `string(${counted("numberAvailable")}) + " of " + string(${desired}) + " pods are updated and available"` },
];

const broadcastJob = phaseRules("status.phase", {
  healthy: ["completed"], progressing: ["running"], degraded: ["failed"], suspended: ["paused"],
});

export const openKruiseRules: RuleSet = {
  "apps.kruise.io_CloneSet": cloneSet,
  "apps.kruise.io_StatefulSet": statefulSet,
  "apps.kruise.io_DaemonSet": daemonSet,
  ...forKinds("apps.kruise.io", ["BroadcastJob"], broadcastJob),
};
