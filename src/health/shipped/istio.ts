// Istio. Status API: istio.io/latest/docs/reference/config/istio.operator.v1alpha1 (IstioOperator status.status:
// NONE, UPDATING, RECONCILING, HEALTHY, ERROR, ACTION_REQUIRED) and the Sail Operator's API reference
// (sailoperator.io: Istio, IstioRevision, IstioCNI, ZTunnel report Reconciled and Ready conditions).
import { condition, conditionText, forKinds, phaseRules, readyConditionRules, type Rule, type RuleSet } from "./cel.ts";

const istioOperator = phaseRules("status.status", {
  healthy: ["HEALTHY"], progressing: ["UPDATING", "RECONCILING"], degraded: ["ERROR", "ACTION_REQUIRED"],
});

const sail: Rule[] = [
  { when: condition("Reconciled", "False"), status: "Degraded", messageExpression: conditionText("Reconciled") },
  ...readyConditionRules(),
];

export const istioRules: RuleSet = {
  "install.istio.io_IstioOperator": istioOperator,
  ...forKinds("sailoperator.io", ["Istio", "IstioRevision", "IstioCNI", "ZTunnel"], sail),
};
