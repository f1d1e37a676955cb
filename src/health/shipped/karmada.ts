// Karmada. Status API: karmada.io/docs (API reference for work.karmada.io and cluster.karmada.io):
// ResourceBinding and ClusterResourceBinding report conditions Scheduled and FullyApplied; Work reports Applied;
// a member Cluster reports Ready.
import { condition, conditionText, forKinds, readyConditionRules, type Rule, type RuleSet } from "./cel.ts";

const binding: Rule[] = [
  { when: condition("Scheduled", "False"), status: "Degraded", messageExpression: conditionText("Scheduled") },
  { when: `${condition("Scheduled", "True")} && ${condition("FullyApplied", "True")}`, status: "Healthy",
    messageExpression: conditionText("FullyApplied") },
  { when: condition("FullyApplied", "False"), status: "Progressing", messageExpression: conditionText("FullyApplied") },
  { when: condition("Scheduled", "True"), status: "Progressing", message: "scheduled; waiting for FullyApplied" },
];

const work: Rule[] = [
  { when: condition("Applied", "True"), status: "Healthy", messageExpression: conditionText("Applied") },
  { when: condition("Applied", "False"), status: "Degraded", messageExpression: conditionText("Applied") },
];

export const karmadaRules: RuleSet = {
  ...forKinds("work.karmada.io", ["ResourceBinding", "ClusterResourceBinding"], binding),
  "work.karmada.io_Work": work,
  ...forKinds("cluster.karmada.io", ["Cluster"], readyConditionRules()),
};
