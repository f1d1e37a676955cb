// KEDA (keda.sh). Status API: keda.sh/docs (ScaledObject and ScaledJob specifications, "Pausing autoscaling",
// "Fallback"): conditions Ready, Active, Fallback and Paused. Ready=False means a scaler or the target is
// broken; Fallback=True means the scaler has failed repeatedly and the fallback replica count is in force.
import { condition, conditionText, forKinds, type Rule, type RuleSet } from "./cel.ts";

const scaled: Rule[] = [
  { when: condition("Paused", "True"), status: "Suspended", messageExpression: conditionText("Paused") },
  { when: condition("Ready", "False"), status: "Degraded", messageExpression: conditionText("Ready") },
  { when: condition("Fallback", "True"), status: "Degraded", messageExpression: conditionText("Fallback") },
  { when: condition("Ready", "True"), status: "Healthy", messageExpression: conditionText("Ready") },
  { when: condition("Ready", "Unknown"), status: "Progressing", messageExpression: conditionText("Ready") },
];

export const kedaRules: RuleSet = forKinds("keda.sh", ["ScaledObject", "ScaledJob"], scaled);
