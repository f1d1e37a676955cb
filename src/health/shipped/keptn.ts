// Keptn (lifecycle.keptn.sh). Status API: keptn.sh/stable/docs/reference/api-reference (KeptnState: Pending,
// Progressing, Succeeded, Failed, Cancelled/Deprecated, Unknown): KeptnAppVersion and KeptnWorkloadVersion
// report status.status, KeptnTask status.status, KeptnEvaluation status.overallStatus.
import { forKinds, phaseRules, type RuleSet } from "./cel.ts";

const words = {
  healthy: ["Succeeded"], progressing: ["Pending", "Progressing"], degraded: ["Failed", "Cancelled", "Deprecated"],
  unknown: ["Unknown"],
};

export const keptnRules: RuleSet = {
  ...forKinds("lifecycle.keptn.sh", ["KeptnAppVersion", "KeptnWorkloadVersion", "KeptnTask"], phaseRules("status.status", words)),
  ...forKinds("lifecycle.keptn.sh", ["KeptnEvaluation"], phaseRules("status.overallStatus", words)),
};
