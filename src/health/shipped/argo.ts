// Argo Rollouts and Argo Workflows (argoproj.io). Status API: Argo Rollouts' specification docs
// (argo-rollouts.readthedocs.io: status.phase Healthy/Progressing/Paused/Degraded with status.message,
// status.pauseConditions, status.abort, conditions Progressing (reason ProgressDeadlineExceeded), Available and
// InvalidSpec; AnalysisRun and Experiment status.phase Pending/Running/Successful/Failed/Error/Inconclusive)
// and Argo Workflows' field reference (argo-workflows.readthedocs.io: Workflow status.phase
// Pending/Running/Succeeded/Failed/Error, spec.suspend; CronWorkflow conditions SpecError and SubmissionError).
import { condition, conditionText, field, forKinds, oneOf, phaseRules, specFlag, text, type Rule, type RuleSet } from "./cel.ts";

const rollout: Rule[] = [
  { when: condition("InvalidSpec", "True"), status: "Degraded", messageExpression: conditionText("InvalidSpec") },
  { when: `${field("status.abort", "false")} == true`, status: "Degraded",
    messageExpression: `"status.abort is true" + (${text(field("status.message"))} != "" ? ": " + ${text(field("status.message"))} : "")` },
  // status.phase is the controller's own summary (Rollouts ≥ 1.0); older controllers leave it out.
  ...phaseRules("status.phase", {
    degraded: ["Degraded"], suspended: ["Paused"], progressing: ["Progressing"], healthy: ["Healthy"],
  }, "status.message"),
  { when: `${specFlag("paused")} || size(${field("status.pauseConditions", "[]")}) > 0`, status: "Suspended",
    message: "Rollout is paused (spec.paused or status.pauseConditions)" },
  { when: condition("Progressing", "False", ["ProgressDeadlineExceeded"]), status: "Degraded",
    messageExpression: conditionText("Progressing") },
];

// Inconclusive pauses the owning Rollout until a person decides, hence Suspended rather than Degraded.
const analysis = phaseRules("status.phase", {
  healthy: ["Successful"], progressing: ["Pending", "Running"], degraded: ["Failed", "Error"], suspended: ["Inconclusive"],
}, "status.message");

const workflow: Rule[] = [
  { when: `${specFlag("suspend")} && ${oneOf("status.phase", ["", "Running", "Pending"])}`, status: "Suspended",
    message: "spec.suspend is true" },
  ...phaseRules("status.phase", {
    healthy: ["Succeeded"], progressing: ["Pending", "Running"], degraded: ["Failed", "Error"],
  }, "status.message"),
];

const cronWorkflow: Rule[] = [
  { when: specFlag("suspend"), status: "Suspended", message: "spec.suspend is true" },
  { when: condition("SpecError", "True"), status: "Degraded", messageExpression: conditionText("SpecError") },
  { when: condition("SubmissionError", "True"), status: "Degraded", messageExpression: conditionText("SubmissionError") },
];

export const argoRules: RuleSet = {
  "argoproj.io_Rollout": rollout,
  ...forKinds("argoproj.io", ["AnalysisRun", "Experiment"], analysis),
  "argoproj.io_Workflow": workflow,
  "argoproj.io_CronWorkflow": cronWorkflow,
};
