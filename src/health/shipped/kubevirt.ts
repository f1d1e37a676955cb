// KubeVirt (kubevirt.io, cdi.kubevirt.io). Status API: the VirtualMachinePrintableStatus, VirtualMachineInstance
// phase and DataVolume phase constants of kubevirt.io/api and kubevirt.io/containerized-data-importer-api, as
// listed in kubevirt.io/user-guide: VirtualMachine status.printableStatus (Stopped, Provisioning, Starting,
// Running, Paused, Stopping, Terminating, CrashLoopBackOff, Migrating, Unknown, ErrorUnschedulable,
// ErrImagePull, ImagePullBackOff, ErrorPvcNotFound, ErrorDataVolumeNotFound, DataVolumeError,
// WaitingForVolumeBinding, WaitingForReceiver); VirtualMachineInstance status.phase (Pending, Scheduling,
// Scheduled, Running, Succeeded, Failed, Unknown) and condition Paused; DataVolume status.phase.
import { condition, conditionText, phaseRules, type Rule, type RuleSet } from "./cel.ts";

// A VM that is Stopped or Paused is so on purpose (spec.runStrategy / virtctl pause): Suspended, not Degraded.
const virtualMachine: Rule[] = [
  { when: condition("Failure", "True"), status: "Degraded", messageExpression: conditionText("Failure") },
  ...phaseRules("status.printableStatus", {
    healthy: ["Running"],
    suspended: ["Stopped", "Paused"],
    progressing: ["Provisioning", "Starting", "Stopping", "Terminating", "Migrating", "WaitingForVolumeBinding", "WaitingForReceiver"],
    degraded: ["CrashLoopBackOff", "ErrorUnschedulable", "ErrImagePull", "ImagePullBackOff", "ErrorPvcNotFound",
      "ErrorDataVolumeNotFound", "DataVolumeError"],
    unknown: ["Unknown"],
  }),
];

const virtualMachineInstance: Rule[] = [
  { when: condition("Paused", "True"), status: "Suspended", messageExpression: conditionText("Paused") },
  { when: `${condition("Ready", "False")} && object.?status.?phase.orValue("") == "Running"`, status: "Progressing",
    messageExpression: conditionText("Ready") },
  ...phaseRules("status.phase", {
    healthy: ["Running", "Succeeded"], progressing: ["Pending", "Scheduling", "Scheduled"], degraded: ["Failed"],
    unknown: ["Unknown"],
  }),
];

const dataVolume = phaseRules("status.phase", {
  healthy: ["Succeeded"],
  degraded: ["Failed"],
  suspended: ["Paused"],
  progressing: ["Pending", "PVCBound", "WaitForFirstConsumer", "PendingPopulation", "ImportScheduled", "ImportInProgress",
    "CloneScheduled", "CloneInProgress", "CSICloneInProgress", "SnapshotForSmartCloneInProgress", "CloneFromSnapshotSourceInProgress",
    "SmartClonePVCInProgress", "ExpansionInProgress", "NamespaceTransferInProgress", "UploadScheduled", "UploadReady",
    "RebindInProgress", "PrepClaimInProgress"],
  unknown: ["Unknown"],
});

export const kubeVirtRules: RuleSet = {
  "kubevirt.io_VirtualMachine": virtualMachine,
  "kubevirt.io_VirtualMachineInstance": virtualMachineInstance,
  "cdi.kubevirt.io_DataVolume": dataVolume,
};
