// Tekton Pipelines (tekton.dev). Status API: tekton.dev/docs/pipelines (pipelineruns.md, taskruns.md,
// "Monitoring execution status"): one condition Succeeded, Unknown while running (reasons Started, Running,
// Pending, …), True when done, False on failure, timeout or cancellation; spec.status "PipelineRunPending" holds
// a run before it starts.
import { condition, conditionText, field, forKinds, type Rule, type RuleSet } from "./cel.ts";

const run: Rule[] = [
  { when: `${field("spec.status")} == "PipelineRunPending" && !${condition("Succeeded", "True")} && !${condition("Succeeded", "False")}`,
    status: "Suspended", message: "spec.status is PipelineRunPending: the run is held before it starts" },
  { when: condition("Succeeded", "True"), status: "Healthy", messageExpression: conditionText("Succeeded") },
  { when: condition("Succeeded", "False"), status: "Degraded", messageExpression: conditionText("Succeeded") },
  { when: condition("Succeeded", "Unknown"), status: "Progressing", messageExpression: conditionText("Succeeded") },
];

export const tektonRules: RuleSet = forKinds("tekton.dev", ["PipelineRun", "TaskRun", "CustomRun"], run);
