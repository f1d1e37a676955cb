// Velero (velero.io). Status API: velero.io/docs (API types: Backup, Restore, Schedule, BackupStorageLocation):
// Backup and Restore status.phase (New, FailedValidation, InProgress, WaitingForPluginOperations,
// WaitingForPluginOperationsPartiallyFailed, Finalizing, FinalizingPartiallyFailed, Completed, PartiallyFailed,
// Failed, Deleting) with status.failureReason; Schedule status.phase (New, Enabled, FailedValidation) and
// spec.paused; BackupStorageLocation status.phase (Available, Unavailable) with status.message.
import { forKinds, phaseRules, specFlag, type Rule, type RuleSet } from "./cel.ts";

const operation = phaseRules("status.phase", {
  healthy: ["Completed"],
  degraded: ["Failed", "PartiallyFailed", "FailedValidation"],
  progressing: ["New", "InProgress", "WaitingForPluginOperations", "WaitingForPluginOperationsPartiallyFailed",
    "Finalizing", "FinalizingPartiallyFailed", "Deleting"],
}, "status.failureReason");

const schedule: Rule[] = [
  { when: specFlag("paused"), status: "Suspended", message: "spec.paused is true" },
  ...phaseRules("status.phase", { healthy: ["Enabled"], degraded: ["FailedValidation"], progressing: ["New"] }),
];

const location = phaseRules("status.phase", { healthy: ["Available"], degraded: ["Unavailable"] }, "status.message");

export const veleroRules: RuleSet = {
  ...forKinds("velero.io", ["Backup", "Restore"], operation),
  "velero.io_Schedule": schedule,
  ...forKinds("velero.io", ["BackupStorageLocation"], location),
};
