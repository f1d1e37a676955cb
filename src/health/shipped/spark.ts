// Spark Operator (sparkoperator.k8s.io). Status API: the Kubeflow Spark Operator API docs
// (github.com/kubeflow/spark-operator docs/api-docs.md): SparkApplication status.applicationState.state (""/NEW,
// SUBMITTED, RUNNING, COMPLETED, FAILED, SUBMISSION_FAILED, PENDING_RERUN, INVALIDATING, SUCCEEDING, FAILING,
// UNKNOWN) with errorMessage; ScheduledSparkApplication status.scheduleState (Scheduled, FailedValidation) and
// spec.suspend.
import { phaseRules, specFlag, type Rule, type RuleSet } from "./cel.ts";

// RUNNING is Healthy: a streaming application runs for ever, and a batch one is doing what it was asked to.
const sparkApplication = phaseRules("status.applicationState.state", {
  healthy: ["COMPLETED", "RUNNING"],
  progressing: ["NEW", "SUBMITTED", "PENDING_RERUN", "INVALIDATING", "SUCCEEDING"],
  degraded: ["FAILED", "SUBMISSION_FAILED", "FAILING"],
  unknown: ["UNKNOWN"],
}, "status.applicationState.errorMessage");

const scheduled: Rule[] = [
  { when: specFlag("suspend"), status: "Suspended", message: "spec.suspend is true" },
  ...phaseRules("status.scheduleState", { healthy: ["Scheduled"], degraded: ["FailedValidation"] }, "status.reason"),
];

export const sparkRules: RuleSet = {
  "sparkoperator.k8s.io_SparkApplication": sparkApplication,
  "sparkoperator.k8s.io_ScheduledSparkApplication": scheduled,
};
