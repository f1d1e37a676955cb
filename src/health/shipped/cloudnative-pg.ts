// CloudNativePG (postgresql.cnpg.io). Status API: cloudnative-pg.io/documentation (API reference, ClusterStatus;
// "Declarative hibernation"): status.phase is a sentence from a fixed set ("Cluster in healthy state" when
// nothing is pending) with status.phaseReason; the annotation cnpg.io/hibernation: "on" stops the cluster and is
// reflected in the condition cnpg.io/hibernation. Backup status.phase: new, started, running, completed, failed,
// walArchivingFailing, with status.error.
import { annotation, condition, field, fieldText, oneOf, phaseRules, type Rule, type RuleSet } from "./cel.ts";

const cluster: Rule[] = [
  { when: `${annotation("cnpg.io/hibernation", ["on"])} || ${condition("cnpg.io/hibernation", "True")}`,
    status: "Suspended", message: "the cluster is hibernated (cnpg.io/hibernation)" },
  { when: `${field("status.phase")} == "Cluster in healthy state"`, status: "Healthy",
    messageExpression: fieldText("status.phase") },
  // The phases that need a person; every other phase is a step the operator is taking on its own.
  { when: oneOf("status.phase", [
      "Cluster is in an unrecoverable state, needs manual intervention",
      "Cluster cannot proceed to reconciliation due to an unknown plugin being required",
      "Unable to create required cluster objects",
      "Cluster upgrade failed",
      "Not enough disk space",
      "Waiting for user action",
    ]), status: "Degraded", messageExpression: fieldText("status.phase", "status.phaseReason") },
  { when: `${field("status.phase")} != ""`, status: "Progressing", messageExpression: fieldText("status.phase", "status.phaseReason") },
];

const backup = phaseRules("status.phase", {
  healthy: ["completed"], progressing: ["new", "pending", "started", "running", "finalizing"],
  degraded: ["failed", "walArchivingFailing"],
}, "status.error");

export const cloudNativePgRules: RuleSet = {
  "postgresql.cnpg.io_Cluster": cluster,
  "postgresql.cnpg.io_Backup": backup,
};
