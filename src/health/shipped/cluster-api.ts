// Cluster API (cluster.x-k8s.io, controlplane.cluster.x-k8s.io). Status API: cluster-api.sigs.k8s.io (book:
// "Cluster API resources", the v1beta2 conditions proposal): status.phase (Cluster: Pending, Provisioning,
// Provisioned, Deleting, Failed; Machine: Pending, Provisioning, Provisioned, Running, Deleting, Deleted,
// Failed; MachineDeployment: ScalingUp, ScalingDown, Running, Failed), status.failureReason/failureMessage
// (v1beta1), conditions Ready (v1beta1) and Available (v1beta2), spec.paused.
import {
  condition, conditionText, field, fieldText, generationStale, generationStaleText, hasCondition, phaseRules, specFlag, text,
  type Rule, type RuleSet,
} from "./cel.ts";

const failure: Rule = {
  when: `${field("status.failureReason")} != "" || ${field("status.failureMessage")} != ""`, status: "Degraded",
  messageExpression: `"status.failureReason is " + ${text(field("status.failureReason"))} + ": " + ${text(field("status.failureMessage"))}`,
};
const paused: Rule = { when: specFlag("paused"), status: "Suspended", message: "spec.paused is true" };
const notReady = `${condition("Available", "False")} || (!${hasCondition("Available")} && ${condition("Ready", "False")})`;
const notReadyText = `${hasCondition("Available")} ? ${conditionText("Available")} : ${conditionText("Ready")}`;

const cluster: Rule[] = [
  paused, failure,
  ...phaseRules("status.phase", { degraded: ["Failed"], progressing: ["Pending", "Provisioning", "Deleting"] }),
  { when: `${field("status.phase")} == "Provisioned" && (${notReady})`, status: "Progressing", messageExpression: notReadyText },
  { when: `${field("status.phase")} == "Provisioned"`, status: "Healthy", messageExpression: fieldText("status.phase") },
];

const machine: Rule[] = [
  failure,
  ...phaseRules("status.phase", {
    degraded: ["Failed"], progressing: ["Pending", "Provisioning", "Provisioned", "Deleting", "Deleted"], healthy: ["Running"],
  }),
];

const machineDeployment: Rule[] = [
  paused,
  { when: generationStale, status: "Progressing", messageExpression: generationStaleText },
  ...phaseRules("status.phase", { degraded: ["Failed"], progressing: ["ScalingUp", "ScalingDown"], healthy: ["Running"] }),
];

const controlPlane: Rule[] = [
  paused, failure,
  { when: generationStale, status: "Progressing", messageExpression: generationStaleText },
  { when: condition("Available", "True") + " || (!" + hasCondition("Available") + " && " + condition("Ready", "True") + ")",
    status: "Healthy", messageExpression: `${hasCondition("Available")} ? ${conditionText("Available")} : ${conditionText("Ready")}` },
  { when: notReady, status: "Progressing", messageExpression: notReadyText },
];

export const clusterApiRules: RuleSet = {
  "cluster.x-k8s.io_Cluster": cluster,
  "cluster.x-k8s.io_Machine": machine,
  "cluster.x-k8s.io_MachineDeployment": machineDeployment,
  "controlplane.cluster.x-k8s.io_KubeadmControlPlane": controlPlane,
};
