// Progressive delivery, policy and ingress projects with a documented status word or condition:
// Flagger (flagger.app: Canary status.phase Initializing, Initialized, Waiting, Progressing, WaitingPromotion,
// Promoting, Finalising, Succeeded, Failed, Terminating, Terminated; docs.flagger.app/usage/how-it-works),
// Kyverno (kyverno.io: ClusterPolicy and Policy report a Ready condition; kyverno.io/docs/policy-types) and
// Contour (projectcontour.io: HTTPProxy status.currentStatus valid, invalid, orphaned with status.description;
// projectcontour.io/docs/main/config/fundamentals).
import { forKinds, phaseRules, readyConditionRules, type RuleSet } from "./cel.ts";

const canary = phaseRules("status.phase", {
  healthy: ["Initialized", "Succeeded"],
  progressing: ["Initializing", "Waiting", "Progressing", "WaitingPromotion", "Promoting", "Finalising", "Terminating"],
  degraded: ["Failed"],
  suspended: ["Terminated"],
});

// An orphaned HTTPProxy is not included by any root proxy, so it serves nothing: as broken as an invalid one.
const httpProxy = phaseRules("status.currentStatus", {
  healthy: ["valid"], degraded: ["invalid", "orphaned"], progressing: ["NotReconciled"],
}, "status.description");

export const deliveryRules: RuleSet = {
  ...forKinds("flagger.app", ["Canary"], canary),
  ...forKinds("kyverno.io", ["ClusterPolicy", "Policy"], readyConditionRules()),
  ...forKinds("projectcontour.io", ["HTTPProxy"], httpProxy),
};
